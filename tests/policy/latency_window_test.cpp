// LatencyWindow: the histogram's buckets, quantiles within their error, and
// samples forgotten as the window slides (a fake clock: time points made up).
#include "tailcut/policy/latency_window.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

namespace tailcut::policy {
namespace {

using namespace std::chrono_literals;
using Clock = LatencyWindow::Clock;
const Clock::time_point start{std::chrono::hours{1}};

TEST(LatencyWindowBuckets, EveryLatencyLiesInItsBucketWithinOneSixteenth) {
  for (std::uint64_t us :
       {0ULL, 1ULL, 15ULL, 16ULL, 17ULL, 31ULL, 32ULL, 33ULL, 1000ULL, 999999ULL, 123456789ULL}) {
    const auto bucket = LatencyWindow::bucket_of(us);
    EXPECT_GE(LatencyWindow::upper_bound_of(bucket), us) << us;
    if (bucket > 0) {
      EXPECT_LT(LatencyWindow::upper_bound_of(bucket - 1), us) << us;
    }
    EXPECT_LE(static_cast<double>(LatencyWindow::upper_bound_of(bucket) - us),
              static_cast<double>(us) / 16.0 + 1.0)
        << us;
  }
}

TEST(LatencyWindowBuckets, BucketsAreContiguousAndTheHugeShareTheLast) {
  for (std::size_t bucket = 1; bucket < LatencyWindow::bucket_count; ++bucket) {
    const auto lower = LatencyWindow::upper_bound_of(bucket - 1) + 1;
    ASSERT_EQ(LatencyWindow::bucket_of(lower), bucket);
  }
  EXPECT_EQ(LatencyWindow::bucket_of(~0ULL), LatencyWindow::bucket_count - 1);
}

TEST(LatencyWindow, EmptyHasNoQuantile) {
  LatencyWindow window;
  EXPECT_EQ(window.count(start), 0U);
  EXPECT_FALSE(window.quantile(0.5, start).has_value());
}

TEST(LatencyWindow, QuantilesOfAHeavyTailErrHighByAtMostOneSixteenth) {
  LatencyWindow window;
  // 98 % at 10 ms, 2 % at 1 s.
  for (int i = 0; i < 1000; ++i) window.record(i % 50 == 0 ? 1s : 10ms, start);
  EXPECT_EQ(window.count(start), 1000U);
  const auto p50 = *window.quantile(0.5, start);
  EXPECT_GE(p50, 10ms);
  EXPECT_LE(p50, 10625us);
  const auto p975 = *window.quantile(0.975, start);
  EXPECT_LE(p975, 10625us);
  const auto p99 = *window.quantile(0.99, start);
  EXPECT_GE(p99, 1s);
  EXPECT_LE(p99, 1062500us);
}

TEST(LatencyWindow, QuantileOfAUniformSpreadIsClose) {
  LatencyWindow window;
  std::mt19937 random{7};
  std::uniform_int_distribution<int> uniform{100, 600};
  for (int i = 0; i < 20000; ++i) window.record(std::chrono::milliseconds{uniform(random)}, start);
  const auto p90 =
      std::chrono::duration_cast<std::chrono::milliseconds>(*window.quantile(0.9, start));
  EXPECT_GE(p90, 545ms);
  EXPECT_LE(p90, 590ms);
}

TEST(LatencyWindow, OldSamplesAreForgottenSlotBySlot) {
  LatencyWindow window{30s, 6};  // 5 s slots
  for (int i = 0; i < 100; ++i) window.record(1s, start);
  window.record(10ms, start + 20s);
  EXPECT_EQ(window.count(start + 20s), 101U);
  EXPECT_EQ(window.count(start + 35s), 1U);  // the first slot's interval is over 30 s old
  EXPECT_EQ(*window.quantile(1.0, start + 35s), std::chrono::microseconds{10239});
  EXPECT_EQ(window.count(start + 60s), 0U);
}

TEST(LatencyWindow, ASlotReusedForANewIntervalStartsEmpty) {
  LatencyWindow window{30s, 6};
  for (int i = 0; i < 50; ++i) window.record(1s, start);
  window.record(10ms, start + 30s);  // same slot, six intervals later
  EXPECT_EQ(window.count(start + 30s), 1U);
}

TEST(LatencyWindow, ALateSampleNeverClearsNewerCounts) {
  LatencyWindow window{30s, 6};
  window.record(10ms, start + 30s);
  window.record(1s, start);  // its slot holds a newer interval now
  EXPECT_EQ(window.count(start + 30s), 1U);
}

TEST(LatencyWindow, RejectsANonPositiveSpanOrNoSlots) {
  EXPECT_THROW(LatencyWindow(0ms, 6), std::invalid_argument);
  EXPECT_THROW(LatencyWindow(30s, 0), std::invalid_argument);
}

}  // namespace
}  // namespace tailcut::policy
