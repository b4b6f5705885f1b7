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
  // `peer` and `url` are for messages; they must outlive the reader.
  ResponseReader(ExchangeLimits limits, std::string_view peer, std::string_view url);
  ~ResponseReader();
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  // Parses and consumes what `buffer` holds. True when a final (non-1xx)
  // response is complete; what follows it stays in `buffer`. Throws
  // ClientError(protocol) for bytes that are not HTTP or a header over 64
  // KiB, ClientError(body_too_large) for a body over the limit.
  [[nodiscard]] bool feed(boost::beast::flat_buffer& buffer);

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

  ExchangeLimits limits_;
  std::string_view peer_;
  std::string_view url_;
  std::unique_ptr<Parser> parser_;
  std::optional<RawResponse> usual_;  // read by take_usual_response()
  bool received_any_ = false;
};

}  // namespace tailcut::http::detail
