// When a hedge fires its extra attempts: after a fixed delay, or after a
// delay that follows the upstream (AdaptiveHedgeDelay).
//
// The adaptive delay is the latency quantile that spends the hedge budget:
// with a budget B (extra attempts as a share of calls) and n extra attempts
// per hedge, a call hedges when its first attempt is slower than a share
// B / n of recent first attempts, i.e. at the quantile 1 - B / n of the
// window (LatencyWindow), clamped to [min, max]. Until the window holds
// `min_samples`, the fallback delay is used. A budget (HedgeBudget) still
// caps the extra attempts, also when the whole upstream slows down at once.
// The cap is a safety net, since each call it refuses stays slow: a budget
// given to use_budget gets a burst that follows the call rate (`burst_span`
// of first attempts), as a fixed count small against a busy upstream's
// calls is spent by the ordinary fluctuation of slow calls. (Aiming below
// the budget does not help: the share of calls hedged comes closer to a
// heavy tail's own share, and a few stalls in the window then push the
// quantile into that tail.)
//
//   policy::AdaptiveHedgeDelay delay{{.budget = 0.05, .extras_per_hedge = 2}};
//   delay.use_budget(&budget);                      // optional
//   auto wait = delay.delay(Clock::now());          // when to hedge this call
//   ...
//   delay.record(first_attempt_elapsed, Clock::now());
//
// Record every first attempt that ended, and one stopped because another
// won with the time it had run: it was at least that slow, which is all the
// quantile needs to know of it. Not thread-safe: one per upstream and worker.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <variant>

#include "tailcut/policy/hedge_budget.hpp"
#include "tailcut/policy/latency_window.hpp"

namespace tailcut::policy {

struct AdaptiveDelayOptions {
  double budget = 0.05;              // the budget: extra attempts per call, (0, 1]
  std::size_t extras_per_hedge = 2;  // extra attempts one hedge fires: >= 1
  std::chrono::milliseconds min{1};
  std::chrono::milliseconds max{1000};
  std::chrono::milliseconds fallback{300};  // until the window knows enough
  std::size_t min_samples = 100;
  std::chrono::milliseconds window{30000};
  std::size_t window_slots = 6;
  // How often the quantile is read again from the window: reading it walks
  // the histogram, so a call in between reuses the last one.
  std::chrono::milliseconds refresh{100};
  // A budget given to use_budget holds the budget of the first attempts
  // of this span at the recent rate (at least its own burst).
  std::chrono::milliseconds burst_span{1000};
};

class AdaptiveHedgeDelay {
 public:
  using Clock = LatencyWindow::Clock;

  // Throws std::invalid_argument naming the option that is out of range.
  explicit AdaptiveHedgeDelay(AdaptiveDelayOptions options = {});

  void record(Clock::duration latency, Clock::time_point now) noexcept;

  // The delay for a call starting at `now`.
  [[nodiscard]] Clock::duration delay(Clock::time_point now) noexcept;

  // The budget the hedges using this delay spend. From now on, each
  // refresh, once the window holds min_samples, sizes its burst to the
  // first attempts of `burst_span` at the recent rate of recorded ones
  // (HedgeBudget::size_burst_for). `budget` outlives this delay, or is
  // replaced by nullptr first. Nothing changes on the calls between
  // refreshes.
  void use_budget(HedgeBudget* budget) noexcept { budget_ = budget; }

  // 1 - budget / extras_per_hedge.
  [[nodiscard]] double target_quantile() const noexcept { return target_quantile_; }
  [[nodiscard]] const LatencyWindow& window() const noexcept { return window_; }
  [[nodiscard]] const AdaptiveDelayOptions& options() const noexcept { return options_; }

 private:
  void size_burst(Clock::time_point now) noexcept;

  AdaptiveDelayOptions options_;
  double target_quantile_;
  LatencyWindow window_;
  Clock::duration current_;
  Clock::time_point next_refresh_{};
  bool warmed_up_ = false;  // the window has held min_samples at the last refresh
  HedgeBudget* budget_ = nullptr;
  // For the burst: samples recorded, and their rate when last sized.
  std::uint64_t recorded_ = 0;
  Clock::time_point first_recorded_at_{};
  std::uint64_t recorded_when_sized_ = 0;
  Clock::time_point sized_at_{};
  double calls_per_second_ = 0;
};

// The delay a hedge uses (HedgeOptions::delay): fixed, as a duration
// (`options.delay = 300ms`), or read from an adaptive delay that the caller
// owns and that outlives every hedge using it (`HedgeDelayPolicy::adaptive`).
class HedgeDelayPolicy {
 public:
  using Clock = LatencyWindow::Clock;

  // A fixed delay; implicit, so that a duration can be assigned.
  template <typename Rep, typename Period>
  HedgeDelayPolicy(
      std::chrono::duration<Rep, Period> fixed) noexcept  // NOLINT(google-explicit-constructor)
      : source_{std::chrono::duration_cast<Clock::duration>(fixed)} {}
  static HedgeDelayPolicy adaptive(AdaptiveHedgeDelay& delay) noexcept {
    return HedgeDelayPolicy{&delay};
  }

  // The delay of a hedge that starts at `now`.
  [[nodiscard]] Clock::duration delay(Clock::time_point now) const noexcept;
  // How long a first attempt ran (see AdaptiveHedgeDelay); nothing for a
  // fixed delay.
  void record(Clock::duration latency, Clock::time_point now) const noexcept;
  [[nodiscard]] bool is_adaptive() const noexcept {
    return std::holds_alternative<AdaptiveHedgeDelay*>(source_);
  }

 private:
  explicit HedgeDelayPolicy(AdaptiveHedgeDelay* adaptive) noexcept : source_{adaptive} {}
  std::variant<Clock::duration, AdaptiveHedgeDelay*> source_;
};

}  // namespace tailcut::policy
