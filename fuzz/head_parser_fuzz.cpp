// The head fast path (src/http/common/head_parser) against Beast's parser,
// on arbitrary bytes read as a request (byte 0 even) or a response (odd).
// Property: whatever the fast path reads, Beast reads too, in the same
// number of bytes and to the same method, target, status, reason, version,
// fields (in order), Content-Length and keep-alive.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <limits>
#include <string_view>

#include "check.hpp"
#include "http/common/head_parser.hpp"

namespace {

namespace http = boost::beast::http;
using tailcut::http::detail::ParsedHead;

// The fields as a Beast message holds them: inserted in wire order, which
// keeps repeated names together (the server builds its request so).
template <bool isRequest>
void check_fields(const http::message<isRequest, http::string_body>& message,
                  const ParsedHead& head) {
  http::fields inserted;
  for (std::size_t i = 0; i < head.field_count; ++i) {
    const auto& field = head.fields[i];
    inserted.insert(http::string_to_field(field.name), field.name, field.value);
  }
  auto expected = inserted.begin();
  for (const auto& field : message) {
    FUZZ_CHECK(expected != inserted.end());
    FUZZ_CHECK(field.name_string() == expected->name_string());
    FUZZ_CHECK(field.value() == expected->value());
    ++expected;
  }
  FUZZ_CHECK(expected == inserted.end());
}

// Beast reads the head's bytes, no more, no fewer, as a complete header.
template <bool isRequest>
void check_beast_reads(http::parser<isRequest, http::string_body>& parser, std::string_view bytes,
                       const ParsedHead& head) {
  parser.header_limit(static_cast<std::uint32_t>(bytes.size() + 1));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // callers check theirs
  boost::system::error_code error;
  const std::size_t used = parser.put(boost::asio::buffer(bytes.data(), head.size), error);
  FUZZ_CHECK(!error || error == http::error::need_more);
  FUZZ_CHECK(parser.is_header_done());
  FUZZ_CHECK(used == head.size);
  const boost::optional<std::uint64_t> length = parser.content_length();
  FUZZ_CHECK(length.has_value() == head.content_length.has_value());
  if (length) FUZZ_CHECK(*length == *head.content_length);
  // A response without a length ends with the connection: not kept alive.
  if (isRequest || length) FUZZ_CHECK(parser.keep_alive() == head.keep_alive());
  check_fields(parser.get(), head);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  ParsedHead head;
  if ((data[0] & 1) == 0) {
    if (!tailcut::http::detail::parse_request_head(bytes, head)) return 0;
    FUZZ_CHECK(head.size <= bytes.size());
    http::request_parser<http::string_body> parser;
    check_beast_reads(parser, bytes, head);
    const auto& request = parser.get();
    FUZZ_CHECK(request.method_string() == head.method);
    FUZZ_CHECK(request.target() == head.target);
    FUZZ_CHECK(static_cast<int>(request.version()) == head.version);
    // What the server looks at: the message's own keep-alive.
    FUZZ_CHECK(request.keep_alive() == head.keep_alive());
  } else {
    if (!tailcut::http::detail::parse_response_head(bytes, head)) return 0;
    FUZZ_CHECK(head.size <= bytes.size());
    http::response_parser<http::string_body> parser;
    check_beast_reads(parser, bytes, head);
    const auto& response = parser.get();
    FUZZ_CHECK(static_cast<int>(response.result_int()) == head.status);
    // An empty reason reads back as the status's usual one.
    if (!head.reason.empty()) FUZZ_CHECK(response.reason() == head.reason);
    FUZZ_CHECK(static_cast<int>(response.version()) == head.version);
  }
  return 0;
}
