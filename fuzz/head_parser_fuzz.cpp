// The head fast path against Beast's parser, on arbitrary bytes read as a
// request (byte 0 even) or a response (odd); bit 1 of byte 0 asks for small
// limits, taken from its other bits. Whatever the fast path reads:
// - head_parser: Beast reads the head in the same number of bytes, to the
//   same method, target, status, reason (as sent), version, fields (in
//   wire order), Content-Length and keep-alive;
// - the server (read_usual_request): Beast's request parser, under the same
//   limits, builds the same message from the same number of bytes;
// - the client (ResponseReader): the response read by the fast path (all
//   bytes at once) equals the one Beast's path reads (first byte alone),
//   with the same bytes left over.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check.hpp"
#include "http/client/response_reader.hpp"
#include "http/common/head_parser.hpp"
#include "http/server/usual_request.hpp"

namespace {

namespace http = boost::beast::http;
using tailcut::http::ServerOptions;
using tailcut::http::detail::ExchangeLimits;
using tailcut::http::detail::ParsedHead;
using tailcut::http::detail::RawResponse;
using tailcut::http::detail::ResponseReader;

// What Beast's parser reports, as it reports it.
template <bool isRequest>
class RecordingParser final : public http::basic_parser<isRequest> {
 public:
  std::string method;
  std::string target;
  std::string reason;
  int status = 0;
  int version = 0;
  std::vector<std::pair<std::string, std::string>> fields;

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::system::error_code;

  void on_request_impl(http::verb, string_view method_text, string_view target_text,
                       int version_number, error_code&) override {
    method = method_text;
    target = target_text;
    version = version_number;
  }
  void on_response_impl(int code, string_view reason_text, int version_number,
                        error_code&) override {
    status = code;
    reason = reason_text;
    version = version_number;
  }
  void on_field_impl(http::field, string_view name, string_view value, error_code&) override {
    fields.emplace_back(name, value);
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view bytes, error_code&) override { return bytes.size(); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view bytes, error_code&) override {
    return bytes.size();
  }
  void on_finish_impl(error_code&) override {}
};

template <bool isRequest>
void check_head(std::string_view bytes, const ParsedHead& head) {
  FUZZ_CHECK(head.size <= bytes.size());
  RecordingParser<isRequest> parser;
  parser.header_limit(static_cast<std::uint32_t>(bytes.size() + 1));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  boost::system::error_code error;
  const std::size_t used = parser.put(boost::asio::buffer(bytes.data(), head.size), error);
  FUZZ_CHECK(!error || error == http::error::need_more);
  FUZZ_CHECK(parser.is_header_done());
  FUZZ_CHECK(used == head.size);
  if constexpr (isRequest) {
    FUZZ_CHECK(parser.method == head.method);
    FUZZ_CHECK(parser.target == head.target);
  } else {
    FUZZ_CHECK(parser.status == head.status);
    FUZZ_CHECK(parser.reason == head.reason);
  }
  FUZZ_CHECK(parser.version == head.version);
  FUZZ_CHECK(parser.fields.size() == head.field_count);
  for (std::size_t i = 0; i < head.field_count; ++i) {
    FUZZ_CHECK(parser.fields[i].first == head.fields[i].name);
    FUZZ_CHECK(parser.fields[i].second == head.fields[i].value);
  }
  const boost::optional<std::uint64_t> length = parser.content_length();
  FUZZ_CHECK(length.has_value() == head.content_length.has_value());
  if (length) FUZZ_CHECK(*length == *head.content_length);
  // A response without a length ends with the connection: not kept alive.
  if (isRequest || length) FUZZ_CHECK(parser.keep_alive() == head.keep_alive());
}

void check_server(std::string_view bytes, const ServerOptions& options) {
  std::size_t used = 0;
  const auto request = tailcut::http::detail::read_usual_request(bytes, options, used);
  if (!request) return;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
  parser.eager(true);  // the body in the same put()
  boost::system::error_code error;
  const std::size_t beast_used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), error);
  FUZZ_CHECK(!error);
  FUZZ_CHECK(parser.is_done());
  FUZZ_CHECK(beast_used == used);
  const auto& expected = parser.get();
  FUZZ_CHECK(request->method_string() == expected.method_string());
  FUZZ_CHECK(request->target() == expected.target());
  FUZZ_CHECK(request->version() == expected.version());
  FUZZ_CHECK(request->body() == expected.body());
  FUZZ_CHECK(request->keep_alive() == expected.keep_alive());
  auto field = request->begin();
  for (const auto& expected_field : expected) {
    FUZZ_CHECK(field != request->end());
    FUZZ_CHECK(field->name() == expected_field.name());
    FUZZ_CHECK(field->name_string() == expected_field.name_string());
    FUZZ_CHECK(field->value() == expected_field.value());
    ++field;
  }
  FUZZ_CHECK(field == request->end());
}

void append(boost::beast::flat_buffer& buffer, std::string_view bytes) {
  const auto space = buffer.prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), static_cast<char*>(space.data()));
  buffer.commit(bytes.size());
}

// What a ResponseReader makes of `parts` fed one after the other.
struct Reading {
  std::optional<RawResponse> response;
  std::size_t left_over = 0;
};

Reading read_response(std::vector<std::string_view> parts, ExchangeLimits limits) {
  ResponseReader reader{limits, "127.0.0.1:1", "http://127.0.0.1:1/fuzz"};
  boost::beast::flat_buffer buffer;
  Reading reading;
  for (const auto part : parts) {
    append(buffer, part);
    const auto fed = reader.feed(buffer);
    if (fed == ResponseReader::Fed::failed) return reading;
    if (fed == ResponseReader::Fed::complete) {
      reading.response = reader.take();
      break;
    }
  }
  reading.left_over = buffer.size();
  return reading;
}

void check_client(std::string_view bytes, ExchangeLimits limits) {
  if (bytes.empty()) return;
  const Reading fast = read_response({bytes}, limits);
  if (!fast.response) return;
  // A first feed of one byte leaves the response to Beast's parser.
  const Reading beast = read_response({bytes.substr(0, 1), bytes.substr(1)}, limits);
  FUZZ_CHECK(beast.response.has_value());
  const RawResponse& a = *fast.response;
  const RawResponse& b = *beast.response;
  FUZZ_CHECK(a.status == b.status);
  FUZZ_CHECK(a.reason == b.reason);
  FUZZ_CHECK(a.headers.size() == b.headers.size());
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    FUZZ_CHECK(a.headers[i].name == b.headers[i].name);
    FUZZ_CHECK(a.headers[i].value == b.headers[i].value);
  }
  FUZZ_CHECK(a.body == b.body);
  FUZZ_CHECK(a.reusable == b.reusable);
  FUZZ_CHECK(fast.left_over == beast.left_over);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  const bool request = (data[0] & 1) == 0;
  const bool small_limits = (data[0] & 2) != 0;
  const std::size_t limit_seed = data[0] >> 2;  // 0..63

  ServerOptions options;
  ExchangeLimits limits{4096, false, nullptr};
  if (small_limits) {
    options.max_header_bytes = 32 + limit_seed * 4;
    options.max_body_bytes = limit_seed;
    limits.max_body_bytes = limit_seed;
  }
  ParsedHead head;
  if (request) {
    if (tailcut::http::detail::parse_request_head(bytes, head)) check_head<true>(bytes, head);
    check_server(bytes, options);
  } else {
    if (tailcut::http::detail::parse_response_head(bytes, head)) check_head<false>(bytes, head);
    check_client(bytes, limits);
  }
  return 0;
}
