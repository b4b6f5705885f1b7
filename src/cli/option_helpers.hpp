// Helpers shared by the subcommands: options that also come from TAILCUT_*
// environment variables, durations with units ("300ms", "2s"), and input
// files checked at startup.
#pragma once

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <string>
#include <string_view>

namespace tailcut::cli {

// "--hedge-delay" -> "TAILCUT_HEDGE_DELAY".
std::string environment_name(std::string_view flag);

// Adds `--name` bound to `value`, showing its default in --help and also
// read from TAILCUT_<NAME>.
template <typename T>
CLI::Option* add_option_with_env(CLI::App& command, const std::string& name, T& value,
                                 const std::string& help) {
  return command.add_option(name, value, help)
      ->capture_default_str()
      ->envname(environment_name(name));
}

// Parses "300ms", "2s", "1m" or a bare number of milliseconds. Throws
// std::invalid_argument naming `what` and the accepted forms.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what);

// parse_duration, for a limit where 0 would make no sense (every request
// would fail at once): also throws when the duration is 0.
std::chrono::milliseconds parse_positive_duration(std::string_view text, std::string_view what);

// Throws std::invalid_argument "<what>: cannot read '<path>': <reason>"
// unless `path` is a file this process can open for reading (a directory
// is not).
void check_readable_file(const std::string& path, std::string_view what);

}  // namespace tailcut::cli
