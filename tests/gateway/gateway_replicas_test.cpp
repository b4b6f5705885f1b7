// tailcut serve in front of several replicas, and with an adaptive hedge
// delay: scripted simulators, the gateway and a client, all on 127.0.0.1
// with ports picked by the system.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/gateway.hpp"
#include "support/server_test_client.hpp"
#include "tailcut/http/server.hpp"
#include "upstream/simulator.hpp"

namespace tailcut::gateway {
namespace {

using namespace std::chrono_literals;

// A scripted simulator on a port of its own.
struct Replica {
  explicit Replica(std::string_view script) {
    upstream::SimulatorOptions options;
    options.script = upstream::parse_script(script);
    simulator = std::make_shared<upstream::Simulator>(options);
    http::Router routes;
    upstream::add_routes(routes, simulator);
    http::ServerOptions server_options;
    server_options.threads = 1;
    server_options.shutdown_grace = 100ms;
    server = std::make_unique<http::Server>(server_options, std::move(routes));
    server->start();
  }
  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + "/api/work";
  }
  std::shared_ptr<upstream::Simulator> simulator;
  std::unique_ptr<http::Server> server;
};

constexpr std::string_view fast = R"([{"delay_ms": 1}])";
constexpr std::string_view failing = R"([{"delay_ms": 1, "status": 500, "body": "{}"}])";

TEST(GatewayReplicas, CallsSucceedAndLeaveAFailingReplica) {
  Replica broken{failing};
  Replica first{fast};
  Replica second{fast};
  GatewayOptions options;
  options.upstream_urls = {broken.url(), first.url(), second.url()};
  options.server.threads = 1;
  Gateway gateway{options};
  gateway.start();
  testing::ServerTestClient client{gateway.port()};
  constexpr int calls = 60;
  for (int call = 0; call < calls; ++call) {
    const auto response = client.request("GET", "/api/smart?timeout=2000");
    ASSERT_EQ(response.result_int(), 200) << response.body();
  }
  // The ledger names each replica.
  const auto metrics = client.request("GET", "/metrics").body();
  const std::string broken_name = "127.0.0.1:" + std::to_string(broken.server->port());
  EXPECT_NE(metrics.find("tailcut_replica_attempts_total{replica=\"" + broken_name +
                         "\",result=\"failed\"}"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("tailcut_hedge_delay_seconds{worker=\"0\"} 0.3"), std::string::npos);
  gateway.stop();
  const auto to_broken = broken.simulator->counters().received;
  EXPECT_LE(to_broken, 6U) << "a replica failing at once kept getting attempts";
  // Every call was answered by a healthy replica.
  EXPECT_GE(first.simulator->counters().received + second.simulator->counters().received,
            static_cast<std::uint64_t>(calls));
}

TEST(GatewayReplicas, AnExtraAttemptGoesToAnotherReplica) {
  Replica slow{R"([{"delay_ms": 3000}])"};
  Replica other{R"([{"delay_ms": 3000}])"};
  GatewayOptions options;
  options.upstream_urls = {slow.url(), other.url()};
  options.hedge_delay = 20ms;
  options.hedge_count = 1;
  options.server.threads = 1;
  Gateway gateway{options};
  gateway.start();
  testing::ServerTestClient client{gateway.port()};
  const auto response = client.request("GET", "/api/smart?timeout=200");
  EXPECT_EQ(response.result_int(), 504);
  EXPECT_EQ(response["X-Tailcut-Attempts"], "2");
  gateway.stop();
  EXPECT_EQ(slow.simulator->counters().received, 1U);
  EXPECT_EQ(other.simulator->counters().received, 1U);
}

TEST(GatewayReplicas, AnAdaptiveDelayAnswersLikeAFixedOne) {
  Replica upstream{fast};
  GatewayOptions options;
  options.upstream_urls = {upstream.url()};
  options.adaptive_hedge_delay = true;
  options.server.threads = 1;
  Gateway gateway{options};
  gateway.start();
  testing::ServerTestClient client{gateway.port()};
  for (int call = 0; call < 150; ++call) {
    const auto response = client.request("GET", "/api/smart?timeout=2000");
    ASSERT_EQ(response.result_int(), 200) << response.body();
  }
  gateway.stop();
  // At most the budget's 5 % of calls, plus its burst, fired extra attempts.
  EXPECT_LE(upstream.simulator->counters().received, 150U + 150U / 20 + 10U);
}

}  // namespace
}  // namespace tailcut::gateway
