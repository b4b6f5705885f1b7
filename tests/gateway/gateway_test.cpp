// tailcut serve end to end: a scripted simulator upstream, the gateway, and a
// client, all on 127.0.0.1 with ports picked by the system.
#include <thread>

#include "gateway_fixture.hpp"
#include "support/client_test_server.hpp"

namespace tailcut::gateway {
namespace {

using namespace test_support;

TEST_F(GatewayTest, AFastFirstAttemptMakesExactlyOneUpstreamRequest) {
  start(R"([{"delay_ms": 5, "body": "{\"time\": 5, \"extra\": [1, 2]}"}])");
  const auto response = call("/api/smart?timeout=1000");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[boost::beast::http::field::content_type], "application/json");
  // The upstream's JSON unchanged, byte for byte.
  EXPECT_EQ(response.body(), R"({"success":true,"response":{"time": 5, "extra": [1, 2]}})");
  EXPECT_EQ(response["X-Tailcut-Attempts"], "1");
  EXPECT_EQ(response["X-Tailcut-Winner"], "1");
  EXPECT_EQ(upstream_counters().received, 1u);
}

TEST_F(GatewayTest, ASlowFirstAttemptFiresTwoMoreAndTheFirstSuccessWins) {
  start(R"([{"delay_ms": 3000}, {"delay_ms": 20}, {"delay_ms": 20, "status": 500}])");
  const auto started = Clock::now();
  const auto response = call("/api/smart?timeout=2000");
  const auto elapsed = Clock::now() - started;
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response["X-Tailcut-Attempts"], "3");
  EXPECT_EQ(response["X-Tailcut-Winner"], "2");  // the 500 never wins
  EXPECT_GE(elapsed, 100ms);                     // the extras waited for the hedge delay
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_EQ(upstream_counters().received, 3u);
}

TEST_F(GatewayTest, TheFirstAttemptWinsWhenItFinishesFirstEvenAfterTheHedge) {
  start(R"([{"delay_ms": 150}, {"delay_ms": 3000}, {"delay_ms": 3000}])");
  const auto response = call("/api/smart?timeout=2000");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response["X-Tailcut-Winner"], "1");
  EXPECT_EQ(response["X-Tailcut-Attempts"], "3");
}

TEST_F(GatewayTest, AFastFailureFiresTheExtraAttemptsAtOnce) {
  start(R"([{"delay_ms": 1, "status": 500}, {"delay_ms": 5}, {"delay_ms": 5}])");
  const auto started = Clock::now();
  const auto response = call("/api/smart?timeout=2000");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_LT(Clock::now() - started, 90ms);  // did not idle until the 100 ms delay
  EXPECT_EQ(response["X-Tailcut-Attempts"], "3");
}

TEST_F(GatewayTest, AtDelayModeKeepsTheSeedsTiming) {
  GatewayOptions options;
  options.hedge_on_failure = policy::HedgeOnFailure::at_delay;
  start(R"([{"delay_ms": 1, "status": 500}, {"delay_ms": 5}, {"delay_ms": 5}])", options);
  const auto started = Clock::now();
  EXPECT_EQ(call("/api/smart?timeout=2000").result_int(), 200);
  EXPECT_GE(Clock::now() - started, 100ms);
}

TEST_F(GatewayTest, WhenEveryAttemptFailsTheAnswerIs502WithAReasonPerAttempt) {
  start(R"([{"delay_ms": 1, "status": 500}, {"delay_ms": 1, "body": "not json"},
            {"delay_ms": 1, "body": "[1, 2]"}])");
  const auto response = call("/api/smart?timeout=2000");
  EXPECT_EQ(response.result_int(), 502);
  const auto body = json_of(response);
  EXPECT_EQ(body.at("success").as_bool(), false);
  EXPECT_EQ(body.at("error").at("code").as_string(), "upstream_failed");
  const auto& attempts = body.at("error").at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 3u);
  std::vector<std::string> reasons;
  for (const auto& attempt : attempts) reasons.emplace_back(attempt.at("reason").as_string());
  std::sort(reasons.begin(), reasons.end());
  EXPECT_EQ(reasons,
            (std::vector<std::string>{"HTTP 200 with a JSON body that is not an object",
                                      "HTTP 200 with a body that is not JSON", "HTTP 500"}));
}

TEST(GatewayUpstreamDown, AnUpstreamThatRefusesConnectionsIsAnswered502AtOnce) {
  GatewayOptions options;
  options.upstream_urls = {"http://127.0.0.1:" + std::to_string(test::closed_port()) + "/api/work"};
  options.server.threads = 1;
  options.hedge_delay = 2s;  // far from the 1 s bound below
  Gateway gateway{options};
  gateway.start();
  testing::ServerTestClient client{gateway.port()};
  const auto started = Clock::now();
  const auto response = client.request("GET", "/api/smart?timeout=5000");
  // A refused attempt fails fast, the extras fire at once and fail too:
  // nothing waits for the hedge delay or the deadline.
  EXPECT_LT(Clock::now() - started, 1s);
  EXPECT_EQ(response.result_int(), 502);
  const auto body = json_of(response);
  const auto& attempts = body.at("error").at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 3u);
  for (const auto& attempt : attempts) {
    EXPECT_NE(std::string{attempt.at("reason").as_string()}.find("refused"), std::string::npos)
        << attempt;
  }
  EXPECT_EQ(client.request("GET", "/healthz").result_int(), 200);  // and it serves on
  gateway.stop();
}

TEST_F(GatewayTest, TheDeadlineIsKeptAndAnswered504) {
  start(R"([{"hang": true}])");
  const auto started = Clock::now();
  const auto response = call("/api/smart?timeout=250");
  const auto elapsed = Clock::now() - started;
  EXPECT_EQ(response.result_int(), 504);
  EXPECT_EQ(json_of(response).at("error").at("code").as_string(), "deadline_exceeded");
  EXPECT_LE(elapsed, 250ms + 100ms);  // generous: a loaded 2-core machine
  EXPECT_GE(elapsed, 200ms);
}

TEST_F(GatewayTest, TimeoutStatusCanBe408) {
  GatewayOptions options;
  options.timeout_status = 408;
  start(R"([{"hang": true}])", options);
  EXPECT_EQ(call("/api/smart?timeout=50").result_int(), 408);
}

TEST_F(GatewayTest, WithoutTimeoutHangingAttemptsAreBoundedByMaxWait) {
  GatewayOptions options;
  options.max_wait = 300ms;
  start(R"([{"hang": true}])", options);
  const auto started = Clock::now();
  EXPECT_EQ(call("/api/smart").result_int(), 504);
  EXPECT_LT(Clock::now() - started, 2s);
}

TEST_F(GatewayTest, LosersAreCancelledAndNothingOfThemRunsOn) {
  start(R"([{"delay_ms": 3000}, {"delay_ms": 10}, {"delay_ms": 3000}])");
  EXPECT_EQ(call("/api/smart?timeout=2000").result_int(), 200);
  // The two losers' connections were closed: the simulator sees them go.
  const auto give_up = Clock::now() + 2s;
  while (upstream_counters().in_flight != 0 && Clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);  // polling a counter of another process-like server
  }
  EXPECT_EQ(upstream_counters().in_flight, 0u);
  EXPECT_EQ(upstream_counters().aborted, 2u);
}

// The pool's gauges are read when /metrics is served, not only when a call
// ends: the losers' connections, closed after the answer, are not counted
// in use forever.
TEST_F(GatewayTest, ThePoolGaugesAreCurrentWhenScraped) {
  start(R"([{"delay_ms": 3000}, {"delay_ms": 10}, {"delay_ms": 3000}])");
  EXPECT_EQ(call("/api/smart?timeout=2000").result_int(), 200);
  wait_for_upstream([this] { return upstream_counters().aborted == 2; });
  ASSERT_EQ(upstream_counters().aborted, 2u);
  const auto metrics = call("/metrics").body();
  EXPECT_NE(metrics.find(R"(tailcut_upstream_pool_in_use_connections{worker="0"} 0)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(tailcut_upstream_pool_idle_connections{worker="0"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(tailcut_upstream_connections_opened_total{worker="0"} 3)"),
            std::string::npos)
      << metrics;
}

// Each worker's pool is read on that worker's thread when any worker serves
// /metrics (ThreadSanitizer checks the hand-offs in its build).
TEST_F(GatewayTest, EveryWorkersPoolIsReportedWhicheverWorkerServesTheMetrics) {
  start(R"([{"delay_ms": 1}, {"delay_ms": 1}, {"delay_ms": 1}, {"delay_ms": 1}])", {}, 2);
  // Connections are dealt to the workers in turn: two calls, one each.
  testing::ServerTestClient first{gateway_->port()};
  testing::ServerTestClient second{gateway_->port()};
  EXPECT_EQ(first.request("GET", "/api/smart?timeout=1000").result_int(), 200);
  EXPECT_EQ(second.request("GET", "/api/smart?timeout=1000").result_int(), 200);
  for (int scrape = 0; scrape < 2; ++scrape) {  // once from each worker
    const auto metrics = call("/metrics").body();
    for (const char* worker : {"0", "1"}) {
      const std::string opened =
          std::string{R"(tailcut_upstream_connections_opened_total{worker=")"} + worker + R"("} 1)";
      EXPECT_NE(metrics.find(opened), std::string::npos) << opened << "\n" << metrics;
    }
  }
}

// A client that leaves with its call in flight cancels the call: every
// attempt is aborted at the upstream, no call is counted, and the gateway
// goes on serving (the departure path returns the hedge's cancellation
// rather than throwing it, and closes the sockets on the closer's thread).
TEST_F(GatewayTest, AClientThatLeavesCancelsEveryAttemptOfItsCall) {
  start(R"([{"delay_ms": 3000}, {"delay_ms": 3000}, {"delay_ms": 3000}, {"delay_ms": 1}])");
  {
    testing::ServerTestClient leaving{gateway_->port()};
    leaving.send(testing::raw_request("GET", "/api/smart?timeout=5000"));
    wait_for_upstream([this] { return upstream_counters().received == 3; });
    ASSERT_EQ(upstream_counters().received, 3u);
  }  // the client closes its connection
  wait_for_upstream([this] { return upstream_counters().aborted == 3; });
  EXPECT_EQ(upstream_counters().aborted, 3u);
  EXPECT_EQ(upstream_counters().in_flight, 0u);

  const auto metrics = call("/metrics").body();
  for (const char* outcome : {"success", "upstream_failed", "deadline_exceeded", "bad_request"}) {
    const std::string line = std::string{"tailcut_calls_total{outcome=\""} + outcome + "\"} 0";
    EXPECT_NE(metrics.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(call("/api/smart?timeout=1000").result_int(), 200);
}

TEST_F(GatewayTest, BadTimeoutsAre400AndReachNoUpstream) {
  start(R"([{"delay_ms": 1}])");
  for (const auto* target : {"/api/smart?timeout=", "/api/smart?timeout=0", "/api/smart?timeout=-1",
                             "/api/smart?timeout=+5", "/api/smart?timeout=1.5",
                             "/api/smart?timeout=1e3", "/api/smart?timeout=%205",
                             "/api/smart?timeout=abc", "/api/smart?timeout=12345678901234567890",
                             "/api/smart?timeout=5&timeout=5", "/api/smart?timeout=60001"}) {
    const auto response = call(target);
    EXPECT_EQ(response.result_int(), 400) << target;
    EXPECT_EQ(json_of(response).at("error").at("code").as_string(), "invalid_timeout") << target;
  }
  EXPECT_EQ(upstream_counters().received, 0u);
}

TEST_F(GatewayTest, ABadRequestSaysNoAttemptWasMade) {
  start(R"([{"delay_ms": 1}])");
  const auto bad_timeout = call("/api/smart?timeout=abc");
  EXPECT_EQ(bad_timeout["X-Tailcut-Attempts"], "0");
  EXPECT_EQ(bad_timeout["X-Tailcut-Winner"], "none");
  // Not a URL at all (a raw byte over 0x7f): a malformed request, whatever
  // its timeout.
  const auto not_a_url = call("/api/smart?x=\xef\xbc\x91");
  EXPECT_EQ(not_a_url.result_int(), 400);
  EXPECT_EQ(json_of(not_a_url).at("error").at("code").as_string(), "bad_request");
  EXPECT_EQ(upstream_counters().received, 0u);
}

TEST_F(GatewayTest, UnknownPathsAre404AndWrongMethods405) {
  start(R"([{"delay_ms": 1}])");
  testing::ServerTestClient client{gateway_->port()};
  EXPECT_EQ(client.request("GET", "/nope").result_int(), 404);
  const auto wrong_method = client.request("POST", "/api/smart");
  EXPECT_EQ(wrong_method.result_int(), 405);
  EXPECT_NE(wrong_method[boost::beast::http::field::allow].find("GET"), std::string::npos);
  EXPECT_EQ(client.request("GET", "/healthz").result_int(), 200);
}

TEST_F(GatewayTest, MetricsCountCallsAttemptsAndWinners) {
  start(R"([{"delay_ms": 1}, {"delay_ms": 1, "status": 500}, {"delay_ms": 1}, {"delay_ms": 1}])");
  EXPECT_EQ(call("/api/smart?timeout=1000").result_int(), 200);
  EXPECT_EQ(call("/api/smart?timeout=1000").result_int(), 200);  // 500, then extras
  EXPECT_EQ(call("/api/smart?timeout=abc").result_int(), 400);
  const auto metrics = call("/metrics").body();
  EXPECT_NE(metrics.find(R"(tailcut_calls_total{outcome="success"} 2)"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(tailcut_calls_total{outcome="bad_request"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find("tailcut_attempts_total 4"), std::string::npos);
  EXPECT_NE(metrics.find("tailcut_hedges_total 2"), std::string::npos);
  EXPECT_NE(metrics.find(R"(tailcut_wins_total{attempt="1"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find("tailcut_calls_answered_late_total 0"), std::string::npos);
}

TEST_F(GatewayTest, ACallAnsweredAfterItsTimeoutIsCountedLate) {
  // 1 ms leaves no room for the deadline margin (at most half the timeout):
  // the answer to a hanging upstream is ready at the timeout, never before.
  start(R"([{"hang": true}])");
  EXPECT_EQ(call("/api/smart?timeout=1").result_int(), 504);
  const auto metrics = call("/metrics").body();
  EXPECT_NE(metrics.find("tailcut_calls_answered_late_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tailcut_call_lateness_seconds_count 1"), std::string::npos) << metrics;
}

TEST_F(GatewayTest, LateAnswersAreWarnedAboutAtMostOnceASecondPerWorker) {
  CapturedLog log;
  start(R"([{"hang": true}])");
  EXPECT_EQ(call("/api/smart?timeout=1").result_int(), 504);
  EXPECT_EQ(call("/api/smart?timeout=1").result_int(), 504);  // within the second: untold
  const auto metrics = call("/metrics").body();
  EXPECT_NE(metrics.find("tailcut_calls_answered_late_total 2"), std::string::npos) << metrics;
  // The servers' threads end before the log is read and the logger swapped back.
  gateway_->stop();
  gateway_.reset();
  upstream_->stop();
  upstream_.reset();
  const auto text = log.text();
  EXPECT_EQ(count_of(text, "answered late"), 1u) << text;
  EXPECT_NE(text.find("after its timeout of 1 ms"), std::string::npos) << text;
}

// A client's bytes are quoted in the log: a line feed in a bad timeout
// cannot end the call's line and forge another.
TEST_F(GatewayTest, ABadTimeoutIsLoggedOnOneLineWhateverItHolds) {
  CapturedLog log{spdlog::level::info};
  start(R"([{"delay_ms": 1}])");
  EXPECT_EQ(call("/api/smart?timeout=1%0a%5Berror%5D%20forged%22%00").result_int(), 400);
  gateway_->stop();
  gateway_.reset();
  upstream_->stop();
  upstream_.reset();
  const auto text = log.text();
  EXPECT_EQ(text.find("\n[error]"), std::string::npos) << text;
  EXPECT_EQ(text.find('\0'), std::string::npos) << text;
  EXPECT_NE(text.find(R"(timeout '1\x0a[error] forged\"\x00' is not valid)"), std::string::npos)
      << text;
}

// The gauge of worker 0's deadline margin, from the /metrics text.
double deadline_margin_seconds(const std::string& metrics) {
  const std::string name = R"(tailcut_deadline_margin_seconds{worker="0"} )";
  const auto at = metrics.find(name);
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + name.size()));
}

TEST_F(GatewayTest, TheDeadlineMarginFollowsTheLatenessOfDeadlineAnswers) {
  // A 2 ms timeout leaves room for a 1 ms margin only: the answer is aimed
  // 1 ms after the request arrived, and is ready some time after that
  // moment (a timer never fires early). That lateness is measured: the
  // margin is then the floor plus it, instead of the floor plus the
  // lateness assumed while none was measured.
  start(R"([{"hang": true}])");
  const double floor = 0.003;
  const double unmeasured = floor + 0.010;
  EXPECT_DOUBLE_EQ(deadline_margin_seconds(call("/metrics").body()), unmeasured);
  EXPECT_EQ(call("/api/smart?timeout=2").result_int(), 504);
  const double margin = deadline_margin_seconds(call("/metrics").body());
  EXPECT_GT(margin, floor);
  EXPECT_LE(margin, 0.050);
  EXPECT_NE(margin, unmeasured);
}

TEST_F(GatewayTest, ADeadlineMarginMaxEqualToTheMarginKeepsItFixed) {
  GatewayOptions options;
  options.deadline_margin_max = options.deadline_margin;
  start(R"([{"hang": true}])", options);
  EXPECT_EQ(call("/api/smart?timeout=2").result_int(), 504);
  EXPECT_DOUBLE_EQ(deadline_margin_seconds(call("/metrics").body()), 0.003);
}

TEST_F(GatewayTest, GracefulShutdownAnswersTheCallsInFlight) {
  start(R"([{"delay_ms": 300}])");
  testing::ServerTestClient client{gateway_->port()};
  client.send(testing::raw_request("GET", "/api/smart?timeout=5000"));
  // Wait until the call reached the upstream, then stop from another thread.
  const auto give_up = Clock::now() + 3s;
  while (upstream_counters().received == 0 && Clock::now() < give_up)
    std::this_thread::sleep_for(2ms);
  std::thread stopper{[this] { gateway_->stop(); }};
  const auto reply = client.read_response();
  stopper.join();
  ASSERT_TRUE(reply.response.has_value()) << reply.error.message();
  EXPECT_EQ(reply.response->result_int(), 200);
  EXPECT_FALSE(testing::ServerTestClient::can_connect(gateway_->port(), 500ms));
}

}  // namespace
}  // namespace tailcut::gateway
