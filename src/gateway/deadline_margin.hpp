// DeadlineMargin: how long before a call's deadline the gateway aims its
// answer. A busy machine runs timers late, so the margin is the configured
// floor plus the worst lateness observed in the last `window`: how late the
// hedge acted on its timers (the hedge delay, the deadline it aimed the
// answer at). The margin never exceeds the ceiling. One per worker:
// single-threaded.
//
// Why the worst of a minute: on a busy machine the lateness comes in spikes
// (a thread waiting 15 ms for a CPU) some tens of seconds apart. A margin
// that forgot a spike within seconds was narrower than the next one when it
// came; one that remembers a minute's worst covers it, at the cost of
// answering a few milliseconds earlier than needed for that minute.
//
// Until it has measured any lateness in the window (at start, after an
// idle minute), it assumes `assumed_lateness`: the calls of a burst that
// begin before the first of them reports how late its timers ran would
// otherwise have only the floor, and a machine that turns busy runs them
// late (seen: 1-6 ms past a 1000 ms timeout in the first second of a
// 2,000-connection burst).
#pragma once

#include <array>
#include <chrono>

namespace tailcut::gateway {

class DeadlineMargin {
 public:
  using Clock = std::chrono::steady_clock;
  // The worst lateness is kept per slot of window / slots: a spike counts
  // for at least `window` - one slot, at most `window`, then is forgotten.
  static constexpr std::chrono::seconds window{60};
  static constexpr std::size_t slots = 6;
  // The lateness assumed while none was measured in the window.
  static constexpr std::chrono::milliseconds assumed_lateness{10};

  // floor <= ceiling; equal values give a fixed margin.
  DeadlineMargin(Clock::duration floor, Clock::duration ceiling);

  [[nodiscard]] Clock::duration current(Clock::time_point now) const noexcept;

  // A timer due at T was acted on at T + `lateness`.
  void observe_lateness(Clock::duration lateness, Clock::time_point now) noexcept;

 private:
  struct Slot {
    Clock::rep number = -1;  // which slot of time since the clock's epoch
    Clock::duration worst{0};
  };
  static Clock::rep slot_number(Clock::time_point now) noexcept;

  Clock::duration floor_;
  Clock::duration ceiling_;
  std::array<Slot, slots> slots_{};
};

}  // namespace tailcut::gateway
