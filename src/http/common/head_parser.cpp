// The head fast path: see head_parser.hpp for what it reads and leaves.
#include "head_parser.hpp"

#include <bit>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tailcut::http::detail {

namespace {

using Iterator = const char*;
using ByteTable = std::array<bool, 256>;

// RFC 9110 5.6.2: tchar, what a method and a field name are made of.
constexpr ByteTable make_token_table() {
  ByteTable table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (const char c : std::string_view{"!#$%&'*+-.^_`|~"})
    table[static_cast<unsigned char>(c)] = true;
  return table;
}

// A request target here: visible ASCII (Beast also takes obs-text).
constexpr ByteTable make_target_table() {
  ByteTable table{};
  for (int c = 0x21; c <= 0x7e; ++c) table[c] = true;
  return table;
}

// A field value or a reason phrase here: HTAB, SP and visible ASCII (Beast
// also takes obs-text).
constexpr ByteTable make_text_table() {
  ByteTable table = make_target_table();
  table['\t'] = true;
  table[' '] = true;
  return table;
}

constexpr ByteTable is_token = make_token_table();
constexpr ByteTable is_target = make_target_table();
constexpr ByteTable is_text = make_text_table();

bool holds(const ByteTable& table, char c) { return table[static_cast<unsigned char>(c)]; }

// The first byte from `p` that `table` does not hold (or `end`).
Iterator skip(Iterator p, Iterator end, const ByteTable& table) {
  while (p != end && holds(table, *p)) ++p;
  return p;
}

#if defined(__SSE2__)

// Sixteen bytes at a time while sixteen remain, for the usual runs: a
// field's value, a request target, a field name (of letters, digits and
// '-'). Each returns the first byte of `p`'s sixteen that ends the run, or
// null when all sixteen belong to it. Compared as signed bytes, those from
// 0x80 are negative: below SP, or past any upper bound, as wanted.
using Bytes = __m128i;

Bytes load(Iterator p) { return _mm_loadu_si128(reinterpret_cast<const Bytes*>(p)); }

Bytes all(char c) { return _mm_set1_epi8(c); }

Iterator first_set(Iterator p, Bytes stops) {
  const auto mask = static_cast<unsigned>(_mm_movemask_epi8(stops));
  return mask == 0 ? nullptr : p + std::countr_zero(mask);
}

// Not HTAB, SP or visible ASCII.
Iterator first_not_text(Iterator p) {
  const Bytes bytes = load(p);
  const Bytes below_space = _mm_cmplt_epi8(bytes, all(' '));
  const Bytes out = _mm_or_si128(below_space, _mm_cmpeq_epi8(bytes, all('\x7f')));
  return first_set(p, _mm_andnot_si128(_mm_cmpeq_epi8(bytes, all('\t')), out));
}

// Not visible ASCII.
Iterator first_not_visible(Iterator p) {
  const Bytes bytes = load(p);
  const Bytes below = _mm_cmplt_epi8(bytes, all('!'));
  return first_set(p, _mm_or_si128(below, _mm_cmpeq_epi8(bytes, all('\x7f'))));
}

// Not a letter, digit or '-' (other tchars are left to the table).
Iterator first_not_name_letter(Iterator p) {
  const Bytes bytes = load(p);
  const Bytes lower = _mm_or_si128(bytes, all(0x20));
  const Bytes letter =
      _mm_and_si128(_mm_cmpgt_epi8(lower, all('a' - 1)), _mm_cmplt_epi8(lower, all('z' + 1)));
  const Bytes digit =
      _mm_and_si128(_mm_cmpgt_epi8(bytes, all('0' - 1)), _mm_cmplt_epi8(bytes, all('9' + 1)));
  const Bytes in = _mm_or_si128(_mm_or_si128(letter, digit), _mm_cmpeq_epi8(bytes, all('-')));
  return first_set(p, _mm_xor_si128(in, all(static_cast<char>(0xff))));
}

template <Iterator (*first_out)(Iterator)>
Iterator skip_wide(Iterator p, Iterator end) {
  while (end - p >= 16) {
    if (const Iterator out = first_out(p)) return out;
    p += 16;
  }
  return p;
}

// As skip(p, end, table), sixteen bytes at a time first.
Iterator skip_text(Iterator p, Iterator end) {
  return skip(skip_wide<first_not_text>(p, end), end, is_text);
}
Iterator skip_target(Iterator p, Iterator end) {
  return skip(skip_wide<first_not_visible>(p, end), end, is_target);
}
Iterator skip_token(Iterator p, Iterator end) {
  return skip(skip_wide<first_not_name_letter>(p, end), end, is_token);
}

#else

Iterator skip_text(Iterator p, Iterator end) { return skip(p, end, is_text); }
Iterator skip_target(Iterator p, Iterator end) { return skip(p, end, is_target); }
Iterator skip_token(Iterator p, Iterator end) { return skip(p, end, is_token); }

#endif

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "HTTP/1.1" or "HTTP/1.0".
bool read_version(Iterator& p, Iterator end, int& version) {
  constexpr std::string_view prefix = "HTTP/1.";
  if (end - p < 8 || std::string_view{p, prefix.size()} != prefix) return false;
  if (p[7] == '1') {
    version = 11;
  } else if (p[7] == '0') {
    version = 10;
  } else {
    return false;
  }
  p += 8;
  return true;
}

bool at_line_end(Iterator p, Iterator end) { return end - p >= 2 && p[0] == '\r' && p[1] == '\n'; }

// One decimal number, the only Content-Length.
bool note_content_length(std::string_view value, ParsedHead& head) {
  constexpr std::size_t max_digits = 18;  // no overflow
  if (head.content_length || value.empty() || value.size() > max_digits) return false;
  std::uint64_t length = 0;
  for (const char c : value) {
    if (!is_digit(c)) return false;
    length = length * 10 + static_cast<std::uint64_t>(c - '0');
  }
  head.content_length = length;
  return true;
}

// One `close` or `keep-alive`, the only Connection.
bool note_connection(std::string_view value, ParsedHead& head) {
  if (head.connection_close || head.connection_keep_alive) return false;
  if (equals_lower(value, "close")) {
    head.connection_close = true;
  } else if (equals_lower(value, "keep-alive")) {
    head.connection_keep_alive = true;
  } else {
    return false;
  }
  return true;
}

// What a field means for framing and keep-alive; false when Beast should
// judge it.
bool note_field(std::string_view name, std::string_view value, ParsedHead& head) {
  switch (name.size()) {
    case 14:
      if (equals_lower(name, "content-length")) return note_content_length(value, head);
      break;
    case 10:
      if (equals_lower(name, "connection")) return note_connection(value, head);
      break;
    case 16:
      if (equals_lower(name, "proxy-connection")) return false;
      break;
    case 17:
      if (equals_lower(name, "transfer-encoding")) return false;
      break;
    case 7:
      if (equals_lower(name, "upgrade")) return false;
      break;
    default:
      break;
  }
  return true;
}

// The fields from `p`, and the empty line that ends the head.
bool read_fields(Iterator p, Iterator begin, Iterator end, ParsedHead& head) {
  // What an earlier message may have left in a reused `head`.
  head.field_count = 0;
  head.content_length.reset();
  head.connection_close = false;
  head.connection_keep_alive = false;
  for (;;) {
    if (end - p < 2) return false;
    if (p[0] == '\r') {
      if (p[1] != '\n') return false;
      head.size = static_cast<std::size_t>(p + 2 - begin);
      return true;
    }
    const Iterator name_begin = p;
    p = skip_token(p, end);
    if (p == name_begin || p == end || *p != ':') return false;
    const std::string_view name{name_begin, static_cast<std::size_t>(p - name_begin)};
    ++p;
    while (p != end && is_space(*p)) ++p;
    const Iterator value_begin = p;
    p = skip_text(p, end);
    // CRLF, and the next line does not continue this one (obs-fold).
    if (end - p < 3 || !at_line_end(p, end) || is_space(p[2])) return false;
    Iterator value_end = p;
    while (value_end != value_begin && is_space(value_end[-1])) --value_end;
    p += 2;
    const std::string_view value{value_begin, static_cast<std::size_t>(value_end - value_begin)};
    if (head.field_count == ParsedHead::max_fields || !note_field(name, value, head)) return false;
    head.fields[head.field_count++] = HeadField{name, value};
  }
}

}  // namespace

// Setting bit 0x20 of a byte turns an upper-case letter into its lower
// case; of the bytes a token or value holds (no CR), no other one becomes a
// lower-case letter or '-'.
bool equals_lower(std::string_view text, std::string_view lower) noexcept {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (static_cast<char>(text[i] | 0x20) != lower[i]) return false;
  }
  return true;
}

bool is_token(std::string_view text) noexcept {
  const Iterator end = text.data() + text.size();
  return !text.empty() && skip_token(text.data(), end) == end;
}

bool parse_request_head(std::string_view bytes, ParsedHead& head) {
  const Iterator begin = bytes.data();
  const Iterator end = begin + bytes.size();
  // method SP target SP version CRLF
  Iterator p = skip_token(begin, end);
  if (p == begin || p == end || *p != ' ') return false;
  head.method = {begin, static_cast<std::size_t>(p - begin)};
  const Iterator target_begin = ++p;
  p = skip_target(p, end);
  if (p == target_begin || p == end || *p != ' ') return false;
  head.target = {target_begin, static_cast<std::size_t>(p - target_begin)};
  ++p;
  if (!read_version(p, end, head.version) || !at_line_end(p, end)) return false;
  return read_fields(p + 2, begin, end, head);
}

bool parse_response_head(std::string_view bytes, ParsedHead& head) {
  const Iterator begin = bytes.data();
  const Iterator end = begin + bytes.size();
  // version SP 3DIGIT SP reason CRLF
  Iterator p = begin;
  if (!read_version(p, end, head.version)) return false;
  if (end - p < 5 || p[0] != ' ' || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]) ||
      p[4] != ' ') {
    return false;
  }
  head.status = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
  p += 5;
  const Iterator reason_begin = p;
  p = skip_text(p, end);
  if (!at_line_end(p, end)) return false;
  head.reason = {reason_begin, static_cast<std::size_t>(p - reason_begin)};
  return read_fields(p + 2, begin, end, head);
}

}  // namespace tailcut::http::detail
