// SocketWatchdog: a deadline for whatever runs on one socket, cheap to move.
//
// Moving the deadline is a store. One timer per socket wakes at the deadline
// or after `check_interval`, whichever comes first, and then either closes
// the socket (the deadline has passed: the pending operation fails) or sleeps
// again. As every deadline a connection sets is at least `check_interval`
// away, the timer is almost never rescheduled: a request that moves the
// deadline three times costs no timer operation, where an armed timer per
// read or write (Beast's tcp_stream) costs a schedule and a cancel each.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace tailcut::http::detail {

class SocketWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // How a passed deadline closes the socket: a graceful close (FIN), or a
  // reset (RST), which drops unsent data and leaves no TIME_WAIT behind.
  enum class Close { graceful, reset };

  // Watches `socket`, which must outlive the watchdog. `check_interval`: the
  // longest the timer sleeps (best: the shortest timeout the owner uses).
  SocketWatchdog(boost::asio::ip::tcp::socket& socket, std::chrono::milliseconds check_interval,
                 Close close = Close::graceful);
  ~SocketWatchdog();
  SocketWatchdog(const SocketWatchdog&) = delete;
  SocketWatchdog& operator=(const SocketWatchdog&) = delete;

  void expires_after(std::chrono::milliseconds timeout) { expires_at(Clock::now() + timeout); }
  void expires_at(Clock::time_point deadline);
  void expires_never() noexcept;

  // Whether a deadline passed (and closed the socket).
  [[nodiscard]] bool fired() const noexcept;

 private:
  struct State;
  static void on_timer(const std::shared_ptr<State>& state, const boost::system::error_code& error);
  static void schedule(const std::shared_ptr<State>& state, Clock::time_point at);

  std::shared_ptr<State> state_;
};

}  // namespace tailcut::http::detail
