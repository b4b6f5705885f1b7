// The shared state behind a Task: completion flag, the cancellation signal
// wired into the spawned coroutine, and who is told of its completion.
// Single-threaded: touched only from the task's executor.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/container/small_vector.hpp>
#include <exception>
#include <optional>
#include <vector>

#include "tailcut/async/failure.hpp"
#include "tailcut/async/outcome.hpp"

namespace tailcut::async::detail {

// Told when a task it observes completes. Observers unregister themselves
// before they go.
class CompletionObserver {
 public:
  virtual void on_task_done(class TaskStateBase& task) noexcept = 0;

 protected:
  ~CompletionObserver() = default;
};

class TaskStateBase {
 public:
  TaskStateBase() = default;
  TaskStateBase(const TaskStateBase&) = delete;
  TaskStateBase& operator=(const TaskStateBase&) = delete;
  virtual ~TaskStateBase() = default;

  [[nodiscard]] bool done() const noexcept { return done_; }
  [[nodiscard]] bool failed() const noexcept { return done_ && failed_; }
  [[nodiscard]] bool cancel_requested() const noexcept { return cancel_requested_; }
  // The failure it ended with; null while running or after success.
  [[nodiscard]] virtual const Failure* failure() const noexcept = 0;
  // The failure as an exception (Failure::to_exception_ptr); null while
  // running or after success.
  [[nodiscard]] std::exception_ptr error() const {
    const Failure* failed_with = failure();
    return failed_with ? failed_with->to_exception_ptr() : nullptr;
  }
  // Whether it failed with a cancellation (read from the Failure's code).
  [[nodiscard]] bool cancelled() const noexcept {
    const Failure* failed_with = failure();
    return failed_with && failed_with->is_cancellation();
  }

  // Asks the running coroutine to stop (terminal cancellation). No effect
  // once done: the coroutine, and what the signal points into, is gone.
  void request_cancel();

  boost::asio::cancellation_slot slot() { return signal_.slot(); }

  void add_observer(CompletionObserver* observer) { observers_.push_back(observer); }
  void remove_observer(CompletionObserver* observer) noexcept;

 protected:
  void mark_done(bool failed);

 private:
  boost::asio::cancellation_signal signal_;
  // Usually one (the combinator waiting on it): held inline.
  boost::container::small_vector<CompletionObserver*, 1> observers_;
  bool done_ = false;
  bool failed_ = false;
  bool cancel_requested_ = false;
};

template <typename T>
class TaskState final : public TaskStateBase {
 public:
  using TaskStateBase::TaskStateBase;

  void complete(Outcome<T> outcome) {
    const bool failed = !outcome.has_value();
    outcome_.emplace(std::move(outcome));
    mark_done(failed);
  }
  Outcome<T>& outcome() { return *outcome_; }
  const Failure* failure() const noexcept override {
    return outcome_ && !outcome_->has_value() ? &outcome_->failure() : nullptr;
  }

 private:
  std::optional<Outcome<T>> outcome_;
};

}  // namespace tailcut::async::detail
