#include "socket_watchdog.hpp"

#include <algorithm>

namespace tailcut::http::detail {

// Shared with the pending wait, which may complete after the watchdog is
// gone: it then finds `socket` null and does nothing.
struct SocketWatchdog::State {
  State(boost::asio::ip::tcp::socket& watched, SocketCloser& socket_closer,
        std::chrono::milliseconds interval, SocketCloser::How close_how)
      : socket{&watched},
        closer{&socket_closer},
        timer{watched.get_executor()},
        check_interval{interval},
        how{close_how} {}

  boost::asio::ip::tcp::socket* socket;
  SocketCloser* closer;
  boost::asio::steady_timer timer;
  std::chrono::milliseconds check_interval;
  SocketCloser::How how;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point scheduled = Clock::time_point::max();  // when the timer wakes
  bool fired = false;
};

SocketWatchdog::SocketWatchdog(boost::asio::ip::tcp::socket& socket, SocketCloser& closer,
                               std::chrono::milliseconds check_interval, SocketCloser::How how)
    : state_{std::make_shared<State>(
          socket, closer, std::max(check_interval, std::chrono::milliseconds{1}), how)} {}

SocketWatchdog::~SocketWatchdog() {
  state_->socket = nullptr;
  state_->timer.cancel();
}

void SocketWatchdog::expires_at(Clock::time_point deadline) {
  state_->deadline = deadline;
  if (deadline < state_->scheduled) schedule(state_, deadline);
}

void SocketWatchdog::expires_never() noexcept { state_->deadline = Clock::time_point::max(); }

bool SocketWatchdog::fired() const noexcept { return state_->fired; }

void SocketWatchdog::schedule(const std::shared_ptr<State>& state, Clock::time_point at) {
  const auto now = Clock::now();
  const auto latest = now + state->check_interval;
  state->scheduled = std::min(at, latest);
  state->timer.expires_at(state->scheduled);  // cancels a pending wait, if any
  state->timer.async_wait(
      [state](const boost::system::error_code& error) { on_timer(state, error); });
}

void SocketWatchdog::on_timer(const std::shared_ptr<State>& state,
                              const boost::system::error_code& error) {
  // Aborted: the watchdog is gone, or the timer was moved earlier.
  if (error || state->socket == nullptr) return;
  state->scheduled = Clock::time_point::max();
  if (state->deadline == Clock::time_point::max()) return;  // sleeps until the next deadline
  if (Clock::now() >= state->deadline) {
    state->fired = true;
    state->closer->close(*state->socket, state->how);
    return;
  }
  schedule(state, state->deadline);
}

}  // namespace tailcut::http::detail
