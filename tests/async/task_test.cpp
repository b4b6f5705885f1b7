// Task: spawn, result, cancel, join.
#include "tailcut/async/task.hpp"

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "support/async_run.hpp"

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

// Sleeps long; records how it ended so tests can see cancellation arrive.
asio::awaitable<void> sleep_recording(std::chrono::milliseconds delay, std::string* ending) {
  try {
    co_await sleep_for(delay);
    *ending = "finished";
  } catch (const boost::system::system_error& error) {
    *ending = error.code() == asio::error::operation_aborted ? "cancelled" : "error";
    throw;
  }
}

asio::awaitable<std::tuple<bool, int, bool>> spawn_then_await(Executor executor) {
  auto task = spawn(executor, value_after(5ms, 7));
  const bool before = task.done();
  const int result = co_await task.result();
  co_return std::tuple{before, result, task.done()};
}

TEST(Task, ResultReturnsTheValueAndDoneTurnsTrue) {
  const auto [done_before, value, done_after] = run_async(spawn_then_await);
  EXPECT_FALSE(done_before);
  EXPECT_EQ(value, 7);
  EXPECT_TRUE(done_after);
}

asio::awaitable<int> await_failing_task(Executor executor) {
  co_return co_await spawn(executor, fail_after(1ms, "boom")).result();
}

TEST(Task, ResultRethrowsTheError) {
  EXPECT_THROW(run_async(await_failing_task), std::runtime_error);
}

asio::awaitable<bool> cancel_running_task(Executor executor, std::string* ending) {
  auto task = spawn(executor, sleep_recording(10s, ending));
  co_await sleep_for(5ms);
  task.cancel();
  bool threw_cancellation = false;
  try {
    co_await task.result();
  } catch (const boost::system::system_error& error) {
    threw_cancellation = error.code() == asio::error::operation_aborted;
  }
  co_return threw_cancellation&& task.cancelled();
}

TEST(Task, CancelStopsTheOperationAndResultReportsCancellation) {
  std::string ending;
  EXPECT_TRUE(run_async([&](Executor executor) { return cancel_running_task(executor, &ending); }));
  EXPECT_EQ(ending, "cancelled");
}

asio::awaitable<bool> cancel_before_start(Executor executor, std::string* ending) {
  auto task = spawn(executor, sleep_recording(10s, ending));
  task.cancel();
  co_await task.join();
  co_return task.cancelled();
}

TEST(Task, CancelBeforeTheTaskStartsStillCancelsIt) {
  std::string ending = "never ran";
  EXPECT_TRUE(run_async([&](Executor executor) { return cancel_before_start(executor, &ending); }));
  EXPECT_NE(ending, "finished");
}

asio::awaitable<bool> join_failing_task(Executor executor) {
  auto task = spawn(executor, fail_after(2ms, "boom"));
  co_await task.join();
  co_return task.failed() && !task.cancelled();
}

TEST(Task, JoinWaitsWithoutThrowingTheError) { EXPECT_TRUE(run_async(join_failing_task)); }

asio::awaitable<Outcome<int>> outcome_after(std::chrono::milliseconds delay, bool succeeds) {
  co_await sleep_for(delay);
  if (!succeeds) co_return Outcome<int>::failure(std::make_exception_ptr(std::runtime_error{"no"}));
  co_return Outcome<int>::success(5);
}

asio::awaitable<std::tuple<int, bool, bool>> spawn_outcomes(Executor executor) {
  auto succeeding = spawn_outcome(executor, outcome_after(1ms, true));
  auto failing = spawn_outcome(executor, outcome_after(1ms, false));
  const int value = co_await succeeding.result();
  co_await failing.join();
  co_return std::tuple{value, failing.failed(), failing.cancelled()};
}

TEST(Task, SpawnOutcomeTakesTheReturnedOutcomeAsTheResult) {
  const auto [value, failed, cancelled] = run_async(spawn_outcomes);
  EXPECT_EQ(value, 5);
  EXPECT_TRUE(failed);
  EXPECT_FALSE(cancelled);
}

asio::awaitable<Outcome<int>> outcome_noting_cancel(bool* cancelled) {
  try {
    co_await sleep_for(10s);
  } catch (const boost::system::system_error&) {
    *cancelled = true;
  }
  co_return Outcome<int>::failure(
      std::make_exception_ptr(boost::system::system_error{asio::error::operation_aborted}));
}

asio::awaitable<bool> cancel_outcome_task(Executor executor, bool* saw_cancel) {
  auto task = spawn_outcome(executor, outcome_noting_cancel(saw_cancel));
  co_await sleep_for(5ms);
  task.cancel();
  co_await task.join();
  co_return task.cancelled();  // found from the returned error
}

TEST(Task, ASpawnOutcomeTaskReturningOperationAbortedIsCancelled) {
  bool saw_cancel = false;
  EXPECT_TRUE(
      run_async([&](Executor executor) { return cancel_outcome_task(executor, &saw_cancel); }));
  EXPECT_TRUE(saw_cancel);
}

asio::awaitable<std::tuple<bool, bool, bool>> cancel_the_waiter(Executor executor,
                                                                std::string* ending) {
  auto task = spawn(executor, sleep_recording(10s, ending));
  auto waiter = spawn(executor, task.result());
  co_await sleep_for(5ms);
  waiter.cancel();
  co_await waiter.join();
  // The waiter completes only after the task it waited on has unwound.
  co_return std::tuple{waiter.cancelled(), task.done(), task.cancelled()};
}

TEST(Task, CancellingTheWaiterOfResultCancelsTheTask) {
  std::string ending;
  const auto [waiter_cancelled, task_done, task_cancelled] =
      run_async([&](Executor executor) { return cancel_the_waiter(executor, &ending); });
  EXPECT_TRUE(waiter_cancelled);
  EXPECT_TRUE(task_done);
  EXPECT_TRUE(task_cancelled);
  EXPECT_EQ(ending, "cancelled");
}

asio::awaitable<std::vector<int>> many_waiters(Executor executor) {
  auto task = spawn(executor, value_after(5ms, 3));
  auto first = spawn(executor, task.result());
  auto second = spawn(executor, task.result());
  std::vector<int> results;
  results.push_back(co_await first.result());
  results.push_back(co_await second.result());
  results.push_back(co_await task.result());
  co_return results;
}

TEST(Task, ManyWaitersAllSeeTheResult) {
  EXPECT_EQ(run_async(many_waiters), (std::vector<int>{3, 3, 3}));
}

}  // namespace
}  // namespace tailcut::async
