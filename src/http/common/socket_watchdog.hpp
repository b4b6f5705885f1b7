// SocketWatchdog: a deadline for whatever runs on one socket, cheap to move.
//
// Moving the deadline is a store. One timer per socket wakes at the deadline
// or after `check_interval`, whichever comes first, and then either closes
// the socket (the deadline has passed: the pending operation fails; the
// descriptor goes to the context's SocketCloser, as every close on a worker
// does) or sleeps again. As every deadline a connection sets is at least `check_interval`
// away, the timer is almost never rescheduled: a request that moves the
// deadline three times costs no timer operation, where an armed timer per
// read or write (Beast's tcp_stream) costs a schedule and a cancel each.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "socket_closer.hpp"

namespace tailcut::http::detail {

class SocketWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // Watches `socket`, which must outlive the watchdog; `closer` is the
  // socket's context's. `check_interval`: the longest the timer sleeps
  // (best: the shortest timeout the owner uses). `how`: a passed deadline
  // closes gracefully (FIN) or resets (RST: unsent data dropped, no
  // TIME_WAIT left behind).
  SocketWatchdog(boost::asio::ip::tcp::socket& socket, SocketCloser& closer,
                 std::chrono::milliseconds check_interval,
                 SocketCloser::How how = SocketCloser::How::graceful);
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
