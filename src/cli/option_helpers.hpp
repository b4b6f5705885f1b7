// Helpers shared by the subcommands: options that also come from environment
// variables, numbers checked with messages that say what is expected,
// durations with units ("300ms", "2s"), and input files checked at startup.
#pragma once

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace tailcut::cli {

// ("TAILCUT_", "--hedge-delay") -> "TAILCUT_HEDGE_DELAY".
std::string environment_name(std::string_view prefix, std::string_view flag);

// Adds `--name` bound to `value`, showing its default in --help and also
// read from <environment_prefix><NAME>. Each subcommand has its own prefix,
// so that a variable meant for one never configures another.
template <typename T>
CLI::Option* add_option_with_env(CLI::App& command, std::string_view environment_prefix,
                                 const std::string& name, T& value, const std::string& help) {
  return command.add_option(name, value, help)
      ->capture_default_str()
      ->envname(environment_name(environment_prefix, name));
}

// A check for an integer option: a decimal whole number in [low, high].
// Its failures say what is expected ("must be 0 or more (milliseconds), got
// '-1'"), where CLI11's Range says "not in range" even of "abc". Passing
// values are rewritten in plain decimal, so that CLI11 does not read "010"
// as octal.
CLI::Validator whole_number(std::uint64_t low,
                            std::uint64_t high = std::numeric_limits<std::int64_t>::max(),
                            std::string_view unit = {});

// The same for a real number in [low, high] (finite, decimal).
CLI::Validator real_number(double low = std::numeric_limits<double>::lowest(),
                           double high = std::numeric_limits<double>::max(),
                           std::string_view unit = {});

// The longest duration parse_duration accepts: long enough to mean "never"
// for any timeout, short enough that a deadline of now plus it still fits
// in the clocks' nanoseconds.
inline constexpr std::chrono::milliseconds longest_duration =
    std::chrono::hours{24 * 365 * 100};  // 100 years

// Parses "300ms", "2s", "1m" or a bare number of milliseconds, from 0 to
// longest_duration. Throws std::invalid_argument naming `what` and saying
// what is accepted.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what);

// A duration as parse_duration reads it, in the largest unit that keeps it
// whole: 300ms, 2s, 1m. How an options struct's defaults show as flags.
std::string duration_text(std::chrono::milliseconds duration);

// Throws std::invalid_argument "<what>: cannot read '<path>': <reason>"
// unless `path` is a file this process can open for reading (a directory
// is not).
void check_readable_file(const std::string& path, std::string_view what);

}  // namespace tailcut::cli
