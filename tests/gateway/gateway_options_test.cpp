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
  options.upstream_url = "ftp://example.com/";
  EXPECT_EQ(problem(options).rfind("--upstream: ", 0), 0u) << problem(options);
  options.upstream_url = "http://127.0.0.1:9/api/work";
  EXPECT_EQ(problem(options), "");
}

}  // namespace
}  // namespace tailcut::gateway
