// as_completed and wait: finish order, group timeout, done/pending without
// cancelling.
#include "tailcut/async/as_completed.hpp"

#include <stdexcept>
#include <vector>

#include "support/async_run.hpp"
#include "tailcut/async/wait.hpp"

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

std::vector<Task<int>> spawn_values(Executor executor, std::vector<int> delays_ms) {
  std::vector<Task<int>> tasks;
  for (std::size_t i = 0; i < delays_ms.size(); ++i) {
    tasks.push_back(
        spawn(executor, value_after(std::chrono::milliseconds{delays_ms[i]}, static_cast<int>(i))));
  }
  return tasks;
}

asio::awaitable<std::vector<std::size_t>> completion_order(Executor executor) {
  auto completed = as_completed(spawn_values(executor, {40, 1, 20}));  // not in a co_await
  std::vector<std::size_t> order;
  while (!completed.empty()) {
    auto next = co_await completed.next();
    EXPECT_EQ(next.outcome.value(), static_cast<int>(next.index));
    order.push_back(next.index);
  }
  co_return order;
}

TEST(AsCompleted, ResultsComeInFinishOrder) {
  EXPECT_EQ(run_async(completion_order), (std::vector<std::size_t>{1, 2, 0}));
}

struct TimeoutReport {
  std::vector<std::size_t> order;
  std::vector<bool> timed_out;
};

asio::awaitable<TimeoutReport> group_timeout(Executor executor, bool* slow_cancelled) {
  std::vector<Task<int>> tasks;
  tasks.push_back(spawn(executor, sleep_noting_cancel(10s, slow_cancelled)));
  tasks.push_back(spawn(executor, value_after(1ms, 1)));
  tasks.push_back(spawn(executor, fail_after(2ms, "failed")));
  auto completed = as_completed(std::move(tasks), 100ms);
  TimeoutReport report;
  while (!completed.empty()) {
    auto next = co_await completed.next();
    report.order.push_back(next.index);
    report.timed_out.push_back(is_timeout(next.outcome.error()));
  }
  co_return report;
}

TEST(AsCompleted, GroupTimeoutReportsTheRestAsTimedOutAndCancelsThem) {
  bool slow_cancelled = false;
  const auto report =
      run_async([&](Executor executor) { return group_timeout(executor, &slow_cancelled); });
  EXPECT_EQ(report.order, (std::vector<std::size_t>{1, 2, 0}));
  EXPECT_EQ(report.timed_out, (std::vector<bool>{false, false, true}));
  EXPECT_TRUE(slow_cancelled);
}

asio::awaitable<std::vector<int>> first_completed_leaves_others_running(Executor executor) {
  auto tasks = spawn_values(executor, {30, 1, 15});
  auto [done, pending] = co_await wait(std::move(tasks), first_completed);
  std::vector<int> seen;
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(pending.size(), 2u);
  for (auto& task : done) seen.push_back(task.outcome().value());
  // Not cancelled: they finish later with their values.
  for (auto& task : pending) seen.push_back(co_await task.result());
  co_return seen;
}

TEST(Wait, FirstCompletedReturnsDoneAndPendingAndPendingKeepRunning) {
  EXPECT_EQ(run_async(first_completed_leaves_others_running), (std::vector<int>{1, 0, 2}));
}

asio::awaitable<std::pair<std::size_t, std::size_t>> wait_first_exception(Executor executor) {
  std::vector<Task<int>> tasks = spawn_values(executor, {1, 200});
  tasks.push_back(spawn(executor, fail_after(5ms, "failed")));
  auto result = co_await wait(std::move(tasks), first_exception);
  const auto sizes = std::pair{result.done.size(), result.pending.size()};
  EXPECT_FALSE(result.pending.front().cancelled());
  co_await result.pending.front().join();
  EXPECT_EQ(result.pending.front().outcome().value(), 1);
  co_return sizes;
}

TEST(Wait, FirstExceptionReturnsOnTheFirstFailure) {
  EXPECT_EQ(run_async(wait_first_exception), (std::pair<std::size_t, std::size_t>{2, 1}));
}

asio::awaitable<std::size_t> wait_all_completed(Executor executor) {
  auto tasks = spawn_values(executor, {5, 1, 3});
  auto result = co_await wait(std::move(tasks), all_completed);
  EXPECT_TRUE(result.pending.empty());
  co_return result.done.size();
}

TEST(Wait, AllCompletedWaitsForEveryTask) { EXPECT_EQ(run_async(wait_all_completed), 3u); }

asio::awaitable<std::vector<int>> timeout_without_cancelling(Executor executor) {
  auto tasks = spawn_values(executor, {1, 150});
  auto result = co_await wait(std::move(tasks), all_completed, 30ms);
  EXPECT_EQ(result.done.size(), 1u);
  EXPECT_EQ(result.pending.size(), 1u);
  std::vector<int> values;
  values.push_back(result.done.front().outcome().value());
  values.push_back(co_await result.pending.front().result());  // still running, finishes later
  co_return values;
}

TEST(Wait, TimeoutReturnsWhatIsDoneAndCancelsNothing) {
  EXPECT_EQ(run_async(timeout_without_cancelling), (std::vector<int>{0, 1}));
}

}  // namespace
}  // namespace tailcut::async
