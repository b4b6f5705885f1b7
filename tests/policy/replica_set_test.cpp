// ReplicaSet: power of two choices on expected latency, later attempts on
// untried replicas, passive ejection with a growing backoff and never more
// than half out, and a slow replica getting its share back (a fake clock).
#include "tailcut/policy/replica_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <vector>

namespace tailcut::policy {
namespace {

using namespace std::chrono_literals;
using Clock = ReplicaSet::Clock;
using Result = ReplicaSet::Result;
const Clock::time_point start{std::chrono::hours{1}};

// One attempt on a replica that answers in `latency`, as the call sees it.
void answer(ReplicaSet& replicas, ReplicaSet::Index index, Clock::duration latency,
            Clock::time_point now, Result result = Result::success) {
  replicas.on_attempt_start(index);
  replicas.on_attempt_end(index, result, latency, now);
}

// Serves `calls` first attempts 1 ms apart; replica i answers in
// latency[i], except that every 50th answer of a replica in `heavy_tailed`
// takes 1 s. Returns how many each got.
std::vector<int> serve(ReplicaSet& replicas, const std::vector<Clock::duration>& latency, int calls,
                       Clock::time_point& now, bool heavy_tailed = false) {
  std::vector<int> picked(replicas.size());
  for (int call = 0; call < calls; ++call, now += 1ms) {
    const auto index = replicas.pick_first(now);
    ++picked[index];
    const bool slow = heavy_tailed && picked[index] % 50 == 0;
    answer(replicas, index, slow ? Clock::duration{1s} : latency[index], now);
  }
  return picked;
}

TEST(ReplicaSet, ALoneReplicaIsAlwaysPickedAndNeverEjected) {
  ReplicaSet replicas{1, {.failures_to_eject = 2}};
  for (int i = 0; i < 10; ++i) answer(replicas, 0, 1ms, start, Result::failure);
  EXPECT_FALSE(replicas.state(0, start).ejected);
  EXPECT_EQ(replicas.pick_first(start), 0U);
  std::array<ReplicaSet::Index, 1> tried{0};
  EXPECT_EQ(replicas.pick_next(tried, start), 0U);
}

TEST(ReplicaSet, TheFirstAttemptRarelyGoesToTheSlowReplica) {
  ReplicaSet replicas{3};
  auto now = start;
  const auto picked = serve(replicas, {300ms, 10ms, 10ms}, 20000, now, true);
  EXPECT_LE(picked[0], 20000 / 20) << "more than 5 % to the slow replica";
  EXPECT_GT(picked[1], 20000 / 4);
  EXPECT_GT(picked[2], 20000 / 4);
}

TEST(ReplicaSet, AttemptsInFlightCountAgainstAReplica) {
  ReplicaSet replicas{2};
  answer(replicas, 0, 10ms, start);
  answer(replicas, 1, 10ms, start);
  for (int i = 0; i < 5; ++i) replicas.on_attempt_start(0);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(replicas.pick_first(start), 1U);
}

// Many attempts in flight on the fast replicas do not make a replica ten
// times slower the better choice for a first attempt.
TEST(ReplicaSet, AMuchSlowerReplicaGetsNoFirstAttemptWhateverIsInFlight) {
  ReplicaSet replicas{3};
  answer(replicas, 0, 300ms, start);
  answer(replicas, 1, 30ms, start);
  answer(replicas, 2, 30ms, start);
  for (int i = 0; i < 25; ++i) {
    replicas.on_attempt_start(1);
    replicas.on_attempt_start(2);
  }
  for (int i = 0; i < 100; ++i) EXPECT_NE(replicas.pick_first(start), 0U);
  std::array<ReplicaSet::Index, 1> tried{1};
  EXPECT_EQ(replicas.pick_next(tried, start), 2U) << "nor an extra attempt while a fast one is in";
}

TEST(ReplicaSet, AReplicaNotMeasuredYetGetsOneFirstAttemptAtATime) {
  ReplicaSet replicas{3};
  std::vector<int> started(3);
  for (int call = 0; call < 30; ++call) {
    const auto index = replicas.pick_first(start);
    replicas.on_attempt_start(index);  // none answers yet
    ++started[index];
  }
  // The first three went one to each; the rest were spread by attempts in flight.
  EXPECT_GE(*std::min_element(started.begin(), started.end()), 1);
  replicas.on_attempt_end(0, Result::success, 300ms, start + 300ms);
  replicas.on_attempt_end(1, Result::success, 10ms, start + 300ms);
  replicas.on_attempt_end(2, Result::success, 10ms, start + 300ms);
  for (int i = 0; i < 50; ++i) EXPECT_NE(replicas.pick_first(start + 300ms), 0U);
}

TEST(ReplicaSet, LaterAttemptsGoToReplicasNotTriedYet) {
  ReplicaSet replicas{3};
  answer(replicas, 0, 10ms, start);
  answer(replicas, 1, 20ms, start);
  answer(replicas, 2, 30ms, start);
  std::vector<ReplicaSet::Index> tried{0};
  EXPECT_EQ(replicas.pick_next(tried, start), 1U);
  tried.push_back(1);
  EXPECT_EQ(replicas.pick_next(tried, start), 2U);
  tried.push_back(2);
  EXPECT_EQ(replicas.pick_next(tried, start), 0U);  // all tried: the best
}

// An extra attempt is fired to answer soon: a fast replica tried already
// does that, a replica several times slower does not.
TEST(ReplicaSet, ExtraAttemptsGoToAFastReplicaTriedAlreadyBeforeASlowOne) {
  ReplicaSet replicas{3};
  answer(replicas, 0, 300ms, start);
  answer(replicas, 1, 10ms, start);
  answer(replicas, 2, 10ms, start);
  std::vector<ReplicaSet::Index> tried{1};
  EXPECT_EQ(replicas.pick_next(tried, start), 2U);
  tried.push_back(2);
  const auto third = replicas.pick_next(tried, start);
  EXPECT_NE(third, 0U);
  // With the fast replicas out, the slow one is the best left.
  ReplicaSet two{2, {.failures_to_eject = 1}};
  answer(two, 0, 300ms, start);
  answer(two, 1, 10ms, start + 1ms, Result::failure);
  ASSERT_TRUE(two.state(1, start + 1ms).ejected);
  std::array<ReplicaSet::Index, 1> first{1};
  EXPECT_EQ(two.pick_next(first, start + 1ms), 0U);
}

// A slow replica gets a first attempt again once its estimate has decayed;
// that call hedges and another replica wins, so the attempt is stopped
// long before the slow answer. That must not make it look faster still.
TEST(ReplicaSet, ASlowReplicaWhoseAttemptsAreStoppedEarlyStaysASlowReplica) {
  ReplicaSet replicas{3};
  auto now = start;
  answer(replicas, 0, 300ms, now);
  int slow_first_attempts = 0;
  constexpr int calls = 300000;  // 5 minutes at one call a millisecond
  for (int call = 0; call < calls; ++call, now += 1ms) {
    const auto index = replicas.pick_first(now);
    replicas.on_attempt_start(index);
    if (index == 0) {
      // Hedged at 15 ms, an extra attempt to a fast replica won 10 ms later.
      ++slow_first_attempts;
      replicas.on_attempt_end(0, Result::cancelled, 25ms, now);
    } else {
      replicas.on_attempt_end(index, Result::success, 10ms, now);
    }
  }
  // About one call each time its estimate has decayed below 3x the others'
  // (some 20 s), not a share that grows with each stopped attempt.
  EXPECT_LE(slow_first_attempts, 100);
  EXPECT_GE(slow_first_attempts, 1) << "it is still tried now and then";
}

TEST(ReplicaSet, FailuresInARowEjectForABackoffThatDoubles) {
  ReplicaSet replicas{3, {.failures_to_eject = 3, .base_ejection = 1s, .max_ejection = 30s}};
  for (int i = 0; i < 2; ++i) answer(replicas, 0, 1ms, start, Result::failure);
  answer(replicas, 0, 1ms, start, Result::success);  // the run is broken
  for (int i = 0; i < 2; ++i) answer(replicas, 0, 1ms, start, Result::failure);
  EXPECT_FALSE(replicas.state(0, start).ejected);
  answer(replicas, 0, 1ms, start, Result::failure);
  EXPECT_TRUE(replicas.state(0, start).ejected);
  for (int i = 0; i < 50; ++i) EXPECT_NE(replicas.pick_first(start + 999ms), 0U);
  std::array<ReplicaSet::Index, 2> tried{1, 2};
  EXPECT_NE(replicas.pick_next(tried, start + 999ms), 0U);
  // Back after 1 s; one more failure ejects it for 2 s.
  EXPECT_FALSE(replicas.state(0, start + 1s).ejected);
  answer(replicas, 0, 1ms, start + 1s, Result::failure);
  EXPECT_TRUE(replicas.state(0, start + 2999ms).ejected);
  EXPECT_FALSE(replicas.state(0, start + 3s).ejected);
  EXPECT_EQ(replicas.state(0, start + 3s).ejections, 2U);
}

TEST(ReplicaSet, NeverMoreThanHalfAreOut) {
  ReplicaSet replicas{4, {.failures_to_eject = 1}};
  for (ReplicaSet::Index index = 0; index < 4; ++index) {
    answer(replicas, index, 1ms, start, Result::failure);
  }
  EXPECT_EQ(replicas.ejected_count(start), 2U);
  ReplicaSet three{3, {.failures_to_eject = 1}};
  for (ReplicaSet::Index index = 0; index < 3; ++index) {
    answer(three, index, 1ms, start, Result::failure);
  }
  EXPECT_EQ(three.ejected_count(start), 1U);
}

TEST(ReplicaSet, AFastFailureDoesNotMakeAReplicaLookFast) {
  ReplicaSet replicas{2, {.failures_to_eject = 100}};
  answer(replicas, 0, 1ms, start, Result::failure);
  answer(replicas, 1, 50ms, start);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(replicas.pick_first(start), 1U);
}

TEST(ReplicaSet, ARecoveredReplicaGetsItsShareBack) {
  ReplicaSet replicas{3};
  auto now = start;
  serve(replicas, {300ms, 10ms, 10ms}, 20000, now);
  // It is tried again once its estimate has decayed below the others'
  // (about 35 s), then its estimate follows its answers.
  serve(replicas, {10ms, 10ms, 10ms}, 60000, now, true);
  const auto picked = serve(replicas, {10ms, 10ms, 10ms}, 60000, now, true);
  EXPECT_GT(picked[0], 60000 / 6) << "the recovered replica still starved";
}

TEST(ReplicaSet, ACancelledAttemptOnlyRaisesTheEstimate) {
  ReplicaSet replicas{1};
  answer(replicas, 0, 100ms, start);
  answer(replicas, 0, 5ms, start + 1s, Result::cancelled);
  EXPECT_EQ(replicas.state(0, start + 1s).expected_latency, 100ms);
  answer(replicas, 0, 500ms, start + 100s, Result::cancelled);
  EXPECT_GT(replicas.state(0, start + 100s).expected_latency, 400ms);
}

TEST(ReplicaSet, RejectsOptionsOutOfRange) {
  EXPECT_THROW(ReplicaSet(0), std::invalid_argument);
  EXPECT_THROW(ReplicaSet(2, {.failures_to_eject = 0}), std::invalid_argument);
  EXPECT_THROW(ReplicaSet(2, {.base_ejection = 2s, .max_ejection = 1s}), std::invalid_argument);
  EXPECT_THROW(ReplicaSet(2, {.first_attempt_slow_factor = 0.5}), std::invalid_argument);
}

}  // namespace
}  // namespace tailcut::policy
