// The shared state behind a Task: completion flag, the cancellation signal
// wired into the spawned coroutine, and who is told of its completion.
// Single-threaded: touched only from the task's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/container/small_vector.hpp>
#include <optional>
#include <string>
#include <vector>

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
  explicit TaskStateBase(boost::asio::any_io_executor executor) : executor_{std::move(executor)} {}
  TaskStateBase(const TaskStateBase&) = delete;
  TaskStateBase& operator=(const TaskStateBase&) = delete;
  virtual ~TaskStateBase() = default;

  [[nodiscard]] bool done() const noexcept { return done_; }
  [[nodiscard]] bool failed() const noexcept { return done_ && failed_; }
  [[nodiscard]] bool cancel_requested() const noexcept { return cancel_requested_; }
  // The error it ended with; null while running or after success.
  [[nodiscard]] virtual std::exception_ptr error() const noexcept = 0;
  // Whether that error is a cancellation (operation_aborted), and what it
  // says. Both are noted when the task caught the error, or when an
  // Outcome handed back (spawn_outcome) carries its description, so that
  // the combinators sorting failures need not rethrow it (each rethrow is a
  // full unwind); another error handed back as a value is rethrown to find
  // out.
  [[nodiscard]] bool cancelled() const noexcept;
  [[nodiscard]] const std::string& failure_description() const noexcept {
    return failure_description_;
  }
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept { return executor_; }

  // Asks the running coroutine to stop (terminal cancellation). No effect
  // once done: the coroutine, and what the signal points into, is gone.
  void request_cancel();

  boost::asio::cancellation_slot slot() { return signal_.slot(); }

  void add_observer(CompletionObserver* observer) { observers_.push_back(observer); }
  void remove_observer(CompletionObserver* observer) noexcept;

 protected:
  void mark_done(bool failed);
  void note_failure(bool cancelled, std::string description) {
    failure_noted_ = true;
    cancelled_ = cancelled;
    failure_description_ = std::move(description);
  }

 private:
  boost::asio::any_io_executor executor_;
  boost::asio::cancellation_signal signal_;
  // Usually one (the combinator waiting on it): held inline.
  boost::container::small_vector<CompletionObserver*, 1> observers_;
  bool done_ = false;
  bool failed_ = false;
  bool cancel_requested_ = false;
  bool failure_noted_ = false;
  bool cancelled_ = false;
  std::string failure_description_;  // empty unless failed and noted
};

template <typename T>
class TaskState final : public TaskStateBase {
 public:
  using TaskStateBase::TaskStateBase;

  void complete(Outcome<T> outcome) {
    const bool failed = !outcome.has_value();
    // Described where it was made: not a cancellation (see Outcome).
    if (failed && !outcome.failure_description().empty()) {
      note_failure(false, outcome.failure_description());
    }
    outcome_.emplace(std::move(outcome));
    mark_done(failed);
  }
  // Completes with the error being handled: call it from a catch block.
  void fail_with_current_exception(bool cancelled, std::string description) {
    note_failure(cancelled, std::move(description));
    complete(Outcome<T>::failure(std::current_exception()));
  }
  Outcome<T>& outcome() { return *outcome_; }
  std::exception_ptr error() const noexcept override {
    return outcome_ ? outcome_->error() : nullptr;
  }

 private:
  std::optional<Outcome<T>> outcome_;
};

}  // namespace tailcut::async::detail
