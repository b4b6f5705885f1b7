// json_shape(): Boost.JSON's SAX parser with a handler that keeps nothing
// but the kind of the top-level value. Parsing into a value (even on the
// stack) cost twice as much, for a value the gateway never reads.
#include "gateway/json_check.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <cstdint>
#include <limits>

namespace tailcut::gateway {

namespace {

using boost::json::string_view;
using boost::system::error_code;

class ShapeHandler {
 public:
  static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

  [[nodiscard]] bool top_is_object() const noexcept { return top_is_object_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return value(false); }
  bool on_array_end(std::size_t, error_code&) { return true; }
  bool on_object_begin(error_code&) { return value(true); }
  bool on_object_end(std::size_t, error_code&) { return true; }
  bool on_string_part(string_view, std::size_t, error_code&) { return value(false); }
  bool on_string(string_view, std::size_t, error_code&) { return value(false); }
  bool on_key_part(string_view, std::size_t, error_code&) { return true; }
  bool on_key(string_view, std::size_t, error_code&) { return true; }
  bool on_number_part(string_view, error_code&) { return value(false); }
  bool on_int64(std::int64_t, string_view, error_code&) { return value(false); }
  bool on_uint64(std::uint64_t, string_view, error_code&) { return value(false); }
  bool on_double(double, string_view, error_code&) { return value(false); }
  bool on_bool(bool, error_code&) { return value(false); }
  bool on_null(error_code&) { return value(false); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  // The first value seen is the top-level one.
  bool value(bool is_object) {
    if (!seen_value_) {
      seen_value_ = true;
      top_is_object_ = is_object;
    }
    return true;
  }

  bool seen_value_ = false;
  bool top_is_object_ = false;
};

}  // namespace

JsonShape json_shape(std::string_view text) {
  boost::json::basic_parser<ShapeHandler> parser{boost::json::parse_options{}};
  error_code error;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), error);
  if (error || used != text.size()) return JsonShape::invalid;
  return parser.handler().top_is_object() ? JsonShape::object : JsonShape::other_value;
}

}  // namespace tailcut::gateway
