// HedgeBudget: lock-free token bucket in milli-tokens.
#include "tailcut/policy/hedge_budget.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tailcut::policy {

namespace {

void check(double percent, double burst) {
  if (!(percent >= 0) || !(burst >= 1)) {
    throw std::invalid_argument{"hedge budget: percent must be >= 0 and burst >= 1"};
  }
}

}  // namespace

HedgeBudget::HedgeBudget(double percent, double burst)
    : deposit_{(check(percent, burst),
                static_cast<std::int64_t>(std::llround(percent / 100.0 * milli_tokens_per_token)))},
      min_capacity_{static_cast<std::int64_t>(std::llround(burst * milli_tokens_per_token))},
      capacity_{min_capacity_},
      balance_{min_capacity_} {}

void HedgeBudget::on_first_attempt() noexcept {
  const auto capacity = capacity_.load(std::memory_order_relaxed);
  auto balance = balance_.load(std::memory_order_relaxed);
  while (!balance_.compare_exchange_weak(balance, std::min(capacity, balance + deposit_),
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

void HedgeBudget::size_burst_for(double first_attempts) noexcept {
  // deposit_ is in milli-tokens per first attempt already. Capped far
  // below overflow: a burst beyond a billion tokens is no cap at all.
  constexpr double most = 1e12;
  const double wanted = std::clamp(first_attempts, 0.0, most) * static_cast<double>(deposit_);
  const auto capacity = std::max(min_capacity_, static_cast<std::int64_t>(std::min(wanted, most)));
  const auto previous = capacity_.exchange(capacity, std::memory_order_relaxed);
  // The first sizing fills the bucket, as if it had been made that size.
  if (!sized_.exchange(true, std::memory_order_relaxed)) {
    balance_.store(capacity, std::memory_order_relaxed);
    return;
  }
  if (previous == capacity) return;
  // Later, the bucket keeps how full it was: a full one stays full, a spent
  // one spent. A rate that wavers moves tokens by the same share both ways.
  const double scale = static_cast<double>(capacity) / static_cast<double>(previous);
  auto balance = balance_.load(std::memory_order_relaxed);
  while (!balance_.compare_exchange_weak(
      balance, std::min(capacity, static_cast<std::int64_t>(static_cast<double>(balance) * scale)),
      std::memory_order_relaxed)) {
  }
}

double HedgeBudget::tokens() const noexcept {
  return static_cast<double>(balance_.load(std::memory_order_relaxed)) / milli_tokens_per_token;
}

double HedgeBudget::burst() const noexcept {
  return static_cast<double>(capacity_.load(std::memory_order_relaxed)) / milli_tokens_per_token;
}

}  // namespace tailcut::policy
