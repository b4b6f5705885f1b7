// parse_timeout_param: strict parsing of ?timeout=MS with Boost.URL.
#include "gateway/timeout_param.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

namespace tailcut::gateway {

std::variant<std::optional<std::chrono::milliseconds>, TimeoutParamError> parse_timeout_param(
    std::string_view target, std::chrono::milliseconds max_timeout) {
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return TimeoutParamError{"the request target is not a valid URL"};

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
