// Scripted attempts for policy::hedge's tests: attempt N answers after a
// set delay, succeeding or failing, notes how it was told to stop, and is
// run by hedge in each of its modes (an Attempt that throws, an
// OutcomeAttempt, an OutcomeAttempt whose first attempt runs in hedge's
// frame).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <stop_token>
#include <string>
#include <vector>

#include "tailcut/policy/hedge.hpp"

namespace tailcut::test {

using HedgeClock = std::chrono::steady_clock;

// How hedge is given its attempts.
enum class Mode {
  throwing,        // Attempt<int>: fails by throwing; every attempt a task
  outcome,         // OutcomeAttempt<int>: fails by returning; every attempt a task
  first_in_frame,  // OutcomeAttempt<int>, attempt 1 in hedge's frame (first_attempt_in_frame)
};

std::string name_of(const testing::TestParamInfo<Mode>& mode);

// How attempt N behaves: answers after `delay`, successfully or not.
struct Script {
  std::chrono::milliseconds delay;
  bool succeeds;
};

struct Observed {
  HedgeClock::time_point began = HedgeClock::now();
  std::vector<std::chrono::milliseconds> fired_after;  // per attempt
  std::vector<std::string> endings;                    // per attempt
  std::vector<policy::AttemptContext> contexts;        // per attempt, as told
  std::vector<std::size_t> stopped;  // the attempts that saw policy::AttemptContext::stop requested

  // The attempts stopped, by number (in whatever order the stop told them).
  [[nodiscard]] std::vector<std::size_t> stopped_attempts() const {
    auto numbers = stopped;
    std::sort(numbers.begin(), numbers.end());
    return numbers;
  }
};

using Numbers = std::vector<std::size_t>;

// Waits until `until`. False when cut short: by the caller's cancellation
// (through Asio) or by `stop` (noted in observed->stopped), which cancels
// the timer, as http::RequestOptions::stop closes a request's socket.
boost::asio::awaitable<bool> wait_unless_stopped(HedgeClock::time_point until, std::size_t number,
                                                 std::stop_token stop, Observed* observed);

// Attempt N plays scripts[N - 1], handing its failure (or cancellation)
// back as an Outcome.
policy::OutcomeAttempt<int> scripted(std::vector<Script> scripts, Observed* observed);

// hedge(attempt, options) in `mode`.
boost::asio::awaitable<policy::HedgeResult<int>> hedge_in(Mode mode,
                                                          policy::OutcomeAttempt<int> attempt,
                                                          policy::HedgeOptions options);

// A 100 ms hedge delay, two extra attempts.
policy::HedgeOptions quick_options();

// The scripted attempts hedged in `mode`; `observed` notes what they saw.
boost::asio::awaitable<policy::HedgeResult<int>> run_hedge(Mode mode, std::vector<Script> scripts,
                                                           Observed* observed,
                                                           policy::HedgeOptions options);

// run_hedge to its end, on an io_context of its own.
policy::HedgeResult<int> hedge_with(Mode mode, std::vector<Script> scripts, Observed& observed,
                                    policy::HedgeOptions options = quick_options());

std::vector<policy::AttemptState> states_of(const policy::HedgeResult<int>& result);

// Tests run in each mode (instantiated by each test file that has some).
class HedgeInEachMode : public testing::TestWithParam<Mode> {
 protected:
  [[nodiscard]] Mode mode() const { return GetParam(); }
  [[nodiscard]] bool in_frame() const { return GetParam() == Mode::first_in_frame; }
};

// Only for OutcomeAttempts, spawned or in frame.
class HedgeOfOutcomeAttempts : public HedgeInEachMode {};

using States = std::vector<policy::AttemptState>;
using Endings = std::vector<std::string>;

}  // namespace tailcut::test
