// hedge: when extra attempts fire, who wins, and that losers are cancelled;
// in each of its modes (an Attempt that throws, an OutcomeAttempt, and an
// OutcomeAttempt whose first attempt runs in hedge's own frame), against the
// same expectations.
#include "tailcut/policy/hedge.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "support/async_run.hpp"
#include "tailcut/async/error.hpp"
#include "tailcut/async/task.hpp"

namespace tailcut::policy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::run_async;
using test::sleep_for;
using Executor = asio::any_io_executor;
using Clock = std::chrono::steady_clock;

// How hedge is given its attempts.
enum class Mode {
  throwing,        // Attempt<int>: fails by throwing; every attempt a task
  outcome,         // OutcomeAttempt<int>: fails by returning; every attempt a task
  first_in_frame,  // OutcomeAttempt<int>, attempt 1 in hedge's frame (first_attempt_in_frame)
};

std::string name_of(const testing::TestParamInfo<Mode>& mode) {
  switch (mode.param) {
    case Mode::throwing:
      return "ThrowingAttempts";
    case Mode::outcome:
      return "OutcomeAttempts";
    case Mode::first_in_frame:
      return "FirstAttemptInFrame";
  }
  return "Unknown";
}

// How attempt N behaves: answers after `delay`, successfully or not.
struct Script {
  std::chrono::milliseconds delay;
  bool succeeds;
};

struct Observed {
  Clock::time_point began = Clock::now();
  std::vector<std::chrono::milliseconds> fired_after;  // per attempt
  std::vector<std::string> endings;                    // per attempt
  std::vector<AttemptContext> contexts;                // per attempt, as told
  std::vector<std::size_t> stopped;  // the attempts that saw AttemptContext::stop requested

  // The attempts stopped, by number (in whatever order the stop told them).
  [[nodiscard]] std::vector<std::size_t> stopped_attempts() const {
    auto numbers = stopped;
    std::sort(numbers.begin(), numbers.end());
    return numbers;
  }
};

using Numbers = std::vector<std::size_t>;

// Waits until `until`. False when cut short: by the caller's cancellation
// (through Asio) or by `stop` (noted in observed->stopped), which cancels
// the timer, as http::RequestOptions::stop closes a request's socket.
asio::awaitable<bool> wait_unless_stopped(Clock::time_point until, std::size_t number,
                                          std::stop_token stop, Observed* observed) {
  asio::steady_timer timer{co_await asio::this_coro::executor, until};
  const std::stop_callback on_stop{stop, [&timer, observed, number] {
                                     observed->stopped.push_back(number);
                                     timer.cancel();
                                   }};
  if (stop.stop_requested()) co_return false;
  boost::system::error_code error;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
  co_return !error && !stop.stop_requested();
}

// The scripted attempt, handing its failure (or cancellation) back as an
// Outcome.
asio::awaitable<async::Outcome<int>> scripted_attempt(std::vector<Script> scripts,
                                                      Observed* observed, AttemptContext context) {
  const auto index = context.number - 1;
  observed->fired_after.push_back(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - observed->began));
  observed->endings.resize(std::max(observed->endings.size(), context.number), "running");
  observed->contexts.push_back(context);
  bool answered = false;
  try {
    answered = co_await wait_unless_stopped(Clock::now() + scripts.at(index).delay, context.number,
                                            context.stop, observed);
  } catch (const boost::system::system_error&) {
    // Cancelled before it could wait.
  }
  if (!answered) {
    observed->endings[index] = "cancelled";
    co_return async::Outcome<int>::failure(async::cancellation_error());
  }
  observed->endings[index] = scripts.at(index).succeeds ? "succeeded" : "failed";
  if (!scripts.at(index).succeeds) {
    co_return async::Outcome<int>::failure(
        std::make_exception_ptr(std::runtime_error{"HTTP 50" + std::to_string(context.number)}));
  }
  co_return async::Outcome<int>::success(static_cast<int>(context.number));
}

OutcomeAttempt<int> scripted(std::vector<Script> scripts, Observed* observed) {
  return [scripts, observed](AttemptContext context) {
    return scripted_attempt(scripts, observed, context);
  };
}

// An OutcomeAttempt as an Attempt: throws its failure.
asio::awaitable<int> rethrowing(OutcomeAttempt<int> attempt, AttemptContext context) {
  async::Outcome<int> outcome = co_await attempt(context);
  co_return std::move(outcome).value();
}

// hedge(attempt, options) in `mode`.
asio::awaitable<HedgeResult<int>> hedge_in(Mode mode, OutcomeAttempt<int> attempt,
                                           HedgeOptions options) {
  options.first_attempt_in_frame = mode == Mode::first_in_frame;
  if (mode == Mode::throwing) {
    Attempt<int> throwing = [attempt](AttemptContext context) {
      return rethrowing(attempt, context);
    };
    co_return co_await hedge(throwing, options);
  }
  co_return co_await hedge(attempt, options);
}

HedgeOptions quick_options() {
  HedgeOptions options;
  options.delay = 100ms;
  options.extra_attempts = 2;
  return options;
}

asio::awaitable<HedgeResult<int>> run_hedge(Mode mode, std::vector<Script> scripts,
                                            Observed* observed, HedgeOptions options) {
  observed->began = Clock::now();
  co_return co_await hedge_in(mode, scripted(std::move(scripts), observed), options);
}

HedgeResult<int> hedge_with(Mode mode, std::vector<Script> scripts, Observed& observed,
                            HedgeOptions options = quick_options()) {
  return run_async([&](Executor) { return run_hedge(mode, scripts, &observed, options); });
}

std::vector<AttemptState> states_of(const HedgeResult<int>& result) {
  std::vector<AttemptState> states;
  for (const auto& attempt : result.attempts) states.push_back(attempt.state);
  return states;
}

class HedgeInEachMode : public testing::TestWithParam<Mode> {
 protected:
  [[nodiscard]] Mode mode() const { return GetParam(); }
  [[nodiscard]] bool in_frame() const { return GetParam() == Mode::first_in_frame; }
};

INSTANTIATE_TEST_SUITE_P(Modes, HedgeInEachMode,
                         testing::Values(Mode::throwing, Mode::outcome, Mode::first_in_frame),
                         name_of);

// Only for OutcomeAttempts, spawned or in frame.
class HedgeOfOutcomeAttempts : public HedgeInEachMode {};

INSTANTIATE_TEST_SUITE_P(Modes, HedgeOfOutcomeAttempts,
                         testing::Values(Mode::outcome, Mode::first_in_frame), name_of);

const auto succeeded = AttemptState::succeeded;
const auto failed = AttemptState::failed;
const auto cancelled = AttemptState::cancelled;
using States = std::vector<AttemptState>;
using Endings = std::vector<std::string>;

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
  EXPECT_NE(result.winner, 1u);
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
