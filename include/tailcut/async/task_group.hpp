// TaskGroup: structured concurrency, like asyncio.TaskGroup.
//
//   async::TaskGroup group{co_await boost::asio::this_coro::executor};
//   auto user = group.spawn(get_user(id));
//   auto orders = group.spawn(get_orders(id));
//   co_await group.join();   // throws TaskGroupError if any task failed
//   use(user.outcome().value(), orders.outcome().value());
//
// The first task to fail cancels all its siblings at once. join() waits for
// every task (those spawned while it waits too) and then throws one
// TaskGroupError that carries every failure; cancellations are not failures.
// Cancelling the caller of join() cancels the group, waits for it, and
// rethrows operation_aborted. Always join a group: destroying one with
// tasks still running cancels them without waiting.
#pragma once

#include <memory>
#include <stdexcept>
#include <vector>

#include "tailcut/async/task.hpp"

namespace tailcut::async {

class TaskGroupError : public std::runtime_error {
 public:
  explicit TaskGroupError(std::vector<std::exception_ptr> errors);
  // Every failure, in the order the tasks were spawned.
  [[nodiscard]] const std::vector<std::exception_ptr>& errors() const noexcept { return errors_; }

 private:
  std::vector<std::exception_ptr> errors_;
};

class TaskGroup final : private detail::CompletionObserver {
 public:
  explicit TaskGroup(boost::asio::any_io_executor executor) : executor_{std::move(executor)} {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  template <typename T>
  Task<T> spawn(boost::asio::awaitable<T> operation) {
    auto task = async::spawn(executor_, std::move(operation));
    adopt(task.shared_state());
    return task;
  }

  // Cancels every task still running.
  void cancel();

  // Waits for every task; throws TaskGroupError when any failed.
  boost::asio::awaitable<void> join();

  [[nodiscard]] std::size_t size() const noexcept { return tasks_.size(); }

 private:
  void adopt(std::shared_ptr<detail::TaskStateBase> task);
  void on_task_done(detail::TaskStateBase& task) noexcept override;

  boost::asio::any_io_executor executor_;
  std::vector<std::shared_ptr<detail::TaskStateBase>> tasks_;
  detail::CompletionWatch* joining_ = nullptr;
  bool failed_ = false;
};

}  // namespace tailcut::async
