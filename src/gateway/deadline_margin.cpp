// DeadlineMargin: the configured floor plus the decaying peak of lateness.
#include "gateway/deadline_margin.hpp"

#include <algorithm>
#include <cmath>

namespace tailcut::gateway {

DeadlineMargin::DeadlineMargin(Clock::duration floor, Clock::duration ceiling)
    : floor_{floor}, ceiling_{std::max(floor, ceiling)} {}

DeadlineMargin::Clock::duration DeadlineMargin::peak_at(Clock::time_point now) const noexcept {
  if (peak_ <= Clock::duration::zero()) return Clock::duration::zero();
  const double half_lives = std::chrono::duration<double>(now - peak_observed_at_) /
                            std::chrono::duration<double>(peak_half_life);
  if (half_lives <= 0) return peak_;
  return std::chrono::duration_cast<Clock::duration>(peak_ * std::exp2(-half_lives));
}

DeadlineMargin::Clock::duration DeadlineMargin::current(Clock::time_point now) const noexcept {
  return std::min(floor_ + peak_at(now), ceiling_);
}

void DeadlineMargin::observe_lateness(Clock::duration lateness, Clock::time_point now) noexcept {
  peak_ = std::max(peak_at(now), lateness);
  peak_observed_at_ = now;
}

}  // namespace tailcut::gateway
