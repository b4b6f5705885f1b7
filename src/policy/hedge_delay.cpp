// AdaptiveHedgeDelay and HedgeDelayPolicy (hedge_delay.hpp).
#include "tailcut/policy/hedge_delay.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tailcut::policy {

namespace {

void check(const AdaptiveDelayOptions& options) {
  if (!(options.budget > 0.0 && options.budget <= 1.0)) {
    throw std::invalid_argument{
        "adaptive hedge delay: the budget must be above 0 and at most 1 (a share of calls)"};
  }
  if (options.extras_per_hedge == 0) {
    throw std::invalid_argument{"adaptive hedge delay: a hedge must fire at least one attempt"};
  }
  if (options.min < std::chrono::milliseconds::zero() || options.min > options.max) {
    throw std::invalid_argument{
        "adaptive hedge delay: the minimum delay must be at least 0 and at most the maximum"};
  }
  if (options.fallback < std::chrono::milliseconds::zero()) {
    throw std::invalid_argument{"adaptive hedge delay: the fallback delay must not be negative"};
  }
  if (options.refresh < std::chrono::milliseconds::zero()) {
    throw std::invalid_argument{"adaptive hedge delay: the refresh interval must not be negative"};
  }
  if (options.burst_span < std::chrono::milliseconds::zero()) {
    throw std::invalid_argument{"adaptive hedge delay: the burst span must not be negative"};
  }
}

}  // namespace

AdaptiveHedgeDelay::AdaptiveHedgeDelay(AdaptiveDelayOptions options)
    : options_{(check(options), options)},
      target_quantile_{1.0 - options.budget / static_cast<double>(options.extras_per_hedge)},
      window_{options.window, options.window_slots},
      current_{std::clamp<Clock::duration>(options.fallback, options.min, options.max)} {}

void AdaptiveHedgeDelay::record(Clock::duration latency, Clock::time_point now) noexcept {
  window_.record(latency, now);
  if (recorded_ == 0) first_recorded_at_ = now;
  ++recorded_;
  // The first time the window fills, the next call reads it at once.
  if (!warmed_up_ && window_.count(now) >= options_.min_samples) next_refresh_ = now;
}

AdaptiveHedgeDelay::Clock::duration AdaptiveHedgeDelay::delay(Clock::time_point now) noexcept {
  if (now < next_refresh_) return current_;
  next_refresh_ = now + options_.refresh;
  const auto quantile = window_.count(now) >= options_.min_samples
                            ? window_.quantile(target_quantile_, now)
                            : std::nullopt;
  warmed_up_ = quantile.has_value();
  current_ =
      std::clamp<Clock::duration>(quantile.value_or(options_.fallback), options_.min, options_.max);
  if (budget_ != nullptr && warmed_up_) size_burst(now);
  return current_;
}

// The burst follows a moving average of the first attempts recorded per
// second (time constant: the burst span), brought up to date at each
// refresh: it shrinks over an idle spell and grows back within about a
// burst span of calls.
void AdaptiveHedgeDelay::size_burst(Clock::time_point now) noexcept {
  using Seconds = std::chrono::duration<double>;
  const double span = std::chrono::duration_cast<Seconds>(options_.burst_span).count();
  if (sized_at_ == Clock::time_point{}) {
    // The first estimate: the samples so far over the time they took, and
    // at most as many as were seen: a burst never holds more than the
    // budget of the calls made.
    const double since = std::max(Seconds{now - first_recorded_at_}.count(), span);
    calls_per_second_ = since > 0.0 ? static_cast<double>(recorded_) / since : 0.0;
  } else {
    const double elapsed = Seconds{now - sized_at_}.count();
    if (elapsed <= 0.0) return;
    const double rate = static_cast<double>(recorded_ - recorded_when_sized_) / elapsed;
    const double weight = span > 0.0 ? 1.0 - std::exp(-elapsed / span) : 1.0;
    calls_per_second_ += weight * (rate - calls_per_second_);
  }
  sized_at_ = now;
  recorded_when_sized_ = recorded_;
  budget_->size_burst_for(calls_per_second_ * span);
}

HedgeDelayPolicy::Clock::duration HedgeDelayPolicy::delay(Clock::time_point now) const noexcept {
  if (auto* const* adaptive = std::get_if<AdaptiveHedgeDelay*>(&source_)) {
    return (*adaptive)->delay(now);
  }
  return std::get<Clock::duration>(source_);
}

void HedgeDelayPolicy::record(Clock::duration latency, Clock::time_point now) const noexcept {
  if (auto* const* adaptive = std::get_if<AdaptiveHedgeDelay*>(&source_)) {
    (*adaptive)->record(latency, now);
  }
}

}  // namespace tailcut::policy
