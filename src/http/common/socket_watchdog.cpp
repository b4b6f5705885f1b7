// SocketWatchdog: a deadline per socket on a shared timer (see the header).
#include "socket_watchdog.hpp"

#include <algorithm>

namespace tailcut::http::detail {

SocketWatchdog::SocketWatchdog(boost::asio::ip::tcp::socket& socket, SocketCloser& closer,
                               async::detail::SharedTimer& timers,
                               std::chrono::milliseconds check_interval, SocketCloser::How how)
    : socket_{&socket},
      closer_{&closer},
      check_interval_{std::max(check_interval, std::chrono::milliseconds{1})},
      how_{how},
      wake_{timers, &SocketWatchdog::wake_call, this} {}

void SocketWatchdog::expires_at(Clock::time_point deadline) {
  deadline_ = deadline;
  if (deadline < scheduled_) schedule(deadline);
}

void SocketWatchdog::schedule(Clock::time_point at) {
  scheduled_ = std::min(at, Clock::now() + check_interval_);
  wake_.arm(scheduled_);  // moves it when armed already
}

void SocketWatchdog::wake_call(void* self) noexcept {
  static_cast<SocketWatchdog*>(self)->on_wake();
}

void SocketWatchdog::on_wake() noexcept {
  scheduled_ = Clock::time_point::max();
  if (deadline_ == Clock::time_point::max()) return;  // sleeps until the next deadline
  if (Clock::now() >= deadline_) {
    fired_ = true;
    closer_->close(*socket_, how_);
    return;
  }
  schedule(deadline_);  // noexcept here: no room for a wake-up ends the program
}

}  // namespace tailcut::http::detail
