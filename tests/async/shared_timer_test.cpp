// SharedTimer: timed wake-ups on one steady_timer per context.
#include "tailcut/async/detail/shared_timer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tailcut::async::detail {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A wake-up that runs `on_time` and notes when.
class Noted {
 public:
  Noted(SharedTimer& timer, std::function<void()> on_time)
      : on_time_{std::move(on_time)}, wake_{timer, &Noted::call, this} {}
  TimedWake& wake() { return wake_; }
  [[nodiscard]] int calls() const { return calls_; }
  [[nodiscard]] Clock::time_point called_at() const { return called_at_; }

 private:
  static void call(void* self) noexcept {
    auto& noted = *static_cast<Noted*>(self);
    ++noted.calls_;
    noted.called_at_ = Clock::now();
    if (noted.on_time_) noted.on_time_();
  }
  std::function<void()> on_time_;
  TimedWake wake_;
  int calls_ = 0;
  Clock::time_point called_at_{};
};

TEST(SharedTimer, WakeUpsRunInTheOrderOfTheirTimesNotOfArming) {
  asio::io_context io;
  auto& timer = SharedTimer::of(io.get_executor());
  std::vector<std::string> order;
  Noted late{timer, [&] { order.push_back("late"); }};
  Noted early{timer, [&] { order.push_back("early"); }};
  Noted middle{timer, [&] { order.push_back("middle"); }};
  const auto start = Clock::now();
  late.wake().arm(start + 60ms);
  early.wake().arm(start + 20ms);
  middle.wake().arm(start + 40ms);
  io.run_for(5s);  // returns once nothing is armed
  EXPECT_EQ(order, (std::vector<std::string>{"early", "middle", "late"}));
  EXPECT_GE(early.called_at() - start, 20ms);
  EXPECT_GE(late.called_at() - start, 60ms);
  EXPECT_FALSE(late.wake().armed());
}

TEST(SharedTimer, ADisarmedWakeUpNeverRunsAndTheOthersStillDo) {
  asio::io_context io;
  auto& timer = SharedTimer::of(io.get_executor());
  Noted kept{timer, {}};
  Noted dropped{timer, {}};
  const auto start = Clock::now();
  dropped.wake().arm(start + 10ms);  // the earliest: the timer is set for it
  kept.wake().arm(start + 30ms);
  dropped.wake().disarm();
  io.run_for(5s);
  EXPECT_EQ(dropped.calls(), 0);
  EXPECT_EQ(kept.calls(), 1);
  EXPECT_GE(kept.called_at() - start, 30ms);
}

TEST(SharedTimer, AWakeUpGoneBeforeItsTimeIsDisarmed) {
  asio::io_context io;
  auto& timer = SharedTimer::of(io.get_executor());
  Noted kept{timer, {}};
  kept.wake().arm(Clock::now() + 20ms);
  {
    Noted gone{timer, {}};
    gone.wake().arm(Clock::now() + 5ms);
  }  // would be called through a dangling pointer if it stayed armed
  io.run_for(5s);
  EXPECT_EQ(kept.calls(), 1);
}

TEST(SharedTimer, AWakeUpCanRearmItselfAndArmAnEarlierOne) {
  asio::io_context io;
  auto& timer = SharedTimer::of(io.get_executor());
  std::vector<std::string> order;
  Noted other{timer, [&] { order.push_back("other"); }};
  int runs = 0;
  Noted driver{timer, [&] {
                 order.push_back("driver");
                 if (++runs < 3) {
                   driver.wake().arm(Clock::now() + 5ms);
                 } else {
                   other.wake().arm(Clock::now() + 1ms);
                 }
               }};
  driver.wake().arm(Clock::now() + 5ms);
  io.run_for(5s);
  EXPECT_EQ(order, (std::vector<std::string>{"driver", "driver", "driver", "other"}));
}

TEST(SharedTimer, NothingArmedLeavesNoWorkSoRunReturns) {
  asio::io_context io;
  auto& timer = SharedTimer::of(io.get_executor());
  Noted noted{timer, {}};
  noted.wake().arm(Clock::now() + 1h);
  noted.wake().disarm();
  const auto start = Clock::now();
  io.run_for(10s);
  EXPECT_LT(Clock::now() - start, 5s);  // not held until the hour or the 10 s
  EXPECT_EQ(noted.calls(), 0);
}

TEST(SharedTimer, EachContextHasItsOwn) {
  asio::io_context first;
  asio::io_context second;
  EXPECT_NE(&SharedTimer::of(first.get_executor()), &SharedTimer::of(second.get_executor()));
  EXPECT_EQ(&SharedTimer::of(first.get_executor()), &SharedTimer::of(first.get_executor()));
}

// A context made after another is gone, perhaps at its address, gets a
// timer of its own that works (not the gone one's, which each thread
// remembers for a while).
TEST(SharedTimer, AContextMadeAfterAnotherIsGoneGetsItsOwn) {
  for (int round = 0; round < 3; ++round) {
    auto io = std::make_unique<asio::io_context>();
    Noted noted{SharedTimer::of(io->get_executor()), {}};
    noted.wake().arm(Clock::now());
    io->run_for(10s);
    EXPECT_EQ(noted.calls(), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace tailcut::async::detail
