// failover: when each endpoint is tried, that earlier attempts are never
// cut off by the per-try limit, and how late results are reported.
#include "tailcut/policy/failover.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "support/async_run.hpp"
#include "tailcut/async/deadline.hpp"

namespace tailcut::policy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::run_async;
using test::sleep_for;
using Executor = asio::any_io_executor;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How endpoint N behaves: answers after `delay`, successfully or not.
struct Script {
  milliseconds delay;
  bool succeeds;
};

struct Observed {
  Clock::time_point began = Clock::now();
  std::vector<milliseconds> tried_after;  // per endpoint tried
  std::vector<std::string> endings;       // per endpoint tried
  struct Late {
    std::size_t endpoint;
    EndpointState state;
    milliseconds after;  // since began
  };
  std::vector<Late> late;
};

milliseconds since(Clock::time_point began) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - began);
}

asio::awaitable<int> scripted_attempt(Script script, Observed* observed, std::size_t endpoint) {
  observed->tried_after.push_back(since(observed->began));
  observed->endings.resize(endpoint + 1, "running");
  try {
    co_await sleep_for(script.delay);
  } catch (const boost::system::system_error&) {
    observed->endings[endpoint] = "cancelled";
    throw;
  }
  observed->endings[endpoint] = script.succeeds ? "succeeded" : "failed";
  if (!script.succeeds) throw std::runtime_error{"HTTP 500"};
  co_return static_cast<int>(endpoint);
}

std::vector<EndpointAttempt<int>> endpoints_of(const std::vector<Script>& scripts,
                                               Observed* observed) {
  std::vector<EndpointAttempt<int>> endpoints;
  for (std::size_t i = 0; i < scripts.size(); ++i) {
    endpoints.push_back(
        [script = scripts[i], observed, i] { return scripted_attempt(script, observed, i); });
  }
  return endpoints;
}

void record_late(Observed* observed, const EndpointOutcome<int>& late) {
  observed->late.push_back({late.endpoint, late.state, since(observed->began)});
}

FailoverOptions quick_options(milliseconds linger = 1s) {
  FailoverOptions options;
  options.per_try = 100ms;
  options.linger = linger;
  return options;
}

// Runs failover and then waits until it has settled, like `tailcut send`.
asio::awaitable<FailoverResult<int>> run_failover(std::vector<Script> scripts, Observed* observed,
                                                  FailoverOptions options,
                                                  milliseconds* returned_after) {
  observed->began = Clock::now();
  LateResultHandler<int> on_late = [observed](const EndpointOutcome<int>& late) {
    record_late(observed, late);
  };
  auto result = co_await failover(endpoints_of(scripts, observed), options, on_late);
  *returned_after = since(observed->began);
  co_await result.settled.join();
  co_return result;
}

struct Run {
  FailoverResult<int> result;
  milliseconds returned_after{};
  milliseconds settled_after{};
};

Run failover_with(std::vector<Script> scripts, Observed& observed,
                  FailoverOptions options = quick_options()) {
  Run run;
  run.result = run_async(
      [&](Executor) { return run_failover(scripts, &observed, options, &run.returned_after); });
  run.settled_after = since(observed.began);
  return run;
}

TEST(Failover, AFirstEndpointThatSucceedsInTimeIsTheOnlyOneTried) {
  Observed observed;
  const auto run = failover_with({{10ms, true}, {10ms, true}}, observed);
  EXPECT_EQ(run.result.outcome, FailoverOutcome::delivered);
  EXPECT_EQ(run.result.winner, 0u);
  ASSERT_EQ(run.result.endpoints.size(), 1u);
  EXPECT_EQ(run.result.endpoints[0].value, 0);
  EXPECT_EQ(observed.tried_after.size(), 1u);
  EXPECT_TRUE(observed.late.empty());
}

TEST(Failover, ASlowFirstEndpointGetsCompanyAtThePerTryLimitAndIsNotCutOff) {
  Observed observed;
  const auto run = failover_with({{300ms, true}, {20ms, true}}, observed);
  ASSERT_EQ(observed.tried_after.size(), 2u);
  EXPECT_GE(observed.tried_after[1], 95ms);  // at the per-try limit
  EXPECT_LT(observed.tried_after[1], 250ms);
  EXPECT_EQ(run.result.winner, 1u);
  EXPECT_LT(run.returned_after, 280ms);  // before the first one answered
  EXPECT_EQ(run.result.endpoints[0].state, EndpointState::running);
  // The first one finished on its own and was reported late.
  EXPECT_EQ(observed.endings[0], "succeeded");
  ASSERT_EQ(observed.late.size(), 1u);
  EXPECT_EQ(observed.late[0].endpoint, 0u);
  EXPECT_EQ(observed.late[0].state, EndpointState::succeeded);
  EXPECT_GE(observed.late[0].after, 290ms);
}

TEST(Failover, AFastFailureMovesOnToTheNextEndpointAtOnce) {
  Observed observed;
  const auto run = failover_with({{10ms, false}, {10ms, true}}, observed);
  ASSERT_EQ(observed.tried_after.size(), 2u);
  EXPECT_LT(observed.tried_after[1], 80ms);  // long before the per-try limit
  EXPECT_EQ(run.result.winner, 1u);
  EXPECT_EQ(run.result.endpoints[0].state, EndpointState::failed);
  EXPECT_TRUE(run.result.endpoints[0].failure);
  EXPECT_TRUE(observed.late.empty());
}

TEST(Failover, WhenEveryEndpointFailsEachFailureIsReported) {
  Observed observed;
  const auto run = failover_with({{10ms, false}, {150ms, false}, {10ms, false}}, observed);
  EXPECT_EQ(run.result.outcome, FailoverOutcome::all_failed);
  EXPECT_FALSE(run.result.delivered());
  ASSERT_EQ(run.result.endpoints.size(), 3u);
  for (const auto& endpoint : run.result.endpoints) {
    EXPECT_EQ(endpoint.state, EndpointState::failed);
  }
  // Endpoint 1 was slow: endpoint 2 came at its per-try limit.
  EXPECT_GE(observed.tried_after[2] - observed.tried_after[1], 95ms);
  EXPECT_TRUE(observed.late.empty());
}

TEST(Failover, AFailureAfterTheDeliveryIsReportedLate) {
  Observed observed;
  const auto run = failover_with({{250ms, false}, {10ms, true}}, observed);
  EXPECT_EQ(run.result.winner, 1u);
  ASSERT_EQ(observed.late.size(), 1u);
  EXPECT_EQ(observed.late[0].state, EndpointState::failed);
}

TEST(Failover, WhatRunsWhenTheLingerEndsIsCancelledAndReportedUnknown) {
  Observed observed;
  const auto run = failover_with({{10s, true}, {10ms, true}}, observed, quick_options(200ms));
  EXPECT_EQ(run.result.winner, 1u);
  ASSERT_EQ(observed.late.size(), 1u);
  EXPECT_EQ(observed.late[0].endpoint, 0u);
  EXPECT_EQ(observed.late[0].state, EndpointState::unknown);
  EXPECT_GE(observed.late[0].after, 290ms);  // 100 ms per try + 10 ms + 200 ms linger
  EXPECT_LT(observed.late[0].after, 2s);
  EXPECT_EQ(observed.endings[0], "cancelled");
}

TEST(Failover, WhenNothingAnswersItGivesUpAfterThePerTryAndTheLinger) {
  Observed observed;
  FailoverOptions options;
  options.per_try = 50ms;
  options.linger = 100ms;
  const auto run = failover_with({{10s, true}, {10s, true}}, observed, options);
  EXPECT_EQ(run.result.outcome, FailoverOutcome::gave_up);
  EXPECT_GE(run.returned_after, 190ms);  // 50 + 50 + 100
  EXPECT_LT(run.returned_after, 2s);
  ASSERT_EQ(run.result.endpoints.size(), 2u);
  for (const auto& endpoint : run.result.endpoints) {
    EXPECT_EQ(endpoint.state, EndpointState::unknown);
  }
  EXPECT_EQ(observed.endings, (std::vector<std::string>{"cancelled", "cancelled"}));
}

TEST(Failover, CancellingTheCallerCancelsEveryAttempt) {
  Observed observed;
  EXPECT_THROW(
      run_async([&](Executor) {
        LateResultHandler<int> on_late;
        return async::wait_for(
            failover(endpoints_of({{10s, true}, {10s, true}}, &observed), quick_options(), on_late),
            150ms);
      }),
      boost::system::system_error);
  EXPECT_EQ(observed.endings, (std::vector<std::string>{"cancelled", "cancelled"}));
}

asio::awaitable<void> deliver_then_stop_lingering(Observed* observed) {
  LateResultHandler<int> on_late = [observed](const EndpointOutcome<int>& outcome) {
    record_late(observed, outcome);
  };
  auto endpoints = endpoints_of({{10s, true}, {10ms, true}}, observed);
  auto result = co_await failover(std::move(endpoints), quick_options(), on_late);
  result.settled.cancel();
  co_await result.settled.join();
}

TEST(Failover, CancellingSettledEndsTheLingeringEarly) {
  Observed observed;
  run_async([&](Executor) { return deliver_then_stop_lingering(&observed); });
  ASSERT_EQ(observed.late.size(), 1u);
  EXPECT_EQ(observed.late[0].state, EndpointState::unknown);
  EXPECT_LT(observed.late[0].after, 1s);
  EXPECT_EQ(observed.endings[0], "cancelled");
}

TEST(Failover, NoEndpointsIsAnError) {
  EXPECT_THROW(run_async([](Executor) {
                 return failover(std::vector<EndpointAttempt<int>>{}, quick_options(),
                                 LateResultHandler<int>{});
               }),
               std::invalid_argument);
}

}  // namespace
}  // namespace tailcut::policy
