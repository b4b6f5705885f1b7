// LatencyWindow: the recent latencies of one upstream, for choosing when to
// hedge. A sliding window (by default 30 s in 6 rotating slots) of
// log-linear histograms, so memory is fixed whatever the traffic and
// recording is O(1): a latency falls in a bucket 1/16 as wide as its power
// of two, so a quantile is read to within 6.25 %.
//
//   policy::LatencyWindow window;            // one per upstream and worker
//   window.record(elapsed, Clock::now());    // each attempt that ended
//   auto p99 = window.quantile(0.99, Clock::now());
//
// Not thread-safe: give each worker its own (no lock on the hot path).
// Time comes in as arguments, so a test drives it with a fake clock.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace tailcut::policy {

class LatencyWindow {
 public:
  using Clock = std::chrono::steady_clock;

  // Samples older than `span` are forgotten, `span / slots` at a time.
  // Throws std::invalid_argument when span is not positive or slots is 0.
  explicit LatencyWindow(std::chrono::milliseconds span = std::chrono::seconds{30},
                         std::size_t slots = 6);

  // Counts one latency, observed at `now`. Negative latencies count as 0;
  // latencies beyond ~19 hours count in the last bucket.
  void record(Clock::duration latency, Clock::time_point now) noexcept;

  // How many samples the window holds at `now`.
  [[nodiscard]] std::uint64_t count(Clock::time_point now) const noexcept;

  // The smallest bucket bound that at least `q` of the samples lie at or
  // below (q is clamped to [0, 1]); nothing while the window is empty. A
  // bucket's upper bound is returned, so the estimate errs high, never low.
  [[nodiscard]] std::optional<Clock::duration> quantile(double q,
                                                        Clock::time_point now) const noexcept;

  // The histogram's layout, public for tests: bucket of a latency in
  // microseconds, and the largest latency a bucket holds.
  static constexpr std::size_t sub_buckets = 16;
  static constexpr std::size_t octaves = 32;  // 16 µs .. 2^36 µs
  static constexpr std::size_t bucket_count = sub_buckets + octaves * sub_buckets;
  [[nodiscard]] static std::size_t bucket_of(std::uint64_t microseconds) noexcept;
  [[nodiscard]] static std::uint64_t upper_bound_of(std::size_t bucket) noexcept;

 private:
  struct Slot {
    std::int64_t epoch = -1;  // which slot_width_-long interval it counts
    std::uint64_t total = 0;
    std::array<std::uint32_t, bucket_count> counts{};
  };

  [[nodiscard]] std::int64_t epoch_of(Clock::time_point now) const noexcept;
  [[nodiscard]] bool is_live(const Slot& slot, std::int64_t current_epoch) const noexcept;

  Clock::duration slot_width_;
  std::vector<Slot> slots_;
};

}  // namespace tailcut::policy
