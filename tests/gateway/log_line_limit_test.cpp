// LogLineLimit: one line an interval, each telling how many were withheld
// since the previous one; time is given, not read, so no test waits.
#include "gateway/log_line_limit.hpp"

#include <gtest/gtest.h>

namespace tailcut::gateway {
namespace {

using namespace std::chrono_literals;
using Clock = LogLineLimit::Clock;

TEST(LogLineLimitTest, TheFirstLineIsWrittenWithNothingUntold) {
  LogLineLimit limit;
  EXPECT_EQ(limit.admit(Clock::time_point{} + 5s), 0u);
}

TEST(LogLineLimitTest, LinesWithinTheIntervalAreWithheldAndToldByTheNextOne) {
  LogLineLimit limit;
  const auto start = Clock::time_point{} + 1h;
  ASSERT_EQ(limit.admit(start), 0u);
  EXPECT_EQ(limit.admit(start + 1ms), std::nullopt);
  EXPECT_EQ(limit.admit(start + 999ms), std::nullopt);
  EXPECT_EQ(limit.admit(start + 1s), 2u);
  // The count starts again, and so does the interval.
  EXPECT_EQ(limit.admit(start + 1500ms), std::nullopt);
  EXPECT_EQ(limit.admit(start + 2s), 1u);
  EXPECT_EQ(limit.admit(start + 10s), 0u);
}

}  // namespace
}  // namespace tailcut::gateway
