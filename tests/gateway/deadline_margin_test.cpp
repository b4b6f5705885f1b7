// DeadlineMargin: the floor, plus the worst lateness observed in the last
// window (or an assumed lateness while none was), up to the ceiling.
#include "gateway/deadline_margin.hpp"

#include <gtest/gtest.h>

namespace tailcut::gateway {
namespace {

using namespace std::chrono_literals;
using Clock = DeadlineMargin::Clock;

constexpr auto slot = DeadlineMargin::window / DeadlineMargin::slots;
constexpr auto unmeasured = 3ms + DeadlineMargin::assumed_lateness;  // with a 3 ms floor

// The start of a slot, so that the test knows which slot each instant is in.
Clock::time_point slot_start() {
  const auto now = Clock::now().time_since_epoch();
  return Clock::time_point{now - now % std::chrono::duration_cast<Clock::duration>(slot)};
}

TEST(DeadlineMargin, AssumesSomeLatenessUntilItHasMeasuredAny) {
  const DeadlineMargin margin{3ms, 50ms};
  EXPECT_EQ(margin.current(Clock::now()), unmeasured);
}

TEST(DeadlineMargin, AMeasuredLatenessReplacesTheAssumedOneEvenWhenSmaller) {
  DeadlineMargin margin{3ms, 50ms};
  const auto start = slot_start();
  margin.observe_lateness(1ms, start);
  EXPECT_EQ(margin.current(start), 4ms);
  EXPECT_EQ(margin.current(start + DeadlineMargin::window - 1ms), 4ms);
  // A window without a measurement: the assumption again.
  EXPECT_EQ(margin.current(start + DeadlineMargin::window), unmeasured);
}

TEST(DeadlineMargin, GrowsByTheWorstLatenessOfTheWindow) {
  DeadlineMargin margin{3ms, 50ms};
  const auto start = slot_start();
  margin.observe_lateness(12ms, start);
  EXPECT_EQ(margin.current(start), 15ms);
  margin.observe_lateness(4ms, start + 1s);  // below the worst: no change
  EXPECT_EQ(margin.current(start + 1s), 15ms);
  margin.observe_lateness(7ms, start + 2 * slot);
  EXPECT_EQ(margin.current(start + 2 * slot), 15ms);
  // A spike is remembered for the whole window...
  EXPECT_EQ(margin.current(start + DeadlineMargin::window - 1ms), 15ms);
  // ...then forgotten, slot by slot: the 7 ms of the third slot remain.
  EXPECT_EQ(margin.current(start + DeadlineMargin::window), 10ms);
  EXPECT_EQ(margin.current(start + DeadlineMargin::window + 2 * slot), unmeasured);
}

TEST(DeadlineMargin, ANewWorstReplacesTheOldAtOnce) {
  DeadlineMargin margin{3ms, 50ms};
  const auto start = slot_start();
  margin.observe_lateness(12ms, start);
  margin.observe_lateness(20ms, start + slot);
  EXPECT_EQ(margin.current(start + slot), 23ms);
}

TEST(DeadlineMargin, ASlotReusedAfterAWindowStartsAfresh) {
  DeadlineMargin margin{3ms, 50ms};
  const auto start = slot_start();
  margin.observe_lateness(30ms, start);
  // The same slot of the ring, one window later: the old 30 ms are gone.
  margin.observe_lateness(5ms, start + DeadlineMargin::window);
  EXPECT_EQ(margin.current(start + DeadlineMargin::window), 8ms);
}

TEST(DeadlineMargin, WorksForTimesBeforeTheClocksEpoch) {
  DeadlineMargin margin{3ms, 50ms};
  const Clock::time_point before_epoch{-std::chrono::duration_cast<Clock::duration>(slot) / 2};
  margin.observe_lateness(9ms, before_epoch);
  EXPECT_EQ(margin.current(before_epoch), 12ms);
  EXPECT_EQ(margin.current(before_epoch + DeadlineMargin::window), unmeasured);
}

TEST(DeadlineMargin, NeverExceedsTheCeiling) {
  DeadlineMargin margin{3ms, 50ms};
  margin.observe_lateness(400ms, Clock::now());
  EXPECT_EQ(margin.current(Clock::now()), 50ms);
}

TEST(DeadlineMargin, EqualFloorAndCeilingGiveAFixedMargin) {
  DeadlineMargin margin{3ms, 3ms};
  EXPECT_EQ(margin.current(Clock::now()), 3ms);  // nothing assumed either
  margin.observe_lateness(10ms, Clock::now());
  EXPECT_EQ(margin.current(Clock::now()), 3ms);
}

}  // namespace
}  // namespace tailcut::gateway
