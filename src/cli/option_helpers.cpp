// environment_name, the duration parsers and check_readable_file.
#include "cli/option_helpers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace tailcut::cli {

std::string environment_name(std::string_view flag) {
  while (!flag.empty() && flag.front() == '-') flag.remove_prefix(1);
  std::string name = "TAILCUT_";
  for (const char c : flag) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what) {
  const auto fail = [&]() -> std::chrono::milliseconds {
    throw std::invalid_argument{
        std::string{what} + ": '" + std::string{text} +
        "' is not a duration; use e.g. 300ms, 2s, 1m (a bare number is ms)"};
  };
  std::int64_t amount = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (error != std::errc{} || end == text.data() || amount < 0) return fail();
  const std::string_view unit{end, static_cast<std::size_t>(text.data() + text.size() - end)};
  if (unit.empty() || unit == "ms") return std::chrono::milliseconds{amount};
  if (unit == "s") return std::chrono::seconds{amount};
  if (unit == "m") return std::chrono::minutes{amount};
  return fail();
}

std::chrono::milliseconds parse_positive_duration(std::string_view text, std::string_view what) {
  const auto duration = parse_duration(text, what);
  if (duration.count() == 0) {
    throw std::invalid_argument{std::string{what} + ": '" + std::string{text} +
                                "': must be positive, e.g. 300ms, 2s, 1m"};
  }
  return duration;
}

void check_readable_file(const std::string& path, std::string_view what) {
  const auto fail = [&](int error) {
    throw std::invalid_argument{std::string{what} + ": cannot read '" + path +
                                "': " + std::strerror(error)};
  };
  // Non-blocking: opening a FIFO must not wait for its writer.
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (descriptor == -1) fail(errno);
  struct stat facts {};
  const bool is_directory = ::fstat(descriptor, &facts) == 0 && S_ISDIR(facts.st_mode);
  ::close(descriptor);
  // A directory opens, but every read of it fails.
  if (is_directory) fail(EISDIR);
}

}  // namespace tailcut::cli
