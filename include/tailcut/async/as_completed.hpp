// as_completed: results of spawned tasks in the order they finish, like
// asyncio.as_completed, with an optional group timeout.
//
//   auto completed = async::as_completed(std::move(tasks), 2s);
//   while (!completed.empty()) {
//     auto [index, outcome] = co_await completed.next();  // index into `tasks`
//     if (outcome) use(outcome.value()); else report(outcome.error());
//   }
//
// When the group timeout passes, the tasks not yet finished are cancelled
// and joined, and each is then reported (in input order) with a
// system_error(async::Error::timed_out) outcome. Destroying the object
// before it is drained cancels the tasks still running without waiting for
// them: drain it, or make sure they own their data.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "tailcut/async/task.hpp"

namespace tailcut::async {

template <typename T>
struct Completed {
  std::size_t index;  // position in the input
  Outcome<T> outcome;
};

template <typename T>
class AsCompleted {
 public:
  using Clock = std::chrono::steady_clock;

  AsCompleted(std::vector<Task<T>> tasks, std::optional<Clock::duration> timeout)
      : tasks_{std::move(tasks)},
        reported_(tasks_.size(), false),
        unreported_{tasks_.size()},
        timed_out_(tasks_.size(), false) {
    if (timeout) deadline_ = Clock::now() + *timeout;
  }
  AsCompleted(AsCompleted&&) noexcept = default;
  AsCompleted& operator=(AsCompleted&&) noexcept = default;
  ~AsCompleted() {
    watch_.reset();
    for (auto& task : tasks_) {
      if (task.valid() && !task.done()) task.cancel();
    }
  }

  [[nodiscard]] bool empty() const noexcept { return unreported_ == 0; }
  [[nodiscard]] std::size_t remaining() const noexcept { return unreported_; }

  // The next task to finish. Precondition: !empty().
  boost::asio::awaitable<Completed<T>> next();

 private:
  // A task that finished on its own and is not reported yet.
  std::optional<std::size_t> next_done() const {
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (!reported_[i] && !timed_out_[i] && tasks_[i].done()) return i;
    }
    return std::nullopt;
  }
  Completed<T> report(std::size_t index, Outcome<T> outcome) {
    reported_[index] = true;
    --unreported_;
    return Completed<T>{index, std::move(outcome)};
  }

  std::vector<Task<T>> tasks_;
  std::vector<bool> reported_;
  std::size_t unreported_;
  std::vector<bool> timed_out_;  // cancelled by the group timeout
  std::optional<Clock::time_point> deadline_;
  std::unique_ptr<detail::CompletionWatch> watch_;
};

template <typename T>
boost::asio::awaitable<Completed<T>> AsCompleted<T>::next() {
  for (;;) {
    if (auto index = next_done()) co_return report(*index, std::move(tasks_[*index].outcome()));
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      if (!reported_[i] && timed_out_[i]) co_return report(i, Outcome<T>::failure(timeout_error()));
    }

    if (!watch_) {
      watch_ = std::make_unique<detail::CompletionWatch>(co_await boost::asio::this_coro::executor);
      for (auto& task : tasks_) watch_->watch(task.state());
      if (deadline_) watch_->set_deadline(*deadline_);
    }
    if (co_await watch_->wait() == detail::Wake::deadline) {
      std::vector<detail::TaskStateBase*> running;
      for (std::size_t i = 0; i < tasks_.size(); ++i) {
        if (!tasks_[i].done()) {
          running.push_back(&tasks_[i].state());
          timed_out_[i] = true;
        }
      }
      TAILCUT_AWAIT_JOIN(detail::cancel_and_join(std::move(running)));
    }
  }
}

template <typename T>
AsCompleted<T> as_completed(
    std::vector<Task<T>> tasks,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt) {
  return AsCompleted<T>{std::move(tasks), timeout};
}

}  // namespace tailcut::async
