// UrlSource: hands out fetch's URLs one at a time, the command-line ones
// first, then the lines of an input stream, read only when asked for.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailcut::cli::fetch {

class UrlSource {
 public:
  UrlSource(std::vector<std::string> arguments, std::istream* input);

  // The next URL, surrounding whitespace removed; blank lines and lines
  // starting with '#' are skipped. nullopt at the end. Blocks on the stream.
  std::optional<std::string> next();

  [[nodiscard]] bool exhausted() const noexcept { return exhausted_; }
  // URLs handed out so far.
  [[nodiscard]] std::size_t taken() const noexcept { return taken_; }

 private:
  std::vector<std::string> arguments_;
  std::size_t next_argument_ = 0;
  std::istream* input_;
  std::string line_;
  bool exhausted_ = false;
  std::size_t taken_ = 0;
};

// The text of a line without surrounding whitespace, or nullopt for a blank
// or comment line.
std::optional<std::string> url_of_line(std::string_view line);

}  // namespace tailcut::cli::fetch
