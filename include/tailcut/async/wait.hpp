// wait: wait on spawned tasks until a condition holds, like asyncio.wait.
//
//   auto [done, pending] = co_await async::wait(tasks, async::first_completed, 500ms);
//   for (auto& task : pending) task.cancel();   // pending ones keep running otherwise
//
// Returns the tasks split into done and pending, each in input order. It
// never cancels anything: pending tasks keep running and can be awaited,
// waited on again or cancelled later. On timeout it returns what is done
// (no error). The caller's cancellation stops the waiting only.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "tailcut/async/task.hpp"

namespace tailcut::async {

enum class ReturnWhen {
  first_completed,  // when any task is done
  first_exception,  // when any task fails, or all are done
  all_completed,    // when all are done
};
inline constexpr ReturnWhen first_completed = ReturnWhen::first_completed;
inline constexpr ReturnWhen first_exception = ReturnWhen::first_exception;
inline constexpr ReturnWhen all_completed = ReturnWhen::all_completed;

template <typename T>
struct WaitResult {
  std::vector<Task<T>> done;
  std::vector<Task<T>> pending;
};

namespace detail {

// Waits until `return_when` holds for the tasks or the deadline passes.
boost::asio::awaitable<void> wait_until(
    std::vector<TaskStateBase*> tasks, ReturnWhen return_when,
    std::optional<std::chrono::steady_clock::time_point> deadline);

}  // namespace detail

template <typename T>
boost::asio::awaitable<WaitResult<T>> wait(
    std::vector<Task<T>> tasks, ReturnWhen return_when = all_completed,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt) {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;
  std::vector<detail::TaskStateBase*> states;
  for (auto& task : tasks) states.push_back(&task.state());
  co_await detail::wait_until(std::move(states), return_when, deadline);

  WaitResult<T> result;
  for (auto& task : tasks) (task.done() ? result.done : result.pending).push_back(std::move(task));
  co_return result;
}

}  // namespace tailcut::async
