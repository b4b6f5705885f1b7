// hedge with a ReplicaSet and an adaptive delay: each attempt is told its
// replica (attempt 1 the set's first choice, later ones replicas the call has
// not tried), the set learns how each attempt ended, and an adaptive delay
// learns attempt 1's time.
#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include "support/async_run.hpp"
#include "tailcut/policy/hedge.hpp"

namespace tailcut::policy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::run_async;
using test::sleep_for;
using Executor = asio::any_io_executor;
using Clock = std::chrono::steady_clock;

// Replica r answers after delays[r]; failing[r]: with a failure.
struct Replicas {
  std::vector<std::chrono::milliseconds> delays;
  std::vector<bool> failing;
  std::vector<std::optional<std::size_t>> told;  // the replica each attempt was told
};

asio::awaitable<async::Outcome<int>> call_replica(Replicas* replicas, AttemptContext context) {
  replicas->told.push_back(context.replica);
  const std::size_t replica = context.replica.value_or(0);
  co_await sleep_for(replicas->delays[replica]);
  if (replicas->failing[replica]) {
    co_return async::Outcome<int>::failure(async::Failure{async::Error::failed, "HTTP 500"});
  }
  co_return async::Outcome<int>::success(static_cast<int>(replica));
}

asio::awaitable<HedgeResult<int>> hedge_over(Replicas* replicas, HedgeOptions options) {
  OutcomeAttempt<int> attempt = [replicas](AttemptContext context) {
    return call_replica(replicas, context);
  };
  co_return co_await hedge(std::move(attempt), options);
}

HedgeResult<int> run_hedge_over(Replicas& replicas, HedgeOptions options) {
  return run_async([&](Executor) { return hedge_over(&replicas, options); });
}

TEST(HedgeWithReplicas, EachAttemptGoesToAReplicaTheCallHasNotTried) {
  ReplicaSet set{3};
  Replicas replicas{{500ms, 500ms, 500ms}, {false, false, false}, {}};
  HedgeOptions options;
  options.delay = 20ms;
  options.extra_attempts = 2;
  options.replicas = &set;
  const auto result = run_hedge_over(replicas, options);
  ASSERT_EQ(result.outcome, HedgeOutcome::succeeded);
  ASSERT_EQ(replicas.told.size(), 3U);
  std::set<std::size_t> distinct;
  for (const auto& replica : replicas.told) {
    ASSERT_TRUE(replica.has_value());
    distinct.insert(*replica);
  }
  EXPECT_EQ(distinct.size(), 3U);
  for (std::size_t i = 0; i < result.attempts.size(); ++i) {
    EXPECT_EQ(result.attempts[i].replica, replicas.told[i]);
  }
  for (std::size_t replica = 0; replica < 3; ++replica) {
    EXPECT_EQ(set.state(replica, Clock::now()).in_flight, 0U) << "every attempt's end is told";
  }
}

TEST(HedgeWithReplicas, CallsLeaveAFailingReplica) {
  ReplicaSet set{2, ReplicaSetOptions{.failures_to_eject = 2}};
  Replicas replicas{{1ms, 1ms}, {true, false}, {}};
  HedgeOptions options;
  options.delay = 200ms;
  options.extra_attempts = 1;
  options.replicas = &set;
  for (int call = 0; call < 20; ++call) {
    const auto result = run_hedge_over(replicas, options);
    ASSERT_EQ(result.outcome, HedgeOutcome::succeeded) << call;
    EXPECT_EQ(result.value, 1);
  }
  // A failure counts as a slow answer in replica 0's estimate, and its
  // failures in a row eject it: the calls go to replica 1.
  const auto to_zero = std::count(replicas.told.begin(), replicas.told.end(), 0U);
  EXPECT_LE(to_zero, 3);
  EXPECT_GE(set.state(0, Clock::now()).consecutive_failures, 1U);
}

TEST(HedgeWithReplicas, WithoutAReplicaSetAttemptsAreToldNone) {
  Replicas replicas{{1ms}, {false}, {}};
  const auto result = run_hedge_over(replicas, HedgeOptions{});
  ASSERT_EQ(result.outcome, HedgeOutcome::succeeded);
  ASSERT_EQ(replicas.told.size(), 1U);
  EXPECT_FALSE(replicas.told.front().has_value());
  EXPECT_FALSE(result.attempts.front().replica.has_value());
}

TEST(HedgeWithAdaptiveDelay, LearnsAttemptOnesTimeAndHedgesAtItsQuantile) {
  AdaptiveHedgeDelay adaptive{{.budget = 0.5, .extras_per_hedge = 1, .min_samples = 5}};
  Replicas replicas{{30ms}, {false}, {}};
  HedgeOptions options;
  options.delay = HedgeDelayPolicy::adaptive(adaptive);
  options.extra_attempts = 1;
  for (int call = 0; call < 5; ++call) {
    const auto result = run_hedge_over(replicas, options);
    ASSERT_EQ(result.fired, 1U) << "the 300 ms fallback is longer than the attempts";
  }
  EXPECT_EQ(adaptive.window().count(Clock::now()), 5U);
  // Half of the calls may hedge: the median of ~30 ms, below the attempt's time.
  const auto delay = adaptive.delay(Clock::now());
  EXPECT_GE(delay, 30ms);
  EXPECT_LE(delay, 60ms);
}

TEST(HedgeWithAdaptiveDelay, AFailedFirstAttemptTeachesTheDelayNothing) {
  AdaptiveHedgeDelay adaptive{{.min_samples = 1}};
  Replicas replicas{{1ms}, {true}, {}};
  HedgeOptions options;
  options.delay = HedgeDelayPolicy::adaptive(adaptive);
  options.extra_attempts = 0;
  const auto result = run_hedge_over(replicas, options);
  ASSERT_EQ(result.outcome, HedgeOutcome::all_failed);
  EXPECT_EQ(adaptive.window().count(Clock::now()), 0U);
}

}  // namespace
}  // namespace tailcut::policy
