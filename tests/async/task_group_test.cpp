// TaskGroup: structured concurrency, sibling cancellation, joined errors.
#include "tailcut/async/task_group.hpp"

#include <stdexcept>
#include <string>

#include "support/async_run.hpp"
#include "tailcut/async/deadline.hpp"

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

asio::awaitable<int> all_succeed(Executor executor) {
  TaskGroup group{executor};
  auto first = group.spawn(value_after(5ms, 20));
  auto second = group.spawn(value_after(1ms, 22));
  co_await group.join();
  co_return first.outcome().value() + second.outcome().value();
}

TEST(TaskGroup, JoinWaitsForEveryTask) { EXPECT_EQ(run_async(all_succeed), 42); }

asio::awaitable<std::size_t> first_failure_cancels_siblings(Executor executor, bool* first,
                                                            bool* second) {
  TaskGroup group{executor};
  group.spawn(sleep_noting_cancel(10s, first));
  group.spawn(sleep_noting_cancel(10s, second));
  group.spawn(fail_after(5ms, "broken"));
  try {
    co_await group.join();
  } catch (const TaskGroupError& error) {
    // Only the real failure: the cancellations it caused are not errors.
    co_return error.errors().size();
  }
  co_return 0;
}

TEST(TaskGroup, TheFirstFailureCancelsTheSiblings) {
  bool first = false;
  bool second = false;
  EXPECT_EQ(run_async([&](Executor executor) {
              return first_failure_cancels_siblings(executor, &first, &second);
            }),
            1u);
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

asio::awaitable<void> fail_at(std::chrono::steady_clock::time_point when, std::string message) {
  boost::asio::steady_timer timer{co_await asio::this_coro::executor, when};
  co_await timer.async_wait(asio::use_awaitable);
  throw std::runtime_error{message};
}

asio::awaitable<std::string> failures_are_joined(Executor executor) {
  TaskGroup group{executor};
  // Both timers expire together, so both fail before either can be cancelled.
  const auto when = std::chrono::steady_clock::now() + 20ms;
  group.spawn(fail_at(when, "first"));
  group.spawn(fail_at(when, "second"));
  try {
    co_await group.join();
  } catch (const TaskGroupError& error) {
    co_return std::to_string(error.errors().size()) + ": " + error.what();
  }
  co_return "no error";
}

TEST(TaskGroup, FailuresAreReportedTogether) {
  EXPECT_EQ(run_async(failures_are_joined), "2: 2 task(s) failed; first; second");
}

asio::awaitable<void> spawn_more(TaskGroup* group, int* finished) {
  co_await sleep_for(2ms);
  group->spawn(value_after(5ms, 1));
  ++*finished;
}

asio::awaitable<std::size_t> spawn_while_joining(Executor executor) {
  TaskGroup group{executor};
  int finished = 0;
  group.spawn(spawn_more(&group, &finished));
  co_await group.join();
  EXPECT_EQ(finished, 1);
  co_return group.size();
}

TEST(TaskGroup, TasksSpawnedWhileJoiningAreWaitedFor) {
  EXPECT_EQ(run_async(spawn_while_joining), 2u);
}

asio::awaitable<void> join_group(Executor executor, bool* first, bool* second) {
  TaskGroup group{executor};
  group.spawn(sleep_noting_cancel(10s, first));
  group.spawn(sleep_noting_cancel(10s, second));
  co_await group.join();
}

asio::awaitable<bool> cancel_the_joiner(Executor executor, bool* first, bool* second) {
  try {
    co_await wait_for(join_group(executor, first, second), 10ms);
  } catch (const boost::system::system_error& error) {
    co_return error.code() == Error::timed_out;
  }
  co_return false;
}

TEST(TaskGroup, CancellingTheJoinerCancelsTheGroup) {
  bool first = false;
  bool second = false;
  EXPECT_TRUE(
      run_async([&](Executor executor) { return cancel_the_joiner(executor, &first, &second); }));
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

}  // namespace
}  // namespace tailcut::async
