// HedgeBudget: lock-free token bucket in milli-tokens.
#include "tailcut/policy/hedge_budget.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tailcut::policy {

HedgeBudget::HedgeBudget(double percent, double burst)
    : deposit_{static_cast<std::int64_t>(std::llround(percent / 100.0 * milli_tokens_per_token))},
      capacity_{static_cast<std::int64_t>(std::llround(burst * milli_tokens_per_token))},
      balance_{capacity_} {
  if (percent < 0 || burst < 1) {
    throw std::invalid_argument{"hedge budget: percent must be >= 0 and burst >= 1"};
  }
}

void HedgeBudget::on_first_attempt() noexcept {
  auto balance = balance_.load(std::memory_order_relaxed);
  while (!balance_.compare_exchange_weak(balance, std::min(capacity_, balance + deposit_),
                                         std::memory_order_relaxed)) {
  }
}

bool HedgeBudget::try_spend() noexcept {
  auto balance = balance_.load(std::memory_order_relaxed);
  do {
    if (balance < milli_tokens_per_token) return false;
  } while (!balance_.compare_exchange_weak(balance, balance - milli_tokens_per_token,
                                           std::memory_order_relaxed));
  return true;
}

double HedgeBudget::tokens() const noexcept {
  return static_cast<double>(balance_.load(std::memory_order_relaxed)) / milli_tokens_per_token;
}

}  // namespace tailcut::policy
