// DeadlineScope and wait_for: bound operations in time, like asyncio.timeout
// and asyncio.wait_for.
//
//   auto body = co_await async::wait_for(fetch(url), 2s);   // throws timed_out
//   async::DeadlineScope scope{async::DeadlineScope::Clock::now() + 1s};
//   auto token = co_await scope.run(login());                // both share the
//   auto data = co_await scope.run(download(token));         // one deadline
//
// An operation run under a deadline is cancelled when the deadline passes,
// with everything it awaits, however deeply nested; the call then waits for
// it to unwind and throws system_error(async::Error::timed_out), or, when
// the caller is cancelled, operation_aborted. Nothing run here outlives the
// call. fetch(url) calls a named coroutine function: g++ 12 destroys twice a
// capturing lambda called inside the co_await expression (see task.hpp).
#pragma once

#include <chrono>
#include <vector>

#include "tailcut/async/task.hpp"

namespace tailcut::async {

class DeadlineScope {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DeadlineScope(Clock::time_point deadline) : deadline_{deadline} {}
  static DeadlineScope after(Clock::duration timeout) {
    return DeadlineScope{Clock::now() + timeout};
  }

  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;
  DeadlineScope(DeadlineScope&&) = default;

  [[nodiscard]] Clock::time_point deadline() const noexcept { return deadline_; }
  // Time left, never negative.
  [[nodiscard]] Clock::duration remaining() const noexcept;
  [[nodiscard]] bool expired() const noexcept { return Clock::now() >= deadline_; }

  // Moves the deadline, for runs in progress too (asyncio's reschedule).
  void reschedule(Clock::time_point deadline);

  // Runs `operation` until it finishes or the deadline passes.
  template <typename T>
  boost::asio::awaitable<T> run(boost::asio::awaitable<T> operation);

 private:
  // Waits for `task` under the deadline; cancels and joins it on expiry or
  // the caller's cancellation, and throws accordingly.
  boost::asio::awaitable<void> supervise(detail::TaskStateBase& task);

  Clock::time_point deadline_;
  std::vector<detail::CompletionWatch*> active_runs_;
};

template <typename T>
boost::asio::awaitable<T> DeadlineScope::run(boost::asio::awaitable<T> operation) {
  auto task = spawn(co_await boost::asio::this_coro::executor, std::move(operation));
  co_await supervise(task.state());
  co_return std::move(task.outcome()).value();
}

// Runs `operation` for at most `timeout`; on expiry cancels it, waits for it
// to unwind, and throws system_error(async::Error::timed_out).
template <typename T>
boost::asio::awaitable<T> wait_for(boost::asio::awaitable<T> operation,
                                   DeadlineScope::Clock::duration timeout) {
  DeadlineScope scope = DeadlineScope::after(timeout);
  co_return co_await scope.run(std::move(operation));
}

}  // namespace tailcut::async
