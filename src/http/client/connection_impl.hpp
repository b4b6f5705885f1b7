// Connection::Impl: a client connection's socket, its deadlines and the
// state of the exchange in progress. Private to connection.cpp (opening,
// closing) and exchange.cpp (exchanges).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "../common/socket_closer.hpp"
#include "../common/socket_watchdog.hpp"
#include "connection.hpp"
#include "response_reader.hpp"

namespace tailcut::http::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// The longest a connection's watchdog sleeps while its deadline is further
// away (SocketWatchdog): bounds the wake-ups of a connection that waits long.
inline constexpr std::chrono::seconds watchdog_check_interval{5};

inline auto use_awaitable_into(error_code& error) {
  return asio::redirect_error(asio::use_awaitable, error);
}

struct Connection::Impl {
  // `tls_context`: null for plain TCP.
  Impl(const asio::any_io_executor& executor, ssl::context* tls_context,
       std::shared_ptr<async::detail::SharedTimer> session_timers)
      : plain{tls_context ? std::nullopt : std::optional<tcp::socket>{std::in_place, executor}},
        tls{tls_context ? std::make_unique<ssl::stream<tcp::socket>>(executor, *tls_context)
                        : nullptr},
        // Looked up now rather than in close(), which may run as the context
        // is being destroyed (and would pay the service registry's lock).
        closer{asio::use_service<SocketCloser>(asio::query(executor, asio::execution::context))},
        timers{std::move(session_timers)},
        watchdog{socket(), closer, *timers, watchdog_check_interval, SocketCloser::How::reset} {}
  ~Impl() { close(); }

  tcp::socket& socket() noexcept { return tls ? tls->next_layer() : *plain; }

  // A connection closed in the middle of an exchange (its request was
  // cancelled, or timed out) is reset rather than shut down: its answer is
  // unwanted, and a reset leaves no TIME_WAIT behind. At thousands of hedged
  // calls a second, the TIME_WAITs of graceful closes would take up the
  // local ports, and every connect() would search longer for a free one.
  // The reset is sent by the context's SocketCloser: when a client leaves
  // with thousands of calls in flight, the resets of their attempts do not
  // stall the event loop.
  void close() noexcept {
    if (mid_exchange) {
      closer.close(socket(), SocketCloser::How::reset);
      return;
    }
    error_code ignored;
    socket().close(ignored);
  }

  // Closes the socket when `deadline` passes, which aborts whatever runs on
  // it; the operation then learns from timed_out() that it timed out. Moving
  // the deadline is a store (SocketWatchdog): a call's exchange on a pooled
  // connection costs no timer operation.
  void arm(const Deadline& deadline) {
    armed = deadline;
    if (deadline.at == Clock::time_point::max()) {
      watchdog.expires_never();
    } else if (deadline.passed()) {
      passed_when_armed = true;
      close();
    } else {
      watchdog.expires_at(deadline.at);
    }
  }

  void disarm() noexcept {
    armed = Deadline{};
    watchdog.expires_never();
  }

  [[nodiscard]] bool is_armed() const noexcept { return armed.at != Clock::time_point::max(); }
  [[nodiscard]] bool timed_out() const noexcept { return passed_when_armed || watchdog.fired(); }

  // After a failed operation: the timeout or the cancellation that caused
  // it, if any (null otherwise). The deadline that fired is the one still
  // armed: the socket closed under the operation that just failed.
  [[nodiscard]] async::Failure interruption(const error_code& error,
                                            const std::string& what) const {
    if (timed_out() && is_armed()) return timeout_failure(armed, what);
    if (error == asio::error::operation_aborted) return async::Failure::cancelled();
    return {};
  }
  // Whether interruption() would return a failure.
  [[nodiscard]] bool interrupted(const error_code& error) const noexcept {
    return (timed_out() && is_armed()) || error == asio::error::operation_aborted;
  }

  // A request usually fits in the socket's send buffer: on plain TCP it is
  // written here by one system call, without an asynchronous operation or a
  // coroutine (the socket is in non-blocking mode, see Connection::open, so this
  // never waits). Returns true when the write is over (done, or failed:
  // see wait_error); false when write_rest() must write from `written` on.
  bool write_at_once(const std::string& bytes) {
    written = 0;
    if (tls) return false;
    written = plain->write_some(asio::buffer(bytes), wait_error);
    if (!wait_error && written == bytes.size()) return true;
    if (wait_error && wait_error != asio::error::would_block) return true;
    wait_error = {};
    return false;
  }

  asio::awaitable<void> write_rest(const std::string& bytes) {
    if (tls) {
      co_await asio::async_write(*tls, asio::buffer(bytes), use_awaitable_into(wait_error));
    } else {
      co_await asio::async_write(*plain, asio::buffer(bytes) + written,
                                 use_awaitable_into(wait_error));
    }
  }

  // A TLS read into `buffer`; its byte count goes to tls_read_bytes.
  asio::awaitable<void> tls_read_some() {
    tls_read_bytes = co_await tls->async_read_some(buffer.prepare(read_chunk_bytes),
                                                   use_awaitable_into(wait_error));
  }

  void after_read(std::size_t bytes) {
    buffer.commit(bytes);
    if (bytes == read_chunk_bytes && read_chunk_bytes < max_read_chunk_bytes) read_chunk_bytes *= 2;
  }

  static constexpr std::size_t max_read_chunk_bytes = 64 * 1024;

  // The steps of an exchange (Connection::begin_exchange ...): exchange.cpp.
  void after_send(ExchangeResult& result);
  void read_available(ExchangeResult& result);
  void after_read_of(std::size_t bytes, ExchangeResult& result);
  void complete(ExchangeResult& result, bool ended_by_eof);
  void end_exchange(ExchangeResult& result, ExchangeResult ending);
  void forget_exchange() noexcept;
  // The reader of this exchange's response, made at its first byte.
  ResponseReader& response_reader() {
    if (!reader) {
      reader = std::make_unique<ResponseReader>(request->limits, request->url->origin.authority(),
                                                request->url->text);
    }
    return *reader;
  }

  // Stopped from outside: the socket closes under whatever is pending,
  // which then fails as cancelled (interruption()).
  struct CloseOnStop {
    Impl* impl;
    void operator()() const noexcept { impl->close(); }
  };
  enum class Stage { none, sending, reading };

  std::optional<tcp::socket> plain;
  // Held apart: a TLS stream is several hundred bytes that plain HTTP
  // connections would otherwise carry.
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  SocketCloser& closer;  // the context's: resets this socket off the event loop
  // The session's (a TLS goodbye may outlive it): the watchdog's wake-ups.
  std::shared_ptr<async::detail::SharedTimer> timers;
  SocketWatchdog watchdog;
  Deadline armed;  // the last arm()'s; none (at max) after disarm()
  boost::beast::flat_buffer buffer;
  std::size_t read_chunk_bytes = 2 * 1024;
  // The exchange in progress.
  const ExchangeRequest* request = nullptr;
  std::optional<std::stop_callback<CloseOnStop>> stop_watch;
  std::unique_ptr<ResponseReader> reader;  // from the first response byte
  error_code wait_error;                   // of the step awaited last
  std::size_t written = 0;                 // bytes of the request sent
  std::size_t tls_read_bytes = 0;
  Stage stage = Stage::none;
  bool reused = false;             // an exchange had run on it before this one
  bool received_any = false;       // a response byte came
  bool answered_before = false;    // an exchange on it got its response
  bool passed_when_armed = false;  // arm() was given a deadline already passed
  bool mid_exchange = false;       // a request was sent and its answer is not all read
};

}  // namespace tailcut::http::detail
