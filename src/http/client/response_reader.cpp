// ResponseReader: Beast's HTTP/1 parser with the client's limits, 1xx
// interim responses skipped. The parser writes the status, the fields and
// the body straight into a RawResponse: going through a Beast message
// (basic_fields, a node allocated and sorted per field) and copying it out
// cost a quarter of the instructions of a proxied call's client side.
#include "response_reader.hpp"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include "../common/head_parser.hpp"

namespace tailcut::http::detail {

namespace http = boost::beast::http;

namespace {
constexpr std::uint32_t max_header_bytes = 64 * 1024;
}

class ResponseReader::Parser final : public http::basic_parser<false> {
 public:
  // Room for a typical response's fields, taken at once.
  explicit Parser(BodyCharge* charge) : charge_{charge} { response.headers.reserve(8); }

  RawResponse response;
  bool over_budget = false;  // the body charge was refused

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::system::error_code;

  // A basic_parser<false> reads responses only.
  void on_request_impl(http::verb, string_view, string_view, int, error_code&) override {}

  // Beast reads any three digits; a status is 100 or more (RFC 9110 15
  // registers 1xx to 5xx), and "099" would otherwise pass for a final
  // response (found by fuzz/response_reader_fuzz.cpp).
  void on_response_impl(int status, string_view reason, int, error_code& error) override {
    if (status < 100) {
      error = http::error::bad_status;
      return;
    }
    response.status = status;
    response.reason.assign(reason.data(), reason.size());
  }

  void on_field_impl(http::field, string_view name, string_view value, error_code&) override {
    response.headers.push_back(HeaderField{std::string{name.data(), name.size()},
                                           std::string{value.data(), value.size()}});
  }

  void on_header_impl(error_code&) override {}

  // The parser has checked the length against the body limit already; the
  // room taken ahead is capped all the same: a server may announce a length
  // and not send it.
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code&) override {
    constexpr std::uint64_t max_reserve_bytes = 64 * std::uint64_t{1024};
    if (content_length) {
      response.body.reserve(static_cast<std::size_t>(std::min(*content_length, max_reserve_bytes)));
    }
  }

  std::size_t on_body_impl(string_view bytes, error_code& error) override {
    return append(bytes, error);
  }

  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, string_view bytes, error_code& error) override {
    return append(bytes, error);
  }

  void on_finish_impl(error_code&) override {}

  std::size_t append(string_view bytes, error_code& error) {
    if (charge_ != nullptr && !charge_->grow(bytes.size())) {
      over_budget = true;
      error = http::error::body_limit;
      return 0;
    }
    response.body.append(bytes.data(), bytes.size());
    return bytes.size();
  }

  BodyCharge* charge_;
};

ResponseReader::ResponseReader(ExchangeLimits limits, std::string_view peer, std::string_view url)
    : limits_{limits}, peer_{peer}, url_{url} {  // parser: at the first byte
  // A previous exchange's body (a redirect's, a stale connection's) is gone.
  if (limits_.body_charge != nullptr) limits_.body_charge->release();
}

// A body not taken is dropped with the reader: its charge goes with it.
ResponseReader::~ResponseReader() {
  if (!taken_ && limits_.body_charge != nullptr) limits_.body_charge->release();
}

void ResponseReader::start_parser() {
  if (limits_.body_charge != nullptr) limits_.body_charge->release();  // a 1xx had no body
  parser_ = std::make_unique<Parser>(limits_.body_charge);
  auto& parser = *parser_;
  parser.header_limit(max_header_bytes);
  parser.body_limit(limits_.max_body_bytes);
  parser.eager(true);
  if (limits_.head_request) parser.skip(true);
}

ResponseReader::Fed ResponseReader::feed(boost::beast::flat_buffer& buffer) {
  if (!parser_ && buffer.size() > 0 && take_usual_response(buffer)) return Fed::complete;
  while (buffer.size() > 0) {
    received_any_ = true;
    if (!parser_) start_parser();
    boost::system::error_code error;
    const std::size_t used = parser_->put(buffer.data(), error);
    buffer.consume(used);
    if (error == http::error::need_more) return Fed::need_more;
    if (error == http::error::body_limit && parser_->over_budget) {
      return fail(ErrorKind::body_too_large,
                  "the response body of " + std::string{url_} +
                      " would take the bodies buffered at once over their limit (" +
                      std::to_string(limits_.body_charge->budget()->limit_bytes()) + " bytes)");
    }
    if (error == http::error::body_limit) {
      return fail(ErrorKind::body_too_large,
                  "the response body of " + std::string{url_} + " is larger than max_body_bytes (" +
                      std::to_string(limits_.max_body_bytes) + " bytes)");
    }
    if (error == http::error::header_limit) {
      return fail(ErrorKind::protocol, "the response header from " + peer_ +
                                           " is larger than 64 KiB (" + std::string{url_} + ")");
    }
    if (error) {
      return fail(ErrorKind::protocol, "invalid HTTP response from " + peer_ + ": " +
                                           error.message() + " (" + std::string{url_} + ")");
    }
    if (parser_->is_done()) {
      const int status = parser_->response.status;
      // 1xx (but 101) precede the real response: skip them.
      if (status >= 100 && status < 200 && status != 101) {
        start_parser();
        continue;
      }
      return Fed::complete;
    }
    if (used == 0) return Fed::need_more;
  }
  return Fed::need_more;
}

ResponseReader::Fed ResponseReader::fail(ErrorKind kind, const std::string& message) {
  error_ = client_failure(kind, message);
  return Fed::failed;
}

// A whole response of the usual shape in `buffer` (head_parser.hpp), its
// body framed by Content-Length: read without Beast's parser. False leaves
// the buffer to the parser.
bool ResponseReader::take_usual_response(boost::beast::flat_buffer& buffer) {
  if (limits_.head_request) return false;  // a body announced, none sent
  const std::string_view buffered{static_cast<const char*>(buffer.data().data()), buffer.size()};
  ParsedHead head;
  if (!parse_response_head(buffered, head)) return false;
  // 1xx are skipped, 204 and 304 have no body whatever they announce.
  constexpr int no_content = 204;
  constexpr int not_modified = 304;
  if (head.status < 200 || head.status > 599 || head.status == no_content ||
      head.status == not_modified) {
    return false;
  }
  if (head.size >= max_header_bytes || !head.content_length ||
      *head.content_length > limits_.max_body_bytes ||
      *head.content_length > buffered.size() - head.size) {
    return false;
  }
  const auto length = static_cast<std::size_t>(*head.content_length);
  // No room: the parser reads it, and fails at the body's first bytes.
  if (limits_.body_charge != nullptr && !limits_.body_charge->grow(length)) return false;
  received_any_ = true;
  RawResponse& response = usual_.emplace();
  response.status = head.status;
  response.reason.assign(head.reason);
  response.headers.reserve(head.field_count);
  for (std::size_t i = 0; i < head.field_count; ++i) {
    const HeadField& field = head.fields[i];
    response.headers.push_back(HeaderField{std::string{field.name}, std::string{field.value}});
  }
  response.body.assign(buffered.substr(head.size, length));
  response.reusable = head.keep_alive();
  buffer.consume(head.size + length);
  return true;
}

bool ResponseReader::finish_at_eof() {
  if (!parser_ || !parser_->got_some()) return false;
  boost::system::error_code error;
  parser_->put_eof(error);
  return !error && parser_->is_done();
}

std::string ResponseReader::progress() const {
  if (!received_any_ || !parser_) return "no response byte received";
  const auto& parser = *parser_;
  if (!parser.is_header_done()) return "the header was not complete";
  std::string received = std::to_string(parser.response.body.size()) + " body bytes received";
  if (const auto expected = parser.content_length()) {
    received += " of " + std::to_string(*expected);
  }
  return received;
}

RawResponse ResponseReader::take() {
  taken_ = true;  // the body and its charge are the caller's now
  if (usual_) {
    RawResponse response = std::move(*usual_);
    usual_.reset();
    return response;
  }
  RawResponse response = std::move(parser_->response);
  response.reusable = parser_->keep_alive() && !parser_->need_eof();
  parser_.reset();
  return response;
}

}  // namespace tailcut::http::detail
