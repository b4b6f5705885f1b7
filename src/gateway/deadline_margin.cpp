// DeadlineMargin: the configured floor plus the worst lateness of the last
// window, kept per slot of time.
#include "gateway/deadline_margin.hpp"

#include <algorithm>

namespace tailcut::gateway {

namespace {
constexpr DeadlineMargin::Clock::duration slot_length =
    std::chrono::duration_cast<DeadlineMargin::Clock::duration>(DeadlineMargin::window) /
    DeadlineMargin::slots;
}

DeadlineMargin::DeadlineMargin(Clock::duration floor, Clock::duration ceiling)
    : floor_{floor}, ceiling_{std::max(floor, ceiling)} {}

// Rounded down, also before the clock's epoch (std::chrono's / rounds
// towards zero).
DeadlineMargin::Clock::rep DeadlineMargin::slot_number(Clock::time_point now) noexcept {
  const auto since_epoch = now.time_since_epoch();
  auto number = since_epoch / slot_length;
  if (since_epoch % slot_length < Clock::duration::zero()) --number;
  return number;
}

DeadlineMargin::Clock::duration DeadlineMargin::current(Clock::time_point now) const noexcept {
  const auto newest = slot_number(now);
  Clock::duration worst{0};
  bool measured = false;
  for (const Slot& slot : slots_) {
    // The slots of the current window: this one and the slots - 1 before it.
    if (slot.number > newest - static_cast<Clock::rep>(slots) && slot.number <= newest) {
      worst = std::max(worst, slot.worst);
      measured = true;
    }
  }
  if (!measured) worst = assumed_lateness;
  return std::min(floor_ + worst, ceiling_);
}

void DeadlineMargin::observe_lateness(Clock::duration lateness, Clock::time_point now) noexcept {
  const auto number = slot_number(now);
  constexpr auto ring = static_cast<Clock::rep>(slots);
  Slot& slot = slots_[static_cast<std::size_t>((number % ring + ring) % ring)];
  if (slot.number != number) slot = Slot{number, Clock::duration::zero()};
  slot.worst = std::max(slot.worst, lateness);
}

}  // namespace tailcut::gateway
