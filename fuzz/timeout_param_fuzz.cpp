// The gateway's ?timeout= validation on arbitrary query strings.
// Properties: it never crashes; an accepted timeout lies in
// [1, max_timeout] and is accepted again, alone, written in decimal; an
// error always says what was wrong.
#include <cstdint>
#include <string>
#include <variant>

#include "check.hpp"
#include "gateway/timeout_param.hpp"

namespace {
using tailcut::gateway::parse_timeout_param;
using tailcut::gateway::TimeoutParamError;
constexpr std::chrono::milliseconds max_timeout{60'000};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string target = "/api/smart?" + std::string{reinterpret_cast<const char*>(data), size};
  const auto parsed = parse_timeout_param(target, max_timeout);
  if (const auto* error = std::get_if<TimeoutParamError>(&parsed)) {
    FUZZ_CHECK(!error->message.empty());
    return 0;
  }
  const auto timeout = std::get<0>(parsed);
  if (!timeout) return 0;
  FUZZ_CHECK(timeout->count() >= 1 && *timeout <= max_timeout);
  const auto again =
      parse_timeout_param("/api/smart?timeout=" + std::to_string(timeout->count()), max_timeout);
  FUZZ_CHECK(std::holds_alternative<std::optional<std::chrono::milliseconds>>(again));
  FUZZ_CHECK(std::get<0>(again) == timeout);
  return 0;
}
