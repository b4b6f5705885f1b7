// SharedTimer: many timed wake-ups on one steady_timer (see the header).
#include "tailcut/async/detail/shared_timer.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <utility>

namespace tailcut::async::detail {

namespace asio = boost::asio;

TimedWake::~TimedWake() { disarm(); }

void TimedWake::arm(Clock::time_point at) { timer_->arm(*this, at); }

void TimedWake::disarm() noexcept {
  if (armed()) timer_->disarm(*this);
}

// Holds its context's SharedTimer, made with the first executor seen.
class SharedTimer::OfContext final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit OfContext(asio::execution_context& context) : service{context} {}
  std::optional<SharedTimer> timer;

 private:
  void shutdown() override {
    if (timer) timer->shutdown();
  }
};

SharedTimer::SharedTimer(asio::any_io_executor executor) : timer_{std::in_place, executor} {}

SharedTimer& SharedTimer::of(const asio::any_io_executor& executor) {
  auto& of_context = asio::use_service<OfContext>(asio::query(executor, asio::execution::context));
  if (!of_context.timer) of_context.timer.emplace(executor);
  return *of_context.timer;
}

void SharedTimer::shutdown() noexcept {
  shut_down_ = true;
  for (TimedWake* wake : heap_) wake->index_ = TimedWake::not_armed;
  heap_.clear();
  timer_.reset();
}

void SharedTimer::arm(TimedWake& wake, Clock::time_point at) {
  if (shut_down_) return;
  if (wake.armed()) remove_at(wake.index_);
  wake.at_ = at;
  heap_.push_back(&wake);
  place(heap_.size() - 1, &wake);
  sift_up(heap_.size() - 1);
  follow_earliest();
}

void SharedTimer::disarm(TimedWake& wake) noexcept {
  remove_at(wake.index_);
  // The steady_timer stays set for the wake-up just removed: it expires
  // once for nothing, rather than costing a cancellation now. Unless
  // nothing is left: a pending wait would keep the context's run() going.
  if (heap_.empty() && timer_at_ != Clock::time_point::max()) {
    timer_at_ = Clock::time_point::max();
    timer_->cancel();
  }
}

void SharedTimer::follow_earliest() {
  const Clock::time_point earliest = heap_.front()->at_;
  if (earliest >= timer_at_) return;  // it will wake in time (maybe early)
  timer_at_ = earliest;
  timer_->expires_at(earliest);  // cancels the wait pending, if any
  timer_->async_wait([this](const boost::system::error_code& error) {
    if (!error) on_expiry();
  });
}

void SharedTimer::on_expiry() {
  timer_at_ = Clock::time_point::max();
  const auto now = Clock::now();
  // Each is taken out before it is called: a call may arm or disarm others.
  while (!heap_.empty() && heap_.front()->at_ <= now) {
    TimedWake& due = *heap_.front();
    remove_at(0);
    due.call_(due.context_);
  }
  if (!heap_.empty()) follow_earliest();
}

void SharedTimer::place(std::size_t index, TimedWake* wake) noexcept {
  heap_[index] = wake;
  wake->index_ = index;
}

void SharedTimer::sift_up(std::size_t index) noexcept {
  TimedWake* moving = heap_[index];
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (heap_[parent]->at_ <= moving->at_) break;
    place(index, heap_[parent]);
    index = parent;
  }
  place(index, moving);
}

void SharedTimer::sift_down(std::size_t index) noexcept {
  TimedWake* moving = heap_[index];
  const std::size_t size = heap_.size();
  for (;;) {
    std::size_t child = 2 * index + 1;
    if (child >= size) break;
    if (child + 1 < size && heap_[child + 1]->at_ < heap_[child]->at_) ++child;
    if (moving->at_ <= heap_[child]->at_) break;
    place(index, heap_[child]);
    index = child;
  }
  place(index, moving);
}

void SharedTimer::remove_at(std::size_t index) noexcept {
  TimedWake* removed = heap_[index];
  removed->index_ = TimedWake::not_armed;
  TimedWake* last = heap_.back();
  heap_.pop_back();
  if (index == heap_.size()) return;  // it was the last
  place(index, last);
  sift_up(index);
  sift_down(last->index_);
}

}  // namespace tailcut::async::detail
