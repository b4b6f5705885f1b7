// Runs a coroutine to completion on a fresh io_context, for tests. Fails the
// test if the coroutine or anything it left behind (tasks, timers) is still
// pending after the time limit: every test thereby checks for leaked work.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace tailcut::test {

using namespace std::chrono_literals;

// Runs `make(executor)`'s coroutine until it and all work it started are done.
template <typename MakeCoroutine>
auto run_async(MakeCoroutine make, std::chrono::steady_clock::duration limit = 20s) {
  boost::asio::io_context io;
  using Awaitable = decltype(make(io.get_executor()));
  using T = typename Awaitable::value_type;
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
  boost::asio::co_spawn(io, make(io.get_executor()), [&](std::exception_ptr e, auto... value) {
    error = e;
    if constexpr (std::is_void_v<T>) {
      if (!e) result.emplace(true);
    } else {
      if (!e) result.emplace(std::move(value)...);
    }
  });
  io.run_for(limit);
  if (!io.stopped())
    throw std::runtime_error{"work still pending after the time limit (leak or hang)"};
  if (error) std::rethrow_exception(error);
  if (!result) throw std::runtime_error{"coroutine did not complete"};
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

// Suspends for `duration` on the current executor.
inline boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration duration) {
  boost::asio::steady_timer timer{co_await boost::asio::this_coro::executor, duration};
  co_await timer.async_wait(boost::asio::use_awaitable);
}

// Returns `value` after `delay`.
inline boost::asio::awaitable<int> value_after(std::chrono::milliseconds delay, int value) {
  co_await sleep_for(delay);
  co_return value;
}

// Fails with std::runtime_error(message) after `delay`.
inline boost::asio::awaitable<int> fail_after(std::chrono::milliseconds delay,
                                              std::string message) {
  co_await sleep_for(delay);
  throw std::runtime_error{message};
}

// Sleeps for `delay`; sets *cancelled when cancellation reached it.
inline boost::asio::awaitable<int> sleep_noting_cancel(std::chrono::milliseconds delay,
                                                       bool* cancelled) {
  try {
    co_await sleep_for(delay);
  } catch (const boost::system::system_error&) {
    *cancelled = true;
    throw;
  }
  co_return 0;
}

}  // namespace tailcut::test
