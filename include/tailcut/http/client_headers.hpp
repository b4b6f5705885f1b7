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

}  // namespace tailcut::http
