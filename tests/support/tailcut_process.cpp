// run_tailcut and TailcutServer: posix_spawn with the output on pipes, read
// with poll() against a deadline.
#include "support/tailcut_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string_view>

extern char** environ;

namespace tailcut::test {

namespace {

using Clock = std::chrono::steady_clock;

struct Spawned {
  pid_t pid;
  int out_fd;
  int err_fd;
};

std::vector<std::string> child_environment(const std::vector<std::string>& added) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!std::string_view{*entry}.starts_with("TAILCUT_")) environment.emplace_back(*entry);
  }
  environment.insert(environment.end(), added.begin(), added.end());
  return environment;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

Spawned spawn(const std::string& binary, const std::vector<std::string>& arguments,
              const std::vector<std::string>& environment) {
  std::vector<std::string> argv_strings{binary};
  argv_strings.insert(argv_strings.end(), arguments.begin(), arguments.end());
  auto env_strings = child_environment(environment);
  auto argv = pointers_to(argv_strings);
  auto envp = pointers_to(env_strings);

  std::array<int, 2> out_pipe{};
  std::array<int, 2> err_pipe{};
  if (pipe2(out_pipe.data(), O_CLOEXEC) != 0 || pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    throw std::runtime_error{"pipe2 failed"};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  pid_t pid = -1;
  const int failed = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (failed != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error{"cannot start " + argv_strings[0] + ": " + std::strerror(failed)};
  }
  return {pid, out_pipe[0], err_pipe[0]};
}

// Reads whatever is ready on the open descriptors (closing those at their
// end) until `done()` or the deadline. False when the deadline passed first.
template <typename Done>
bool read_until(int& out_fd, std::string& out, int& err_fd, std::string& err,
                Clock::time_point deadline, Done done) {
  while (!done()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    std::array<pollfd, 2> fds{{{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}}};
    if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0) continue;  // EINTR
    const std::array<std::string*, 2> sinks{&out, &err};
    const std::array<int*, 2> descriptors{&out_fd, &err_fd};
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (*descriptors[i] < 0 || fds[i].revents == 0) continue;
      std::array<char, 4096> buffer{};
      const auto got = read(*descriptors[i], buffer.data(), buffer.size());
      if (got > 0) {
        sinks[i]->append(buffer.data(), static_cast<std::size_t>(got));
      } else {
        close(*descriptors[i]);
        *descriptors[i] = -1;  // poll() ignores negative descriptors
      }
    }
  }
  return true;
}

// Waits for the output to end, then for the process; kills it at the deadline.
TailcutExit finish(pid_t pid, int& out_fd, int& err_fd, std::string out, std::string err,
                   Clock::time_point deadline) {
  const bool ended =
      read_until(out_fd, out, err_fd, err, deadline, [&] { return out_fd < 0 && err_fd < 0; });
  if (!ended) kill(pid, SIGKILL);
  for (int* fd : {&out_fd, &err_fd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  TailcutExit result;
  result.status = ended && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = std::move(out);
  result.err = std::move(err);
  return result;
}

}  // namespace

TailcutExit run_binary(const std::string& binary, const std::vector<std::string>& arguments,
                       const std::vector<std::string>& environment,
                       std::chrono::milliseconds limit) {
  auto spawned = spawn(binary, arguments, environment);
  return finish(spawned.pid, spawned.out_fd, spawned.err_fd, {}, {}, Clock::now() + limit);
}

TailcutServer::TailcutServer(const std::string& binary, const std::vector<std::string>& arguments,
                             const std::vector<std::string>& environment) {
  const auto spawned = spawn(binary, arguments, environment);
  pid_ = spawned.pid;
  out_fd_ = spawned.out_fd;
  err_fd_ = spawned.err_fd;
}

TailcutServer::~TailcutServer() {
  if (pid_ > 0) stop(std::chrono::milliseconds{0});
}

std::uint16_t TailcutServer::wait_until_listening(std::chrono::milliseconds limit) {
  constexpr std::string_view listening_marker = "listening on http://";
  const auto line_end = [this, &listening_marker]() -> std::size_t {
    const auto at = out_.find(listening_marker);
    return at == std::string::npos ? std::string::npos : out_.find('\n', at);
  };
  read_until(out_fd_, out_, err_fd_, err_, Clock::now() + limit,
             [&] { return line_end() != std::string::npos || out_fd_ < 0; });
  const auto end = line_end();
  if (end == std::string::npos) return 0;
  // "...listening on http://127.0.0.1:PORT" or "...:PORT/api/work".
  const auto line = std::string_view{out_}.substr(0, end);
  const auto port_start = line.rfind(':') + 1;
  return static_cast<std::uint16_t>(std::stoul(std::string{line.substr(port_start)}));
}

TailcutExit TailcutServer::stop(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return {};  // stopped already: kill(-1) would signal every process
  kill(pid_, SIGTERM);
  auto result =
      finish(pid_, out_fd_, err_fd_, std::move(out_), std::move(err_), Clock::now() + limit);
  pid_ = -1;
  return result;
}

}  // namespace tailcut::test
