// The gateway's check of an upstream's JSON body on arbitrary bytes.
// Property: json_shape() agrees with boost::json::parse(): `object` exactly
// when parse() gives an object, `other_value` when it gives another value,
// `invalid` when it fails.
#include <boost/json/parse.hpp>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "gateway/json_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tailcut::gateway::JsonShape;
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  boost::system::error_code error;
  const auto value = boost::json::parse(text, error);
  const JsonShape expected = error               ? JsonShape::invalid
                             : value.is_object() ? JsonShape::object
                                                 : JsonShape::other_value;
  FUZZ_CHECK(tailcut::gateway::json_shape(text) == expected);
  return 0;
}
