// environment_name, the number checks, the duration parsers and
// check_readable_file.
#include "cli/option_helpers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace tailcut::cli {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "-12": a negative whole number, which from_chars into an unsigned rejects
// like any other text.
bool is_negative_whole_number(std::string_view text) {
  return text.size() >= 2 && text.front() == '-' &&
         text.find_first_not_of("0123456789", 1) == std::string_view::npos;
}

std::string unit_suffix(std::string_view unit) {
  return unit.empty() ? std::string{} : " (" + std::string{unit} + ")";
}

std::string in_quotes(std::string_view text) { return "'" + std::string{text} + "'"; }

std::string shortest_text(double value) {
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return {buffer.data(), result.ptr};
}

}  // namespace

std::string environment_name(std::string_view prefix, std::string_view flag) {
  while (!flag.empty() && flag.front() == '-') flag.remove_prefix(1);
  std::string name{prefix};
  for (const char c : flag) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

CLI::Validator whole_number(std::uint64_t low, std::uint64_t high, std::string_view unit) {
  // Up to the largest int64 or more: the bound is the type's, not worth a mention.
  const bool bounded = high < static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const auto range = bounded ? "from " + std::to_string(low) + " to " + std::to_string(high)
                             : std::to_string(low) + " or more";
  auto expected = "a whole number" + (unit.empty() ? "" : " of " + std::string{unit}) +
                  (bounded ? " " : ", ") + range;
  auto description = bounded ? "INT in [" + std::to_string(low) + " - " + std::to_string(high) + "]"
                             : "INT >= " + std::to_string(low);
  return CLI::Validator{
      [low, high, unit = std::string{unit}, expected = std::move(expected)](std::string& text) {
        if (is_negative_whole_number(text)) {
          return "must be " + std::to_string(low) + " or more" + unit_suffix(unit) + ", got " +
                 in_quotes(text);
        }
        std::uint64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        const bool too_large = error == std::errc::result_out_of_range;
        if (text.empty() || !is_digit(text.front()) || end != text.data() + text.size() ||
            (error != std::errc{} && !too_large)) {
          return "expected " + expected + ", got " + in_quotes(text);
        }
        if (too_large || value > high) {
          return "must be at most " + std::to_string(high) + unit_suffix(unit) + ", got " +
                 in_quotes(text);
        }
        if (value < low) {
          return "must be " + std::to_string(low) + " or more" + unit_suffix(unit) + ", got " +
                 in_quotes(text);
        }
        text = std::to_string(value);
        return std::string{};
      },
      std::move(description)};
}

CLI::Validator real_number(double low, double high, std::string_view unit) {
  const bool bounded =
      low != std::numeric_limits<double>::lowest() || high != std::numeric_limits<double>::max();
  const auto range = "from " + shortest_text(low) + " to " + shortest_text(high);
  auto expected = "a number" + unit_suffix(unit) + (bounded ? " " + range : std::string{});
  auto description =
      bounded ? "FLOAT in [" + shortest_text(low) + " - " + shortest_text(high) + "]" : "";
  return CLI::Validator{
      [low, high, unit = std::string{unit}, range,
       expected = std::move(expected)](std::string& text) {
        double value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
          return "expected " + expected + ", got " + in_quotes(text);
        }
        if (value < low || value > high) {
          return "must be " + range + unit_suffix(unit) + ", got " + in_quotes(text);
        }
        text = shortest_text(value);
        return std::string{};
      },
      std::move(description)};
}

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what) {
  const auto fail = [&](const std::string& problem) -> std::chrono::milliseconds {
    throw std::invalid_argument{std::string{what} + ": " + in_quotes(text) + " " + problem};
  };
  const auto not_a_duration = [&] {
    return fail("is not a duration; use e.g. 300ms, 2s, 1m (a bare number is ms)");
  };
  if (is_negative_whole_number(text.substr(0, text.find_first_not_of("-0123456789")))) {
    return fail("is negative; a duration is 0 or more");
  }
  std::uint64_t amount = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (end == text.data() || (error != std::errc{} && error != std::errc::result_out_of_range)) {
    return not_a_duration();
  }
  const std::string_view unit{end, static_cast<std::size_t>(text.data() + text.size() - end)};
  std::uint64_t unit_in_ms = 0;
  if (unit.empty() || unit == "ms") {
    unit_in_ms = 1;
  } else if (unit == "s") {
    unit_in_ms = 1000;
  } else if (unit == "m") {
    unit_in_ms = 60'000;
  } else {
    return not_a_duration();
  }
  // Checked before multiplying, which could overflow.
  const auto longest_in_unit = static_cast<std::uint64_t>(longest_duration.count()) / unit_in_ms;
  if (error == std::errc::result_out_of_range || amount > longest_in_unit) {
    return fail("is too large; the longest duration is " + std::to_string(longest_in_unit) +
                (unit.empty() ? "ms" : std::string{unit}) + " (100 years)");
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(amount * unit_in_ms)};
}

std::string duration_text(std::chrono::milliseconds duration) {
  const auto count = duration.count();
  if (count != 0 && count % 60'000 == 0) return std::to_string(count / 60'000) + "m";
  if (count != 0 && count % 1000 == 0) return std::to_string(count / 1000) + "s";
  return std::to_string(count) + "ms";
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
