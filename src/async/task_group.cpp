// TaskGroup: sibling cancellation on first failure, and the joining loop.
#include "tailcut/async/task_group.hpp"

#include <algorithm>
#include <string>

namespace tailcut::async {

namespace asio = boost::asio;

namespace {

std::string describe(const std::vector<std::exception_ptr>& errors) {
  std::string text = std::to_string(errors.size()) + " task(s) failed";
  for (const auto& error : errors) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& exception) {
      text += "; ";
      text += exception.what();
    } catch (...) {
      text += "; unknown error";
    }
  }
  return text;
}

}  // namespace

TaskGroupError::TaskGroupError(std::vector<std::exception_ptr> errors)
    : std::runtime_error{describe(errors)}, errors_{std::move(errors)} {}

TaskGroup::~TaskGroup() {
  for (auto& task : tasks_) task->remove_observer(this);
  cancel();
}

void TaskGroup::adopt(std::shared_ptr<detail::TaskStateBase> task) {
  task->add_observer(this);
  if (joining_) joining_->watch(*task);
  if (failed_) task->request_cancel();
  tasks_.push_back(std::move(task));
}

void TaskGroup::cancel() {
  for (auto& task : tasks_) task->request_cancel();
}

void TaskGroup::on_task_done(detail::TaskStateBase& task) noexcept {
  if (task.failed() && !task.cancelled() && !failed_) {
    failed_ = true;
    cancel();
  }
}

asio::awaitable<void> TaskGroup::join() {
  detail::CompletionWatch watch{executor_};
  for (auto& task : tasks_) watch.watch(*task);
  joining_ = &watch;
  const auto all_done = [this] {
    return std::all_of(tasks_.begin(), tasks_.end(), [](const auto& task) { return task->done(); });
  };

  bool caller_cancelled = false;
  try {
    while (!all_done()) co_await watch.wait();
  } catch (...) {
    caller_cancelled = true;
  }
  if (caller_cancelled) {
    std::vector<detail::TaskStateBase*> states;
    for (auto& task : tasks_) states.push_back(task.get());
    TAILCUT_AWAIT_JOIN(detail::cancel_and_join(std::move(states)));
  }
  joining_ = nullptr;
  if (caller_cancelled) throw_cancelled();

  std::vector<std::exception_ptr> errors;
  for (auto& task : tasks_) {
    if (task->failed() && !task->cancelled()) errors.push_back(task->error());
  }
  if (!errors.empty()) throw TaskGroupError{std::move(errors)};
}

}  // namespace tailcut::async
