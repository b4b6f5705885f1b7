// ResponseReader: Beast's response parser with the client's limits, 1xx
// interim responses skipped.
#include "response_reader.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace tailcut::http::detail {

namespace http = boost::beast::http;

namespace {
constexpr std::uint32_t max_header_bytes = 64 * 1024;
}

struct ResponseReader::Parser {
  http::response_parser<http::string_body> parser;
};

ResponseReader::ResponseReader(ExchangeLimits limits, std::string_view peer, std::string_view url)
    : limits_{limits}, peer_{peer}, url_{url} {}  // parser: at the first byte

ResponseReader::~ResponseReader() = default;

void ResponseReader::start_parser() {
  parser_ = std::make_unique<Parser>();
  auto& parser = parser_->parser;
  parser.header_limit(max_header_bytes);
  parser.body_limit(limits_.max_body_bytes);
  parser.eager(true);
  if (limits_.head_request) parser.skip(true);
}

bool ResponseReader::feed(boost::beast::flat_buffer& buffer) {
  while (buffer.size() > 0) {
    received_any_ = true;
    if (!parser_) start_parser();
    boost::system::error_code error;
    const std::size_t used = parser_->parser.put(buffer.data(), error);
    buffer.consume(used);
    if (error == http::error::need_more) return false;
    if (error == http::error::body_limit) {
      throw ClientError{ErrorKind::body_too_large, "the response body of " + std::string{url_} +
                                                       " is larger than max_body_bytes (" +
                                                       std::to_string(limits_.max_body_bytes) +
                                                       " bytes)"};
    }
    if (error == http::error::header_limit) {
      throw ClientError{ErrorKind::protocol, "the response header from " + std::string{peer_} +
                                                 " is larger than 64 KiB (" + std::string{url_} +
                                                 ")"};
    }
    if (error) {
      throw ClientError{ErrorKind::protocol, "invalid HTTP response from " + std::string{peer_} +
                                                 ": " + error.message() + " (" + std::string{url_} +
                                                 ")"};
    }
    if (parser_->parser.is_done()) {
      const int status = parser_->parser.get().result_int();
      // 1xx (but 101) precede the real response: skip them.
      if (status >= 100 && status < 200 && status != 101) {
        start_parser();
        continue;
      }
      return true;
    }
    if (used == 0) return false;
  }
  return false;
}

bool ResponseReader::finish_at_eof() {
  if (!parser_ || !parser_->parser.got_some()) return false;
  boost::system::error_code error;
  parser_->parser.put_eof(error);
  return !error && parser_->parser.is_done();
}

std::string ResponseReader::progress() const {
  if (!received_any_ || !parser_) return "no response byte received";
  const auto& parser = parser_->parser;
  if (!parser.is_header_done()) return "the header was not complete";
  std::string received = std::to_string(parser.get().body().size()) + " body bytes received";
  if (const auto expected = parser.content_length()) {
    received += " of " + std::to_string(*expected);
  }
  return received;
}

RawResponse ResponseReader::take() {
  auto message = parser_->parser.release();
  RawResponse response;
  response.status = message.result_int();
  response.reason = std::string{message.reason()};
  response.headers.reserve(static_cast<std::size_t>(std::distance(message.begin(), message.end())));
  for (const auto& field : message) {
    response.headers.push_back(
        HeaderField{std::string{field.name_string()}, std::string{field.value()}});
  }
  response.body = std::move(message.body());
  response.reusable = message.keep_alive() && !message.need_eof();
  return response;
}

}  // namespace tailcut::http::detail
