// ServerTestClient: a blocking HTTP/1.1 client over one TCP connection to
// 127.0.0.1, for tests of HTTP servers. Every operation has a time limit, so a
// broken server fails the test instead of hanging it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tailcut/http/message.hpp"

namespace tailcut::testing {

// A raw HTTP/1.1 request: "<method> <target> HTTP/1.1", Host, `extra_headers`
// (each ending in "\r\n"), and Content-Length when `body` is not empty.
std::string raw_request(std::string_view method, std::string_view target,
                        std::string_view extra_headers = {}, std::string_view body = {});

class ServerTestClient {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects to 127.0.0.1:`port`; throws std::runtime_error on failure.
  // `limit` bounds each later operation unless it takes its own.
  explicit ServerTestClient(std::uint16_t port,
                            std::chrono::milliseconds limit = std::chrono::seconds{10});

  // Whether a new connection to 127.0.0.1:`port` succeeds within `limit`.
  static bool can_connect(std::uint16_t port,
                          std::chrono::milliseconds limit = std::chrono::seconds{5});

  // Sends all of `bytes`; throws std::runtime_error on failure or timeout.
  void send(std::string_view bytes);

  // Reads the next response (`head`: of a HEAD request, without body). On
  // failure `error` says why: end_of_stream / connection_reset when the
  // server closed, timed_out when the limit passed.
  struct Reply {
    std::optional<http::Response> response;
    boost::system::error_code error;
  };
  Reply read_response(bool head = false);

  // Sends a request and reads its response; throws std::runtime_error when
  // no response comes.
  http::Response request(std::string_view method, std::string_view target,
                         std::string_view extra_headers = {}, std::string_view body = {});

  // Waits until the server closes the connection (end of stream or reset),
  // discarding what it sends; returns how long that took, or nullopt if the
  // connection is still open after `limit`.
  std::optional<Clock::duration> wait_for_close(std::chrono::milliseconds limit);

 private:
  // Starts an operation with `start(handler)`, runs the io_context until it
  // completes or `limit` passes (then cancels it), and returns its error
  // (timed_out on expiry).
  template <typename Start>
  boost::system::error_code run_bounded(std::chrono::milliseconds limit, Start start);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds limit_;
};

}  // namespace tailcut::testing
