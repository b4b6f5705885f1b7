// HedgeRun: the state of one policy::hedge call, and its steps. Included by
// tailcut/policy/hedge.hpp; not part of the public API.
//
// The steps, in the order a call takes them:
//   1. start attempt 1: spawned as a task (fire_first), or awaited in
//      hedge's own frame (first_in_frame ... first_attempt_ended) while a
//      timed wake-up (on_wake) fires the extras and stops it at the deadline;
//   2. at the hedge delay, or at attempt 1's failure: fire the extra
//      attempts (fire_extras);
//   3. on an attempt's completion: look for a winner, or all failed (advance);
//   4. at the deadline: stop looking (advance, on_wake);
//   5. finish: stop (and join) the losers, and report (finish).
// run_hedge, the coroutine, awaits between the steps; the steps themselves
// never suspend.
//
// One way to stop an attempt: the run's stop (request_stop), whose token
// every attempt gets (AttemptContext::stop). Hedge requests it once it wants none
// of the attempts still running (a winner, the deadline, the caller's
// cancellation); a spawned attempt's task is cancelled through Asio as
// well, so that an attempt made of Asio operations alone ends too.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

#include "tailcut/async/detail/completion_watch.hpp"
#include "tailcut/async/detail/shared_timer.hpp"
#include "tailcut/async/outcome.hpp"
#include "tailcut/async/task.hpp"

namespace tailcut::policy::detail {

using HedgeClock = HedgeOptions::Clock;

// When a hedge acts: its start, the hedge delay, the deadline.
class HedgeTimes {
 public:
  HedgeTimes(const HedgeOptions& options, HedgeClock::time_point began) noexcept
      : began_{began}, hedge_at_{began + options.delay.delay(began)}, deadline_{options.deadline} {}

  [[nodiscard]] HedgeClock::time_point began() const noexcept { return began_; }
  [[nodiscard]] HedgeClock::time_point hedge_at() const noexcept { return hedge_at_; }
  [[nodiscard]] const std::optional<HedgeClock::time_point>& deadline() const noexcept {
    return deadline_;
  }
  [[nodiscard]] bool deadline_passed(HedgeClock::time_point now) const noexcept {
    return deadline_ && now >= *deadline_;
  }
  // Time left before the deadline, if there is one.
  [[nodiscard]] std::optional<std::chrono::milliseconds> remaining(
      HedgeClock::time_point now) const noexcept;
  // When to wake next: the deadline, and the hedge delay while the extra
  // attempts wait for it; time_point::max() when neither.
  [[nodiscard]] HedgeClock::time_point next_wake(bool extras_fired) const noexcept;

 private:
  HedgeClock::time_point began_;
  HedgeClock::time_point hedge_at_;
  std::optional<HedgeClock::time_point> deadline_;
};

// The record of attempt `number` (1-based) once hedge is done with it;
// its value or failure is filled in by the caller.
[[nodiscard]] AttemptRecord record_of(std::size_t number, const async::detail::TaskStateBase& task,
                                      bool won, bool told_to_stop, HedgeClock::time_point began,
                                      HedgeClock::time_point started,
                                      HedgeClock::time_point finished);

template <typename T>
struct RunningAttempt {
  async::Task<T> task;
  HedgeClock::time_point started;
  HedgeClock::time_point finished{};     // noted when hedge sees it done
  std::optional<std::size_t> replica{};  // with HedgeOptions::replicas
  // Running when hedge requested the stop: recorded cancelled if it then
  // ended with a cancellation (or a value), failed if it failed otherwise;
  // never the winner.
  bool told_to_stop = false;
};

// What run_hedge does after attempt 1 ended in its frame.
enum class AfterFirst {
  answered,     // attempt 1 succeeded alone: the result is ready (answered_by_first)
  wait_others,  // go on with the spawned attempts
  wake_failed,  // firing the extras threw: join them, then rethrow_wake_error
};

// What run_hedge does with the attempts left running at the end.
enum class LoserAction { none, stop, stop_and_join };

template <typename T, typename AttemptFunction>
class HedgeRun final : private async::detail::CompletionObserver {
 public:
  static constexpr bool returns_outcome = std::is_same_v<AttemptFunction, OutcomeAttempt<T>>;

  // `attempt` and `options`: run_hedge's parameters, in the same frame.
  HedgeRun(AttemptFunction& attempt, const HedgeOptions& options,
           boost::asio::any_io_executor executor)
      : attempt_{attempt},
        options_{options},
        executor_{std::move(executor)},
        times_{options, HedgeClock::now()},
        extras_fired_{options.extra_attempts == 0} {
    if (options_.budget) options_.budget->on_first_attempt();
  }
  HedgeRun(const HedgeRun&) = delete;
  HedgeRun& operator=(const HedgeRun&) = delete;

  // --- Step 1: start attempt 1 --------------------------------------------

  // Whether attempt 1 runs in hedge's frame. Not with a deadline passed
  // already: the spawned way answers in this turn.
  [[nodiscard]] bool first_in_frame() const noexcept {
    return options_.first_attempt_in_frame && !times_.deadline_passed(times_.began());
  }

  void fire_first() { fire(1); }

  // Attempt 1, to be awaited in hedge's frame (OutcomeAttempt only). Meanwhile a timed wake-up
  // (on_wake) fires the extra attempts at the hedge delay and stops attempt
  // 1 at the deadline; an extra attempt that succeeds stops it too.
  [[nodiscard]] boost::asio::awaitable<async::Outcome<T>> first_attempt_in_frame() {
    const auto now = HedgeClock::now();
    const auto replica = choose_replica(1, now);
    attempts_.push_back({async::Task<T>{}, now, {}, replica});  // its task once it ends
    wake_.emplace(async::detail::SharedTimer::of(executor_), &HedgeRun::wake_call, this);
    arm_wake();
    return attempt_(context_of(1, replica));
  }

  // Attempt 1 ended in hedge's frame with `outcome`; `cancellation`: the
  // caller's, which may have come meanwhile. Once only (first_ended()).
  [[nodiscard]] AfterFirst first_attempt_ended(
      async::Outcome<T> outcome, const boost::asio::cancellation_state& cancellation) {
    first_ended_ = true;
    const bool caller_cancelled = cancellation.cancelled() != boost::asio::cancellation_type::none;
    if (wake_) wake_->disarm();
    auto& first = attempts_.front();
    first.finished = HedgeClock::now();
    // Stopped at the deadline, attempt 1 took a trip through the scheduler
    // to unwind: that too is how late hedge acts on it.
    if (deadline_passed_) note_lateness(first.finished, *times_.deadline());
    for (std::size_t i = 1; i < attempts_.size(); ++i) {
      attempts_[i].task.state().remove_observer(this);
    }
    caller_cancelled_ = caller_cancelled;
    // Cancelled by the caller through Asio (it shares the caller's stack).
    if (caller_cancelled) first.told_to_stop = true;
    if (wake_error_) return AfterFirst::wake_failed;
    if (outcome.has_value() && attempts_.size() == 1 && !caller_cancelled && !deadline_passed_) {
      result_.value.emplace(std::move(outcome).value());
      return AfterFirst::answered;
    }
    first.task = async::finished_task(std::move(outcome));
    return AfterFirst::wait_others;
  }

  [[nodiscard]] bool first_ended() const noexcept { return first_ended_; }

  // The usual call: attempt 1 answered before the hedge delay.
  [[nodiscard]] HedgeResult<T> answered_by_first() {
    HedgeResult<T> result = std::move(result_);
    const auto& first = attempts_.front();
    result.outcome = HedgeOutcome::succeeded;
    result.winner = 1;
    result.fired = 1;
    result.attempts.push_back(AttemptRecord{
        1, AttemptState::succeeded, std::chrono::milliseconds{0},
        std::chrono::duration_cast<std::chrono::milliseconds>(first.finished - first.started)});
    result.attempts.back().replica = first.replica;
    report_end(0, AttemptState::succeeded);
    return result;
  }

  // Stops the extra attempts and joins them, before rethrow_wake_error().
  // The tasks' list goes into the join's frame, not run_hedge's.
  [[nodiscard]] boost::asio::awaitable<void> stop_and_join_extras() {
    request_stop();
    std::vector<async::detail::TaskStateBase*> extras;
    for (std::size_t i = 1; i < attempts_.size(); ++i) extras.push_back(&attempts_[i].task.state());
    return async::detail::cancel_and_join(std::move(extras));
  }
  [[noreturn]] void rethrow_wake_error() const { std::rethrow_exception(wake_error_); }

  // --- Steps 2 to 4: fire the extras, look for a winner, the deadline ----

  // Acts on what has happened since the last look: notes the attempts
  // done, fires the extra attempts when due, notes the deadline. True while
  // hedge must wait on (wait_to_advance()), false when it is done.
  [[nodiscard]] bool advance() {
    while (!caller_cancelled_ && !deadline_passed_) {
      const auto now = HedgeClock::now();
      const std::size_t ended = note_done(now);
      if (result_.winner != 0) return false;
      if (!extras_fired_ && extras_due(now)) {
        fire_extras(now);
        continue;  // an extra attempt may have answered at once
      }
      if (extras_fired_ && ended == attempts_.size()) return false;  // all ended, none won
      if (times_.deadline_passed(now)) {
        deadline_passed_ = true;
        note_lateness(now, *times_.deadline());
        return false;
      }
      return true;
    }
    return false;
  }

  // The watch to wait on until a completion, the hedge delay or the deadline.
  [[nodiscard]] async::detail::CompletionWatch& wait_to_advance() {
    const auto wake_at = times_.next_wake(extras_fired_);
    if (wake_at != HedgeClock::time_point::max()) watching().set_deadline(wake_at);
    return watching();
  }

  void note_caller_cancelled() noexcept { caller_cancelled_ = true; }
  [[nodiscard]] bool caller_cancelled() const noexcept { return caller_cancelled_; }

  // --- Step 5: finish ------------------------------------------------------

  [[nodiscard]] LoserAction loser_action() const noexcept {
    for (const auto& attempt : attempts_) {
      if (!attempt.task.done()) {
        const bool may_leave = options_.losers == Losers::cancel_without_joining;
        return may_leave && !caller_cancelled_ ? LoserAction::stop : LoserAction::stop_and_join;
      }
    }
    return LoserAction::none;
  }
  // Each task's state outlives this frame: its coroutine holds it; and so
  // does the stop's state, which each attempt's token shares.
  void stop_losers() noexcept { stop_all(); }
  // Stops every attempt still running and joins them.
  [[nodiscard]] boost::asio::awaitable<void> stop_and_join_all() {
    request_stop();
    std::vector<async::detail::TaskStateBase*> states;
    states.reserve(attempts_.size());
    for (auto& attempt : attempts_) states.push_back(&attempt.task.state());
    return async::detail::cancel_and_join(std::move(states));
  }
  [[nodiscard]] bool throws_cancellation() const noexcept {
    return caller_cancelled_ && !options_.report_cancellation;
  }

  [[nodiscard]] HedgeResult<T> finish() {
    HedgeResult<T> result = std::move(result_);
    result.fired = attempts_.size();
    result.attempts.reserve(attempts_.size());
    for (std::size_t i = 0; i < attempts_.size(); ++i) {
      auto& attempt = attempts_[i];
      if (attempt.finished == HedgeClock::time_point{}) attempt.finished = HedgeClock::now();
      const bool won = i + 1 == result.winner;
      AttemptRecord record = record_of(i + 1, attempt.task.state(), won, attempt.told_to_stop,
                                       times_.began(), attempt.started, attempt.finished);
      if (won) result.value.emplace(std::move(attempt.task.outcome()).value());
      if (record.state == AttemptState::failed) {
        record.failure = std::move(attempt.task.outcome().failure());
      }
      record.replica = attempt.replica;
      report_end(i, record.state);
      result.attempts.push_back(std::move(record));
    }
    result.outcome = caller_cancelled_    ? HedgeOutcome::cancelled
                     : result.winner != 0 ? HedgeOutcome::succeeded
                     : deadline_passed_   ? HedgeOutcome::deadline_exceeded
                                          : HedgeOutcome::all_failed;
    return result;
  }

 private:
  [[nodiscard]] AttemptContext context_of(std::size_t number,
                                          std::optional<std::size_t> replica) const {
    return AttemptContext{number, times_.remaining(HedgeClock::now()), stop_.get_token(), replica};
  }

  // The replica of attempt `number`: the set's first choice for attempt 1,
  // then the best one this call has not tried.
  [[nodiscard]] std::optional<std::size_t> choose_replica(std::size_t number,
                                                          HedgeClock::time_point now) {
    ReplicaSet* replicas = options_.replicas;
    if (replicas == nullptr) return std::nullopt;
    std::size_t chosen = 0;
    if (number == 1) {
      chosen = replicas->pick_first(now);
    } else {
      boost::container::small_vector<std::size_t, 4> tried;
      for (const auto& attempt : attempts_) {
        if (attempt.replica) tried.push_back(*attempt.replica);
      }
      chosen = replicas->pick_next(tried, now);
    }
    replicas->on_attempt_start(chosen);
    return chosen;
  }

  // Attempt `index` is over for hedge: its replica and, for attempt 1, an
  // adaptive delay learn how it went. A failure says nothing of how slow
  // the upstream is, so the delay does not learn it; an attempt stopped
  // because another won ran at least as long as it did.
  void report_end(std::size_t index, AttemptState state) {
    const auto& attempt = attempts_[index];
    const auto elapsed = attempt.finished - attempt.started;
    if (attempt.replica) {
      const auto result = state == AttemptState::succeeded ? ReplicaSet::Result::success
                          : state == AttemptState::failed  ? ReplicaSet::Result::failure
                                                           : ReplicaSet::Result::cancelled;
      options_.replicas->on_attempt_end(*attempt.replica, result, elapsed, attempt.finished);
    }
    if (index == 0 && state != AttemptState::failed)
      options_.delay.record(elapsed, attempt.finished);
  }

  void fire(std::size_t number) {
    const auto now = HedgeClock::now();
    const auto replica = choose_replica(number, now);
    const AttemptContext context = context_of(number, replica);
    if constexpr (returns_outcome) {
      attempts_.push_back({async::spawn_outcome(executor_, attempt_(context)), now, {}, replica});
    } else {
      attempts_.push_back({async::spawn(executor_, attempt_(context)), now, {}, replica});
    }
    watching().watch(attempts_.back().task.state());
  }

  [[nodiscard]] bool extras_due(HedgeClock::time_point now) const {
    if (now >= times_.hedge_at()) return true;
    return options_.on_failure == HedgeOnFailure::immediate && attempts_.front().task.failed();
  }

  void fire_extras(HedgeClock::time_point now) {
    extras_fired_ = true;
    if (now >= times_.hedge_at()) note_lateness(now, times_.hedge_at());
    attempts_.reserve(attempts_.size() + options_.extra_attempts);  // one block for them all
    for (std::size_t extra = 0; extra < options_.extra_attempts; ++extra) {
      if (options_.budget && !options_.budget->try_spend()) {
        result_.budget_refused = true;
        break;
      }
      fire(attempts_.size() + 1);
    }
  }

  // Notes the attempts done by `now` and the winner; returns how many are done.
  std::size_t note_done(HedgeClock::time_point now) {
    std::size_t ended = 0;
    for (std::size_t i = 0; i < attempts_.size(); ++i) {
      auto& attempt = attempts_[i];
      if (attempt.task.done() && attempt.finished == HedgeClock::time_point{}) {
        attempt.finished = now;
      }
      // The first success in firing order, among the attempts still wanted.
      const bool succeeded = attempt.task.done() && !attempt.task.failed();
      if (succeeded && result_.winner == 0 && !attempt.told_to_stop) result_.winner = i + 1;
      if (attempt.task.done()) ++ended;
    }
    return ended;
  }

  void note_lateness(HedgeClock::time_point now, HedgeClock::time_point due) noexcept {
    result_.timer_lateness = std::max(result_.timer_lateness, now - due);
  }

  // Made with the first task to watch: a first attempt run in this frame
  // and answered before the hedge delay needs none (nor its timer).
  async::detail::CompletionWatch& watching() {
    if (!watch_) watch_.emplace(executor_);
    return *watch_;
  }

  // --- The timed wake-up while attempt 1 runs in hedge's frame ------------

  static void wake_call(void* self) noexcept { static_cast<HedgeRun*>(self)->on_wake(); }

  void on_wake() noexcept {
    const auto now = HedgeClock::now();
    try {
      if (!extras_fired_ && now >= times_.hedge_at()) fire_extras_watched(now);
      if (times_.deadline_passed(now)) {
        on_deadline_in_frame(now);
        return;
      }
      arm_wake();
    } catch (...) {  // bad_alloc, or an attempt function that threw
      wake_error_ = std::current_exception();
      stop_all();
    }
  }

  void arm_wake() {
    const auto wake_at = times_.next_wake(extras_fired_);
    if (wake_at != HedgeClock::time_point::max()) wake_->arm(wake_at);
  }

  void fire_extras_watched(HedgeClock::time_point now) {
    fire_extras(now);
    for (std::size_t i = 1; i < attempts_.size(); ++i) {
      auto& state = attempts_[i].task.state();
      state.add_observer(this);
      // Done already (it ran inline and never suspended): no notice comes.
      if (state.done() && !state.failed()) request_stop();
    }
  }

  // As advance() does at the deadline: no extra attempt runs on, nor wins,
  // while attempt 1 unwinds.
  void on_deadline_in_frame(HedgeClock::time_point now) noexcept {
    // Already stopped: an extra attempt succeeded before the deadline.
    if (stop_.stop_requested()) return;
    note_lateness(now, *times_.deadline());
    deadline_passed_ = true;
    stop_all();
  }

  // The stop of every attempt still running, noted in each.
  void request_stop() noexcept {
    for (auto& attempt : attempts_) {
      if (!attempt.task.valid() || !attempt.task.done()) attempt.told_to_stop = true;
    }
    stop_.request_stop();
  }

  // An extra attempt ended while attempt 1 runs in hedge's frame: a success
  // is the winner, and the others give way.
  void on_task_done(async::detail::TaskStateBase& task) noexcept override {
    if (!task.failed()) request_stop();
  }

  // Stops every attempt; the spawned ones' tasks are cancelled through Asio
  // too (attempt 1 running in hedge's frame has no task yet).
  void stop_all() noexcept {
    request_stop();
    for (auto& attempt : attempts_) {
      if (attempt.task.valid()) attempt.task.cancel();
    }
  }

  AttemptFunction& attempt_;     // run_hedge's parameter, in the same frame
  const HedgeOptions& options_;  // the same
  boost::asio::any_io_executor executor_;
  HedgeTimes times_;
  HedgeResult<T> result_;  // what is known before the end: lateness, budget, winner
  // The first inline: a call answered before the hedge delay allocates
  // nothing for it, and a slow call in flight holds no more than that.
  boost::container::small_vector<RunningAttempt<T>, 1> attempts_;
  std::optional<async::detail::CompletionWatch> watch_;
  bool extras_fired_;
  bool deadline_passed_ = false;
  bool caller_cancelled_ = false;
  bool first_ended_ = false;  // first_attempt_ended() was called
  // Of every attempt: once requested, hedge wants none of those still
  // running, and any winner has ended, so one stop serves them all.
  std::stop_source stop_;
  std::exception_ptr wake_error_;  // thrown while firing the extras
  // Declared last: disarmed (when it goes) before what it calls into.
  std::optional<async::detail::TimedWake> wake_;
};

}  // namespace tailcut::policy::detail
