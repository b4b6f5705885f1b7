// Connection: one HTTP/1.1 client connection (TCP, or TLS over TCP) that
// sends a request and reads its response under deadlines. Internal to the
// Session; Beast and OpenSSL stay in connection.cpp.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "tailcut/async/detail/shared_timer.hpp"
#include "tailcut/async/failure.hpp"
#include "tailcut/http/body_budget.hpp"
#include "tailcut/http/client_error.hpp"
#include "tailcut/http/client_headers.hpp"
#include "tailcut/http/url.hpp"

namespace boost::asio::ssl {
class context;
}

namespace tailcut::http::detail {

using Clock = std::chrono::steady_clock;

// A point in time after which an operation fails with `kind`; `budget` is
// the configured timeout, for the message.
struct Deadline {
  Clock::time_point at = Clock::time_point::max();
  ErrorKind kind = ErrorKind::total_timeout;
  std::chrono::milliseconds budget{0};

  [[nodiscard]] bool passed() const noexcept { return Clock::now() >= at; }
};

// The total deadline of a request starting now (none without a limit).
[[nodiscard]] Deadline total_deadline(std::optional<std::chrono::milliseconds> total);
// The earlier of `total` and now + `phase` (reported as `phase_kind`); the
// total wins a tie.
[[nodiscard]] Deadline earliest(const Deadline& total,
                                std::optional<std::chrono::milliseconds> phase,
                                ErrorKind phase_kind);
// A failure of deadline.kind: "<what> timed out (<kind> of N ms)".
[[nodiscard]] async::Failure timeout_failure(const Deadline& deadline, const std::string& what);

// A response as read from the wire.
struct RawResponse {
  int status = 0;
  std::string reason;
  HeaderFields headers;
  std::string body;
  bool reusable = false;  // keep-alive, fully read, nothing left over
};

// What an exchange ended with: a response; neither a response nor a
// failure when the reused connection turned out closed by the server (the
// request may be retried elsewhere); or the failure. Failures are handed
// back rather than thrown: hedged calls cancel exchanges by the thousand, a
// down upstream fails every attempt, and an exception is rethrown (unwound
// again, ~20 k instructions) by every coroutine it crosses.
// The response is held apart: a request's coroutine frame holds its
// result for as long as it waits (~100 bytes per request in flight).
struct ExchangeResult {
  std::unique_ptr<RawResponse> response;
  async::Failure failure;
};

struct ExchangeLimits {
  std::size_t max_body_bytes = 0;
  bool head_request = false;          // the response has no body whatever it says
  BodyCharge* body_charge = nullptr;  // RequestOptions::body_charge
};

// What one exchange sends, and under which limits. The caller keeps it, and
// what it points to, alive and unchanged until the exchange is over.
struct ExchangeRequest {
  const std::string* wire = nullptr;  // the serialized request
  const HttpUrl* url = nullptr;       // its text and origin, for messages
  ExchangeLimits limits;
  Deadline total;                                      // sending and reading, all of it
  std::optional<std::chrono::milliseconds> sock_read;  // each read, at most
  std::stop_token stop;  // requested: the socket closes, the exchange fails as cancelled
};

class Connection {
 public:
  // Resolves origin.host, connects (trying each address) and, for https,
  // does the TLS handshake with SNI and host name verification, all before
  // `deadline`. `url` is for messages. On failure returns null and sets
  // `failure`: an ErrorKind (dns, connect_refused, connect_failed, tls, or
  // the deadline's kind), or Failure::cancelled() when cancelled.
  // Returned, not thrown: with the upstream down, every attempt of every
  // call fails here, and an exception cost ~20 k instructions per coroutine
  // frame it crossed (3 frames: 60 % of such a call's cost).
  // `timers`: the session's, on `executor`, for the connection's deadlines.
  // Every argument is referred to, not copied: the caller awaits at once
  // and keeps them alive (a gateway's hedged calls open connections by the
  // thousand at once, and copies in each opening's frame would add up).
  [[nodiscard]] static boost::asio::awaitable<std::unique_ptr<Connection>> open(
      const boost::asio::any_io_executor& executor, const Origin& origin,
      boost::asio::ssl::context* tls, const std::shared_ptr<async::detail::SharedTimer>& timers,
      const Deadline& deadline, const std::string& url, async::Failure& failure,
      const std::stop_token& stop);

  // Closes the socket; a TLS connection between exchanges sends
  // close_notify first, in the background (at most 1 s).
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request` and reads one response, a step at a time, so that an
  // exchange takes no coroutine frame of its own (a gateway has thousands
  // waiting at once): begin_exchange(), then, while exchange_running(),
  // await wait_for_exchange() and call continue_exchange(). On plain TCP
  // the awaited step is the socket's own wait, and the read buffer is taken
  // only once the answer is readable: a slow upstream costs no buffer.
  // Sending is bounded by `request.total`; each read by the earlier of
  // `total` and `sock_read`. When the exchange is over, `result` holds the
  // response; or neither a response nor a failure when this connection was
  // reused and the server had closed it (EOF or reset before any response
  // byte: the request may be retried elsewhere); or the failure:
  // ClientError (connection_closed, protocol, body_too_large, a timeout) or
  // Failure::cancelled(). After anything but a response the connection
  // must be discarded. `request` and `result` must outlive the exchange.
  void begin_exchange(const ExchangeRequest& request, ExchangeResult& result);
  [[nodiscard]] bool exchange_running() const noexcept;
  [[nodiscard]] boost::asio::awaitable<void> wait_for_exchange();
  void continue_exchange(ExchangeResult& result);

  // For an idle connection: open, no EOF and no unexpected byte waiting.
  [[nodiscard]] bool looks_reusable() const noexcept;
  [[nodiscard]] bool is_open() const noexcept;

  struct Impl;  // defined in connection.cpp

 private:
  explicit Connection(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tailcut::http::detail
