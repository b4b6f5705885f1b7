// SharedTimer: many timed wake-ups on one steady_timer: one per execution
// context (SharedTimer::of), or one of an owner's own.
//
// A hedge arms a wake-up for every call (its hedge delay) and almost always
// disarms it unfired. On a steady_timer of its own that cost a service
// lookup, a timer-queue insertion and removal, and a trip through the
// scheduler for the cancelled wait: ~1 k instructions per call. Here arming
// and disarming are a heap insertion and removal; the steady_timer moves
// only when the earliest wake-up comes earlier, and a disarmed earliest
// wake-up leaves it to expire once for nothing (with a constant hedge delay,
// a few times a second at any load).
//
// Single-threaded: the context's is used by the one thread that runs the
// context (strands of a multi-threaded context would share its heap); one
// made by an owner, by its executor only (a strand will do). With no
// wake-up armed the steady_timer's wait is cancelled, so that run() can
// return: a lone call in flight arms and cancels it each time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace tailcut::async::detail {

class SharedTimer;

// One wake-up: `call(context)` runs once its time has come, unless it is
// disarmed first. Disarmed when it goes.
class TimedWake {
 public:
  using Clock = std::chrono::steady_clock;

  // `call` must not throw: it runs inside the timer's handler.
  using Call = void (*)(void*) noexcept;

  TimedWake(SharedTimer& timer, Call call, void* context) noexcept
      : timer_{&timer}, call_{call}, context_{context} {}
  ~TimedWake();
  TimedWake(const TimedWake&) = delete;
  TimedWake& operator=(const TimedWake&) = delete;

  // What it calls, when it could not be given at construction.
  void set_call(Call call, void* context) noexcept {
    call_ = call;
    context_ = context;
  }
  // (Re)arms it for `at`.
  void arm(Clock::time_point at);
  void disarm() noexcept;
  [[nodiscard]] bool armed() const noexcept { return index_ != not_armed; }

 private:
  friend class SharedTimer;
  static constexpr std::size_t not_armed = static_cast<std::size_t>(-1);

  SharedTimer* timer_;
  Call call_;
  void* context_;
  Clock::time_point at_{};
  std::size_t index_ = not_armed;  // in the timer's heap
};

class SharedTimer {
 public:
  using Clock = std::chrono::steady_clock;

  // A timer of the caller's own, for wake-ups on `executor`. Its wake-ups
  // are disarmed (or gone) before it goes, and it goes before the context.
  explicit SharedTimer(boost::asio::any_io_executor executor);
  SharedTimer(const SharedTimer&) = delete;
  SharedTimer& operator=(const SharedTimer&) = delete;

  // The one of `executor`'s context, which lives as long as the context.
  static SharedTimer& of(const boost::asio::any_io_executor& executor);

 private:
  friend class TimedWake;
  class OfContext;  // the context's service that holds its timer

  // The context shuts down: nothing armed stays, nothing can be armed.
  void shutdown() noexcept;
  void arm(TimedWake& wake, Clock::time_point at);
  void disarm(TimedWake& wake) noexcept;
  // Sets the steady_timer for the earliest wake-up, if it must move.
  void follow_earliest();
  void on_expiry();

  // Binary min-heap on TimedWake::at_; each wake-up knows its index.
  void place(std::size_t index, TimedWake* wake) noexcept;
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;
  void remove_at(std::size_t index) noexcept;

  std::vector<TimedWake*> heap_;
  std::optional<boost::asio::steady_timer> timer_;         // reset when the context shuts down
  Clock::time_point timer_at_ = Clock::time_point::max();  // max: no wait pending
  bool shut_down_ = false;
};

}  // namespace tailcut::async::detail
