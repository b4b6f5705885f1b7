// LatencyWindow: rotating slots of log-linear histograms (latency_window.hpp).
#include "tailcut/policy/latency_window.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace tailcut::policy {

namespace {
constexpr unsigned sub_bucket_bits = 4;  // log2(sub_buckets)
}

LatencyWindow::LatencyWindow(std::chrono::milliseconds span, std::size_t slots) {
  if (span <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument{"latency window: the span must be positive"};
  }
  if (slots == 0) throw std::invalid_argument{"latency window: it needs at least one slot"};
  slot_width_ = std::max<Clock::duration>(
      std::chrono::duration_cast<Clock::duration>(span) / static_cast<Clock::rep>(slots),
      Clock::duration{1});
  slots_.resize(slots);
}

std::size_t LatencyWindow::bucket_of(std::uint64_t microseconds) noexcept {
  if (microseconds < sub_buckets) return static_cast<std::size_t>(microseconds);
  const unsigned top_bit = static_cast<unsigned>(std::bit_width(microseconds)) - 1;
  const std::size_t octave = top_bit - sub_bucket_bits;
  if (octave >= octaves) return bucket_count - 1;
  const auto sub = (microseconds >> (top_bit - sub_bucket_bits)) & (sub_buckets - 1);
  return sub_buckets + octave * sub_buckets + static_cast<std::size_t>(sub);
}

std::uint64_t LatencyWindow::upper_bound_of(std::size_t bucket) noexcept {
  if (bucket < sub_buckets) return bucket;
  const std::size_t octave = (bucket - sub_buckets) / sub_buckets;
  const std::uint64_t sub = (bucket - sub_buckets) % sub_buckets;
  const std::uint64_t lower = (sub_buckets + sub) << octave;
  return lower + (std::uint64_t{1} << octave) - 1;
}

std::int64_t LatencyWindow::epoch_of(Clock::time_point now) const noexcept {
  return now.time_since_epoch() / slot_width_;
}

bool LatencyWindow::is_live(const Slot& slot, std::int64_t current_epoch) const noexcept {
  const auto age = current_epoch - slot.epoch;
  return slot.epoch >= 0 && age >= 0 && age < static_cast<std::int64_t>(slots_.size());
}

void LatencyWindow::record(Clock::duration latency, Clock::time_point now) noexcept {
  const auto epoch = epoch_of(now);
  Slot& slot = slots_[static_cast<std::size_t>(epoch) % slots_.size()];
  if (slot.epoch != epoch) {
    // A sample older than the slot's current interval is dropped rather
    // than clearing newer counts.
    if (slot.epoch > epoch) return;
    slot.epoch = epoch;
    slot.total = 0;
    slot.counts.fill(0);
  }
  const auto microseconds = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  ++slot.counts[bucket_of(
      static_cast<std::uint64_t>(std::max<decltype(microseconds)>(0, microseconds)))];
  ++slot.total;
}

std::uint64_t LatencyWindow::count(Clock::time_point now) const noexcept {
  const auto epoch = epoch_of(now);
  std::uint64_t total = 0;
  for (const Slot& slot : slots_) {
    if (is_live(slot, epoch)) total += slot.total;
  }
  return total;
}

std::optional<LatencyWindow::Clock::duration> LatencyWindow::quantile(
    double q, Clock::time_point now) const noexcept {
  const auto epoch = epoch_of(now);
  const auto total = count(now);
  if (total == 0) return std::nullopt;
  // The rank of the sample the quantile names, 1-based: at least one.
  const double clamped = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(total))));
  std::uint64_t seen = 0;
  for (std::size_t bucket = 0; bucket < bucket_count; ++bucket) {
    for (const Slot& slot : slots_) {
      if (is_live(slot, epoch)) seen += slot.counts[bucket];
    }
    if (seen >= rank) {
      return std::chrono::duration_cast<Clock::duration>(
          std::chrono::microseconds{upper_bound_of(bucket)});
    }
  }
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::microseconds{upper_bound_of(bucket_count - 1)});
}

}  // namespace tailcut::policy
