// hedge: when extra attempts fire, who wins, and what each attempt is
// told; in each of its modes (an Attempt that throws, an OutcomeAttempt,
// and an OutcomeAttempt whose first attempt runs in hedge's own frame),
// against the same expectations.
#include "tailcut/policy/hedge.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/async_run.hpp"
#include "support/scripted_hedge.hpp"
#include "tailcut/async/error.hpp"
#include "tailcut/async/task.hpp"

namespace tailcut::policy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace test;  // the scripted attempts and hedge's modes
using Executor = asio::any_io_executor;
using Clock = std::chrono::steady_clock;
const auto succeeded = AttemptState::succeeded;
const auto failed = AttemptState::failed;
const auto cancelled = AttemptState::cancelled;

INSTANTIATE_TEST_SUITE_P(Modes, HedgeInEachMode,
                         testing::Values(Mode::throwing, Mode::outcome, Mode::first_in_frame),
                         name_of);
INSTANTIATE_TEST_SUITE_P(Modes, HedgeOfOutcomeAttempts,
                         testing::Values(Mode::outcome, Mode::first_in_frame), name_of);

TEST_P(HedgeInEachMode, AFastFirstAttemptIsTheOnlyOne) {
  Observed observed;
  const auto result = hedge_with(mode(), {{5ms, true}, {5ms, true}, {5ms, true}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.value, 1);
  EXPECT_EQ(result.winner, 1u);
  EXPECT_EQ(result.fired, 1u);
  EXPECT_EQ(states_of(result), States{succeeded});
  EXPECT_EQ(observed.fired_after.size(), 1u);
  EXPECT_TRUE(observed.stopped.empty());
  EXPECT_EQ(result.timer_lateness, Clock::duration::zero());  // no timer was due
}

TEST_P(HedgeInEachMode, ASlowFirstAttemptFiresTheExtrasAtTheDelayAndTheFirstSuccessWins) {
  Observed observed;
  const auto result = hedge_with(mode(), {{2s, true}, {30ms, true}, {1s, true}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.value, 2);
  EXPECT_EQ(result.winner, 2u);
  EXPECT_EQ(result.fired, 3u);
  ASSERT_EQ(observed.fired_after.size(), 3u);
  EXPECT_GE(observed.fired_after[1], 100ms);
  EXPECT_GE(observed.fired_after[2], 100ms);
  EXPECT_LT(observed.fired_after[1], 1s);
  // The losers were stopped, and had unwound before hedge returned.
  EXPECT_EQ(observed.endings, (Endings{"cancelled", "succeeded", "cancelled"}));
  EXPECT_EQ(states_of(result), (States{cancelled, succeeded, cancelled}));
  EXPECT_EQ(observed.stopped_attempts(), (Numbers{1, 3}));
  // The hedge delay's timer woke it, after the delay (a timer never fires
  // early): how much after is what it reports.
  EXPECT_GT(result.timer_lateness, Clock::duration::zero());
  EXPECT_LT(result.timer_lateness, observed.fired_after[1]);
}

TEST_P(HedgeInEachMode, TheFirstAttemptCanStillWinAfterTheExtrasFired) {
  Observed observed;
  const auto result = hedge_with(mode(), {{150ms, true}, {2s, true}, {2s, true}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.value, 1);
  EXPECT_EQ(result.winner, 1u);
  EXPECT_EQ(result.fired, 3u);
  EXPECT_EQ(observed.endings, (Endings{"succeeded", "cancelled", "cancelled"}));
  EXPECT_EQ(states_of(result), (States{succeeded, cancelled, cancelled}));
  // The losers were told through AttemptContext::stop, spawned or not.
  EXPECT_EQ(observed.stopped_attempts(), (Numbers{2, 3}));
}

// Extra attempts that fail do not stop the first: it may still succeed.
TEST_P(HedgeInEachMode, FailedExtrasLeaveTheFirstAttemptRunning) {
  Observed observed;
  const auto result = hedge_with(mode(), {{300ms, true}, {5ms, false}, {10ms, false}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.winner, 1u);
  EXPECT_EQ(result.fired, 3u);
  EXPECT_EQ(observed.endings, (Endings{"succeeded", "failed", "failed"}));
  EXPECT_EQ(states_of(result), (States{succeeded, failed, failed}));
  EXPECT_TRUE(observed.stopped.empty());
}

TEST_P(HedgeInEachMode, AFailureBeforeTheDelayFiresTheExtrasAtOnce) {
  Observed observed;
  const auto result = hedge_with(mode(), {{5ms, false}, {10ms, true}, {2s, true}}, observed);
  EXPECT_EQ(result.winner, 2u);
  ASSERT_EQ(observed.fired_after.size(), 3u);
  EXPECT_LT(observed.fired_after[1], 90ms);  // well before the 100 ms delay
  EXPECT_EQ(states_of(result), (States{failed, succeeded, cancelled}));
}

TEST_P(HedgeInEachMode, AtDelayModeWaitsForTheDelayEvenAfterAFailure) {
  Observed observed;
  auto options = quick_options();
  options.on_failure = HedgeOnFailure::at_delay;
  const auto result =
      hedge_with(mode(), {{5ms, false}, {10ms, true}, {2s, true}}, observed, options);
  EXPECT_EQ(result.winner, 2u);
  ASSERT_EQ(observed.fired_after.size(), 3u);
  EXPECT_GE(observed.fired_after[1], 100ms);
  EXPECT_EQ(states_of(result), (States{failed, succeeded, cancelled}));
}

TEST_P(HedgeInEachMode, WhenEveryAttemptFailsEachFailureIsReported) {
  Observed observed;
  const auto result = hedge_with(mode(), {{5ms, false}, {5ms, false}, {10ms, false}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::all_failed);
  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.winner, 0u);
  ASSERT_EQ(result.attempts.size(), 3u);
  for (const auto& attempt : result.attempts) {
    EXPECT_EQ(attempt.state, AttemptState::failed) << "attempt " << attempt.number;
    EXPECT_EQ(attempt.failure.message(), "HTTP 50" + std::to_string(attempt.number));
  }
}

// The extras fire after a slow first failure, at once, and fail too.
TEST_P(HedgeInEachMode, AFirstAttemptFailingAfterTheDelayIsReportedWithTheOthers) {
  Observed observed;
  const auto result = hedge_with(mode(), {{150ms, false}, {5ms, false}, {5ms, false}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::all_failed);
  EXPECT_EQ(result.fired, 3u);
  EXPECT_EQ(states_of(result), (States{failed, failed, failed}));
  EXPECT_EQ(result.attempts[0].failure.message(), "HTTP 501");
}

TEST_P(HedgeInEachMode, WithoutExtraAttemptsTheFirstAttemptsFailureEndsTheHedge) {
  Observed observed;
  auto options = quick_options();
  options.extra_attempts = 0;
  const auto result = hedge_with(mode(), {{150ms, false}}, observed, options);
  EXPECT_EQ(result.outcome, HedgeOutcome::all_failed);
  EXPECT_EQ(result.fired, 1u);
  EXPECT_EQ(states_of(result), States{failed});
  EXPECT_EQ(result.attempts[0].failure.message(), "HTTP 501");
  EXPECT_EQ(result.timer_lateness, Clock::duration::zero());
}

TEST_P(HedgeInEachMode, TheDeadlineCancelsEveryAttempt) {
  Observed observed;
  auto options = quick_options();
  options.deadline = Clock::now() + 150ms;
  const auto started = Clock::now();
  const auto result =
      hedge_with(mode(), {{10s, true}, {10s, true}, {10s, true}}, observed, options);
  EXPECT_EQ(result.outcome, HedgeOutcome::deadline_exceeded);
  EXPECT_EQ(result.winner, 0u);
  EXPECT_EQ(result.fired, 3u);
  EXPECT_EQ(observed.endings, (Endings{"cancelled", "cancelled", "cancelled"}));
  EXPECT_EQ(states_of(result), (States{cancelled, cancelled, cancelled}));
  EXPECT_GT(result.timer_lateness, Clock::duration::zero());
  EXPECT_LT(Clock::now() - started, 2s);
}

TEST_P(HedgeInEachMode, ADeadlineBeforeTheDelayCancelsTheOnlyAttempt) {
  Observed observed;
  auto options = quick_options();
  options.deadline = Clock::now() + 50ms;
  const auto started = Clock::now();
  const auto result =
      hedge_with(mode(), {{10s, true}, {10s, true}, {10s, true}}, observed, options);
  EXPECT_EQ(result.outcome, HedgeOutcome::deadline_exceeded);
  EXPECT_EQ(result.fired, 1u);
  EXPECT_EQ(observed.endings, Endings{"cancelled"});
  EXPECT_EQ(states_of(result), States{cancelled});
  EXPECT_GT(result.timer_lateness, Clock::duration::zero());
  EXPECT_LT(Clock::now() - started, 2s);
}

// Attempt 1 holds the thread until the hedge delay has passed, then answers
// on a timer that has expired already: hedge's timer for the delay and
// attempt 1's complete in the same turn of the scheduler, attempt 1's first
// (its expiry is the earlier). Attempt 1 answered first: no extra fires.
asio::awaitable<async::Outcome<int>> answer_as_the_delay_expires(Clock::time_point delay_passed,
                                                                 AttemptContext context) {
  if (context.number != 1) co_return async::Outcome<int>::success(static_cast<int>(context.number));
  // First a turn of the scheduler: hedge has armed its wake-up for the delay
  // by then, in every mode (a spawned attempt starts inline, before it).
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  while (Clock::now() < delay_passed) {
    // Holds the thread: no turn of the scheduler until the delay passed.
  }
  asio::steady_timer expired{co_await asio::this_coro::executor, Clock::time_point{}};
  co_await expired.async_wait(asio::use_awaitable);
  co_return async::Outcome<int>::success(1);
}

asio::awaitable<HedgeResult<int>> hedge_answered_as_the_delay_expires(Mode mode) {
  const auto options = quick_options();
  const auto delay_passed = Clock::now() + options.delay.delay(Clock::now()) + 20ms;
  OutcomeAttempt<int> attempt = [delay_passed](AttemptContext context) {
    return answer_as_the_delay_expires(delay_passed, context);
  };
  co_return co_await hedge_in(mode, attempt, options);
}

// In frame, hedge's timer completion is then queued when attempt 1 returns:
// hedge must not leave its frame before it ran (the sanitizer build would
// see it touch a freed frame; run_async, a handler left behind).
TEST_P(HedgeInEachMode, AFirstAttemptAnsweringInTheTurnOfTheHedgeDelayIsTheOnlyOne) {
  const auto result =
      run_async([this](Executor) { return hedge_answered_as_the_delay_expires(mode()); });
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.value, 1);
  EXPECT_EQ(result.winner, 1u);
  EXPECT_EQ(result.fired, 1u);
  EXPECT_EQ(states_of(result), States{succeeded});
}

// Fails with a failure value (no exception): the hedge must report its
// message.
asio::awaitable<async::Outcome<int>> described_failure(AttemptContext context) {
  co_return async::Outcome<int>::failure(
      async::Failure{async::Error::failed, "described " + std::to_string(context.number)});
}

TEST_P(HedgeOfOutcomeAttempts, AFailureDescribedWhereItWasMadeIsReportedWithThatDescription) {
  const auto result = run_async([this](Executor) {
    return hedge_in(mode(), OutcomeAttempt<int>{described_failure}, quick_options());
  });
  EXPECT_EQ(result.outcome, HedgeOutcome::all_failed);
  ASSERT_EQ(result.attempts.size(), 3U);
  for (const auto& attempt : result.attempts) {
    EXPECT_EQ(attempt.state, AttemptState::failed);
    EXPECT_EQ(attempt.failure.message(), "described " + std::to_string(attempt.number));
    EXPECT_EQ(attempt.failure.code(), async::Error::failed);
  }
}

TEST_P(HedgeInEachMode, AFailedLoserOfAHedgeThatSucceededIsDescribedWhenAsked) {
  Observed observed;
  const auto result = hedge_with(mode(), {{1ms, false}, {5ms, true}, {2s, true}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.value, 2);
  ASSERT_EQ(result.attempts.size(), 3u);
  EXPECT_EQ(result.attempts[2].state, AttemptState::cancelled);
  EXPECT_EQ(result.attempts[2].failure.message(), "");
  EXPECT_EQ(result.attempts[0].state, AttemptState::failed);
  EXPECT_EQ(result.attempts[0].failure.message(), "HTTP 501");
}

TEST_P(HedgeInEachMode, AnAttemptIsToldItsNumberAndTheTimeLeft) {
  Observed observed;
  auto options = quick_options();
  options.deadline = Clock::now() + 5s;
  const auto result =
      hedge_with(mode(), {{10s, true}, {10s, true}, {1ms, true}}, observed, options);
  EXPECT_EQ(result.winner, 3u);
  const auto& contexts = observed.contexts;
  ASSERT_EQ(contexts.size(), 3u);
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    EXPECT_EQ(contexts[i].number, i + 1);
    ASSERT_TRUE(contexts[i].remaining.has_value());
    EXPECT_LE(*contexts[i].remaining, 5s);
    EXPECT_GT(*contexts[i].remaining, 3s);
  }
  // One stop for every attempt of the call, requested once attempt 3 won.
  EXPECT_TRUE(contexts[0].stop.stop_requested());
  EXPECT_EQ(contexts[1].stop, contexts[0].stop);
  EXPECT_EQ(contexts[2].stop, contexts[0].stop);
  EXPECT_EQ(observed.stopped_attempts(), (Numbers{1, 2}));
}

TEST_P(HedgeInEachMode, ASpentBudgetRefusesTheExtraAttempts) {
  HedgeBudget budget{0.0, 1.0};  // one saved token, none earned
  auto options = quick_options();
  options.budget = &budget;
  Observed first_call;
  const auto first =
      hedge_with(mode(), {{150ms, true}, {2s, true}, {2s, true}}, first_call, options);
  EXPECT_EQ(first.fired, 2u);  // one token: one extra
  EXPECT_TRUE(first.budget_refused);
  EXPECT_EQ(first.winner, 1u);
  Observed second_call;
  const auto second =
      hedge_with(mode(), {{150ms, true}, {2s, true}, {2s, true}}, second_call, options);
  EXPECT_EQ(second.fired, 1u);
  EXPECT_TRUE(second.budget_refused);
  EXPECT_EQ(second.winner, 1u);
}

// Attempt 1 never answers and, once cancelled or stopped, takes 100 ms to
// unwind; attempt 2 would answer 20 ms after the deadline; attempt 3 never.
asio::awaitable<async::Outcome<int>> answer_past_the_deadline(Clock::time_point deadline,
                                                              Observed* observed,
                                                              AttemptContext context) {
  const auto index = context.number - 1;
  observed->endings.resize(std::max(observed->endings.size(), context.number), "running");
  const auto until = context.number == 2 ? deadline + 20ms : deadline + 10s;
  bool answered = false;
  try {
    answered = co_await wait_unless_stopped(until, context.number, context.stop, observed);
  } catch (const boost::system::system_error&) {
    // Cancelled before it could wait.
  }
  if (answered) {
    observed->endings[index] = "succeeded";
    co_return async::Outcome<int>::success(static_cast<int>(context.number));
  }
  if (context.number == 1) {
    co_await asio::this_coro::throw_if_cancelled(false);
    boost::system::error_code ignored;
    asio::steady_timer unwinding{co_await asio::this_coro::executor, 100ms};
    co_await unwinding.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  observed->endings[index] = "cancelled";
  co_return async::Outcome<int>::failure(async::cancellation_error());
}

asio::awaitable<HedgeResult<int>> hedge_answered_past_the_deadline(Mode mode, Observed* observed) {
  auto options = quick_options();
  const auto deadline = Clock::now() + 150ms;
  options.deadline = deadline;
  OutcomeAttempt<int> attempt = [deadline, observed](AttemptContext context) {
    return answer_past_the_deadline(deadline, observed, context);
  };
  co_return co_await hedge_in(mode, attempt, options);
}

// Once the deadline has passed, no attempt wins: not even one that answers
// while attempt 1, cancelled (or stopped) at the deadline, still unwinds.
TEST_P(HedgeInEachMode, NoAttemptWinsAfterTheDeadline) {
  Observed observed;
  const auto result =
      run_async([&](Executor) { return hedge_answered_past_the_deadline(mode(), &observed); });
  EXPECT_EQ(result.outcome, HedgeOutcome::deadline_exceeded);
  EXPECT_EQ(result.winner, 0u);
  EXPECT_FALSE(result.value);
  EXPECT_EQ(result.fired, 3u);
  EXPECT_EQ(observed.endings, (Endings{"cancelled", "cancelled", "cancelled"}));
  EXPECT_EQ(states_of(result), (States{cancelled, cancelled, cancelled}));
}

}  // namespace
}  // namespace tailcut::policy
