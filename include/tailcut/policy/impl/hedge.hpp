// policy::hedge's coroutine: awaits between the steps of a HedgeRun
// (detail/hedge_run.hpp). Included by tailcut/policy/hedge.hpp.
#pragma once

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/error_code.hpp>
#include <exception>
#include <optional>
#include <stdexcept>

#include "tailcut/async/detail/completion_watch.hpp"
#include "tailcut/async/error.hpp"
#include "tailcut/policy/detail/hedge_run.hpp"

namespace tailcut::policy {
namespace detail {

template <typename T, typename AttemptFunction>
boost::asio::awaitable<HedgeResult<T>> run_hedge(AttemptFunction attempt, HedgeOptions options) {
  namespace asio = boost::asio;
  HedgeRun<T, AttemptFunction> run{attempt, options, co_await asio::this_coro::executor};
  // 1. Attempt 1: in this frame, or spawned.
  bool first_fired = false;
  if constexpr (HedgeRun<T, AttemptFunction>::returns_outcome) {
    if (run.first_in_frame()) {
      first_fired = true;
      const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
      // Attempt 1's outcome goes to the run as the await returns: this
      // frame, which every call in flight holds, keeps no room for it.
      AfterFirst after = AfterFirst::wait_others;
      try {
        after = run.first_attempt_ended(co_await run.first_attempt_in_frame(), cancellation);
      } catch (const std::exception& error) {
        if (run.first_ended()) throw;  // the run's own failure (bad_alloc), not the attempt's
        after = run.first_attempt_ended(async::Outcome<T>::failure(async::Failure::from_exception(
                                            error, std::current_exception())),
                                        cancellation);
      } catch (...) {
        if (run.first_ended()) throw;
        after = run.first_attempt_ended(async::Outcome<T>::failure(std::current_exception()),
                                        cancellation);
      }
      switch (after) {
        case AfterFirst::answered:
          co_return run.answered_by_first();
        case AfterFirst::wake_failed:
          TAILCUT_AWAIT_JOIN(run.stop_and_join_extras());
          run.rethrow_wake_error();
        case AfterFirst::wait_others:
          break;
      }
    }
  }
  if (!first_fired) run.fire_first();
  // 2-4. The extras at the hedge delay, until a winner, all failed, or the
  // deadline. The watch's timer is awaited in this frame (no coroutine of
  // CompletionWatch::wait's); the caller's cancellation ends the wait
  // without an exception.
  try {
    while (run.advance()) {
      auto& watch = run.wait_to_advance();
      if (watch.poll()) continue;
      boost::system::error_code error;
      co_await watch.wait_timer(error);
      if (!watch.after_wait(error)) {
        run.note_caller_cancelled();
        break;
      }
    }
  } catch (...) {
    run.note_caller_cancelled();
  }
  // 5. The losers, and the result.
  switch (run.loser_action()) {
    case LoserAction::none:
      break;
    case LoserAction::stop:
      run.stop_losers();
      break;
    case LoserAction::stop_and_join:
      TAILCUT_AWAIT_JOIN(run.stop_and_join_all());
      break;
  }
  if (run.throws_cancellation()) async::throw_cancelled();
  co_return run.finish();
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
