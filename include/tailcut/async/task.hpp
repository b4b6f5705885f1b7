// Task<T>: a handle to an operation spawned to run on its own, like an
// asyncio.Task. It can be polled (done()), cancelled, and awaited.
//
//   auto task = async::spawn(executor, fetch(url));
//   Response response = co_await task.result();
//
// Threading: a task, its handles and whoever awaits it live on one
// single-threaded executor (an io_context run by one thread, or a strand).
// Ownership: the spawned coroutine owns its arguments; dropping every handle
// does not stop it, cancel() does. An operation must not refer to a frame
// that can end before it, except in gather, wait_for, TaskGroup::join and
// DeadlineScope::run, which join what they spawned before they return.
// Make operations by calling named coroutine functions (fetch above): g++ 12
// destroys twice a lambda capturing by copy (like any aggregate temporary)
// made inside a co_await expression: `wait_for([u] { return f(u); }(), 1s)`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>

#include "tailcut/async/detail/completion_watch.hpp"
#include "tailcut/async/detail/task_state.hpp"
#include "tailcut/async/error.hpp"
#include "tailcut/async/outcome.hpp"

namespace tailcut::async {

template <typename T>
class Task;

template <typename T, typename Executor>
[[nodiscard]] Task<T> spawn(const Executor& executor, boost::asio::awaitable<T> operation);
template <typename T, typename Executor>
[[nodiscard]] Task<T> spawn_outcome(const Executor& executor,
                                    boost::asio::awaitable<Outcome<T>> operation);

// A task done already, with `outcome`: an operation that ran elsewhere,
// handed to code that works on tasks (hedge's first attempt, run in its
// own frame).
template <typename T>
[[nodiscard]] Task<T> finished_task(Outcome<T> outcome);

template <typename T>
class Task {
 public:
  using value_type = T;

  Task() = default;

  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
  [[nodiscard]] bool done() const noexcept { return state_->done(); }
  // Done with an error (cancellation included).
  [[nodiscard]] bool failed() const noexcept { return state_->failed(); }
  // Done because it was cancelled (asyncio's Task.cancelled()).
  [[nodiscard]] bool cancelled() const noexcept { return state_->cancelled(); }

  // Asks the operation to stop; returns at once. The task completes (with
  // operation_aborted, unless it finished first) when the operation has
  // unwound. Await result() or join() to know when.
  void cancel() { state_->request_cancel(); }

  // The finished result. Precondition: done().
  [[nodiscard]] Outcome<T>& outcome() { return state_->outcome(); }

  // Waits for the task and returns its value (a copy, or the value itself
  // when T is move-only) or rethrows its error. Like
  // awaiting an asyncio.Task, cancelling the waiter cancels the task too;
  // the waiter then rethrows only after the task has unwound.
  boost::asio::awaitable<T> result();

  // Waits until the task is done, whatever its outcome; the caller's
  // cancellation stops the waiting only (use shield() for that intent).
  boost::asio::awaitable<void> join();

  detail::TaskState<T>& state() noexcept { return *state_; }
  std::shared_ptr<detail::TaskStateBase> shared_state() const noexcept { return state_; }

 private:
  template <typename U, typename Executor>
  friend Task<U> spawn(const Executor& executor, boost::asio::awaitable<U> operation);
  template <typename U, typename Executor>
  friend Task<U> spawn_outcome(const Executor& executor,
                               boost::asio::awaitable<Outcome<U>> operation);
  template <typename U>
  friend Task<U> finished_task(Outcome<U> outcome);

  explicit Task(std::shared_ptr<detail::TaskState<T>> state) : state_{std::move(state)} {}

  std::shared_ptr<detail::TaskState<T>> state_;
};

namespace detail {

// The value of a finished task for one of possibly many takers: a copy, or
// the value itself when T is move-only.
template <typename T>
T share_value(Outcome<T>& outcome) {
  if constexpr (std::is_void_v<T> || std::is_copy_constructible_v<T>) {
    return outcome.value();
  } else {
    return std::move(outcome).value();
  }
}

// Runs `operation` and completes `state` with what it gives: its value, or
// the error it throws, or (for spawn_outcome, Operation being
// awaitable<Outcome<T>>) the Outcome it returns, which raises no exception.
template <typename T, typename Operation>
boost::asio::awaitable<void> run_task(std::shared_ptr<TaskState<T>> state, Operation operation) {
  try {
    if constexpr (std::is_same_v<Operation, boost::asio::awaitable<Outcome<T>>>) {
      state->complete(co_await std::move(operation));
    } else if constexpr (std::is_void_v<T>) {
      co_await std::move(operation);
      state->complete(Outcome<void>::success());
    } else {
      state->complete(Outcome<T>::success(co_await std::move(operation)));
    }
  } catch (const std::exception& error) {
    state->complete(Outcome<T>::failure(Failure::from_exception(error, std::current_exception())));
  } catch (...) {
    state->complete(Outcome<T>::failure(std::current_exception()));
  }
}

// Waits for `task`; on the caller's cancellation either cancels and joins it
// (CancelTask::yes) or leaves it running (CancelTask::no), then rethrows.
enum class CancelTask { yes, no };

template <typename T>
boost::asio::awaitable<void> wait_done(TaskState<T>& task, CancelTask on_cancel) {
  if (task.done()) co_return;
  CompletionWatch watch{co_await boost::asio::this_coro::executor};
  watch.watch(task);
  bool caller_cancelled = false;
  try {
    while (!task.done()) co_await watch.wait();
  } catch (...) {
    caller_cancelled = true;
  }
  if (caller_cancelled) {
    if (on_cancel == CancelTask::yes) {
      std::vector<TaskStateBase*> tasks{&task};
      TAILCUT_AWAIT_JOIN(cancel_and_join(std::move(tasks)));
    }
    throw_cancelled();
  }
}

}  // namespace detail

template <typename T, typename Executor>
Task<T> spawn(const Executor& executor, boost::asio::awaitable<T> operation) {
  auto state = std::make_shared<detail::TaskState<T>>();
  boost::asio::co_spawn(
      executor, detail::run_task<T, boost::asio::awaitable<T>>(state, std::move(operation)),
      boost::asio::bind_cancellation_slot(state->slot(), [state](const std::exception_ptr&) {}));
  return Task<T>{std::move(state)};
}

// spawn() for an operation that returns its failure as an Outcome rather
// than throwing it: the task fails with that error, and no exception is
// raised on the way (a cancelled or failed operation otherwise costs an
// unwind per coroutine it crosses).
template <typename T, typename Executor>
Task<T> spawn_outcome(const Executor& executor, boost::asio::awaitable<Outcome<T>> operation) {
  auto state = std::make_shared<detail::TaskState<T>>();
  boost::asio::co_spawn(
      executor,
      detail::run_task<T, boost::asio::awaitable<Outcome<T>>>(state, std::move(operation)),
      boost::asio::bind_cancellation_slot(state->slot(), [state](const std::exception_ptr&) {}));
  return Task<T>{std::move(state)};
}

template <typename T>
Task<T> finished_task(Outcome<T> outcome) {
  auto state = std::make_shared<detail::TaskState<T>>();
  state->complete(std::move(outcome));
  return Task<T>{std::move(state)};
}

template <typename T>
boost::asio::awaitable<T> Task<T>::result() {
  auto state = state_;  // the handle may go while we wait
  co_await detail::wait_done(*state, detail::CancelTask::yes);
  co_return detail::share_value(state->outcome());
}

template <typename T>
boost::asio::awaitable<void> Task<T>::join() {
  auto state = state_;
  co_await detail::wait_done(*state, detail::CancelTask::no);
}

}  // namespace tailcut::async
