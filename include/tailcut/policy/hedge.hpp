// hedge: cut tail latency by firing backup attempts when the first is slow,
// taking the first success, and cancelling the rest.
//
//   policy::HedgeOptions options;                 // 300 ms, 2 extra attempts
//   options.deadline = received_at + 1s;          // no attempt outlives it
//   // Named, not written in the co_await: g++ 12 destroys such a capturing lambda twice.
//   policy::Attempt<Json> attempt = [&session, url](policy::AttemptContext) {
//     return fetch_json(session, url);            // a named coroutine function
//   };
//   auto result = co_await policy::hedge<Json>(std::move(attempt), options);
//   if (result.value) answer(*result.value, result.winner);
//
// Attempt 1 is fired at once. If no attempt has succeeded by `delay`, the
// extra attempts are fired together; if attempt 1 fails before the delay,
// at once (HedgeOnFailure::immediate) or at the delay (at_delay). The first
// attempt to *succeed* wins: an Attempt succeeds by returning and fails by
// throwing; an OutcomeAttempt returns an Outcome either way, which spares an
// exception per failed or cancelled attempt. As soon as there is a winner,
// the deadline passes, or the caller is cancelled, every other attempt is
// stopped and joined before hedge returns: nothing of them runs on. With
// Losers::cancel_without_joining, hedge returns once it has stopped them
// and they unwind (close their connections) after it: they must then own or
// outlive all they use.
//
// How hedge stops an attempt: it requests AttemptContext::stop, which every
// attempt of the call is given (pass it on as http::RequestOptions::stop,
// which closes the request's socket). An attempt that hedge spawned as a
// task is cancelled through Asio as well, so one made of Asio operations
// alone ends without looking at the token; attempt 1 run in hedge's frame
// (below) has only the token. The caller's cancellation throws operation_aborted
// once the attempts are joined, or, with report_cancellation, ends the hedge
// with HedgeOutcome::cancelled. A HedgeBudget can refuse extra attempts.
// Single-threaded: runs on the caller's executor.
//
// With HedgeOptions::first_attempt_in_frame, hedge runs attempt 1 in its own
// coroutine frame instead of spawning a task for it, and stops it through
// AttemptContext::stop alone (a winner among the extra attempts, the
// deadline); a timer fires the extra attempts meanwhile. The attempt must
// end promptly once stopped (http::RequestOptions::stop does). A call answered before
// the hedge delay then costs no task, no cancellation signal and no extra
// trip through the scheduler (and, while other calls are in flight, no
// timer operation): a sixth of the gateway's work per call. The price: a
// stopped attempt 1 must unwind before hedge returns (one more trip
// through the scheduler, counted in timer_lateness at the deadline).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <stop_token>
#include <vector>

#include "tailcut/async/failure.hpp"
#include "tailcut/async/outcome.hpp"
#include "tailcut/policy/hedge_budget.hpp"
#include "tailcut/policy/hedge_delay.hpp"
#include "tailcut/policy/replica_set.hpp"

namespace tailcut::policy {

enum class HedgeOnFailure {
  immediate,  // a failed first attempt fires the extra attempts at once
  at_delay,   // extra attempts always wait for the hedge delay
};

// What hedge does with the attempts still running once it has its answer.
enum class Losers {
  join,                    // stops them and waits until they have unwound
  cancel_without_joining,  // stops them and returns; they unwind after
};

struct HedgeOptions {
  using Clock = std::chrono::steady_clock;
  // When the extra attempts are fired: a fixed delay (`options.delay =
  // 300ms`), or an adaptive one (HedgeDelayPolicy::adaptive), which hedge
  // tells how long each attempt 1 ran (a failed one aside).
  HedgeDelayPolicy delay{std::chrono::milliseconds{300}};
  std::size_t extra_attempts = 2;
  HedgeOnFailure on_failure = HedgeOnFailure::immediate;
  // No attempt runs past it; without one, hedge waits for a success or for
  // every attempt to fail.
  std::optional<Clock::time_point> deadline;
  HedgeBudget* budget = nullptr;  // not owned; may be null (no cap)
  // Replicas of one service: hedge picks the replica of each attempt
  // (AttemptContext::replica; ReplicaSet says how) and tells the set how
  // each ended. Not owned; null: the attempts need no replica.
  ReplicaSet* replicas = nullptr;
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
  // Requested when hedge no longer wants this attempt (another won, the
  // deadline passed, the caller was cancelled); the attempt should then end
  // promptly (http::RequestOptions::stop does). One token for all the
  // attempts of a call. A spawned attempt is cancelled through Asio as
  // well; attempt 1 run in hedge's frame (first_attempt_in_frame) must
  // honour the token.
  std::stop_token stop{};
  // The replica to send it to, with HedgeOptions::replicas.
  std::optional<std::size_t> replica{};
};

enum class AttemptState { succeeded, failed, cancelled };

struct AttemptRecord {
  std::size_t number;
  AttemptState state;
  std::chrono::milliseconds started_after;  // since hedge began
  std::chrono::milliseconds elapsed;
  // What went wrong, when failed (none otherwise).
  async::Failure failure{};
  std::optional<std::size_t> replica{};  // with HedgeOptions::replicas
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

// Runs the hedge on the caller's executor. The attempt function is moved
// into the coroutine frame that runs the hedge (hedge itself is not a
// coroutine). With g++ 12, name a capturing lambda before the co_await:
//   auto attempt = [&session, url](policy::AttemptContext) { ... };
//   auto result = co_await policy::hedge<std::string>(attempt, options);
// a closure temporary inside the co_await expression is destroyed twice
// (a compiler bug; no signature of hedge avoids it).
// Throws std::invalid_argument, at once, for first_attempt_in_frame with
// an Attempt (it needs an OutcomeAttempt).
template <typename T>
[[nodiscard]] boost::asio::awaitable<HedgeResult<T>> hedge(Attempt<T> attempt,
                                                           HedgeOptions options);
template <typename T>
[[nodiscard]] boost::asio::awaitable<HedgeResult<T>> hedge(OutcomeAttempt<T> attempt,
                                                           HedgeOptions options);

}  // namespace tailcut::policy

#include "tailcut/policy/impl/hedge.hpp"
