// validate(GatewayOptions): each option out of range is named by its flag;
// the defaults pass.
#include "gateway/gateway_options.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>

namespace tailcut::gateway {
namespace {

using namespace std::chrono_literals;

// The message of validate's exception; empty when the options pass.
std::string problem(const GatewayOptions& options) {
  try {
    validate(options);
    return {};
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
}

TEST(GatewayOptionsTest, DefaultsPass) { EXPECT_EQ(problem(GatewayOptions{}), ""); }

TEST(GatewayOptionsTest, ANegativeHedgeBudgetIsAnErrorAndZeroMeansNoCap) {
  GatewayOptions options;
  options.hedge_budget_percent = -1;
  EXPECT_EQ(problem(options), "--hedge-budget must not be negative (0: no cap)");
  options.hedge_budget_percent = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(problem(options), "--hedge-budget must not be negative (0: no cap)");
  options.hedge_budget_percent = 0;
  EXPECT_EQ(problem(options), "");
  options.hedge_budget_percent = 5;
  EXPECT_EQ(problem(options), "");
}

TEST(GatewayOptionsTest, TimingsOutOfRangeNameTheirFlags) {
  GatewayOptions options;
  options.hedge_delay = -1ms;
  EXPECT_EQ(problem(options), "--hedge-delay must not be negative");
  options = {};
  options.max_timeout = 0ms;
  EXPECT_EQ(problem(options), "--max-timeout must be at least 1ms");
  options.max_timeout = 61min;
  EXPECT_EQ(problem(options), "--max-timeout must be at most 3600000ms (60m)");
  options = {};
  options.max_wait = 0ms;
  EXPECT_EQ(problem(options), "--max-wait must be at least 1ms");
  options = {};
  options.deadline_margin = 10ms;
  options.deadline_margin_max = 5ms;
  EXPECT_EQ(problem(options),
            "--deadline-margin-max (5ms) must be at least --deadline-margin (10ms)");
  options = {};
  options.deadline_margin = -1ms;
  options.deadline_margin_max = -1ms;
  EXPECT_EQ(problem(options), "--deadline-margin must not be negative");
}

TEST(GatewayOptionsTest, CountsAndStatusOutOfRangeNameTheirFlags) {
  GatewayOptions options;
  options.hedge_count = GatewayOptions::max_hedge_count + 1;
  EXPECT_EQ(problem(options), "--hedge-count must be at most 16");
  options = {};
  options.timeout_status = 200;
  EXPECT_EQ(problem(options), "--timeout-status must be an HTTP error status (400-599)");
  options = {};
  options.client.connection_limit = 0;
  EXPECT_EQ(problem(options), "--upstream-connections must be at least 1");
}

TEST(GatewayOptionsTest, ServerOptionsAreCheckedUnderTheirFlags) {
  GatewayOptions options;
  options.server.threads = 0;
  EXPECT_EQ(problem(options), "--threads must be at least 1");
  options = {};
  options.server.max_connections = 0;
  EXPECT_EQ(problem(options), "--max-connections must be at least 1");
  options = {};
  options.server.idle_timeout = 0ms;
  EXPECT_EQ(problem(options), "--idle-timeout must be more than 0");
  options = {};
  options.server.shutdown_grace = -1ms;
  EXPECT_EQ(problem(options), "--shutdown-grace must not be negative");
}

TEST(GatewayOptionsTest, AnUpstreamUrlTheClientRejectsIsAnError) {
  GatewayOptions options;
  options.upstream_urls = {"ftp://example.com/"};
  EXPECT_EQ(problem(options).rfind("--upstream: ", 0), 0u) << problem(options);
  options.upstream_urls = {"http://127.0.0.1:9/api/work"};
  EXPECT_EQ(problem(options), "");
}

TEST(GatewayOptionsTest, ReplicasMayDifferOnlyInHostAndPort) {
  GatewayOptions options;
  options.upstream_urls = {"http://10.0.0.1:8081/api/work", "http://10.0.0.2:8081/api/work"};
  EXPECT_EQ(problem(options), "");
  options.upstream_urls = {"http://10.0.0.1:8081/api/work", "http://10.0.0.1:8081/api/work"};
  EXPECT_EQ(problem(options), "--upstream names the replica 10.0.0.1:8081 twice");
  options.upstream_urls = {"http://a:8081/api/work", "https://b:8081/api/work"};
  EXPECT_EQ(problem(options),
            "--upstream replicas may differ only in host and port (the same scheme, path and "
            "query): 'https://b:8081/api/work' and 'http://a:8081/api/work'");
  options.upstream_urls = {"http://a:8081/api/work", "http://b:8081/api/other"};
  EXPECT_NE(problem(options).find("may differ only in host and port"), std::string::npos);
}

TEST(GatewayOptionsTest, AnAdaptiveDelayNeedsABudgetAndOrderedBounds) {
  GatewayOptions options;
  options.adaptive_hedge_delay = true;
  EXPECT_EQ(problem(options), "");
  EXPECT_EQ(options.effective_hedge_budget_percent(),
            GatewayOptions::adaptive_hedge_budget_percent);
  options.hedge_budget_percent = 0;
  EXPECT_EQ(problem(options),
            "--hedge-delay auto needs a hedge budget above 0: the delay is chosen to spend it "
            "(--hedge-budget, 5 by default with auto)");
  options = {};
  options.hedge_delay_min = 50ms;
  options.hedge_delay_max = 20ms;
  EXPECT_EQ(problem(options), "--hedge-delay-max (20ms) must be at least --hedge-delay-min (50ms)");
  options = {};
  EXPECT_EQ(options.effective_hedge_budget_percent(), 0) << "no cap with a fixed delay";
}

}  // namespace
}  // namespace tailcut::gateway
