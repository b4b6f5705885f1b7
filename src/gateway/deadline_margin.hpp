// DeadlineMargin: how long before a call's deadline the gateway aims its
// answer. A busy machine runs timers late, so the margin is the configured
// floor plus the recent peak of observed lateness: how late the hedge acted
// on its timers (the hedge delay, the deadline it aimed the answer at). The
// peak halves every `peak_half_life` without new lateness, and the margin
// never exceeds the ceiling. One per worker: single-threaded.
#pragma once

#include <chrono>

namespace tailcut::gateway {

class DeadlineMargin {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds peak_half_life{10};

  // floor <= ceiling; equal values give a fixed margin.
  DeadlineMargin(Clock::duration floor, Clock::duration ceiling);

  [[nodiscard]] Clock::duration current(Clock::time_point now) const noexcept;

  // A timer due at T was acted on at T + `lateness`.
  void observe_lateness(Clock::duration lateness, Clock::time_point now) noexcept;

 private:
  [[nodiscard]] Clock::duration peak_at(Clock::time_point now) const noexcept;

  Clock::duration floor_;
  Clock::duration ceiling_;
  Clock::duration peak_{0};
  Clock::time_point peak_observed_at_{};
};

}  // namespace tailcut::gateway
