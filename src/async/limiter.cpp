// Limiter: FIFO hand-over of units from releasers to waiters.
#include "tailcut/async/limiter.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "tailcut/async/error.hpp"

namespace tailcut::async {

namespace asio = boost::asio;

struct Limiter::Waiter {
  explicit Waiter(const asio::any_io_executor& executor)
      : wakeup{executor, asio::steady_timer::time_point::max()} {}
  asio::steady_timer wakeup;
  std::list<Waiter*>::iterator position;
  bool granted = false;
};

Limiter::Permit& Limiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    release();
    limiter_ = std::exchange(other.limiter_, nullptr);
  }
  return *this;
}

void Limiter::Permit::release() noexcept {
  if (limiter_) std::exchange(limiter_, nullptr)->release_one();
}

Limiter::Limiter(asio::any_io_executor executor, std::size_t limit)
    : executor_{std::move(executor)}, limit_{limit} {
  if (limit == 0) throw std::invalid_argument{"Limiter: the limit must be at least 1"};
}

std::optional<Limiter::Permit> Limiter::try_acquire() {
  if (in_use_ >= limit_ || !waiters_.empty()) return std::nullopt;
  ++in_use_;
  return Permit{this};
}

asio::awaitable<Limiter::Permit> Limiter::acquire() {
  if (auto permit = try_acquire()) co_return std::move(*permit);

  Waiter waiter{executor_};
  waiter.position = waiters_.insert(waiters_.end(), &waiter);
  // Leaves the queue however we leave (co_await itself throws when the
  // caller was cancelled before it).
  struct LeaveQueue {
    std::list<Waiter*>& waiters;
    Waiter& waiter;
    ~LeaveQueue() {
      if (!waiter.granted) waiters.erase(waiter.position);
    }
  } leave_queue{waiters_, waiter};
  boost::system::error_code error;
  co_await waiter.wakeup.async_wait(asio::redirect_error(asio::use_awaitable, error));
  // Granted wins over a cancellation that arrived in the same turn: the
  // unit was already handed over to us.
  if (waiter.granted) co_return Permit{this};
  throw_cancelled();
}

void Limiter::release_one() noexcept {
  if (waiters_.empty()) {
    --in_use_;
    return;
  }
  // Hand the unit straight to the oldest waiter: in_use_ stays the same.
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->granted = true;
  next->wakeup.cancel();
}

}  // namespace tailcut::async
