// hedge: how it stops the attempts it no longer wants (through each
// attempt's stop token, and Asio for spawned ones), joins them or leaves
// them to unwind, and ends on its caller's cancellation.
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
#include "tailcut/policy/hedge.hpp"

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

// Attempt 1 never answers and, once cancelled, takes 300 ms to unwind;
// attempt 2 wins soon after the hedge delay. Notes when hedge returned and
// when attempt 1 had unwound.
struct UnwindOrder {
  Clock::time_point hedge_returned;
  Clock::time_point loser_unwound;
};

asio::awaitable<int> slow_to_unwind(std::shared_ptr<UnwindOrder> order, AttemptContext context) {
  if (context.number != 1) {
    co_await sleep_for(10ms);
    co_return static_cast<int>(context.number);
  }
  bool was_cancelled = false;
  try {
    co_await sleep_for(10s);
  } catch (const boost::system::system_error&) {
    was_cancelled = true;
  }
  if (was_cancelled) {
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await sleep_for(300ms);
    order->loser_unwound = Clock::now();
    async::throw_cancelled();
  }
  co_return 1;
}

asio::awaitable<int> hedge_noting_order(std::shared_ptr<UnwindOrder> order, Losers losers) {
  auto options = quick_options();
  options.extra_attempts = 1;
  options.losers = losers;
  Attempt<int> attempt = [order](AttemptContext context) { return slow_to_unwind(order, context); };
  const auto result = co_await hedge(attempt, options);
  order->hedge_returned = Clock::now();
  co_return *result.value;
}

TEST(Hedge, LosersAreJoinedBeforeHedgeReturns) {
  auto order = std::make_shared<UnwindOrder>();
  EXPECT_EQ(run_async([order](Executor) { return hedge_noting_order(order, Losers::join); }), 2);
  EXPECT_LT(order->loser_unwound, order->hedge_returned);
}

TEST(Hedge, WithoutJoiningHedgeReturnsBeforeTheLosersHaveUnwound) {
  auto order = std::make_shared<UnwindOrder>();
  EXPECT_EQ(run_async([order](Executor) {
              return hedge_noting_order(order, Losers::cancel_without_joining);
            }),
            2);
  // run_async returns only once the loser, too, is done: it did unwind.
  EXPECT_NE(order->loser_unwound, Clock::time_point{});
  EXPECT_LT(order->hedge_returned, order->loser_unwound);
}

// The caller of a hedge is cancelled while its attempts run (each would
// take 10 s). What the caller's task sees, and how each attempt ended.
struct CancelledCaller {
  bool threw_cancellation = false;
  std::optional<HedgeResult<int>> result;
  Observed observed;
};

asio::awaitable<void> cancel_the_caller(Executor executor, Mode mode, CancelledCaller* caller,
                                        bool report_cancellation,
                                        std::chrono::milliseconds cancel_after) {
  auto options = quick_options();
  options.report_cancellation = report_cancellation;
  // Losers not joined on a winner: the caller's cancellation joins anyway.
  options.losers = Losers::cancel_without_joining;
  std::vector<Script> scripts(3, Script{10s, true});
  auto task =
      async::spawn(executor, run_hedge(mode, std::move(scripts), &caller->observed, options));
  co_await sleep_for(cancel_after);
  task.cancel();
  try {
    caller->result.emplace(co_await task.result());
  } catch (const boost::system::system_error& error) {
    caller->threw_cancellation = error.code() == asio::error::operation_aborted;
  }
}

CancelledCaller run_cancelled_caller(Mode mode, bool report_cancellation,
                                     std::chrono::milliseconds cancel_after = 150ms) {
  CancelledCaller caller;
  run_async([&](Executor executor) {
    return cancel_the_caller(executor, mode, &caller, report_cancellation, cancel_after);
  });
  return caller;
}

TEST_P(HedgeInEachMode, TheCallersCancellationCancelsEveryAttemptAndThrows) {
  const auto caller = run_cancelled_caller(mode(), false);
  EXPECT_TRUE(caller.threw_cancellation);
  EXPECT_FALSE(caller.result);
  EXPECT_EQ(caller.observed.endings, (Endings{"cancelled", "cancelled", "cancelled"}));
  // Attempt 1 in hedge's frame shares the caller's coroutine stack: the
  // caller's cancellation reaches it through Asio before hedge can stop
  // it. Hedge stops the others.
  EXPECT_EQ(caller.observed.stopped_attempts(), (in_frame() ? Numbers{2, 3} : Numbers{1, 2, 3}));
}

TEST_P(HedgeInEachMode, ReportedCancellationEndsTheHedgeWithoutAnException) {
  const auto caller = run_cancelled_caller(mode(), true);
  EXPECT_FALSE(caller.threw_cancellation);
  ASSERT_TRUE(caller.result);
  EXPECT_EQ(caller.result->outcome, HedgeOutcome::cancelled);
  EXPECT_FALSE(caller.result->value);
  EXPECT_EQ(caller.result->winner, 0U);
  EXPECT_EQ(caller.result->fired, 3U);
  // Every attempt was cancelled and had unwound before hedge returned.
  EXPECT_EQ(caller.observed.endings, (Endings{"cancelled", "cancelled", "cancelled"}));
  EXPECT_EQ(caller.observed.stopped_attempts(), (in_frame() ? Numbers{2, 3} : Numbers{1, 2, 3}));
  for (const auto& attempt : caller.result->attempts) {
    EXPECT_EQ(attempt.state, AttemptState::cancelled) << "attempt " << attempt.number;
  }
}

TEST_P(HedgeInEachMode, TheCallersCancellationBeforeTheDelayCancelsTheOnlyAttempt) {
  const auto thrown = run_cancelled_caller(mode(), false, 30ms);
  EXPECT_TRUE(thrown.threw_cancellation);
  EXPECT_EQ(thrown.observed.endings, Endings{"cancelled"});
  const auto reported = run_cancelled_caller(mode(), true, 30ms);
  ASSERT_TRUE(reported.result);
  EXPECT_EQ(reported.result->outcome, HedgeOutcome::cancelled);
  EXPECT_EQ(reported.result->fired, 1U);
  EXPECT_EQ(reported.observed.endings, Endings{"cancelled"});
  EXPECT_EQ(reported.observed.stopped_attempts(), (in_frame() ? Numbers{} : Numbers{1}));
  EXPECT_EQ(states_of(*reported.result), States{cancelled});
}

// Attempt 2 answers after 30 ms (past the hedge delay); attempts 1 and 3
// wait until they are stopped, attempt 1 then ending as cancelled, attempt 3
// with a failure of its own (as a request whose connection broke as it
// was stopped).
asio::awaitable<async::Outcome<int>> failing_when_stopped(Observed* observed,
                                                          AttemptContext context) {
  const auto wait = context.number == 2 ? 30ms : 10s;
  bool answered = false;
  try {
    answered =
        co_await wait_unless_stopped(Clock::now() + wait, context.number, context.stop, observed);
  } catch (const boost::system::system_error&) {
    // Cancelled through Asio before it could wait.
  }
  if (answered) co_return async::Outcome<int>::success(static_cast<int>(context.number));
  if (context.number == 3) {
    co_return async::Outcome<int>::failure(
        async::Failure{async::Error::failed, "connection broken while stopping"});
  }
  co_return async::Outcome<int>::failure(async::cancellation_error());
}

asio::awaitable<HedgeResult<int>> hedge_failing_when_stopped(Mode mode, Observed* observed) {
  OutcomeAttempt<int> attempt = [observed](AttemptContext context) {
    return failing_when_stopped(observed, context);
  };
  co_return co_await hedge_in(mode, attempt, quick_options());
}

// Told to stop, an attempt that then fails of its own is recorded failed,
// with its failure; one that ends as told is recorded cancelled.
TEST_P(HedgeInEachMode, AStoppedAttemptThatFailsOtherwiseIsRecordedFailed) {
  Observed observed;
  const auto result =
      run_async([&](Executor) { return hedge_failing_when_stopped(mode(), &observed); });
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.winner, 2u);
  EXPECT_EQ(observed.stopped_attempts(), (Numbers{1, 3}));
  EXPECT_EQ(states_of(result), (States{cancelled, succeeded, failed}));
  ASSERT_EQ(result.attempts.size(), 3u);
  EXPECT_EQ(result.attempts[2].failure.message(), "connection broken while stopping");
}

// With first_attempt_in_frame, hedge stops attempt 1 through
// AttemptContext::stop alone: attempt 1 sees it, and is recorded cancelled.
TEST(HedgeFirstAttemptInFrame, AnExtraAttemptsSuccessStopsTheFirstAttempt) {
  Observed observed;
  const auto started = Clock::now();
  const auto result =
      hedge_with(Mode::first_in_frame, {{10s, true}, {30ms, true}, {10s, true}}, observed);
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.winner, 2u);
  EXPECT_EQ(observed.stopped_attempts(), (Numbers{1, 3}));
  ASSERT_EQ(observed.contexts.size(), 3u);
  EXPECT_TRUE(observed.contexts[0].stop.stop_requested());
  EXPECT_EQ(observed.endings, (Endings{"cancelled", "succeeded", "cancelled"}));
  EXPECT_EQ(states_of(result), (States{cancelled, succeeded, cancelled}));
  EXPECT_EQ(result.attempts[0].failure.message(), "");
}

TEST(HedgeFirstAttemptInFrame, TheDeadlineStopsTheFirstAttempt) {
  Observed observed;
  auto options = quick_options();
  options.deadline = Clock::now() + 150ms;
  const auto started = Clock::now();
  const auto result =
      hedge_with(Mode::first_in_frame, {{10s, true}, {10s, true}, {10s, true}}, observed, options);
  EXPECT_LT(Clock::now() - started, 2s);
  EXPECT_EQ(result.outcome, HedgeOutcome::deadline_exceeded);
  EXPECT_EQ(observed.stopped_attempts(), (Numbers{1, 2, 3}));
  EXPECT_EQ(states_of(result), (States{cancelled, cancelled, cancelled}));
}

TEST(HedgeFirstAttemptInFrame, ADeadlineBeforeTheDelayStopsTheFirstAttempt) {
  Observed observed;
  auto options = quick_options();
  options.deadline = Clock::now() + 50ms;
  const auto result =
      hedge_with(Mode::first_in_frame, {{10s, true}, {10s, true}, {10s, true}}, observed, options);
  EXPECT_EQ(result.outcome, HedgeOutcome::deadline_exceeded);
  EXPECT_EQ(result.fired, 1u);
  EXPECT_EQ(observed.stopped_attempts(), Numbers{1});
  EXPECT_EQ(states_of(result), States{cancelled});
}

// Attempt 1 slow (it stops when told); the others answer without ever
// suspending, so their tasks are done before hedge can watch them.
asio::awaitable<async::Outcome<int>> at_once_but_the_first(Observed* observed,
                                                           AttemptContext context) {
  if (context.number == 1) {
    const bool answered =
        co_await wait_unless_stopped(Clock::now() + 10s, 1, context.stop, observed);
    if (!answered) co_return async::Outcome<int>::failure(async::cancellation_error());
  }
  co_return async::Outcome<int>::success(static_cast<int>(context.number));
}

asio::awaitable<HedgeResult<int>> hedge_at_once_but_the_first(Observed* observed) {
  OutcomeAttempt<int> attempt = [observed](AttemptContext context) {
    return at_once_but_the_first(observed, context);
  };
  auto options = quick_options();
  options.first_attempt_in_frame = true;
  co_return co_await hedge(attempt, options);
}

TEST(HedgeFirstAttemptInFrame, AnExtraAttemptDoneBeforeItIsWatchedStillStopsTheFirst) {
  Observed observed;
  const auto started = Clock::now();
  const auto result = run_async([&](Executor) { return hedge_at_once_but_the_first(&observed); });
  EXPECT_LT(Clock::now() - started, 2s);  // not the first attempt's 10 s
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.winner, 2u);  // both extras answered at once: the first in firing order
  EXPECT_EQ(observed.stopped_attempts(), Numbers{1});
}

TEST(HedgeFirstAttemptInFrame, IsRefusedForAnAttemptThatThrowsItsFailures) {
  Attempt<int> attempt = [](AttemptContext) -> asio::awaitable<int> { co_return 1; };
  auto options = quick_options();
  options.first_attempt_in_frame = true;
  EXPECT_THROW((void)hedge(attempt, options), std::invalid_argument);
}

}  // namespace
}  // namespace tailcut::policy
