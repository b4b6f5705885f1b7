// HeaderField: one HTTP header as the client sends and receives it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailcut::http {

struct HeaderField {
  std::string name{};
  std::string value{};
};

// In wire order; a name may repeat.
using HeaderFields = std::vector<HeaderField>;

// The value of the first field named `name` (ASCII case-insensitive), or
// nullopt. The view points into `fields`.
[[nodiscard]] std::optional<std::string_view> find_header(const HeaderFields& fields,
                                                          std::string_view name) noexcept;

// Why `field` cannot be sent as a request header, or nullopt when it can:
// a name that is not an RFC 9110 token, CR, LF or NUL in the value, or
// Transfer-Encoding (the client sets it). Every request checks its headers
// so and fails with ErrorKind::invalid_request; a caller can check them up
// front with this, e.g. when they come from the command line.
[[nodiscard]] std::optional<std::string> request_header_problem(const HeaderField& field);

}  // namespace tailcut::http
