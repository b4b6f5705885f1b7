// Session: the pooled async HTTP/1.1 client of libtailcut, like aiohttp's
// ClientSession.
//
//   http::Session session{io.get_executor()};
//   http::ClientResponse response = co_await session.get("https://example.org/");
//   auto value = response.json();
//
// Design (docs/http-client.md): a pool of keep-alive connections keyed by
// (scheme, host, port) with a total and a per-host limit; requests that find
// it full wait first come, first served. Timeouts, redirects, TLS and errors
// as documented on SessionOptions, RequestOptions and ClientError.
//
// Threading: a Session and everything it returns run on its one executor,
// which must be single-threaded (an io_context run by one thread, or a
// strand). It is not thread-safe: a program with several threads (the
// gateway) keeps one Session per thread.
//
// Cancellation: a request whose awaiting coroutine receives a terminal
// cancellation (async::wait_for, DeadlineScope, TaskGroup, Task::cancel)
// stops at once, closes its connection (never pooled again) and throws
// boost::system::system_error(asio::error::operation_aborted), which
// async::is_cancellation() recognises.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tailcut/async/outcome.hpp"
#include "tailcut/http/client_error.hpp"
#include "tailcut/http/response.hpp"
#include "tailcut/http/session_options.hpp"

namespace tailcut::http {

// A snapshot of the connection pool.
struct PoolStats {
  std::uint64_t connections_opened = 0;  // since the session started
  std::uint64_t connections_reused = 0;  // requests served by an idle connection
  std::size_t idle = 0;                  // open, waiting to be reused
  std::size_t in_use = 0;                // serving a request (or being opened for one)
  std::size_t waiting = 0;               // requests waiting for a free connection
  // Origins the pool keeps an entry for: those with a connection idle or in
  // use, or a request waiting. Not every origin ever asked for: a session
  // that has fetched from a million hosts keeps no trace of the idle ones.
  std::size_t origins = 0;
};

namespace detail {
struct SessionState;
}

class Session {
 public:
  // Throws ClientError(tls) when options.ca_file cannot be loaded.
  explicit Session(boost::asio::any_io_executor executor);
  Session(boost::asio::any_io_executor executor, SessionOptions options);
  // Closes the idle connections (as close()). Requests still running keep
  // what they use alive and close their connection when they end.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // A moved-from Session may only be destroyed or assigned to.
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // Sends `options.method` to `options.url` and reads the whole response,
  // following redirects unless told not to. Any status is a response (a
  // 500 does not throw).
  //
  // Failure: throws ClientError (see ErrorKind); its connection is closed.
  // A reused keep-alive connection that the server had closed is detected
  // and an idempotent request (GET, HEAD, PUT, DELETE, OPTIONS) is retried
  // once on a new connection.
  // Cancellation: throws system_error(operation_aborted), see above.
  // Lifetime: the returned awaitable owns copies of what it needs; the
  // session may be destroyed while it runs. Must be awaited on the session's
  // executor. Throws std::logic_error after close(). `options` is used
  // before this returns (the awaitable keeps nothing of it). Errors in
  // `options` are found at once but thrown when the awaitable is awaited;
  // the total timeout counts from this call.
  [[nodiscard]] boost::asio::awaitable<ClientResponse> request(const RequestOptions& options);

  // request() that hands every failure (ClientError, cancellation, the
  // logic_error after close()) back as a failed Outcome instead of throwing
  // it: where requests fail or are cancelled by the thousand (a hedging
  // gateway), each spares the unwinds of an exception through the caller's
  // coroutines.
  [[nodiscard]] boost::asio::awaitable<async::Outcome<ClientResponse>> try_request(
      const RequestOptions& options);

  // The shortcuts below are overloads rather than default arguments on
  // purpose: g++ 12 miscompiles a defaulted `= {}` argument inside a
  // co_await expression.

  // request() with method GET and `url` (options.method/url are replaced).
  [[nodiscard]] boost::asio::awaitable<ClientResponse> get(std::string url);
  [[nodiscard]] boost::asio::awaitable<ClientResponse> get(std::string url, RequestOptions options);
  // request() with method POST, `url` and `body` as the raw body.
  [[nodiscard]] boost::asio::awaitable<ClientResponse> post(std::string url, std::string body);
  [[nodiscard]] boost::asio::awaitable<ClientResponse> post(std::string url, std::string body,
                                                            RequestOptions options);
  // request() with method POST, `url` and `json` as an application/json body.
  [[nodiscard]] boost::asio::awaitable<ClientResponse> post_json(std::string url,
                                                                 boost::json::value json);
  [[nodiscard]] boost::asio::awaitable<ClientResponse> post_json(std::string url,
                                                                 boost::json::value json,
                                                                 RequestOptions options);

  [[nodiscard]] PoolStats stats() const;
  [[nodiscard]] const SessionOptions& options() const noexcept;
  [[nodiscard]] const boost::asio::any_io_executor& get_executor() const noexcept;

  // Closes the idle connections now and every connection when its request
  // ends; later request() calls throw std::logic_error. Idempotent. Call it
  // (or destroy the session) after the requests have finished: idle
  // connections otherwise stay open until keepalive_timeout, checked on the
  // next pool activity (there is no background timer, so an io_context runs
  // out of work when the requests are done).
  void close();

 private:
  std::shared_ptr<detail::SessionState> state_;
};

}  // namespace tailcut::http
