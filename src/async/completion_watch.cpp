// Task completion bookkeeping and the CompletionWatch every combinator waits on.
#include "tailcut/async/detail/completion_watch.hpp"

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tailcut/async/error.hpp"

namespace tailcut::async::detail {

namespace asio = boost::asio;

void TaskStateBase::request_cancel() {
  if (done_) return;
  cancel_requested_ = true;
  signal_.emit(asio::cancellation_type::terminal);
}

void TaskStateBase::remove_observer(CompletionObserver* observer) noexcept {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
}

void TaskStateBase::mark_done(bool failed) {
  done_ = true;
  failed_ = failed;
  // An observer may unregister (and so edit observers_) while we notify:
  // a lone observer (the usual case) is called without copying the list.
  if (observers_.size() == 1) {
    observers_.front()->on_task_done(*this);
    return;
  }
  const std::vector<CompletionObserver*> observers{observers_.begin(), observers_.end()};
  for (CompletionObserver* observer : observers) {
    observer->on_task_done(*this);
  }
}

CompletionWatch::CompletionWatch(const asio::any_io_executor& executor) : timer_{executor} {}

CompletionWatch::~CompletionWatch() {
  for (TaskStateBase* task : watched_) task->remove_observer(this);
}

void CompletionWatch::watch(TaskStateBase& task) {
  watched_.push_back(&task);
  task.add_observer(this);
}

void CompletionWatch::interrupt_wait() noexcept {
  if (waiting_) timer_.cancel();
}

void CompletionWatch::on_task_done(TaskStateBase& /*task*/) noexcept {
  completion_pending_ = true;
  interrupt_wait();
}

void CompletionWatch::set_deadline(Clock::time_point deadline) {
  deadline_ = deadline;
  deadline_passed_ = false;
  deadline_reported_ = false;
  deadline_moved_ = waiting_;
  interrupt_wait();
}

std::optional<Wake> CompletionWatch::poll() {
  if (completion_pending_) {
    completion_pending_ = false;
    return Wake::completion;
  }
  if (deadline_passed_ && !deadline_reported_) {
    deadline_reported_ = true;
    return Wake::deadline;
  }
  deadline_moved_ = false;
  // A deadline already reported is not waited for again.
  timer_.expires_at(deadline_reported_ ? Clock::time_point::max() : deadline_);
  waiting_ = true;
  return std::nullopt;
}

// Not a coroutine: the caller awaits the timer's own operation.
asio::awaitable<void> CompletionWatch::wait_timer(boost::system::error_code& error) {
  return timer_.async_wait(asio::redirect_error(asio::use_awaitable, error));
}

bool CompletionWatch::after_wait(const boost::system::error_code& error) {
  waiting_ = false;
  if (deadline_moved_ || completion_pending_) return true;  // poll() again
  if (error) return false;                                  // the caller's cancellation, not ours
  deadline_passed_ = true;
  return true;
}

asio::awaitable<Wake> CompletionWatch::wait() {
  for (;;) {
    if (const std::optional<Wake> wake = poll()) co_return *wake;
    boost::system::error_code error;
    co_await wait_timer(error);
    if (!after_wait(error)) throw_cancelled();
  }
}

asio::awaitable<void> CompletionWatch::wait_completion_ignoring_cancellation() {
  while (!completion_pending_) {
    timer_.expires_at(Clock::time_point::max());
    boost::system::error_code error;
    waiting_ = true;
    co_await timer_.async_wait(asio::bind_cancellation_slot(
        asio::cancellation_slot{}, asio::redirect_error(asio::use_awaitable, error)));
    waiting_ = false;
  }
  completion_pending_ = false;
}

asio::awaitable<void> join_ignoring_cancellation(std::vector<TaskStateBase*> tasks) {
  const auto all_done = [&tasks] {
    return std::all_of(tasks.begin(), tasks.end(),
                       [](TaskStateBase* task) { return task->done(); });
  };
  if (all_done()) co_return;
  CompletionWatch watch{co_await asio::this_coro::executor};
  for (TaskStateBase* task : tasks) {
    if (!task->done()) watch.watch(*task);
  }
  while (!all_done()) co_await watch.wait_completion_ignoring_cancellation();
}

asio::awaitable<void> cancel_and_join(std::vector<TaskStateBase*> tasks) {
  for (TaskStateBase* task : tasks) task->request_cancel();
  co_await join_ignoring_cancellation(std::move(tasks));
}

}  // namespace tailcut::async::detail
