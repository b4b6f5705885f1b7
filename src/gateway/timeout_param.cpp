// parse_timeout_param: strict parsing of ?timeout=MS with Boost.URL.
#include "gateway/timeout_param.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

namespace tailcut::gateway {

namespace {

bool is_plain_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

// The usual call, `/path?timeout=DIGITS` with nothing to decode, read
// without the URL parser (which costs more than the rest of validating a
// call). Anything else, valid or not, returns nothing and takes the full way.
std::optional<std::chrono::milliseconds> plain_timeout(std::string_view target,
                                                       std::chrono::milliseconds max_timeout) {
  constexpr std::string_view prefix = "?timeout=";
  constexpr std::size_t max_digits = 15;  // far above any max_timeout, far below overflow
  const std::size_t query = target.find('?');
  if (query == std::string_view::npos || target.substr(query, prefix.size()) != prefix) return {};
  const std::string_view path = target.substr(0, query);
  const std::string_view digits = target.substr(query + prefix.size());
  if (path.empty() || path.front() != '/' || digits.empty() || digits.size() > max_digits)
    return {};
  for (const char c : path) {
    if (!is_plain_path_char(c)) return {};
  }
  std::chrono::milliseconds::rep value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return {};
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > max_timeout.count()) return {};
  return std::chrono::milliseconds{value};
}

}  // namespace

std::variant<std::optional<std::chrono::milliseconds>, TimeoutParamError> parse_timeout_param(
    std::string_view target, std::chrono::milliseconds max_timeout) {
  if (const auto timeout = plain_timeout(target, max_timeout)) return timeout;
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return TimeoutParamError{"the request target is not a valid URL", "bad_request"};

  std::optional<std::string> text;
  for (const auto& param : url->params()) {
    if (param.key != "timeout") continue;
    if (text) return TimeoutParamError{"timeout is given more than once"};
    text = param.has_value ? std::string{param.value} : std::string{};
  }
  if (!text) return std::optional<std::chrono::milliseconds>{};

  // Built only for an error: valid calls are the hot path.
  const auto must = [max_timeout] {
    return "timeout must be a whole number of milliseconds from 1 to " +
           std::to_string(max_timeout.count());
  };
  if (text->empty()) return TimeoutParamError{"timeout is empty: " + must()};
  for (const char c : *text) {
    if (c < '0' || c > '9')
      return TimeoutParamError{"timeout '" + *text + "' is not valid: " + must()};
  }
  std::chrono::milliseconds::rep value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc{} || end != text->data() + text->size() || value > max_timeout.count()) {
    return TimeoutParamError{"timeout " + *text + " is too large: " + must()};
  }
  if (value < 1) return TimeoutParamError{"timeout must be positive: " + must()};
  return std::optional<std::chrono::milliseconds>{std::chrono::milliseconds{value}};
}

}  // namespace tailcut::gateway
