// Where the `tailcut` binary under test is: $TAILCUT_BINARY, or the one this
// build made (TAILCUT_BINARY_PATH, set by tests/CMakeLists.txt for each
// test, hence inline here); and ways to run it with shell text for
// arguments (support/tailcut_process.hpp runs it with a list).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/tailcut_process.hpp"

namespace tailcut::test {

inline std::string tailcut_binary() {
  if (const char* from_environment = std::getenv("TAILCUT_BINARY")) return from_environment;
  return TAILCUT_BINARY_PATH;
}

// Runs `tailcut <arguments>` (a list, as the shell would pass it).
inline TailcutExit run_tailcut(const std::vector<std::string>& arguments,
                               const std::vector<std::string>& environment = {}) {
  return run_binary(tailcut_binary(), arguments, environment);
}

// `tailcut <subcommand> --listen 127.0.0.1:0 --threads 1 <arguments>`, for
// `serve` or `upstream` run to check its flags: were it to start by
// mistake, it takes no port another test needs.
inline TailcutExit run_server_command(const std::string& subcommand,
                                      std::vector<std::string> arguments,
                                      const std::vector<std::string>& environment = {}) {
  arguments.insert(arguments.begin(), {subcommand, "--listen", "127.0.0.1:0", "--threads", "1"});
  return run_tailcut(arguments, environment);
}

// A server subcommand refused to start: exit status 2, exactly `message`
// on stderr (one line), and no "listening" on stdout.
inline void expect_usage_error(const TailcutExit& exit, const std::string& message) {
  EXPECT_EQ(exit.status, 2);
  EXPECT_EQ(exit.err, message + "\n");
  EXPECT_EQ(exit.out.find("listening"), std::string::npos) << exit.out;
}

// Runs `tailcut <arguments>` through /bin/sh (so `arguments` is shell text,
// e.g. "fetch -H \"$(printf 'X: a\\rb')\" URL") with stdin from /dev/null,
// bounded as run_binary is. `environment`: "NAME=value NAME=value", or empty.
inline TailcutExit run_tailcut_shell(const std::string& arguments,
                                     const std::string& environment = {}) {
  std::vector<std::string> variables;
  std::istringstream words{environment};
  for (std::string variable; words >> variable;) variables.push_back(variable);
  return run_binary("/bin/sh", {"-c", "exec " + tailcut_binary() + " " + arguments + " </dev/null"},
                    variables);
}

// run_tailcut_shell while `io` runs on another thread, serving the test servers
// started on it; `io` is stopped and ready to run again afterwards.
inline TailcutExit run_tailcut_serving(boost::asio::io_context& io, const std::string& arguments,
                                       const std::string& environment = {}) {
  auto work = boost::asio::make_work_guard(io);
  std::thread serving{[&io] { io.run(); }};
  TailcutExit exit;
  try {
    exit = run_tailcut_shell(arguments, environment);
  } catch (...) {
    io.stop();
    serving.join();
    throw;
  }
  work.reset();
  io.stop();
  serving.join();
  io.restart();
  return exit;
}

}  // namespace tailcut::test
