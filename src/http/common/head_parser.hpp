// A fast path for the head of an HTTP/1.x message: one pass over the
// bytes, no allocation, for the shape nearly every message has. Beast's
// parser spends about 250 instructions per header field; the simulator's
// parse of a gateway request (six fields) was 40 % of its work.
//
// It reads a strict subset of what Beast reads, and reads it the same way
// (fuzz/head_parser_fuzz.cpp checks both). Anything else it leaves to
// Beast: a head not complete yet, obs-fold, a bare LF, a control or
// non-ASCII byte, a version other than 1.0 and 1.1, Transfer-Encoding,
// Upgrade, a Connection other than one `close` or `keep-alive`, a
// Content-Length other than one decimal number. "Not read" never means
// "invalid": Beast then decides.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tailcut::http::detail {

struct HeadField {
  std::string_view name;
  std::string_view value;
};

struct ParsedHead {
  // More fields than this: left to Beast.
  static constexpr std::size_t max_fields = 24;

  std::string_view method;  // requests
  std::string_view target;  // requests
  int status = 0;           // responses
  std::string_view reason;  // responses
  int version = 11;         // 10 or 11
  std::array<HeadField, max_fields> fields{};
  std::size_t field_count = 0;
  std::size_t size = 0;  // bytes of the head, its empty line included
  std::optional<std::uint64_t> content_length;
  bool connection_close = false;       // Connection: close
  bool connection_keep_alive = false;  // Connection: keep-alive

  // As Beast's parser says it (body framed by Content-Length or empty).
  [[nodiscard]] bool keep_alive() const noexcept {
    return version >= 11 ? !connection_close : connection_keep_alive;
  }
};

// True when `bytes` begin with a complete request (or response) head of
// the usual shape, then described by `head`, whose views point into
// `bytes`. False: ask Beast.
[[nodiscard]] bool parse_request_head(std::string_view bytes, ParsedHead& head);

// Whether `text` is a token (RFC 9110 5.6.2), as a field name or a method
// must be: one or more tchars. With the parser's scan.
[[nodiscard]] bool is_token(std::string_view text) noexcept;
[[nodiscard]] bool parse_response_head(std::string_view bytes, ParsedHead& head);

// A space or a horizontal tab (RFC 9110 5.6.3).
[[nodiscard]] constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

// ASCII case-insensitive comparison of a token or a field value with
// `lower`, made of lower-case letters and '-' only. `text` must hold no
// control character (the head parsers refuse them): the comparison sets the
// case bit of every byte, so it would take a CR (0x0D) for a '-' (0x2D).
[[nodiscard]] bool equals_lower(std::string_view text, std::string_view lower) noexcept;

}  // namespace tailcut::http::detail
