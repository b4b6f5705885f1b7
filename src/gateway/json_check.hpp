// Whether an upstream's body is the JSON object a success needs, checked by
// Boost.JSON's parser without building the value.
#pragma once

#include <string_view>

namespace tailcut::gateway {

enum class JsonShape { object, other_value, invalid };

// The shape of `text` as one JSON document: an object, another value
// (array, string, number, true, false, null), or not JSON at all.
[[nodiscard]] JsonShape json_shape(std::string_view text);

}  // namespace tailcut::gateway
