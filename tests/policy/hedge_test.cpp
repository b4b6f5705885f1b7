// hedge: when extra attempts fire, who wins, and that losers are cancelled.
#include "tailcut/policy/hedge.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
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

// How attempt N behaves: answers after `delay`, successfully or not.
struct Script {
  std::chrono::milliseconds delay;
  bool succeeds;
};

struct Observed {
  Clock::time_point began = Clock::now();
  std::vector<std::chrono::milliseconds> fired_after;  // per attempt
  std::vector<std::string> endings;                    // per attempt
};

asio::awaitable<int> scripted_attempt(std::vector<Script> scripts, Observed* observed,
                                      AttemptContext context) {
  const auto index = context.number - 1;
  observed->fired_after.push_back(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - observed->began));
  observed->endings.resize(std::max(observed->endings.size(), context.number), "running");
  try {
    co_await sleep_for(scripts.at(index).delay);
  } catch (const boost::system::system_error&) {
    observed->endings[index] = "cancelled";
    throw;
  }
  observed->endings[index] = scripts.at(index).succeeds ? "succeeded" : "failed";
  if (!scripts.at(index).succeeds) throw std::runtime_error{"HTTP 500"};
  co_return static_cast<int>(context.number);
}

Attempt<int> scripted(std::vector<Script> scripts, Observed* observed) {
  return [scripts, observed](AttemptContext context) {
    return scripted_attempt(scripts, observed, context);
  };
}

HedgeOptions quick_options() {
  HedgeOptions options;
  options.delay = 100ms;
  options.extra_attempts = 2;
  return options;
}

asio::awaitable<HedgeResult<int>> run_hedge(std::vector<Script> scripts, Observed* observed,
                                            HedgeOptions options) {
  observed->began = Clock::now();
  co_return co_await hedge(scripted(std::move(scripts), observed), options);
}

HedgeResult<int> hedge_with(std::vector<Script> scripts, Observed& observed,
                            HedgeOptions options = quick_options()) {
  return run_async([&](Executor) { return run_hedge(scripts, &observed, options); });
}

TEST(Hedge, AFastFirstAttemptIsTheOnlyOne) {
  Observed observed;
  const auto result = hedge_with({{5ms, true}, {5ms, true}, {5ms, true}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(result.value, 1);
  EXPECT_EQ(result.winner, 1u);
  EXPECT_EQ(result.fired, 1u);
  EXPECT_EQ(observed.fired_after.size(), 1u);
  EXPECT_EQ(result.timer_lateness, Clock::duration::zero());  // no timer was due
}

TEST(Hedge, ASlowFirstAttemptFiresTheExtrasAtTheDelayAndTheFirstSuccessWins) {
  Observed observed;
  const auto result = hedge_with({{2s, true}, {30ms, true}, {1s, true}}, observed);
  EXPECT_EQ(result.winner, 2u);
  EXPECT_EQ(result.fired, 3u);
  ASSERT_EQ(observed.fired_after.size(), 3u);
  EXPECT_GE(observed.fired_after[1], 100ms);
  EXPECT_GE(observed.fired_after[2], 100ms);
  // The losers were cancelled, and had unwound before hedge returned.
  EXPECT_EQ(observed.endings, (std::vector<std::string>{"cancelled", "succeeded", "cancelled"}));
  EXPECT_EQ(result.attempts[0].state, AttemptState::cancelled);
  // The hedge delay's timer woke it, after the delay (a timer never fires
  // early): how much after is what it reports.
  EXPECT_GT(result.timer_lateness, Clock::duration::zero());
  EXPECT_LT(result.timer_lateness, observed.fired_after[1]);
}

TEST(Hedge, TheFirstAttemptCanStillWinAfterTheExtrasFired) {
  Observed observed;
  const auto result = hedge_with({{150ms, true}, {2s, true}, {2s, true}}, observed);
  EXPECT_EQ(result.winner, 1u);
  EXPECT_EQ(result.fired, 3u);
  EXPECT_EQ(observed.endings, (std::vector<std::string>{"succeeded", "cancelled", "cancelled"}));
}

TEST(Hedge, AFailureBeforeTheDelayFiresTheExtrasAtOnce) {
  Observed observed;
  const auto result = hedge_with({{5ms, false}, {10ms, true}, {2s, true}}, observed);
  EXPECT_EQ(result.winner, 2u);
  ASSERT_EQ(observed.fired_after.size(), 3u);
  EXPECT_LT(observed.fired_after[1], 90ms);  // well before the 100 ms delay
}

TEST(Hedge, AtDelayModeWaitsForTheDelayEvenAfterAFailure) {
  Observed observed;
  auto options = quick_options();
  options.on_failure = HedgeOnFailure::at_delay;
  const auto result = hedge_with({{5ms, false}, {10ms, true}, {2s, true}}, observed, options);
  EXPECT_EQ(result.winner, 2u);
  ASSERT_EQ(observed.fired_after.size(), 3u);
  EXPECT_GE(observed.fired_after[1], 100ms);
}

TEST(Hedge, WhenEveryAttemptFailsEachFailureIsReported) {
  Observed observed;
  const auto result = hedge_with({{5ms, false}, {5ms, false}, {10ms, false}}, observed);
  EXPECT_EQ(result.outcome, HedgeOutcome::all_failed);
  EXPECT_FALSE(result.value.has_value());
  ASSERT_EQ(result.attempts.size(), 3u);
  for (const auto& attempt : result.attempts) {
    EXPECT_EQ(attempt.state, AttemptState::failed);
    EXPECT_EQ(attempt.failure(), "HTTP 500");
  }
}

TEST(Hedge, TheDeadlineCancelsEveryAttempt) {
  Observed observed;
  auto options = quick_options();
  options.deadline = Clock::now() + 150ms;
  const auto started = Clock::now();
  const auto result = hedge_with({{10s, true}, {10s, true}, {10s, true}}, observed, options);
  EXPECT_EQ(result.outcome, HedgeOutcome::deadline_exceeded);
  EXPECT_EQ(result.fired, 3u);
  EXPECT_EQ(observed.endings, (std::vector<std::string>{"cancelled", "cancelled", "cancelled"}));
  EXPECT_LT(Clock::now() - started, 2s);
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
  bool cancelled = false;
  try {
    co_await sleep_for(10s);
  } catch (const boost::system::system_error&) {
    cancelled = true;
  }
  if (cancelled) {
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

// The caller of a hedge is cancelled 150 ms in, while all three attempts
// run (each would take 10 s). What the caller's task sees, and how each
// attempt ended.
struct CancelledCaller {
  bool threw_cancellation = false;
  std::optional<HedgeResult<int>> result;
  Observed observed;
};

asio::awaitable<HedgeResult<int>> hedge_all_slow(Observed* observed, bool report_cancellation) {
  auto options = quick_options();
  options.report_cancellation = report_cancellation;
  // Losers not joined on a winner: the caller's cancellation joins anyway.
  options.losers = Losers::cancel_without_joining;
  std::vector<Script> scripts(3, Script{10s, true});
  co_return co_await run_hedge(std::move(scripts), observed, options);
}

asio::awaitable<void> cancel_the_caller(Executor executor, CancelledCaller* caller,
                                        bool report_cancellation) {
  auto task = async::spawn(executor, hedge_all_slow(&caller->observed, report_cancellation));
  co_await sleep_for(150ms);
  task.cancel();
  try {
    caller->result.emplace(co_await task.result());
  } catch (const boost::system::system_error& error) {
    caller->threw_cancellation = error.code() == asio::error::operation_aborted;
  }
}

CancelledCaller run_cancelled_caller(bool report_cancellation) {
  CancelledCaller caller;
  run_async(
      [&](Executor executor) { return cancel_the_caller(executor, &caller, report_cancellation); });
  return caller;
}

TEST(Hedge, TheCallersCancellationCancelsEveryAttemptAndThrows) {
  const auto caller = run_cancelled_caller(false);
  EXPECT_TRUE(caller.threw_cancellation);
  EXPECT_FALSE(caller.result);
  EXPECT_EQ(caller.observed.endings,
            (std::vector<std::string>{"cancelled", "cancelled", "cancelled"}));
}

TEST(Hedge, ReportedCancellationEndsTheHedgeWithoutAnException) {
  const auto caller = run_cancelled_caller(true);
  EXPECT_FALSE(caller.threw_cancellation);
  ASSERT_TRUE(caller.result);
  EXPECT_EQ(caller.result->outcome, HedgeOutcome::cancelled);
  EXPECT_FALSE(caller.result->value);
  EXPECT_EQ(caller.result->winner, 0U);
  EXPECT_EQ(caller.result->fired, 3U);
  // Every attempt was cancelled and had unwound before hedge returned.
  EXPECT_EQ(caller.observed.endings,
            (std::vector<std::string>{"cancelled", "cancelled", "cancelled"}));
  for (const auto& attempt : caller.result->attempts) {
    EXPECT_EQ(attempt.state, AttemptState::cancelled) << "attempt " << attempt.number;
  }
}

// The scripted attempt as an OutcomeAttempt: failures returned, not thrown.
asio::awaitable<async::Outcome<int>> scripted_outcome(std::vector<Script> scripts,
                                                      AttemptContext context) {
  const auto& script = scripts.at(context.number - 1);
  co_await sleep_for(script.delay);
  if (!script.succeeds) {
    co_return async::Outcome<int>::failure(
        std::make_exception_ptr(std::runtime_error{"HTTP 50" + std::to_string(context.number)}));
  }
  co_return async::Outcome<int>::success(static_cast<int>(context.number));
}

// Fails with a description of its own, unlike its error's what(): the hedge
// must report the description, which it reads without a rethrow.
asio::awaitable<async::Outcome<int>> described_failure(AttemptContext context) {
  co_return async::Outcome<int>::failure(std::make_exception_ptr(std::runtime_error{"thrown"}),
                                         "described " + std::to_string(context.number));
}

asio::awaitable<HedgeResult<int>> hedge_described_failures() {
  OutcomeAttempt<int> attempt = described_failure;
  co_return co_await hedge(attempt, quick_options());
}

TEST(Hedge, AFailureDescribedWhereItWasMadeIsReportedWithThatDescription) {
  const auto result = run_async([](Executor) { return hedge_described_failures(); });
  EXPECT_EQ(result.outcome, HedgeOutcome::all_failed);
  ASSERT_EQ(result.attempts.size(), 3U);
  for (const auto& attempt : result.attempts) {
    EXPECT_EQ(attempt.state, AttemptState::failed);
    EXPECT_EQ(attempt.noted_failure, "described " + std::to_string(attempt.number));
    EXPECT_EQ(attempt.failure(), "described " + std::to_string(attempt.number));
  }
}

asio::awaitable<HedgeResult<int>> hedge_outcomes(std::vector<Script> scripts) {
  OutcomeAttempt<int> attempt = [scripts](AttemptContext context) {
    return scripted_outcome(scripts, context);
  };
  co_return co_await hedge(attempt, quick_options());
}

TEST(Hedge, OutcomeAttemptsFailWithoutThrowingAndAreReportedAlike) {
  const auto all_failed = run_async([](Executor) {
    return hedge_outcomes({{1ms, false}, {1ms, false}, {1ms, false}});
  });
  EXPECT_EQ(all_failed.outcome, HedgeOutcome::all_failed);
  ASSERT_EQ(all_failed.attempts.size(), 3u);
  for (const auto& attempt : all_failed.attempts) {
    EXPECT_EQ(attempt.state, AttemptState::failed);
    EXPECT_EQ(attempt.failure(), "HTTP 50" + std::to_string(attempt.number));
  }
  const auto second_wins = run_async([](Executor) {
    return hedge_outcomes({{1ms, false}, {5ms, true}, {2s, true}});
  });
  EXPECT_EQ(second_wins.outcome, HedgeOutcome::succeeded);
  EXPECT_EQ(second_wins.value, 2);
  EXPECT_EQ(second_wins.attempts[2].state, AttemptState::cancelled);
  EXPECT_EQ(second_wins.attempts[2].failure(), "");
  // A failed loser of a hedge that succeeded is described when asked.
  EXPECT_EQ(second_wins.attempts[0].state, AttemptState::failed);
  EXPECT_EQ(second_wins.attempts[0].failure(), "HTTP 501");
}

asio::awaitable<int> remember_context(std::vector<AttemptContext>* contexts,
                                      AttemptContext context) {
  contexts->push_back(context);
  co_await sleep_for(context.number == 3 ? 1ms : 10s);
  co_return static_cast<int>(context.number);
}

asio::awaitable<HedgeResult<int>> hedge_remembering(std::vector<AttemptContext>* contexts) {
  auto options = quick_options();
  options.deadline = Clock::now() + 5s;
  Attempt<int> attempt = [contexts](AttemptContext context) {
    return remember_context(contexts, context);
  };
  co_return co_await hedge(attempt, options);
}

TEST(Hedge, AnAttemptIsToldItsNumberAndTheTimeLeft) {
  std::vector<AttemptContext> contexts;
  const auto result = run_async([&](Executor) { return hedge_remembering(&contexts); });
  EXPECT_EQ(result.winner, 3u);
  ASSERT_EQ(contexts.size(), 3u);
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    EXPECT_EQ(contexts[i].number, i + 1);
    ASSERT_TRUE(contexts[i].remaining.has_value());
    EXPECT_LE(*contexts[i].remaining, 5s);
    EXPECT_GT(*contexts[i].remaining, 3s);
  }
}

TEST(Hedge, ASpentBudgetRefusesTheExtraAttempts) {
  HedgeBudget budget{0.0, 1.0};  // one saved token, none earned
  auto options = quick_options();
  options.budget = &budget;
  Observed first_call;
  const auto first = hedge_with({{150ms, true}, {2s, true}, {2s, true}}, first_call, options);
  EXPECT_EQ(first.fired, 2u);  // one token: one extra
  EXPECT_TRUE(first.budget_refused);
  Observed second_call;
  const auto second = hedge_with({{150ms, true}, {2s, true}, {2s, true}}, second_call, options);
  EXPECT_EQ(second.fired, 1u);
  EXPECT_EQ(second.winner, 1u);
}

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

}  // namespace
}  // namespace tailcut::policy
