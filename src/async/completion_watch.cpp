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
  std::erase(observers_, observer);
}

void TaskStateBase::mark_done(bool failed) {
  done_ = true;
  failed_ = failed;
  // An observer may unregister (and so edit observers_) while we notify.
  for (CompletionObserver* observer : std::vector<CompletionObserver*>{observers_}) {
    observer->on_task_done(*this);
  }
}

CompletionWatch::CompletionWatch(const asio::any_io_executor& executor)
    : wake_state_{std::make_shared<WakeState>(executor)} {}

CompletionWatch::~CompletionWatch() {
  for (TaskStateBase* task : watched_) task->remove_observer(this);
  if (deadline_timer_) deadline_timer_->cancel();
}

void CompletionWatch::watch(TaskStateBase& task) {
  watched_.push_back(&task);
  task.add_observer(this);
}

void CompletionWatch::on_task_done(TaskStateBase& /*task*/) noexcept {
  wake_state_->completion_pending = true;
  wake_state_->wake();
}

void CompletionWatch::set_deadline(std::chrono::steady_clock::time_point deadline) {
  if (!deadline_timer_) deadline_timer_.emplace(wake_state_->wakeup.get_executor());
  deadline_timer_->expires_at(deadline);
  wake_state_->deadline_passed = false;
  wake_state_->deadline_reported = false;
  deadline_timer_->async_wait([state = wake_state_](const boost::system::error_code& error) {
    if (error) return;  // moved or cancelled
    state->deadline_passed = true;
    state->wake();
  });
}

asio::awaitable<Wake> CompletionWatch::wait() {
  auto& state = *wake_state_;
  for (;;) {
    if (state.completion_pending) {
      state.completion_pending = false;
      co_return Wake::completion;
    }
    if (state.deadline_passed && !state.deadline_reported) {
      state.deadline_reported = true;
      co_return Wake::deadline;
    }
    boost::system::error_code error;
    co_await state.wakeup.async_wait(asio::redirect_error(asio::use_awaitable, error));
    const bool woken =
        state.completion_pending || (state.deadline_passed && !state.deadline_reported);
    if (!woken) throw_cancelled();  // the caller's cancellation, not ours
  }
}

asio::awaitable<void> CompletionWatch::wait_completion_ignoring_cancellation() {
  auto& state = *wake_state_;
  while (!state.completion_pending) {
    boost::system::error_code error;
    co_await state.wakeup.async_wait(asio::bind_cancellation_slot(
        asio::cancellation_slot{}, asio::redirect_error(asio::use_awaitable, error)));
  }
  state.completion_pending = false;
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
