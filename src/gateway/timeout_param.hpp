// Validation of /api/smart's `timeout` query parameter (milliseconds).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tailcut::gateway {

struct TimeoutParamError {
  std::string message;  // says what was wrong, for the 400 body
  // The 400 body's error code: the timeout is wrong, or the whole target
  // is not a URL (the server core's code for a malformed request).
  std::string_view code = "invalid_timeout";
};

// The timeout of a request target such as "/api/smart?timeout=500":
// nullopt when absent, the value when it is ASCII digits only with
// 1 <= value <= max_timeout, an error otherwise (empty, signs, decimals,
// exponents, spaces, overflow, repeated parameter, above the maximum).
std::variant<std::optional<std::chrono::milliseconds>, TimeoutParamError> parse_timeout_param(
    std::string_view target, std::chrono::milliseconds max_timeout);

}  // namespace tailcut::gateway
