// HedgeBudget: caps extra (hedged) attempts as a share of first attempts,
// a token bucket in the manner of gRPC retry throttling. Thread-safe, so one
// budget can serve every worker of a gateway.
#pragma once

#include <atomic>
#include <cstdint>

namespace tailcut::policy {

class HedgeBudget {
 public:
  // `percent`: extra attempts allowed per 100 first attempts, on average.
  // `burst`: how many extra attempts may be saved up (the bucket's size).
  explicit HedgeBudget(double percent, double burst = 10.0);

  // Records a first attempt: deposits percent/100 of a token.
  void on_first_attempt() noexcept;
  // Takes one token for an extra attempt; false when the budget is spent.
  [[nodiscard]] bool try_spend() noexcept;

  [[nodiscard]] double tokens() const noexcept;

 private:
  static constexpr std::int64_t milli_tokens_per_token = 1000;
  std::int64_t deposit_;
  std::int64_t capacity_;
  std::atomic<std::int64_t> balance_;
};

}  // namespace tailcut::policy
