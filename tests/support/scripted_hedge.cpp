// Scripted attempts for policy::hedge's tests (scripted_hedge.hpp).
#include "support/scripted_hedge.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "support/async_run.hpp"
#include "tailcut/async/error.hpp"

namespace tailcut::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace policy;
using Clock = HedgeClock;
using Executor = asio::any_io_executor;

std::string name_of(const testing::TestParamInfo<Mode>& mode) {
  switch (mode.param) {
    case Mode::throwing:
      return "ThrowingAttempts";
    case Mode::outcome:
      return "OutcomeAttempts";
    case Mode::first_in_frame:
      return "FirstAttemptInFrame";
  }
  return "Unknown";
}

// Waits until `until`. False when cut short: by the caller's cancellation
// (through Asio) or by `stop` (noted in observed->stopped), which cancels
// the timer, as http::RequestOptions::stop closes a request's socket.
asio::awaitable<bool> wait_unless_stopped(Clock::time_point until, std::size_t number,
                                          std::stop_token stop, Observed* observed) {
  asio::steady_timer timer{co_await asio::this_coro::executor, until};
  const std::stop_callback on_stop{stop, [&timer, observed, number] {
                                     observed->stopped.push_back(number);
                                     timer.cancel();
                                   }};
  if (stop.stop_requested()) co_return false;
  boost::system::error_code error;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
  co_return !error && !stop.stop_requested();
}

namespace {

// The scripted attempt, handing its failure (or cancellation) back as an
// Outcome.
asio::awaitable<async::Outcome<int>> scripted_attempt(std::vector<Script> scripts,
                                                      Observed* observed, AttemptContext context) {
  const auto index = context.number - 1;
  observed->fired_after.push_back(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - observed->began));
  observed->endings.resize(std::max(observed->endings.size(), context.number), "running");
  observed->contexts.push_back(context);
  bool answered = false;
  try {
    answered = co_await wait_unless_stopped(Clock::now() + scripts.at(index).delay, context.number,
                                            context.stop, observed);
  } catch (const boost::system::system_error&) {
    // Cancelled before it could wait.
  }
  if (!answered) {
    observed->endings[index] = "cancelled";
    co_return async::Outcome<int>::failure(async::cancellation_error());
  }
  observed->endings[index] = scripts.at(index).succeeds ? "succeeded" : "failed";
  if (!scripts.at(index).succeeds) {
    co_return async::Outcome<int>::failure(
        std::make_exception_ptr(std::runtime_error{"HTTP 50" + std::to_string(context.number)}));
  }
  co_return async::Outcome<int>::success(static_cast<int>(context.number));
}

// An OutcomeAttempt as an Attempt: throws its failure.
asio::awaitable<int> rethrowing(OutcomeAttempt<int> attempt, AttemptContext context) {
  async::Outcome<int> outcome = co_await attempt(context);
  co_return std::move(outcome).value();
}

}  // namespace

OutcomeAttempt<int> scripted(std::vector<Script> scripts, Observed* observed) {
  return [scripts, observed](AttemptContext context) {
    return scripted_attempt(scripts, observed, context);
  };
}

// hedge(attempt, options) in `mode`.
asio::awaitable<HedgeResult<int>> hedge_in(Mode mode, OutcomeAttempt<int> attempt,
                                           HedgeOptions options) {
  options.first_attempt_in_frame = mode == Mode::first_in_frame;
  if (mode == Mode::throwing) {
    Attempt<int> throwing = [attempt](AttemptContext context) {
      return rethrowing(attempt, context);
    };
    co_return co_await hedge(throwing, options);
  }
  co_return co_await hedge(attempt, options);
}

HedgeOptions quick_options() {
  HedgeOptions options;
  options.delay = 100ms;
  options.extra_attempts = 2;
  return options;
}

asio::awaitable<HedgeResult<int>> run_hedge(Mode mode, std::vector<Script> scripts,
                                            Observed* observed, HedgeOptions options) {
  observed->began = Clock::now();
  co_return co_await hedge_in(mode, scripted(std::move(scripts), observed), options);
}

HedgeResult<int> hedge_with(Mode mode, std::vector<Script> scripts, Observed& observed,
                            HedgeOptions options) {
  return run_async([&](Executor) { return run_hedge(mode, scripts, &observed, options); });
}

std::vector<AttemptState> states_of(const HedgeResult<int>& result) {
  std::vector<AttemptState> states;
  for (const auto& attempt : result.attempts) states.push_back(attempt.state);
  return states;
}

}  // namespace tailcut::test
