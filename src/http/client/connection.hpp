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
struct ExchangeResult {
  std::optional<RawResponse> response;
  async::Failure failure;
};

struct ExchangeLimits {
  std::size_t max_body_bytes = 0;
  bool head_request = false;          // the response has no body whatever it says
  BodyCharge* body_charge = nullptr;  // RequestOptions::body_charge
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
  [[nodiscard]] static boost::asio::awaitable<std::unique_ptr<Connection>> open(
      boost::asio::any_io_executor executor, Origin origin, boost::asio::ssl::context* tls,
      Deadline deadline, std::string url, async::Failure& failure, std::stop_token stop);

  // Closes the socket; a TLS connection between exchanges sends
  // close_notify first, in the background (at most 1 s).
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request` (serialized) and reads one response. Sending is bounded
  // by `total`; each read by the earlier of `total` and `sock_read`.
  // Returns no response and no failure when this connection was reused and
  // the server had closed it: it failed with EOF or reset before any
  // response byte. Fails with ClientError (connection_closed, a timeout) or
  // system_error(operation_aborted); throws ClientError (protocol,
  // body_too_large). After anything but a response the connection must be
  // discarded. `request` and `url` are taken by reference (no copy per
  // request): the caller awaits the exchange at once and keeps them alive.
  [[nodiscard]] boost::asio::awaitable<ExchangeResult> exchange(
      const std::string& request, ExchangeLimits limits, Deadline total,
      std::optional<std::chrono::milliseconds> sock_read, const std::string& url,
      std::stop_token stop);

  // For an idle connection: open, no EOF and no unexpected byte waiting.
  [[nodiscard]] bool looks_reusable() const noexcept;
  [[nodiscard]] bool is_open() const noexcept;

  struct Impl;  // defined in connection.cpp

 private:
  explicit Connection(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tailcut::http::detail
