// Where the `tailcut` binary under test is: $TAILCUT_BINARY, or the one this
// build made (TAILCUT_BINARY_PATH, set by tests/CMakeLists.txt); and a way
// to run it and read what it wrote, also while the test's servers answer.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace tailcut::test {

inline std::string tailcut_binary() {
  if (const char* from_environment = std::getenv("TAILCUT_BINARY")) return from_environment;
  return TAILCUT_BINARY_PATH;
}

struct BinaryRun {
  int exit_status = -1;  // -1 when it did not exit normally
  std::string out;
  std::string err;
};

// Runs `tailcut <arguments>` through /bin/sh (so `arguments` is shell
// text) with stdin from /dev/null, and collects its exit status, stdout
// and stderr. `environment`: "NAME=value ..." for the binary, or empty.
inline BinaryRun run_tailcut(const std::string& arguments, const std::string& environment = {}) {
  char err_path[] = "/tmp/tailcut-test-stderr-XXXXXX";
  const int err_file = ::mkstemp(err_path);
  if (err_file == -1) throw std::runtime_error{"mkstemp failed"};
  ::close(err_file);
  const std::string command = environment + " " + tailcut_binary() + " " + arguments +
                              " </dev/null 2>" + std::string{err_path};
  BinaryRun run;
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) throw std::runtime_error{"popen failed: " + command};
  std::array<char, 4096> chunk;
  for (std::size_t bytes; (bytes = std::fread(chunk.data(), 1, chunk.size(), out)) > 0;) {
    run.out.append(chunk.data(), bytes);
  }
  const int status = ::pclose(out);
  run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ostringstream err;
  err << std::ifstream{err_path}.rdbuf();
  run.err = err.str();
  ::unlink(err_path);
  return run;
}

// run_tailcut while `io` runs on another thread, serving the test servers
// started on it; `io` is stopped and ready to run again afterwards.
inline BinaryRun run_tailcut_serving(boost::asio::io_context& io, const std::string& arguments,
                                     const std::string& environment = {}) {
  auto work = boost::asio::make_work_guard(io);
  std::thread serving{[&io] { io.run(); }};
  BinaryRun run;
  try {
    run = run_tailcut(arguments, environment);
  } catch (...) {
    io.stop();
    serving.join();
    throw;
  }
  work.reset();
  io.stop();
  serving.join();
  io.restart();
  return run;
}

}  // namespace tailcut::test
