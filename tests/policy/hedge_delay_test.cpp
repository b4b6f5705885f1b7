// AdaptiveHedgeDelay: the fallback until the window knows enough, the
// quantile that spends the budget, clamping, following the upstream; and
// the budget holding when the whole upstream slows down (a fake clock).
#include "tailcut/policy/hedge_delay.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <random>

#include "tailcut/policy/hedge_budget.hpp"

namespace tailcut::policy {
namespace {

using namespace std::chrono_literals;
using Clock = AdaptiveHedgeDelay::Clock;
const Clock::time_point start{std::chrono::hours{1}};

// 98 % of answers in 10 ms, 2 % in 1 s, in a fixed order.
Clock::duration heavy_tail(int call) { return call % 50 == 7 ? Clock::duration{1s} : 10ms; }

TEST(AdaptiveHedgeDelay, UsesTheFallbackUntilTheWindowHoldsEnoughSamples) {
  AdaptiveHedgeDelay delay{{.fallback = 300ms, .min_samples = 100}};
  for (int i = 0; i < 99; ++i) delay.record(heavy_tail(i), start);
  EXPECT_EQ(delay.delay(start), 300ms);
  delay.record(10ms, start);
  EXPECT_LE(delay.delay(start), 11ms);  // read again at once when the window fills
}

TEST(AdaptiveHedgeDelay, HedgesAtTheQuantileThatSpendsTheBudget) {
  AdaptiveHedgeDelay delay{{.budget = 0.05, .extras_per_hedge = 2}};
  EXPECT_DOUBLE_EQ(delay.target_quantile(), 0.975);
  for (int i = 0; i < 1000; ++i) delay.record(heavy_tail(i), start);
  const auto chosen = delay.delay(start);
  EXPECT_GE(chosen, 10ms);
  EXPECT_LE(chosen, 11ms);
  // One extra per hedge at 1 %: hedge at p99, which is in the slow 2 %.
  AdaptiveHedgeDelay tighter{{.budget = 0.01, .extras_per_hedge = 1, .max = 5s}};
  for (int i = 0; i < 1000; ++i) tighter.record(heavy_tail(i), start);
  EXPECT_GE(tighter.delay(start), 1s);
}

TEST(AdaptiveHedgeDelay, ClampsToItsBounds) {
  AdaptiveHedgeDelay low{{.min = 20ms, .max = 500ms}};
  for (int i = 0; i < 200; ++i) low.record(1ms, start);
  EXPECT_EQ(low.delay(start), 20ms);
  AdaptiveHedgeDelay high{{.min = 20ms, .max = 500ms}};
  for (int i = 0; i < 200; ++i) high.record(2s, start);
  EXPECT_EQ(high.delay(start), 500ms);
}

TEST(AdaptiveHedgeDelay, FollowsTheUpstreamWhenItSlowsDownAndRecovers) {
  AdaptiveHedgeDelay delay{{.max = 5s}};
  auto now = start;
  auto run_for = [&](Clock::duration span, Clock::duration latency) {
    for (const auto end = now + span; now < end; now += 10ms) delay.record(latency, now);
  };
  run_for(30s, 10ms);
  EXPECT_LE(delay.delay(now), 11ms);
  run_for(31s, 200ms);
  EXPECT_GE(delay.delay(now), 200ms);
  EXPECT_LE(delay.delay(now), 213ms);
  run_for(31s, 10ms);
  EXPECT_LE(delay.delay(now), 11ms);
}

TEST(AdaptiveHedgeDelay, KeepsItsDelayBetweenRefreshes) {
  AdaptiveHedgeDelay delay{{.min_samples = 10, .refresh = 100ms}};
  for (int i = 0; i < 10; ++i) delay.record(10ms, start);
  const auto first = delay.delay(start);
  for (int i = 0; i < 1000; ++i) delay.record(500ms, start);
  EXPECT_EQ(delay.delay(start + 99ms), first);
  EXPECT_GT(delay.delay(start + 100ms), first);
}

TEST(AdaptiveHedgeDelay, RejectsOptionsOutOfRange) {
  EXPECT_THROW(AdaptiveHedgeDelay({.budget = 0}), std::invalid_argument);
  EXPECT_THROW(AdaptiveHedgeDelay({.budget = 1.5}), std::invalid_argument);
  EXPECT_THROW(AdaptiveHedgeDelay({.extras_per_hedge = 0}), std::invalid_argument);
  EXPECT_THROW(AdaptiveHedgeDelay({.burst_span = -1ms}), std::invalid_argument);
  EXPECT_THROW(AdaptiveHedgeDelay({.min = 2s, .max = 1s}), std::invalid_argument);
}

TEST(HedgeDelayPolicy, FixedIgnoresSamplesAndAdaptiveFollowsThem) {
  const HedgeDelayPolicy fixed = 300ms;
  fixed.record(1ms, start);
  EXPECT_EQ(fixed.delay(start), 300ms);
  EXPECT_FALSE(fixed.is_adaptive());
  AdaptiveHedgeDelay adaptive{{.min_samples = 1}};
  auto policy = HedgeDelayPolicy::adaptive(adaptive);
  policy.record(40ms, start);
  EXPECT_TRUE(policy.is_adaptive());
  EXPECT_LE(policy.delay(start), 43ms);
  EXPECT_GE(policy.delay(start), 40ms);
}

// Calls at 1 ms intervals: a call hedges when its first attempt is slower
// than the delay and the budget gives a token for each extra attempt.
// However the latencies move, the extra attempts of any 1,000 consecutive
// calls stay within the budget plus the bucket's burst.
struct BudgetRun {
  explicit BudgetRun(AdaptiveDelayOptions options = {.budget = 0.05, .extras_per_hedge = 2},
                     bool sized_burst = false)
      : delay{options} {
    if (sized_burst) delay.use_budget(&budget);
  }

  AdaptiveHedgeDelay delay;
  HedgeBudget budget{5.0, 10.0};
  std::deque<int> extras_per_call;
  int window_extras = 0;
  int most_in_a_window = 0;
  int hedged_calls = 0;
  int refused_calls = 0;  // due a hedge, given no extra attempt

  void call(Clock::duration latency, Clock::time_point now) {
    budget.on_first_attempt();
    int extras = 0;
    if (latency > delay.delay(now)) {
      while (extras < 2 && budget.try_spend()) ++extras;
      if (extras > 0) ++hedged_calls;
      if (extras == 0) ++refused_calls;
    }
    delay.record(extras > 0 ? delay.delay(now) + 10ms : latency, now);
    extras_per_call.push_back(extras);
    window_extras += extras;
    if (extras_per_call.size() > 1000) {
      window_extras -= extras_per_call.front();
      extras_per_call.pop_front();
    }
    most_in_a_window = std::max(most_in_a_window, window_extras);
  }
};

TEST(AdaptiveHedgeDelayWithBudget, TheBudgetHoldsWhenTheWholeUpstreamSlowsDown) {
  BudgetRun run;
  auto now = start;
  int call = 0;
  for (; call < 20000; ++call, now += 1ms) run.call(heavy_tail(call), now);
  const int hedged_before = run.hedged_calls;
  EXPECT_GT(hedged_before, 0);
  // Everything is slow now: every call is "slow" against the window.
  for (; call < 60000; ++call, now += 1ms) run.call(1s, now);
  EXPECT_LE(run.most_in_a_window, 50 + 10);  // 5 % of 1,000 calls, plus the burst
  EXPECT_GT(run.hedged_calls, hedged_before);
}

TEST(AdaptiveHedgeDelayWithBudget, SizesTheBurstToTheCallRate) {
  BudgetRun busy{{}, true};
  auto now = start;
  for (int call = 0; call < 10000; ++call, now += 1ms) busy.call(10ms, now);
  // 1,000 calls a second: the budget of one second of them is 50 tokens.
  EXPECT_NEAR(busy.budget.burst(), 50.0, 2.5);
  // Twice as many: it follows within a few seconds.
  for (int call = 0; call < 10000; ++call, now += 500us) busy.call(10ms, now);
  EXPECT_NEAR(busy.budget.burst(), 100.0, 5.0);
  BudgetRun quiet{{}, true};
  now = start;
  for (int call = 0; call < 4000; ++call, now += 10ms) quiet.call(10ms, now);
  EXPECT_EQ(quiet.budget.burst(), 10.0) << "never below the burst the budget was made with";
}

TEST(AdaptiveHedgeDelayWithBudget, AfterAnIdleSpellTheBurstGrowsBackFull) {
  BudgetRun run{{}, true};
  auto now = start;
  for (int call = 0; call < 10000; ++call, now += 1ms) run.call(10ms, now);
  ASSERT_NEAR(run.budget.burst(), 50.0, 2.5);
  // Five seconds without a call: the first call after them finds the rate
  // near zero, then the burst grows back with the calls, and stays full.
  now += 5s;
  run.call(10ms, now);
  EXPECT_LT(run.budget.burst(), 11.0);
  for (int call = 0; call < 5000; ++call, now += 1ms) run.call(10ms, now);
  EXPECT_NEAR(run.budget.burst(), 50.0, 2.5);
  EXPECT_NEAR(run.budget.tokens(), run.budget.burst(), 1.0);
}

TEST(AdaptiveHedgeDelayWithBudget, WithASizedBurstTheBudgetStillHoldsWhenEverythingSlowsDown) {
  BudgetRun run{{}, true};
  auto now = start;
  int call = 0;
  for (; call < 40000; ++call, now += 1ms) run.call(heavy_tail(call), now);
  for (; call < 80000; ++call, now += 1ms) run.call(1s, now);
  // 5 % of 1,000 calls, plus one second of the budget at 1,000 calls a second.
  EXPECT_LE(run.most_in_a_window, 50 + 50);
}

// 98 % of answers in 10 ms plus a random spread, 2 % in 1 s, drawn at
// random (a fixed seed): the slow calls come in runs now and then.
struct RandomHeavyTail {
  std::mt19937 random{12345};
  std::bernoulli_distribution slow{0.02};
  std::exponential_distribution<double> spread_ms{1.0};
  Clock::duration next() {
    if (slow(random)) return 1s;
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, std::milli>{10.0 + spread_ms(random)});
  }
};

int refused_calls(AdaptiveDelayOptions options, bool sized_burst) {
  BudgetRun run{options, sized_burst};
  RandomHeavyTail latencies;
  auto now = start;
  for (int call = 0; call < 100000; ++call, now += 1ms) run.call(latencies.next(), now);
  return run.refused_calls;
}

TEST(AdaptiveHedgeDelayWithBudget, WithABurstSizedToTheRateAlmostNoHedgeIsRefused) {
  const int sized = refused_calls({.budget = 0.05, .extras_per_hedge = 2}, true);  // 8
  // With a fixed burst of 10, the fluctuation of the slow calls empties the
  // bucket again and again.
  const int fixed = refused_calls({.budget = 0.05, .extras_per_hedge = 2}, false);  // 90
  EXPECT_LE(sized * 5, fixed);
  EXPECT_GE(fixed, 50);
}

}  // namespace
}  // namespace tailcut::policy
