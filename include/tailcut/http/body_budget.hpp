// BodyBudget and BodyCharge: a bound on the response body bytes that many
// requests hold at once, over any number of threads. A request given a
// BodyCharge (RequestOptions::body_charge) charges its response body to the
// charge's budget as the body arrives; a body that would take the budget
// over its limit fails as ErrorKind::body_too_large.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace tailcut::http {

// The bytes charged at once, shared by threads: one atomic counter.
class BodyBudget {
 public:
  explicit BodyBudget(std::size_t limit_bytes) noexcept : limit_{limit_bytes} {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // Adds `bytes` unless that would pass the limit; false then, nothing added.
  [[nodiscard]] bool try_charge(std::size_t bytes) noexcept {
    std::size_t charged = charged_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ || charged > limit_ - bytes) return false;
    } while (!charged_.compare_exchange_weak(charged, charged + bytes, std::memory_order_relaxed));
    note_peak(charged + bytes);
    return true;
  }

  // Gives back `bytes` that try_charge() added.
  void release(std::size_t bytes) noexcept { charged_.fetch_sub(bytes, std::memory_order_relaxed); }

  [[nodiscard]] std::size_t charged_bytes() const noexcept {
    return charged_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t limit_bytes() const noexcept { return limit_; }

  // The most bytes charged at once since the previous call (or since
  // construction); the next period starts from what is charged now.
  [[nodiscard]] std::size_t take_peak_bytes() noexcept {
    return peak_.exchange(charged_bytes(), std::memory_order_relaxed);
  }

 private:
  void note_peak(std::size_t charged) noexcept {
    std::size_t peak = peak_.load(std::memory_order_relaxed);
    while (charged > peak &&
           !peak_.compare_exchange_weak(peak, charged, std::memory_order_relaxed)) {
    }
  }

  const std::size_t limit_;
  std::atomic<std::size_t> charged_{0};
  std::atomic<std::size_t> peak_{0};
};

// The bytes one body holds in a BodyBudget, given back when the charge is
// released or destroyed (RAII). Move-only; a charge without a budget
// accepts everything. Used on one thread at a time.
class BodyCharge {
 public:
  explicit BodyCharge(BodyBudget* budget = nullptr) noexcept : budget_{budget} {}
  ~BodyCharge() { release(); }
  BodyCharge(BodyCharge&& other) noexcept
      : budget_{std::exchange(other.budget_, nullptr)},
        bytes_{std::exchange(other.bytes_, 0)},
        refused_{std::exchange(other.refused_, false)} {}
  BodyCharge& operator=(BodyCharge&& other) noexcept {
    if (this != &other) {
      release();
      budget_ = std::exchange(other.budget_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
      refused_ = std::exchange(other.refused_, false);
    }
    return *this;
  }
  BodyCharge(const BodyCharge&) = delete;
  BodyCharge& operator=(const BodyCharge&) = delete;

  // Charges `bytes` more; false (and refused() from then on) when the
  // budget's limit would be passed, nothing charged then.
  [[nodiscard]] bool grow(std::size_t bytes) noexcept {
    if (budget_ == nullptr) return true;
    if (!budget_->try_charge(bytes)) {
      refused_ = true;
      return false;
    }
    bytes_ += bytes;
    return true;
  }

  // Gives back every byte charged (the body was freed).
  void release() noexcept {
    if (budget_ != nullptr && bytes_ != 0) budget_->release(bytes_);
    bytes_ = 0;
  }

  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  // Whether grow() was refused: the body failed for the budget, not for
  // its own size.
  [[nodiscard]] bool refused() const noexcept { return refused_; }
  [[nodiscard]] const BodyBudget* budget() const noexcept { return budget_; }

 private:
  BodyBudget* budget_ = nullptr;
  std::size_t bytes_ = 0;
  bool refused_ = false;
};

}  // namespace tailcut::http
