// ResponseReader: turns the bytes of one HTTP/1.x response into a
// RawResponse (by a fast path for the usual shape, else with Beast's
// parser), enforcing the client's size limits.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connection.hpp"

namespace tailcut::http::detail {

class ResponseReader {
 public:
  // `peer` and `url` are for messages; `url` must outlive the reader.
  ResponseReader(ExchangeLimits limits, std::string_view peer, std::string_view url);
  ~ResponseReader();
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  enum class Fed {
    need_more,  // more bytes, please
    complete,   // a final (non-1xx) response; what follows it stays in the buffer
    failed,     // see error()
  };

  // Parses and consumes what `buffer` holds. Fails, without throwing (a
  // misbehaving upstream is routine for a gateway, and an exception costs
  // every coroutine frame it crosses), on bytes that are not HTTP or a
  // header over 64 KiB (ErrorKind::protocol), or on a body over the limit
  // or with no room left in the body charge's budget
  // (ErrorKind::body_too_large).
  [[nodiscard]] Fed feed(boost::beast::flat_buffer& buffer);

  // Why feed() failed. Precondition: it did.
  [[nodiscard]] const async::Failure& error() const { return error_; }

  // The server closed the connection: true when that ends the response (a
  // body delimited by the end of the connection), false when it was cut.
  [[nodiscard]] bool finish_at_eof();

  // How far the response got, for messages: "no response byte", "N of M
  // body bytes"...
  [[nodiscard]] std::string progress() const;

  // The complete response. Precondition: feed() or finish_at_eof() said so.
  [[nodiscard]] RawResponse take();

 private:
  class Parser;
  void start_parser();
  bool take_usual_response(boost::beast::flat_buffer& buffer);
  Fed fail(ErrorKind kind, const std::string& message);

  ExchangeLimits limits_;
  std::string peer_;
  std::string_view url_;
  std::unique_ptr<Parser> parser_;
  std::optional<RawResponse> usual_;  // read by take_usual_response()
  async::Failure error_;              // why feed() failed
  bool received_any_ = false;
  bool taken_ = false;  // take() handed the body on
};

}  // namespace tailcut::http::detail
