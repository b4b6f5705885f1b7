// BodyBudget and BodyCharge: the limit holds, a refusal charges nothing,
// a charge gives its bytes back when released, moved or destroyed, and the
// peak is reported once per period.
#include "tailcut/http/body_budget.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace tailcut::http {
namespace {

TEST(BodyBudget, ChargesUpToTheLimitAndRefusesBeyondWithoutCharging) {
  BodyBudget budget{100};
  BodyCharge first{&budget};
  BodyCharge second{&budget};
  EXPECT_TRUE(first.grow(60));
  EXPECT_FALSE(second.grow(41));
  EXPECT_TRUE(second.refused());
  EXPECT_FALSE(first.refused());
  EXPECT_EQ(budget.charged_bytes(), 60U);
  EXPECT_TRUE(second.grow(40));
  EXPECT_EQ(budget.charged_bytes(), 100U);
}

TEST(BodyBudget, AChargeGivesItsBytesBackWhenReleasedMovedOrDestroyed) {
  BodyBudget budget{1000};
  {
    BodyCharge charge{&budget};
    ASSERT_TRUE(charge.grow(10));
    ASSERT_TRUE(charge.grow(20));
    EXPECT_EQ(charge.bytes(), 30U);
    BodyCharge moved{std::move(charge)};
    EXPECT_EQ(budget.charged_bytes(), 30U);
    BodyCharge other{&budget};
    ASSERT_TRUE(other.grow(5));
    other = std::move(moved);  // other's 5 bytes go back
    EXPECT_EQ(budget.charged_bytes(), 30U);
    other.release();
    EXPECT_EQ(budget.charged_bytes(), 0U);
    ASSERT_TRUE(other.grow(7));
  }
  EXPECT_EQ(budget.charged_bytes(), 0U);
}

TEST(BodyBudget, APeakIsReportedOncePerPeriod) {
  BodyBudget budget{1000};
  {
    BodyCharge charge{&budget};
    ASSERT_TRUE(charge.grow(700));
  }
  BodyCharge held{&budget};
  ASSERT_TRUE(held.grow(50));
  EXPECT_EQ(budget.take_peak_bytes(), 700U);
  EXPECT_EQ(budget.take_peak_bytes(), 50U);  // what is still charged
}

TEST(BodyBudget, AChargeWithoutABudgetAcceptsEverything) {
  BodyCharge charge;
  EXPECT_TRUE(charge.grow(std::size_t{1} << 40));
  EXPECT_FALSE(charge.refused());
}

}  // namespace
}  // namespace tailcut::http
