// What the gateway tells clients and operators when things go wrong: 502s
// without internal addresses, a 503 to the calls a shutdown cuts short,
// refused connections counted and logged, attempts of abandoned calls
// counted, and client text in the log capped and rate-limited.
#include <string>
#include <thread>

#include "gateway_fixture.hpp"
#include "support/client_test_server.hpp"

namespace tailcut::gateway {
namespace {

using namespace test_support;

// GET /api/smart through a gateway whose upstream refuses connections; the
// port refused is `refused_port`.
http::Response call_refused_upstream(bool expose_upstream_errors, std::uint16_t& refused_port) {
  refused_port = test::closed_port();
  GatewayOptions options;
  options.upstream_urls = {"http://127.0.0.1:" + std::to_string(refused_port) + "/api/work"};
  options.server.threads = 1;
  options.expose_upstream_errors = expose_upstream_errors;
  Gateway gateway{options};
  gateway.start();
  testing::ServerTestClient client{gateway.port()};
  auto response = client.request("GET", "/api/smart?timeout=5000");
  gateway.stop();
  return response;
}

TEST(GatewayUpstreamErrors, A502SaysWhatFailedWithoutTheUpstreamsAddress) {
  std::uint16_t port = 0;
  const auto response = call_refused_upstream(false, port);
  ASSERT_EQ(response.result_int(), 502);
  EXPECT_EQ(response.body().find("127.0.0.1"), std::string::npos) << response.body();
  EXPECT_EQ(response.body().find(std::to_string(port)), std::string::npos) << response.body();
  const auto body = json_of(response);
  for (const auto& attempt : body.at("error").at("attempts").as_array()) {
    EXPECT_EQ(attempt.at("reason").as_string(),
              "connect_refused: the upstream refused the connection")
        << attempt;
  }
}

TEST(GatewayUpstreamErrors, ExposedUpstreamErrorsNameTheAddress) {
  std::uint16_t port = 0;
  const auto response = call_refused_upstream(true, port);
  ASSERT_EQ(response.result_int(), 502);
  EXPECT_NE(response.body().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << response.body();
}

TEST_F(GatewayTest, ACallTheShutdownGraceCutsShortIsAnswered503) {
  GatewayOptions options;
  options.server.shutdown_grace = 100ms;
  start(R"([{"hang": true}])", options);
  testing::ServerTestClient client{gateway_->port()};
  client.send(testing::raw_request("GET", "/api/smart?timeout=5000"));
  wait_for_upstream([this] { return upstream_counters().received == 1; });
  ASSERT_EQ(upstream_counters().received, 1u);
  std::thread stopper{[this] { gateway_->stop(); }};
  const auto reply = client.read_response();
  stopper.join();
  ASSERT_TRUE(reply.response.has_value()) << reply.error.message();
  EXPECT_EQ(reply.response->result_int(), 503);
  EXPECT_EQ((*reply.response)[boost::beast::http::field::connection], "close");
  const auto body = json_of(*reply.response);
  EXPECT_EQ(body.at("success").as_bool(), false);
  EXPECT_EQ(body.at("error").at("code").as_string(), "shutting_down");
}

TEST_F(GatewayTest, ConnectionsOverTheLimitAreCountedAndLoggedOnceASecond) {
  CapturedLog log;
  GatewayOptions options;
  options.server.max_connections = 1;
  start(R"([{"delay_ms": 1}])", options);
  testing::ServerTestClient admitted{gateway_->port()};
  ASSERT_EQ(admitted.request("GET", "/healthz").result_int(), 200);
  for (int refused = 0; refused < 3; ++refused) {
    testing::ServerTestClient client{gateway_->port()};
    EXPECT_TRUE(client.wait_for_close(2000ms).has_value());
  }
  const auto metrics = admitted.request("GET", "/metrics").body();
  EXPECT_NE(metrics.find("\ntailcut_connections_rejected_total 3\n"), std::string::npos) << metrics;
  gateway_->stop();
  gateway_.reset();
  upstream_->stop();
  upstream_.reset();
  const auto text = log.text();
  EXPECT_EQ(count_of(text, "max_connections"), 1u) << text;
}

// The counter of attempts, from the /metrics text; -1 if missing.
long attempts_total(const std::string& metrics) {
  const std::string name = "\ntailcut_attempts_total ";
  const auto at = metrics.find(name);
  return at == std::string::npos ? -1 : std::stol(metrics.substr(at + name.size()));
}

TEST_F(GatewayTest, TheAttemptsOfACallWhoseClientLeftAreCounted) {
  start(R"([{"delay_ms": 3000}, {"delay_ms": 3000}, {"delay_ms": 3000}])");
  {
    testing::ServerTestClient leaving{gateway_->port()};
    leaving.send(testing::raw_request("GET", "/api/smart?timeout=5000"));
    wait_for_upstream([this] { return upstream_counters().received == 3; });
    ASSERT_EQ(upstream_counters().received, 3u);
  }  // the client closes its connection
  const auto give_up = Clock::now() + 2s;
  long counted = attempts_total(call("/metrics").body());
  while (counted != 3 && Clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
    counted = attempts_total(call("/metrics").body());
  }
  EXPECT_EQ(counted, 3);
}

TEST_F(GatewayTest, ALongBadTimeoutIsLoggedCutAndBadCallsOnceASecond) {
  CapturedLog log{spdlog::level::info};
  start(R"([{"delay_ms": 1}])");
  const std::string long_timeout(15'000, '7');
  EXPECT_EQ(call("/api/smart?timeout=x" + long_timeout).result_int(), 400);
  EXPECT_EQ(call("/api/smart?timeout=abc").result_int(), 400);  // within the second: untold
  gateway_->stop();
  gateway_.reset();
  upstream_->stop();
  upstream_.reset();
  const auto text = log.text();
  EXPECT_EQ(count_of(text, "outcome=bad_request"), 1u) << text;
  EXPECT_LT(text.size(), 1000u) << text;
  EXPECT_NE(text.find("...(+"), std::string::npos) << text;
}

}  // namespace
}  // namespace tailcut::gateway
