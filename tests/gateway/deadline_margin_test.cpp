// DeadlineMargin: the floor, plus the decaying peak of observed lateness, up
// to the ceiling.
#include "gateway/deadline_margin.hpp"

#include <gtest/gtest.h>

namespace tailcut::gateway {
namespace {

using namespace std::chrono_literals;
using Clock = DeadlineMargin::Clock;

TEST(DeadlineMargin, IsTheFloorUntilLatenessIsSeen) {
  const DeadlineMargin margin{3ms, 50ms};
  EXPECT_EQ(margin.current(Clock::now()), 3ms);
}

TEST(DeadlineMargin, GrowsByThePeakLatenessAndHalvesItEveryHalfLife) {
  DeadlineMargin margin{3ms, 50ms};
  const auto start = Clock::now();
  margin.observe_lateness(12ms, start);
  EXPECT_EQ(margin.current(start), 15ms);
  margin.observe_lateness(4ms, start);  // below the peak: no change
  EXPECT_EQ(margin.current(start), 15ms);
  const auto one_half_life = start + DeadlineMargin::peak_half_life;
  EXPECT_EQ(margin.current(one_half_life), 9ms);
  EXPECT_EQ(margin.current(one_half_life + DeadlineMargin::peak_half_life), 6ms);
  // A new peak replaces what is left of the old one.
  margin.observe_lateness(20ms, one_half_life);
  EXPECT_EQ(margin.current(one_half_life), 23ms);
}

TEST(DeadlineMargin, NeverExceedsTheCeiling) {
  DeadlineMargin margin{3ms, 50ms};
  margin.observe_lateness(400ms, Clock::now());
  EXPECT_EQ(margin.current(Clock::now()), 50ms);
}

TEST(DeadlineMargin, EqualFloorAndCeilingGiveAFixedMargin) {
  DeadlineMargin margin{3ms, 3ms};
  margin.observe_lateness(10ms, Clock::now());
  EXPECT_EQ(margin.current(Clock::now()), 3ms);
}

}  // namespace
}  // namespace tailcut::gateway
