// failover: deliver through an ordered list of endpoints, trying the next
// one when the current one is slow or fails, without cancelling the earlier
// ones, and telling the caller about every endpoint the delivery reached.
//
//   policy::FailoverOptions options;              // per try 1 s, linger 60 s
//   std::vector<policy::EndpointAttempt<Receipt>> endpoints{post_to(primary), post_to(backup)};
//   policy::LateResultHandler<Receipt> on_late = [](const policy::EndpointOutcome<Receipt>& late) {
//     log(late.endpoint, late.state);             // also delivered, failed, or unknown
//   };
//   auto result = co_await policy::failover(std::move(endpoints), options, on_late);
//   if (result.delivered()) confirm(*result.winner_outcome().value);
//   co_await result.settled.join();               // late results arrive until then
//
// Timeline. Endpoint 0 is tried at once. When the endpoint tried last has
// not succeeded within `per_try`, or has failed, the next one is tried as
// well; the earlier attempts keep running (each is a spawned task), because
// a slow endpoint may still deliver and a delivery must not be cut off
// half-way. An attempt succeeds by returning, fails by throwing.
//
// failover returns
// - at the first success (FailoverOutcome::delivered), no further endpoint
//   being tried;
// - when every endpoint has been tried and failed (all_failed);
// - when every endpoint has been tried and none succeeded within `per_try`
//   + `linger` after the last one was tried (gave_up): those still running
//   are cancelled and reported EndpointState::unknown (they may or may not
//   have delivered).
// `endpoints` in the result holds what is known at that moment, one entry
// per endpoint tried. After a delivery the attempts still running go on, up
// to `linger` from the first success: each one, as it ends, is passed to
// `on_late` (succeeded or failed), and those still running when the linger
// passes are cancelled and passed as unknown. `settled` completes after the
// last report; cancelling it (settled.cancel()) ends the lingering early in
// the same way. Every endpoint tried is reported exactly once, in the
// result or to `on_late`.
//
// Lifetime: the attempts may outlive the failover call (until `settled`):
// they must own what they use, or it must outlive `settled` (join it).
// `on_late` must not throw. Cancelling the caller cancels and joins every
// attempt, then throws operation_aborted. Single-threaded: runs on the
// caller's executor. Make `endpoints` and `on_late` named variables: g++ 12
// destroys twice a capturing lambda made in a co_await expression.
#pragma once

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "tailcut/async/failure.hpp"
#include "tailcut/async/task.hpp"
#include "tailcut/async/wait.hpp"

namespace tailcut::policy {

struct FailoverOptions {
  // How long the endpoint tried last has before the next one is tried too.
  std::chrono::milliseconds per_try{1000};
  // How long, after the first success, the other attempts may still report.
  std::chrono::milliseconds linger{60'000};
};

enum class EndpointState {
  running,    // still going (only in FailoverResult::endpoints)
  succeeded,  // the attempt returned: delivered there
  failed,     // the attempt threw
  unknown,    // cancelled while still running: maybe delivered, maybe not
};

// "running", "succeeded", "failed", "unknown".
[[nodiscard]] std::string_view to_string(EndpointState state) noexcept;

template <typename T>
struct EndpointOutcome {
  std::size_t endpoint = 0;  // index into the endpoints
  EndpointState state = EndpointState::running;
  std::optional<T> value{};                   // when succeeded
  async::Failure failure{};                   // when failed
  std::chrono::milliseconds started_after{};  // since failover began
  std::chrono::milliseconds elapsed{};        // from its start until it ended (or now)
};

enum class FailoverOutcome { delivered, all_failed, gave_up };

template <typename T>
struct FailoverResult {
  FailoverOutcome outcome = FailoverOutcome::all_failed;
  std::optional<std::size_t> winner;          // the endpoint of the first success
  std::vector<EndpointOutcome<T>> endpoints;  // one per endpoint tried, in order
  async::Task<void> settled;                  // ends after the last late report

  [[nodiscard]] bool delivered() const noexcept { return winner.has_value(); }
  // Precondition: delivered().
  [[nodiscard]] EndpointOutcome<T>& winner_outcome() { return endpoints.at(*winner); }
};

// One endpoint's delivery.
template <typename T>
using EndpointAttempt = std::function<boost::asio::awaitable<T>()>;

// Told of each attempt that ends (or is given up on) after failover returned.
template <typename T>
using LateResultHandler = std::function<void(const EndpointOutcome<T>&)>;

namespace detail {

using FailoverClock = std::chrono::steady_clock;

template <typename T>
struct TriedEndpoint {
  std::size_t endpoint = 0;
  async::Task<T> task;
  FailoverClock::time_point started;
  std::optional<FailoverClock::time_point> finished{};
};

// Notes the end time of attempts that have just ended.
template <typename T>
void note_finished(std::vector<TriedEndpoint<T>>& tried) {
  for (auto& attempt : tried) {
    if (attempt.task.done() && !attempt.finished) attempt.finished = FailoverClock::now();
  }
}

// What is known of `attempt` now; a cancelled one counts as unknown.
template <typename T>
EndpointOutcome<T> outcome_of(TriedEndpoint<T>& attempt, FailoverClock::time_point began) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  EndpointOutcome<T> outcome;
  outcome.endpoint = attempt.endpoint;
  outcome.started_after = duration_cast<milliseconds>(attempt.started - began);
  outcome.elapsed = duration_cast<milliseconds>(attempt.finished.value_or(FailoverClock::now()) -
                                                attempt.started);
  if (!attempt.task.done()) return outcome;
  if (!attempt.task.failed()) {
    outcome.state = EndpointState::succeeded;
    outcome.value.emplace(std::move(attempt.task.outcome()).value());
  } else if (attempt.task.state().cancelled()) {
    outcome.state = EndpointState::unknown;
  } else {
    outcome.state = EndpointState::failed;
    outcome.failure = attempt.task.outcome().failure();
  }
  return outcome;
}

// Waits until one of the attempts not yet done ends, or until `wake_at`.
template <typename T>
boost::asio::awaitable<void> wait_for_any(const std::vector<TriedEndpoint<T>>& tried,
                                          FailoverClock::time_point wake_at) {
  std::vector<async::Task<T>> running;
  for (const auto& attempt : tried) {
    if (!attempt.task.done()) running.push_back(attempt.task);
  }
  const std::optional<FailoverClock::duration> timeout = wake_at - FailoverClock::now();
  co_await async::wait(std::move(running), async::first_completed, timeout);
}

// Cancels the attempts not yet done and waits until they have unwound.
// Await it with TAILCUT_AWAIT_JOIN (async/detail/completion_watch.hpp).
template <typename T>
boost::asio::awaitable<void> cancel_running(std::vector<TriedEndpoint<T>>& tried) {
  std::vector<async::detail::TaskStateBase*> states;
  for (auto& attempt : tried) {
    if (!attempt.task.done()) states.push_back(&attempt.task.state());
  }
  co_await async::detail::cancel_and_join(std::move(states));
  note_finished(tried);
}

// After a delivery: reports the other attempts as they end, until
// `linger_end`; then cancels and reports the rest.
template <typename T>
boost::asio::awaitable<void> linger_on(std::vector<TriedEndpoint<T>> tried,
                                       FailoverClock::time_point began,
                                       FailoverClock::time_point linger_end,
                                       LateResultHandler<T> on_late) {
  std::vector<bool> reported(tried.size(), false);
  const auto report_done = [&] {
    note_finished(tried);
    for (std::size_t i = 0; i < tried.size(); ++i) {
      if (reported[i] || !tried[i].task.done()) continue;
      reported[i] = true;
      if (on_late) on_late(outcome_of(tried[i], began));
    }
  };
  const auto all_reported = [&] {
    return std::all_of(reported.begin(), reported.end(), [](bool done) { return done; });
  };
  bool cancelled = false;
  try {
    report_done();
    while (!all_reported() && FailoverClock::now() < linger_end) {
      co_await wait_for_any(tried, linger_end);
      report_done();
    }
  } catch (...) {
    cancelled = true;  // settled.cancel(): end the lingering now
  }
  TAILCUT_AWAIT_JOIN(cancel_running(tried));
  report_done();
  if (cancelled) async::throw_cancelled();
}

inline boost::asio::awaitable<void> nothing_to_settle() { co_return; }

}  // namespace detail

template <typename T>
boost::asio::awaitable<FailoverResult<T>> failover(std::vector<EndpointAttempt<T>> endpoints,
                                                   FailoverOptions options,
                                                   LateResultHandler<T> on_late) {
  using Clock = detail::FailoverClock;
  if (endpoints.empty()) throw std::invalid_argument{"failover: no endpoints to deliver to"};
  const auto executor = co_await boost::asio::this_coro::executor;
  const auto began = Clock::now();
  std::vector<detail::TriedEndpoint<T>> tried;
  const auto try_next = [&] {
    const std::size_t endpoint = tried.size();
    tried.push_back({endpoint, async::spawn(executor, endpoints[endpoint]()), Clock::now(), {}});
  };

  FailoverResult<T> result;
  std::exception_ptr error;  // the caller's cancellation, or an attempt that could not start
  try {
    try_next();
    for (;;) {
      detail::note_finished(tried);
      for (const auto& attempt : tried) {
        if (attempt.task.done() && !attempt.task.failed()) {
          result.winner = attempt.endpoint;
          break;
        }
      }
      if (result.winner) break;
      const auto& latest = tried.back();
      const bool all_tried = tried.size() == endpoints.size();
      if (!all_tried &&
          (latest.task.failed() || Clock::now() >= latest.started + options.per_try)) {
        try_next();
        continue;
      }
      const bool all_failed = std::all_of(
          tried.begin(), tried.end(), [](const auto& attempt) { return attempt.task.failed(); });
      if (all_tried && all_failed) break;
      const auto give_up_at = latest.started + options.per_try + options.linger;
      if (all_tried && Clock::now() >= give_up_at) break;
      co_await detail::wait_for_any(tried,
                                    all_tried ? give_up_at : latest.started + options.per_try);
    }
  } catch (...) {
    error = std::current_exception();
  }
  if (error || !result.winner) {
    // Cancelled, all failed (nothing runs) or given up: nothing goes on.
    TAILCUT_AWAIT_JOIN(detail::cancel_running(tried));
    if (error) std::rethrow_exception(error);
  }

  std::vector<detail::TriedEndpoint<T>> still_running;
  for (auto& attempt : tried) {
    result.endpoints.push_back(detail::outcome_of(attempt, began));
    if (!attempt.task.done()) still_running.push_back(std::move(attempt));
  }
  const bool all_failed =
      std::all_of(result.endpoints.begin(), result.endpoints.end(),
                  [](const auto& outcome) { return outcome.state == EndpointState::failed; });
  result.outcome = result.winner ? FailoverOutcome::delivered
                   : all_failed  ? FailoverOutcome::all_failed
                                 : FailoverOutcome::gave_up;
  if (still_running.empty()) {
    result.settled = async::spawn(executor, detail::nothing_to_settle());
  } else {
    result.settled = async::spawn(
        executor, detail::linger_on<T>(std::move(still_running), began,
                                       Clock::now() + options.linger, std::move(on_late)));
  }
  co_return result;
}

}  // namespace tailcut::policy
