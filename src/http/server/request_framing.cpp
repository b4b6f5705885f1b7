// The framing decision for request heads: see request_framing.hpp.
#include "request_framing.hpp"

#include <array>
#include <string>

#include "../common/head_parser.hpp"

namespace tailcut::http::detail {

namespace {

std::string_view trimmed(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Calls `each` with every element of a comma-separated list (RFC 9110
// 5.6.1), without its surrounding spaces, empty ones included.
template <typename Each>
void for_each_element(std::string_view list, Each each) {
  for (;;) {
    const std::size_t comma = list.find(',');
    each(trimmed(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// One or more digits, within 64 bits.
bool parse_decimal(std::string_view text, std::uint64_t& number) noexcept {
  if (text.empty()) return false;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  number = value;
  return true;
}

// RFC 3986 authority without userinfo: reg-name, IPv4 or IP-literal, then
// an optional port; here the bytes those may hold (the parts' order is the
// router's concern, a smuggled '/', '@', space or control byte is not).
constexpr std::array<bool, 256> make_host_table() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (const char c : std::string_view{"-._~%!$&'()*+,;=:[]"}) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}
constexpr std::array<bool, 256> host_bytes = make_host_table();

// The fields FramingFields notes.
enum class FramingField { other, host, content_length, transfer_encoding };

FramingField framing_field_named(std::string_view name) noexcept {
  switch (name.size()) {
    case 4:
      if (equals_lower(name, "host")) return FramingField::host;
      break;
    case 14:
      if (equals_lower(name, "content-length")) return FramingField::content_length;
      break;
    case 17:
      if (equals_lower(name, "transfer-encoding")) return FramingField::transfer_encoding;
      break;
    default:
      break;
  }
  return FramingField::other;
}

class FramingCategory final : public boost::system::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "tailcut.request_framing"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<FramingError>(value)) {
      case FramingError::transfer_coding_not_chunked:
        return "its Transfer-Encoding does not end with chunked, once: the end of its body is "
               "unknown";
      case FramingError::unknown_transfer_coding:
        return "its Transfer-Encoding names a coding this server does not implement (only "
               "chunked)";
      case FramingError::transfer_encoding_in_http_1_0:
        return "an HTTP/1.0 request cannot have a Transfer-Encoding";
      case FramingError::transfer_encoding_with_content_length:
        return "it has both Transfer-Encoding and Content-Length";
      case FramingError::bad_content_length:
        return "its Content-Length is not a decimal number";
      case FramingError::conflicting_content_length:
        return "its Content-Length fields disagree";
      case FramingError::missing_host:
        return "an HTTP/1.1 request needs a Host field";
      case FramingError::repeated_host:
        return "it has more than one Host field";
      case FramingError::bad_host:
        return "its Host field is not a host and an optional port";
      case FramingError::framing_mismatch:
        return "the end of its body is ambiguous";
      case FramingError::folded_framing_field:
        return "its Host, Content-Length or Transfer-Encoding field is continued on a further "
               "line (obs-fold)";
    }
    return "the framing of its body is invalid";
  }
};

}  // namespace

const boost::system::error_category& framing_category() noexcept {
  static const FramingCategory category;
  return category;
}

boost::system::error_code make_error_code(FramingError error) noexcept {
  return {static_cast<int>(error), framing_category()};
}

void FramingFields::note(std::string_view name, std::string_view value) noexcept {
  switch (framing_field_named(name)) {
    case FramingField::host:
      note_host(value);
      break;
    case FramingField::content_length:
      note_content_length(value);
      break;
    case FramingField::transfer_encoding:
      note_transfer_encoding(value);
      break;
    case FramingField::other:
      break;
  }
}

// A line that starts with a space or tab continues the field line before it.
void FramingFields::note_folds(std::string_view head) noexcept {
  std::string_view name;                       // of the last field line
  std::size_t line_start = head.find("\r\n");  // after the request line
  while (line_start != std::string_view::npos) {
    line_start += 2;
    const std::size_t line_end = head.find("\r\n", line_start);
    const std::string_view line = head.substr(line_start, line_end - line_start);
    if (line.empty()) return;  // the head's end
    if (!is_space(line.front())) {
      name = line.substr(0, line.find(':'));
    } else if (framing_field_named(name) != FramingField::other) {
      framing_field_folded_ = true;
    }
    line_start = line_end;
  }
}

void FramingFields::note_host(std::string_view value) noexcept {
  ++host_count_;
  for (const char c : value) {
    if (!host_bytes[static_cast<unsigned char>(c)]) host_valid_ = false;
  }
}

// RFC 9110 8.6: a list of the same number stands for that number.
void FramingFields::note_content_length(std::string_view value) noexcept {
  for_each_element(value, [this](std::string_view element) {
    std::uint64_t length = 0;
    if (!parse_decimal(element, length)) {
      content_length_valid_ = false;
    } else if (has_content_length_ && length != content_length_) {
      content_length_conflicts_ = true;
    }
    content_length_ = length;
    has_content_length_ = true;
  });
}

// RFC 9112 6.1: codings in the order applied; empty elements are ignored
// (RFC 9110 5.6.1).
void FramingFields::note_transfer_encoding(std::string_view value) noexcept {
  has_transfer_encoding_ = true;
  for_each_element(value, [this](std::string_view coding) {
    if (coding.empty()) return;
    last_coding_chunked_ = equals_lower(coding, "chunked");
    if (last_coding_chunked_) {
      ++chunked_count_;
    } else {
      other_coding_ = true;
    }
  });
}

BodyFraming FramingFields::decide(unsigned version,
                                  boost::system::error_code& error) const noexcept {
  error = {};
  BodyFraming framing;
  if (framing_field_folded_) {
    error = FramingError::folded_framing_field;
  } else if (host_count_ > 1) {  // RFC 9112 3.2

    error = FramingError::repeated_host;
  } else if (host_count_ == 0 && version >= 11) {
    error = FramingError::missing_host;
  } else if (!host_valid_) {
    error = FramingError::bad_host;
  } else if (has_transfer_encoding_) {
    // RFC 9112 6.1 and 6.3.
    if (version < 11) {
      error = FramingError::transfer_encoding_in_http_1_0;
    } else if (has_content_length_) {
      error = FramingError::transfer_encoding_with_content_length;
    } else if (!last_coding_chunked_ || chunked_count_ != 1) {
      error = FramingError::transfer_coding_not_chunked;
    } else if (other_coding_) {
      error = FramingError::unknown_transfer_coding;
    } else {
      framing.kind = BodyFraming::Kind::chunked;
    }
  } else if (has_content_length_) {
    if (!content_length_valid_) {
      error = FramingError::bad_content_length;
    } else if (content_length_conflicts_) {
      error = FramingError::conflicting_content_length;
    } else {
      framing.kind = BodyFraming::Kind::content_length;
      framing.length = content_length_;
    }
  }
  return framing;
}

}  // namespace tailcut::http::detail
