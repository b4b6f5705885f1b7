// Limiter: never more than its count, FIFO, cancellation leaves the queue.
#include "tailcut/async/limiter.hpp"

#include <algorithm>
#include <vector>

#include "support/async_run.hpp"
#include "tailcut/async/deadline.hpp"
#include "tailcut/async/gather.hpp"

namespace tailcut::async {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::run_async;
using test::sleep_for;
using Executor = asio::any_io_executor;

struct Occupancy {
  std::size_t current = 0;
  std::size_t peak = 0;
};

asio::awaitable<void> hold_briefly(Limiter* limiter, Occupancy* occupancy, int round) {
  auto permit = co_await limiter->acquire();
  occupancy->peak = std::max(occupancy->peak, ++occupancy->current);
  // Mix of immediate and timer waits so holders overlap in many ways.
  if (round % 3 == 0) {
    co_await sleep_for(std::chrono::microseconds{100 * (round % 7)});
  } else {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }
  --occupancy->current;
}

asio::awaitable<std::size_t> contend(Executor executor, Occupancy* occupancy) {
  Limiter limiter{executor, 10};
  std::vector<asio::awaitable<void>> operations;
  for (int round = 0; round < 1000; ++round) {
    operations.push_back(hold_briefly(&limiter, occupancy, round));
  }
  co_await gather(std::move(operations));
  EXPECT_EQ(limiter.waiting(), 0u);
  co_return limiter.in_use();
}

TEST(Limiter, NeverExceedsItsCountUnderAThousandContendingOperations) {
  Occupancy occupancy;
  EXPECT_EQ(run_async([&](Executor executor) { return contend(executor, &occupancy); }), 0u);
  EXPECT_EQ(occupancy.peak, 10u);
  EXPECT_EQ(occupancy.current, 0u);
}

asio::awaitable<void> take_in_turn(Limiter* limiter, int id, std::vector<int>* order) {
  auto permit = co_await limiter->acquire();
  order->push_back(id);
  co_await sleep_for(1ms);
}

asio::awaitable<std::vector<int>> first_come_first_served(Executor executor) {
  Limiter limiter{executor, 1};
  std::vector<int> order;
  std::vector<asio::awaitable<void>> operations;
  for (int id = 0; id < 5; ++id) operations.push_back(take_in_turn(&limiter, id, &order));
  co_await gather(std::move(operations));
  co_return order;
}

TEST(Limiter, WaitersAreServedInArrivalOrder) {
  EXPECT_EQ(run_async(first_come_first_served), (std::vector<int>{0, 1, 2, 3, 4}));
}

asio::awaitable<void> acquire_and_hold(Limiter* limiter) {
  auto permit = co_await limiter->acquire();
  co_await sleep_for(10s);
}

asio::awaitable<std::size_t> cancelled_waiter_leaves(Executor executor) {
  Limiter limiter{executor, 1};
  auto held = limiter.try_acquire();
  EXPECT_TRUE(held.has_value());
  EXPECT_FALSE(limiter.try_acquire().has_value());
  bool timed_out = false;
  try {
    co_await wait_for(acquire_and_hold(&limiter), 5ms);
  } catch (const boost::system::system_error& error) {
    timed_out = error.code() == Error::timed_out;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(limiter.waiting(), 0u);
  held->release();
  // The unit came back: nothing leaked to the cancelled waiter.
  EXPECT_TRUE(limiter.try_acquire().has_value());
  co_return limiter.in_use();
}

TEST(Limiter, ACancelledWaiterLeavesTheQueueAndTakesNothing) {
  EXPECT_EQ(run_async(cancelled_waiter_leaves), 0u);
}

TEST(Limiter, ALimitOfZeroIsRejected) {
  asio::io_context io;
  EXPECT_THROW((Limiter{io.get_executor(), 0}), std::invalid_argument);
}

}  // namespace
}  // namespace tailcut::async
