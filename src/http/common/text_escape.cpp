// JSON strings and quoted log text, with a strict UTF-8 decoder (no overlong
// forms, no surrogates, nothing above U+10FFFF).
#include "text_escape.hpp"

#include <cstdint>

namespace tailcut::http::detail {

namespace {

struct Decoded {
  char32_t code_point = 0;
  std::size_t length = 0;  // 0: the byte at the start begins no valid sequence
};

// The UTF-8 sequence at the start of `text` (not empty).
Decoded decode_utf8(std::string_view text) {
  const auto byte = [&text](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  char32_t code_point = 0;
  char32_t smallest = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, code_point = lead & 0x1fU, smallest = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, code_point = lead & 0x0fU, smallest = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, code_point = lead & 0x07U, smallest = 0x10000;
  } else {
    return {};
  }
  if (text.size() < length) return {};
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0U) != 0x80) return {};
    code_point = (code_point << 6U) | (byte(i) & 0x3fU);
  }
  if (code_point < smallest || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return {};
  }
  return {code_point, length};
}

void append_hex(std::string& out, std::string_view prefix, std::uint32_t value, int digits) {
  constexpr std::string_view hex = "0123456789abcdef";
  out += prefix;
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
    out.push_back(hex[(value >> static_cast<unsigned>(shift)) & 0xfU]);
  }
}

// Code points a terminal acts on instead of showing them.
bool is_hidden_in_log(char32_t code_point) {
  return (code_point >= 0x80 && code_point <= 0x9f) ||
         (code_point >= 0x2028 && code_point <= 0x202e) ||
         (code_point >= 0x2066 && code_point <= 0x2069);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  constexpr std::string_view replacement = "\xef\xbf\xbd";  // U+FFFD
  out.reserve(out.size() + text.size() + 2);
  out.push_back('"');
  while (!text.empty()) {
    const char c = text.front();
    const auto byte = static_cast<unsigned char>(c);
    std::size_t taken = 1;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20) {
      append_hex(out, "\\u", byte, 4);
    } else if (byte < 0x80) {
      out.push_back(c);
    } else if (const auto decoded = decode_utf8(text); decoded.length != 0) {
      taken = decoded.length;
      out.append(text.substr(0, taken));
    } else {
      out += replacement;
    }
    text.remove_prefix(taken);
  }
  out.push_back('"');
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string quoted_for_log(std::string_view text) {
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted.push_back('"');
  while (!text.empty()) {
    const char c = text.front();
    const auto byte = static_cast<unsigned char>(c);
    std::size_t taken = 1;
    if (c == '"' || c == '\\') {
      quoted.push_back('\\');
      quoted.push_back(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      append_hex(quoted, "\\x", byte, 2);
    } else if (byte < 0x80) {
      quoted.push_back(c);
    } else if (const auto decoded = decode_utf8(text); decoded.length == 0) {
      append_hex(quoted, "\\x", byte, 2);
    } else {
      taken = decoded.length;
      if (is_hidden_in_log(decoded.code_point)) {
        append_hex(quoted, "\\u", decoded.code_point, 4);
      } else {
        quoted.append(text.substr(0, taken));
      }
    }
    text.remove_prefix(taken);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace tailcut::http::detail
