// SocketWatchdog: a deadline for whatever runs on one socket, cheap to move.
//
// Moving the deadline is a store. A wake-up on a SharedTimer comes at the
// deadline or after `check_interval`, whichever comes first, and then
// either closes the socket (the deadline has passed: the pending operation
// fails; the descriptor goes to the context's SocketCloser, as every close
// on a worker does) or sleeps again. As every deadline a connection sets is
// at least `check_interval` away, the wake-up is almost never moved: a
// request that moves the deadline three times costs no timer operation,
// where an armed timer per read or write (Beast's tcp_stream) costs a
// schedule and a cancel each. A wake-up on a shared timer, not a
// steady_timer of its own: thousands of connections wait at once, and each
// timer of its own took ~330 bytes with its pending wait.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>

#include "socket_closer.hpp"
#include "tailcut/async/detail/shared_timer.hpp"

namespace tailcut::http::detail {

class SocketWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // Watches `socket`, which must outlive the watchdog; `closer` is the
  // socket's context's; `timers` runs on the socket's executor and outlives
  // the watchdog. `check_interval`: the longest the wake-up sleeps (best:
  // the shortest timeout the owner uses). `how`: a passed deadline closes
  // gracefully (FIN) or resets (RST: unsent data dropped, no TIME_WAIT left
  // behind). Not movable: its wake-up points to it.
  SocketWatchdog(boost::asio::ip::tcp::socket& socket, SocketCloser& closer,
                 async::detail::SharedTimer& timers, std::chrono::milliseconds check_interval,
                 SocketCloser::How how = SocketCloser::How::graceful);
  SocketWatchdog(const SocketWatchdog&) = delete;
  SocketWatchdog& operator=(const SocketWatchdog&) = delete;

  void expires_after(std::chrono::milliseconds timeout) { expires_at(Clock::now() + timeout); }
  void expires_at(Clock::time_point deadline);
  void expires_never() noexcept { deadline_ = Clock::time_point::max(); }

  // Whether a deadline passed (and closed the socket).
  [[nodiscard]] bool fired() const noexcept { return fired_; }

 private:
  static void wake_call(void* self) noexcept;
  void on_wake() noexcept;
  void schedule(Clock::time_point at);

  boost::asio::ip::tcp::socket* socket_;
  SocketCloser* closer_;
  std::chrono::milliseconds check_interval_;
  SocketCloser::How how_;
  bool fired_ = false;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point scheduled_ = Clock::time_point::max();  // when the wake-up comes
  async::detail::TimedWake wake_;                           // disarmed when it goes
};

}  // namespace tailcut::http::detail
