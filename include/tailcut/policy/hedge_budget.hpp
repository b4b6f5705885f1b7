// HedgeBudget: caps extra (hedged) attempts as a share of first attempts,
// a token bucket in the manner of gRPC retry throttling. Thread-safe, so one
// budget can serve every worker of a gateway.
//
// Over any run of calls, the extra attempts stay within the share of their
// first attempts plus the bucket's size (the burst), what the bucket gains
// when it grows, and once the burst its first sizing fills. The burst may follow the call rate
// (size_burst_for, which AdaptiveHedgeDelay calls with the first attempts of its burst span): a
// fixed burst that is small against a busy upstream's calls is spent by ordinary fluctuation, and
// each refusal leaves a slow call unhedged.
#pragma once

#include <atomic>
#include <cstdint>

namespace tailcut::policy {

class HedgeBudget {
 public:
  // `percent`: extra attempts allowed per 100 first attempts, on average.
  // `burst`: how many extra attempts may be saved up (the bucket's size),
  // and the least size_burst_for leaves it. Throws std::invalid_argument
  // when percent is negative or burst below 1.
  explicit HedgeBudget(double percent, double burst = 10.0);

  // Records a first attempt: deposits percent/100 of a token.
  void on_first_attempt() noexcept;
  // Takes one token for an extra attempt; false when the budget is spent.
  [[nodiscard]] bool try_spend() noexcept;

  // Sizes the bucket to the share of `first_attempts` (the calls of a
  // burst span at the current rate), never below the burst it was made
  // with. The first sizing fills it, as if it had been made that size: the
  // calls before it (a gateway starting, its hedge delay not learnt yet)
  // must not leave it looking spent. Later ones scale the tokens with it:
  // a full bucket stays full, a spent one spent.
  void size_burst_for(double first_attempts) noexcept;

  [[nodiscard]] double tokens() const noexcept;
  // The bucket's size, in tokens.
  [[nodiscard]] double burst() const noexcept;

 private:
  static constexpr std::int64_t milli_tokens_per_token = 1000;
  std::int64_t deposit_;
  std::int64_t min_capacity_;
  std::atomic<std::int64_t> capacity_;
  std::atomic<std::int64_t> balance_;
  std::atomic<bool> sized_{false};
};

}  // namespace tailcut::policy
