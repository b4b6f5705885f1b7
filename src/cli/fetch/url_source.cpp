// UrlSource: lazy line reading with blank and comment lines skipped.
#include "cli/fetch/url_source.hpp"

#include <istream>

namespace tailcut::cli::fetch {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::optional<std::string> url_of_line(std::string_view line) {
  while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return std::nullopt;
  return std::string{line};
}

UrlSource::UrlSource(std::vector<std::string> arguments, std::istream* input)
    : arguments_{std::move(arguments)}, input_{input} {}

std::optional<std::string> UrlSource::next() {
  while (!exhausted_) {
    if (next_argument_ < arguments_.size()) {
      // Arguments are taken as given (a blank one is an invalid URL).
      ++taken_;
      return std::move(arguments_[next_argument_++]);
    }
    if (input_ == nullptr || !std::getline(*input_, line_)) {
      exhausted_ = true;
      break;
    }
    if (auto url = url_of_line(line_)) {
      ++taken_;
      return url;
    }
  }
  return std::nullopt;
}

}  // namespace tailcut::cli::fetch
