// The `tailcut` binary (support/tailcut_binary.hpp) run as a child process,
// as a user runs it: arguments, environment variables, exit status, stdout
// and stderr. For tests of the command line (usage errors, --help, TAILCUT_*
// variables). Every wait is bounded, so a binary that hangs fails the test
// instead of hanging it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tailcut::test {

struct TailcutExit {
  int status = -1;  // the exit status; -1 when killed by a signal or a time limit
  std::string out;
  std::string err;
};

// Runs `binary <arguments>` to completion with `environment` ("NAME=value")
// added to the caller's, less the caller's TAILCUT_* variables (so that a
// test sees only the variables it sets). Killed after `limit`.
TailcutExit run_binary(const std::string& binary, const std::vector<std::string>& arguments,
                       const std::vector<std::string>& environment = {},
                       std::chrono::milliseconds limit = std::chrono::seconds{10});

// `tailcut serve` or `tailcut upstream` running in the background.
class TailcutServer {
 public:
  // Starts `binary <arguments>` (environment as in run_binary).
  TailcutServer(const std::string& binary, const std::vector<std::string>& arguments,
                const std::vector<std::string>& environment = {});
  TailcutServer(const TailcutServer&) = delete;
  TailcutServer& operator=(const TailcutServer&) = delete;
  ~TailcutServer();  // kills it if it still runs

  // Reads stdout until the "listening on http://HOST:PORT" line and returns
  // PORT; 0 when the process ended or `limit` passed first (see stop()).
  std::uint16_t wait_until_listening(std::chrono::milliseconds limit = std::chrono::seconds{10});

  // Sends SIGTERM and waits for the process to end (killed after `limit`).
  TailcutExit stop(std::chrono::milliseconds limit = std::chrono::seconds{10});

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

}  // namespace tailcut::test
