// HedgeBudget: extra attempts within their share of first attempts, and a
// burst that follows the call rate.
#include "tailcut/policy/hedge_budget.hpp"

#include <gtest/gtest.h>

namespace tailcut::policy {
namespace {

TEST(HedgeBudget, ExtraAttemptsStayWithinTheShareOfFirstAttempts) {
  HedgeBudget budget{10.0, 1.0};
  int spent = 0;
  for (int call = 0; call < 1000; ++call) {
    budget.on_first_attempt();
    if (budget.try_spend()) ++spent;
  }
  EXPECT_GE(spent, 99);
  EXPECT_LE(spent, 101);
}

TEST(HedgeBudget, ABurstSizedForMoreCallsSavesMoreTokensNeverFewerThanItWasMadeWith) {
  HedgeBudget budget{5.0, 10.0};
  EXPECT_EQ(budget.burst(), 10.0);
  while (budget.try_spend()) {
  }
  budget.size_burst_for(2000);  // 5 % of 2,000 first attempts
  EXPECT_EQ(budget.burst(), 100.0);
  EXPECT_EQ(budget.tokens(), 100.0) << "the first sizing fills it";
  budget.size_burst_for(20);
  EXPECT_EQ(budget.burst(), 10.0);
  EXPECT_EQ(budget.tokens(), 10.0) << "a full bucket stays full, no fuller";
  int spent = 0;
  while (spent < 100 && budget.try_spend()) ++spent;
  EXPECT_EQ(spent, 10);
  // The tokens are scaled with the bucket: half full stays half full.
  for (int call = 0; call < 100; ++call) budget.on_first_attempt();
  EXPECT_EQ(budget.tokens(), 5.0);
  budget.size_burst_for(400);
  EXPECT_EQ(budget.tokens(), 10.0);
  budget.size_burst_for(200);
  EXPECT_EQ(budget.tokens(), 5.0);
}

}  // namespace
}  // namespace tailcut::policy
