// gather: input order, error propagation (both modes), sibling cancellation.
#include "tailcut/async/gather.hpp"

#include <stdexcept>
#include <string>
#include <vector>

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

// Returns `value` after `delay` and appends it to `finish_order`.
asio::awaitable<int> value_after(std::chrono::milliseconds delay, int value,
                                 std::vector<int>* finish_order) {
  co_await sleep_for(delay);
  finish_order->push_back(value);
  co_return value;
}

asio::awaitable<std::tuple<int, int, int>> gather_fixed(std::vector<int>* finish_order) {
  co_return co_await gather(value_after(30ms, 1, finish_order), value_after(1ms, 2, finish_order),
                            value_after(15ms, 3, finish_order));
}

TEST(Gather, FixedSetResultsComeInInputOrderNotFinishOrder) {
  std::vector<int> finish_order;
  const auto results = run_async([&](Executor) { return gather_fixed(&finish_order); });
  EXPECT_EQ(results, std::tuple(1, 2, 3));
  EXPECT_EQ(finish_order, (std::vector<int>{2, 3, 1}));
}

asio::awaitable<std::vector<int>> gather_range(std::vector<int>* finish_order) {
  std::vector<asio::awaitable<int>> operations;
  for (int value = 0; value < 5; ++value) {
    operations.push_back(
        value_after(std::chrono::milliseconds{(5 - value) * 4}, value, finish_order));
  }
  co_return co_await gather(std::move(operations));
}

TEST(Gather, RangeResultsComeInInputOrder) {
  std::vector<int> finish_order;
  const auto results = run_async([&](Executor) { return gather_range(&finish_order); });
  EXPECT_EQ(results, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(finish_order, (std::vector<int>{4, 3, 2, 1, 0}));
}

asio::awaitable<std::string> gather_with_failure(bool* sibling_cancelled) {
  std::vector<asio::awaitable<int>> operations;
  operations.push_back(sleep_noting_cancel(10s, sibling_cancelled));
  operations.push_back(fail_after(2ms, "second failed"));
  operations.push_back(fail_after(20ms, "third failed"));
  try {
    co_await gather(std::move(operations));
  } catch (const std::runtime_error& error) {
    // The sibling has unwound before gather threw.
    co_return std::string{error.what()} + (*sibling_cancelled ? " +sibling cancelled" : "");
  }
  co_return "no error";
}

TEST(Gather, FirstErrorPropagatesAndCancelsTheOthers) {
  bool sibling_cancelled = false;
  EXPECT_EQ(run_async([&](Executor) { return gather_with_failure(&sibling_cancelled); }),
            "second failed +sibling cancelled");
}

asio::awaitable<std::vector<Outcome<int>>> gather_returning_exceptions() {
  std::vector<int> finish_order;
  std::vector<asio::awaitable<int>> operations;
  operations.push_back(value_after(10ms, 1, &finish_order));
  operations.push_back(fail_after(1ms, "broken"));
  operations.push_back(value_after(1ms, 3, &finish_order));
  co_return co_await gather(return_exceptions, std::move(operations));
}

TEST(Gather, ReturnExceptionsGivesEveryResultOrErrorInInputOrder) {
  auto outcomes = run_async([](Executor) { return gather_returning_exceptions(); });
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0].value(), 1);
  ASSERT_FALSE(outcomes[1].has_value());
  EXPECT_THROW(outcomes[1].value(), std::runtime_error);
  EXPECT_EQ(outcomes[2].value(), 3);
}

asio::awaitable<bool> fixed_gather_returning_exceptions() {
  std::vector<int> finish_order;
  auto [first, second] =
      co_await gather(return_exceptions, value_after(1ms, 1, &finish_order), fail_after(1ms, "x"));
  co_return first.has_value() && first.value() == 1 && !second.has_value();
}

TEST(Gather, ReturnExceptionsWorksForAFixedSet) {
  EXPECT_TRUE(run_async([](Executor) { return fixed_gather_returning_exceptions(); }));
}

asio::awaitable<void> void_operation(int* counter) {
  co_await sleep_for(1ms);
  ++*counter;
}

asio::awaitable<int> gather_voids(int* counter) {
  co_await gather(void_operation(counter), void_operation(counter));
  co_return *counter;
}

TEST(Gather, VoidOperationsAreAllAwaited) {
  int counter = 0;
  EXPECT_EQ(run_async([&](Executor) { return gather_voids(&counter); }), 2);
}

asio::awaitable<std::vector<int>> gather_all_sleeping(bool* first, bool* second) {
  std::vector<asio::awaitable<int>> operations;
  operations.push_back(sleep_noting_cancel(10s, first));
  operations.push_back(sleep_noting_cancel(10s, second));
  co_return co_await gather(std::move(operations));
}

asio::awaitable<bool> cancel_the_gatherer(bool* first, bool* second) {
  try {
    co_await wait_for(gather_all_sleeping(first, second), 10ms);
  } catch (const boost::system::system_error& error) {
    co_return error.code() == Error::timed_out;
  }
  co_return false;
}

TEST(Gather, CancellingTheCallerCancelsEveryOperation) {
  bool first = false;
  bool second = false;
  EXPECT_TRUE(run_async([&](Executor) { return cancel_the_gatherer(&first, &second); }));
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

asio::awaitable<std::size_t> gather_nothing() {
  co_return (co_await gather(std::vector<asio::awaitable<int>>{})).size();
}

TEST(Gather, AnEmptyRangeGivesNoResults) {
  EXPECT_EQ(run_async([](Executor) { return gather_nothing(); }), 0u);
}

}  // namespace
}  // namespace tailcut::async
