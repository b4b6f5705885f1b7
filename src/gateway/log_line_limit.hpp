// LogLineLimit: at most one log line a second of one kind, each telling how
// many lines of that kind went untold since the previous one. A burst of
// bad calls or late answers then costs a line a second, not one per call.
// Single-threaded: one per worker (GatewayShard).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace tailcut::gateway {

class LogLineLimit {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds interval{1};

  // Whether a line may be written at `now`: if so, how many were withheld
  // since the previous line (and the next may come an interval later);
  // nullopt: this one is withheld and counted.
  [[nodiscard]] std::optional<std::size_t> admit(Clock::time_point now) noexcept {
    if (now < next_line_) {
      ++untold_;
      return std::nullopt;
    }
    next_line_ = now + interval;
    const std::size_t untold = untold_;
    untold_ = 0;
    return untold;
  }

 private:
  Clock::time_point next_line_{};
  std::size_t untold_ = 0;
};

}  // namespace tailcut::gateway
