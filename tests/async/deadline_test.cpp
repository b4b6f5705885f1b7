// wait_for, DeadlineScope and shield: timeouts cancel for real, shield keeps
// the inner task alive.
#include "tailcut/async/deadline.hpp"

#include <string>
#include <vector>

#include "support/async_run.hpp"
#include "tailcut/async/shield.hpp"

namespace tailcut::async {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::fail_after;
using test::run_async;
using test::sleep_for;
using test::sleep_noting_cancel;
using test::value_after;
using Executor = asio::any_io_executor;

// One level of a nested chain: awaits `inner`, and records its own unwinding.
asio::awaitable<int> level(std::string name, asio::awaitable<int> inner,
                           std::vector<std::string>* unwound) {
  try {
    co_return co_await std::move(inner);
  } catch (const boost::system::system_error&) {
    unwound->push_back(name);
    throw;
  }
}

template <typename Body>
asio::awaitable<std::string> error_name_of(Body body) {
  try {
    co_await std::move(body);
  } catch (const boost::system::system_error& error) {
    if (error.code() == Error::timed_out) co_return "timed_out";
    if (error.code() == asio::error::operation_aborted) co_return "cancelled";
    co_return error.code().message();
  }
  co_return "none";
}

asio::awaitable<int> fast_enough() { co_return co_await wait_for(value_after(1ms, 5), 5s); }

TEST(WaitFor, ReturnsTheValueWhenInTime) {
  EXPECT_EQ(run_async([](Executor) { return fast_enough(); }), 5);
}

asio::awaitable<std::string> too_slow(std::vector<std::string>* unwound) {
  auto chain = level("outer", level("inner", value_after(10s, 1), unwound), unwound);
  co_return co_await error_name_of(wait_for(std::move(chain), 20ms));
}

TEST(WaitFor, TimeoutCancelsTheOperationAndItReallyStops) {
  std::vector<std::string> unwound;
  EXPECT_EQ(run_async([&](Executor) { return too_slow(&unwound); }), "timed_out");
  // Both frames unwound, innermost first, before wait_for threw.
  EXPECT_EQ(unwound, (std::vector<std::string>{"inner", "outer"}));
}

asio::awaitable<std::string> scope_over_two_steps(std::vector<int>* finished_steps) {
  DeadlineScope scope = DeadlineScope::after(60ms);
  finished_steps->push_back(co_await scope.run(value_after(1ms, 1)));
  // The second step alone would fit in 60 ms, but the scope's time is shared.
  co_return co_await error_name_of(scope.run(value_after(10s, 2)));
}

TEST(DeadlineScope, TheDeadlineIsSharedByEverythingRunInIt) {
  std::vector<int> finished_steps;
  EXPECT_EQ(run_async([&](Executor) { return scope_over_two_steps(&finished_steps); }),
            "timed_out");
  EXPECT_EQ(finished_steps, (std::vector<int>{1}));
}

asio::awaitable<std::string> nested_chain_in_scope(std::vector<std::string>* unwound) {
  DeadlineScope scope = DeadlineScope::after(20ms);
  auto chain = level("a", level("b", level("c", value_after(10s, 1), unwound), unwound), unwound);
  co_return co_await error_name_of(scope.run(std::move(chain)));
}

TEST(DeadlineScope, CancelsAChainOfNestedAwaits) {
  std::vector<std::string> unwound;
  EXPECT_EQ(run_async([&](Executor) { return nested_chain_in_scope(&unwound); }), "timed_out");
  EXPECT_EQ(unwound, (std::vector<std::string>{"c", "b", "a"}));
}

asio::awaitable<int> extend_deadline_while_running(DeadlineScope* scope) {
  co_await sleep_for(5ms);
  scope->reschedule(DeadlineScope::Clock::now() + 10s);
  co_return 0;
}

asio::awaitable<int> rescheduled_scope() {
  DeadlineScope scope = DeadlineScope::after(40ms);
  auto extender = spawn(co_await asio::this_coro::executor, extend_deadline_while_running(&scope));
  // Would time out at 40 ms without the reschedule.
  const int value = co_await scope.run(value_after(120ms, 9));
  co_await extender.join();
  co_return value;
}

TEST(DeadlineScope, RescheduleMovesTheDeadlineOfARunInProgress) {
  EXPECT_EQ(run_async([](Executor) { return rescheduled_scope(); }), 9);
}

TEST(DeadlineScope, ReportsRemainingTimeAndExpiry) {
  const auto scope = DeadlineScope::after(1h);
  EXPECT_FALSE(scope.expired());
  EXPECT_GT(scope.remaining(), 59min);
  const auto past = DeadlineScope{DeadlineScope::Clock::now() - 1s};
  EXPECT_TRUE(past.expired());
  EXPECT_EQ(past.remaining(), DeadlineScope::Clock::duration::zero());
}

asio::awaitable<std::pair<std::string, int>> shielded_from_timeout(Executor executor) {
  auto delivery = spawn(executor, value_after(60ms, 42));
  const auto waited = co_await error_name_of(wait_for(shield(delivery), 5ms));
  const bool still_running = !delivery.done();
  EXPECT_TRUE(still_running);
  // The task survived the caller's cancellation and finishes on its own.
  co_return std::pair{waited, co_await delivery.result()};
}

TEST(Shield, TheCallersCancellationDoesNotCancelTheInnerTask) {
  EXPECT_EQ(run_async(shielded_from_timeout), (std::pair<std::string, int>{"timed_out", 42}));
}

asio::awaitable<std::string> explicit_cancel_of_shielded(Executor executor) {
  auto delivery = spawn(executor, value_after(10s, 1));
  auto shielded = spawn(executor, shield(delivery));
  co_await sleep_for(2ms);
  delivery.cancel();  // an explicit cancel of the task itself still works
  co_return co_await error_name_of(shielded.result());
}

TEST(Shield, AnExplicitCancelOfTheTaskStillStopsIt) {
  EXPECT_EQ(run_async(explicit_cancel_of_shielded), "cancelled");
}

}  // namespace
}  // namespace tailcut::async
