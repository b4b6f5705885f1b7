// CompletionWatch: what every combinator waits on. It watches a set of tasks
// and an optional deadline, and wakes its one waiter when any watched task
// completes or the deadline passes. Single-threaded, like the tasks.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "tailcut/async/detail/task_state.hpp"

namespace tailcut::async::detail {

enum class Wake { completion, deadline };

// One timer is both the deadline and the wake-up: a completion or a moved
// deadline cancels the pending wait, the deadline lets it expire. A wait
// that ends with a completion thus costs one timer operation and one trip
// through the scheduler, and leaves nothing pending behind it.
class CompletionWatch final : public CompletionObserver {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CompletionWatch(const boost::asio::any_io_executor& executor);
  ~CompletionWatch();
  CompletionWatch(const CompletionWatch&) = delete;
  CompletionWatch& operator=(const CompletionWatch&) = delete;

  void watch(TaskStateBase& task);

  // Arms (or moves) the deadline; a deadline in the past wakes at once.
  void set_deadline(Clock::time_point deadline);
  [[nodiscard]] bool deadline_passed() const noexcept { return deadline_passed_; }

  // Waits until a watched task completed or the deadline passed since the
  // last wait. Throws operation_aborted when the caller is cancelled first.
  boost::asio::awaitable<Wake> wait();

  // wait() in three steps, for a hot loop that re-checks its tasks after
  // every wake anyway: the timer is then awaited in the loop's own frame,
  // with no coroutine of wait()'s:
  //   if (!watch.poll()) {
  //     boost::system::error_code error;
  //     co_await watch.wait_timer(error);
  //     if (!watch.after_wait(error)) ...;  // the caller was cancelled
  //   }
  // poll() returns a wake already due, or arms the timer for the wait.
  // after_wait() returns false, rather than throwing, when the caller was
  // cancelled: a hedge whose client left unwinds without an exception.
  [[nodiscard]] std::optional<Wake> poll();
  [[nodiscard]] boost::asio::awaitable<void> wait_timer(boost::system::error_code& error);
  [[nodiscard]] bool after_wait(const boost::system::error_code& error);

  // Waits for a completion that the caller's cancellation cannot interrupt.
  // The caller must have turned throw_if_cancelled off.
  boost::asio::awaitable<void> wait_completion_ignoring_cancellation();

  void on_task_done(TaskStateBase& task) noexcept override;

 private:
  // Ends the pending wait, if any, so that the waiter looks at the flags.
  void interrupt_wait() noexcept;

  boost::asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool waiting_ = false;
  bool completion_pending_ = false;
  bool deadline_passed_ = false;
  bool deadline_reported_ = false;
  bool deadline_moved_ = false;                                // while waiting: re-arm the timer
  boost::container::small_vector<TaskStateBase*, 1> watched_;  // usually one, inline
};

// Waits until every task in `tasks` is done, ignoring the caller's
// cancellation: used to join work that was cancelled and must not outlive
// the frame that owns it. Await it with TAILCUT_AWAIT_JOIN (below).
boost::asio::awaitable<void> join_ignoring_cancellation(std::vector<TaskStateBase*> tasks);

// Cancels every task not yet done, then joins them all. Await it with
// TAILCUT_AWAIT_JOIN (below).
boost::asio::awaitable<void> cancel_and_join(std::vector<TaskStateBase*> tasks);

}  // namespace tailcut::async::detail

// Awaits `join` (a cancel_and_join or join_ignoring_cancellation call) even
// when the calling coroutine has itself been cancelled. While
// throw_if_cancelled is on, Asio throws at every co_await of a cancelled
// coroutine, so the flag is turned off around the join and put back after.
// A macro because these co_awaits must stand in the caller's own body.
#define TAILCUT_AWAIT_JOIN(join)                                                       \
  do {                                                                                 \
    const bool tailcut_throw_if_cancelled =                                            \
        co_await ::boost::asio::this_coro::throw_if_cancelled();                       \
    co_await ::boost::asio::this_coro::throw_if_cancelled(false);                      \
    co_await (join);                                                                   \
    co_await ::boost::asio::this_coro::throw_if_cancelled(tailcut_throw_if_cancelled); \
  } while (false)

namespace tailcut::async::detail {}  // namespace tailcut::async::detail
