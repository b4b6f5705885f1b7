// hedge: cut the tail latency of an unreliable operation by firing backup
// attempts when the first is slow, taking the first success, and cancelling
// the rest.
//
//   policy::HedgeOptions options;                 // 300 ms, 2 extra attempts
//   options.deadline = received_at + 1s;          // no attempt outlives it
//   auto result = co_await policy::hedge<Json>(call_upstream, options);
//   if (result.value) answer(*result.value, result.winner);
//
// Attempt 1 is fired at once. If no attempt has succeeded by `delay`, the
// extra attempts are fired together. If attempt 1 fails before the delay,
// the extra attempts are fired at once (HedgeOnFailure::immediate) or at the
// delay (HedgeOnFailure::at_delay, the seeds' literal behaviour). The first
// attempt to *succeed* wins, whichever it is: an Attempt succeeds by
// returning and fails by throwing; an OutcomeAttempt returns an Outcome
// either way, which spares an exception per failed or cancelled attempt.
// As soon as there is a winner, the deadline passes, or the caller is
// cancelled, every other attempt is cancelled and joined before hedge
// returns: nothing of them runs on. With Losers::cancel_without_joining,
// hedge returns as soon as it has cancelled them, and they unwind (close
// their connections) after it: the answer leaves without waiting a trip
// through a busy scheduler for them, but they must then own or outlive
// everything they use. The caller's cancellation throws operation_aborted
// once the attempts are joined, or, with report_cancellation, ends the hedge
// with HedgeOutcome::cancelled. A HedgeBudget, when given, can refuse extra
// attempts. Single-threaded: runs on the caller's executor.
//
// With HedgeOptions::first_attempt_in_frame, hedge runs attempt 1 in its own
// coroutine frame instead of spawning a task for it, and stops it through
// AttemptContext::stop (a winner among the extra attempts, the deadline); a
// timer fires the extra attempts meanwhile. The attempt must end promptly
// once stopped (http::RequestOptions::stop does). A call answered before
// the hedge delay then costs no task, no cancellation signal and no extra
// trip through the scheduler (and, while other calls are in flight, no
// timer operation): a sixth of the gateway's work per call. The price: a
// stopped attempt 1 must unwind before hedge returns (one more trip
// through the scheduler, counted in timer_lateness at the deadline).
#pragma once

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <type_traits>
#include <vector>

#include "tailcut/async/detail/completion_watch.hpp"
#include "tailcut/async/detail/shared_timer.hpp"
#include "tailcut/async/task.hpp"
#include "tailcut/policy/hedge_budget.hpp"

namespace tailcut::policy {

enum class HedgeOnFailure {
  immediate,  // a failed first attempt fires the extra attempts at once
  at_delay,   // extra attempts always wait for the hedge delay
};

// What hedge does with the attempts still running once it has its answer.
enum class Losers {
  join,                    // cancels them and waits until they have unwound
  cancel_without_joining,  // cancels them and returns; they unwind after
};

struct HedgeOptions {
  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds delay{300};
  std::size_t extra_attempts = 2;
  HedgeOnFailure on_failure = HedgeOnFailure::immediate;
  // No attempt runs past it; without one, hedge waits for a success or for
  // every attempt to fail.
  std::optional<Clock::time_point> deadline;
  HedgeBudget* budget = nullptr;  // not owned; may be null (no cap)
  // cancel_without_joining: each attempt's coroutine must hold (or point to
  // what outlives it) all it uses, nothing in the caller's frame. A caller's
  // cancellation always joins.
  Losers losers = Losers::join;
  // true: the caller's cancellation ends the hedge with
  // HedgeOutcome::cancelled instead of an exception. For callers cancelled
  // by the thousand: a gateway whose clients leave with their calls in
  // flight. Each exception costs ~20 k instructions per coroutine frame it
  // is rethrown into; four of them were 70 % of the cost of a left call.
  bool report_cancellation = false;
  // true: attempt 1 runs in hedge's own frame and must honour
  // AttemptContext::stop (see the top of this file). OutcomeAttempt only
  // (hedge() throws invalid_argument for an Attempt). The executor's
  // context must be run by one thread (not strands of a multi-threaded
  // context): the wake-ups share one timer per context (SharedTimer).
  bool first_attempt_in_frame = false;
};

// What one attempt is told.
struct AttemptContext {
  std::size_t number;  // 1, 2, 3...
  // Time left before the hedge deadline, if there is one.
  std::optional<std::chrono::milliseconds> remaining;
  // Requested when hedge no longer wants this attempt (it runs it in its
  // own frame: HedgeOptions::first_attempt_in_frame); the attempt must then
  // end promptly. Other attempts are cancelled through Asio instead.
  std::stop_token stop{};
};

enum class AttemptState { succeeded, failed, cancelled };

struct AttemptRecord {
  std::size_t number;
  AttemptState state;
  std::chrono::milliseconds started_after;  // since hedge began
  std::chrono::milliseconds elapsed;
  // What went wrong, when failed (none otherwise).
  async::Failure failure{};
};

enum class HedgeOutcome {
  succeeded,
  all_failed,
  deadline_exceeded,
  cancelled,  // the caller was cancelled (with HedgeOptions::report_cancellation)
};

template <typename T>
struct HedgeResult {
  HedgeOutcome outcome = HedgeOutcome::all_failed;
  std::optional<T> value;
  std::size_t winner = 0;  // attempt number of the success; 0 when none
  std::size_t fired = 0;
  bool budget_refused = false;  // extra attempts were due but the budget was spent
  // How late, at worst, hedge acted on its own timers (the hedge delay, the
  // deadline; with an attempt run in hedge's frame, until it had unwound):
  // how busy the executor is. Zero when no timer was due.
  std::chrono::steady_clock::duration timer_lateness{0};
  std::vector<AttemptRecord> attempts;  // every fired attempt, in firing order
};

template <typename T>
using Attempt = std::function<boost::asio::awaitable<T>(AttemptContext)>;

// An attempt that hands its failure back as a failed Outcome instead of
// throwing it: cheaper where attempts fail or are cancelled often (an
// exception is unwound again by every coroutine it crosses).
template <typename T>
using OutcomeAttempt = std::function<boost::asio::awaitable<async::Outcome<T>>(AttemptContext)>;

namespace detail {

template <typename T>
struct RunningAttempt {
  async::Task<T> task;
  HedgeOptions::Clock::time_point started;
  HedgeOptions::Clock::time_point finished;
};

// Told when an extra attempt ends while attempt 1 runs in hedge's frame: a
// success is the winner, and attempt 1 gives way.
class FirstAttemptStopper final : public async::detail::CompletionObserver {
 public:
  void on_task_done(async::detail::TaskStateBase& task) noexcept override {
    if (!task.failed()) stop_.request_stop();
  }
  [[nodiscard]] std::stop_token token() const noexcept { return stop_.get_token(); }
  void stop() noexcept { stop_.request_stop(); }
  [[nodiscard]] bool stopped() const noexcept { return stop_.stop_requested(); }

 private:
  std::stop_source stop_;
};

template <typename T, typename AttemptFunction>
boost::asio::awaitable<HedgeResult<T>> run_hedge(AttemptFunction attempt, HedgeOptions options) {
  namespace asio = boost::asio;
  using Clock = HedgeOptions::Clock;
  constexpr bool returns_outcome = std::is_same_v<AttemptFunction, OutcomeAttempt<T>>;
  const auto executor = co_await asio::this_coro::executor;
  const auto began = Clock::now();
  const auto hedge_at = began + options.delay;

  HedgeResult<T> result;
  // The first inline: a call answered before the hedge delay allocates
  // nothing for it, and a slow call in flight holds no more than that.
  boost::container::small_vector<detail::RunningAttempt<T>, 1> running;
  // Made with the first task to watch: a first attempt run in this frame
  // and answered before the hedge delay needs none (nor its timer).
  std::optional<async::detail::CompletionWatch> watch;
  const auto watching = [&]() -> async::detail::CompletionWatch& {
    if (!watch) watch.emplace(executor);
    return *watch;
  };
  bool extras_fired = options.extra_attempts == 0;
  bool deadline_passed = false;
  bool caller_cancelled = false;
  // Attempt 1 ran in this frame and was told to stop (by hedge, or by the
  // caller's cancellation).
  bool first_stopped = false;

  const auto context_of = [&](std::size_t number, std::stop_token stop) {
    std::optional<std::chrono::milliseconds> remaining;
    if (options.deadline) {
      remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::max(*options.deadline - Clock::now(), Clock::duration::zero()));
    }
    return AttemptContext{number, remaining, std::move(stop)};
  };
  const auto fire = [&](std::size_t number) {
    const AttemptContext context = context_of(number, {});
    if constexpr (returns_outcome) {
      running.push_back({async::spawn_outcome(executor, attempt(context)), Clock::now(), {}});
    } else {
      running.push_back({async::spawn(executor, attempt(context)), Clock::now(), {}});
    }
    watching().watch(running.back().task.state());
  };
  const auto fire_extras = [&](Clock::time_point now) {
    extras_fired = true;
    if (now >= hedge_at) result.timer_lateness = std::max(result.timer_lateness, now - hedge_at);
    for (std::size_t extra = 0; extra < options.extra_attempts; ++extra) {
      if (options.budget && !options.budget->try_spend()) {
        result.budget_refused = true;
        break;
      }
      fire(running.size() + 1);
    }
  };

  if (options.budget) options.budget->on_first_attempt();
  if constexpr (returns_outcome) {
    // A deadline passed already: the spawned way answers in this turn.
    if (options.first_attempt_in_frame && !(options.deadline && *options.deadline <= began)) {
      // Attempt 1 in this frame. Meanwhile a timed wake-up fires the extra
      // attempts at the hedge delay and stops attempt 1 at the deadline; an
      // extra attempt that succeeds stops it too (FirstAttemptStopper).
      FirstAttemptStopper first;
      running.push_back({async::Task<T>{}, Clock::now(), {}});  // its task once it ends
      // Disarmed when this frame goes, whatever happens.
      async::detail::TimedWake wake{async::detail::SharedTimer::of(executor), nullptr, nullptr};
      std::exception_ptr wake_error;  // thrown while firing the extras (bad_alloc, the attempt)
      const auto stop_all = [&] {
        first.stop();
        for (std::size_t i = 1; i < running.size(); ++i) running[i].task.cancel();
      };
      const auto fire_extras_watched = [&](Clock::time_point now) {
        fire_extras(now);
        for (std::size_t i = 1; i < running.size(); ++i) {
          auto& state = running[i].task.state();
          state.add_observer(&first);
          // Done already (it ran inline and never suspended): no notice comes.
          if (state.done() && !state.failed()) first.stop();
        }
      };
      auto on_time = [&] {
        const auto now = Clock::now();
        if (!extras_fired && now >= hedge_at) {
          try {
            fire_extras_watched(now);
          } catch (...) {
            wake_error = std::current_exception();
            stop_all();
            return;
          }
        }
        if (options.deadline && now >= *options.deadline) {
          // Already stopped: an extra attempt succeeded before the deadline.
          if (first.stopped()) return;
          result.timer_lateness = std::max(result.timer_lateness, now - *options.deadline);
          deadline_passed = true;
          // As the loop below does at the deadline: no extra attempt runs
          // on, nor wins, while attempt 1 unwinds.
          stop_all();
          return;
        }
        auto wake_at = options.deadline.value_or(Clock::time_point::max());
        if (!extras_fired) wake_at = std::min(wake_at, hedge_at);
        try {
          if (wake_at != Clock::time_point::max()) wake.arm(wake_at);
        } catch (...) {
          wake_error = std::current_exception();
          stop_all();
        }
      };
      using OnTime = decltype(on_time);
      wake.set_call([](void* self) noexcept { (*static_cast<OnTime*>(self))(); }, &on_time);
      auto first_wake = options.deadline.value_or(Clock::time_point::max());
      if (!extras_fired) first_wake = std::min(first_wake, hedge_at);
      if (first_wake != Clock::time_point::max()) wake.arm(first_wake);

      std::optional<async::Outcome<T>> first_outcome;
      try {
        first_outcome.emplace(co_await attempt(context_of(1, first.token())));
      } catch (...) {
        first_outcome.emplace(async::Outcome<T>::failure(std::current_exception()));
      }
      wake.disarm();
      running.front().finished = Clock::now();
      if (deadline_passed) {
        // Stopped at the deadline, attempt 1 took a trip through the
        // scheduler to unwind: that too is how late hedge acts on it.
        result.timer_lateness =
            std::max(result.timer_lateness, running.front().finished - *options.deadline);
      }
      for (std::size_t i = 1; i < running.size(); ++i) {
        running[i].task.state().remove_observer(&first);
      }
      const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
      caller_cancelled = cancellation.cancelled() != asio::cancellation_type::none;
      first_stopped = first.stopped() || caller_cancelled;
      if (wake_error) {
        std::vector<async::detail::TaskStateBase*> extras;
        for (std::size_t i = 1; i < running.size(); ++i) extras.push_back(&running[i].task.state());
        TAILCUT_AWAIT_JOIN(async::detail::cancel_and_join(std::move(extras)));
        std::rethrow_exception(wake_error);
      }
      if (first_outcome->has_value() && running.size() == 1 && !caller_cancelled &&
          !deadline_passed) {
        // The usual call: attempt 1 answered before the hedge delay.
        result.outcome = HedgeOutcome::succeeded;
        result.winner = 1;
        result.fired = 1;
        result.value.emplace(std::move(*first_outcome).value());
        result.attempts.push_back(AttemptRecord{
            1, AttemptState::succeeded, std::chrono::milliseconds{0},
            std::chrono::duration_cast<std::chrono::milliseconds>(running.front().finished -
                                                                  running.front().started)});
        co_return result;
      }
      running.front().task = async::finished_task(executor, std::move(*first_outcome));
    }
  }
  if (running.empty()) fire(1);

  try {
    while (!caller_cancelled) {
      // Found while attempt 1 ran in this frame, before any attempt had
      // succeeded: what succeeds after the deadline does not win.
      if (deadline_passed) break;
      const auto now = Clock::now();
      std::size_t failed = 0;
      for (std::size_t i = 0; i < running.size(); ++i) {
        auto& task = running[i].task;
        if (task.done() && running[i].finished == Clock::time_point{}) running[i].finished = now;
        if (task.done() && !task.failed()) result.winner = i + 1;
        if (task.failed()) ++failed;
      }
      if (result.winner != 0) break;
      const bool first_failed = running.front().task.failed();
      const bool due =
          now >= hedge_at || (first_failed && options.on_failure == HedgeOnFailure::immediate);
      if (!extras_fired && due) {
        fire_extras(now);
        continue;
      }
      if (extras_fired && failed == running.size()) break;  // all failed
      if (options.deadline && now >= *options.deadline) {
        deadline_passed = true;
        result.timer_lateness = std::max(result.timer_lateness, now - *options.deadline);
        break;
      }
      // Sleep until a completion, the hedge time or the deadline.
      auto wake_at = options.deadline.value_or(Clock::time_point::max());
      if (!extras_fired) wake_at = std::min(wake_at, hedge_at);
      if (wake_at != Clock::time_point::max()) watching().set_deadline(wake_at);
      // watch.wait() without its coroutine frame: the loop re-checks anyway.
      if (!watching().poll()) {
        boost::system::error_code error;
        co_await watch->wait_timer(error);
        if (!watch->after_wait(error)) {
          caller_cancelled = true;  // found without an exception
          break;
        }
      }
    }
  } catch (...) {
    caller_cancelled = true;
  }

  // Cancel and join the losers (and everything, on deadline or cancellation).
  const bool all_done =
      std::all_of(running.begin(), running.end(), [](const auto& run) { return run.task.done(); });
  if (!all_done && options.losers == Losers::cancel_without_joining && !caller_cancelled) {
    // Each task's state outlives this frame: its coroutine holds it.
    for (auto& run : running) run.task.cancel();
  } else if (!all_done) {
    std::vector<async::detail::TaskStateBase*> states;
    states.reserve(running.size());
    for (auto& run : running) states.push_back(&run.task.state());
    TAILCUT_AWAIT_JOIN(async::detail::cancel_and_join(std::move(states)));
  }
  if (caller_cancelled && !options.report_cancellation) async::throw_cancelled();

  result.fired = running.size();
  result.attempts.reserve(running.size());
  for (std::size_t i = 0; i < running.size(); ++i) {
    auto& run = running[i];
    if (run.finished == Clock::time_point{}) run.finished = Clock::now();
    AttemptRecord record{
        i + 1, AttemptState::succeeded,
        std::chrono::duration_cast<std::chrono::milliseconds>(run.started - began),
        std::chrono::duration_cast<std::chrono::milliseconds>(run.finished - run.started)};
    if (i + 1 == result.winner) {
      result.value.emplace(std::move(run.task.outcome()).value());
    } else if (!run.task.failed() || (i == 0 && first_stopped && run.task.state().cancelled()) ||
               (run.task.state().cancel_requested() && run.task.state().cancelled())) {
      // Only an attempt that was told to stop counts as cancelled: asking
      // any other whether its error is a cancellation would rethrow it.
      record.state = AttemptState::cancelled;
    } else {
      record.state = AttemptState::failed;
      record.failure = std::move(run.task.outcome().failure());
    }
    result.attempts.push_back(std::move(record));
  }
  result.outcome = caller_cancelled     ? HedgeOutcome::cancelled
                   : result.winner != 0 ? HedgeOutcome::succeeded
                   : deadline_passed    ? HedgeOutcome::deadline_exceeded
                                        : HedgeOutcome::all_failed;
  co_return result;
}

}  // namespace detail

template <typename T>
boost::asio::awaitable<HedgeResult<T>> hedge(Attempt<T> attempt, HedgeOptions options) {
  if (options.first_attempt_in_frame) {
    throw std::invalid_argument{
        "policy::hedge: first_attempt_in_frame needs an OutcomeAttempt (one that returns its "
        "failures), not an Attempt"};
  }
  return detail::run_hedge<T>(std::move(attempt), options);
}

template <typename T>
boost::asio::awaitable<HedgeResult<T>> hedge(OutcomeAttempt<T> attempt, HedgeOptions options) {
  return detail::run_hedge<T>(std::move(attempt), options);
}

}  // namespace tailcut::policy
