// validate(GatewayOptions): the ranges of serve's options, each reported
// under the flag that sets it.
#include "gateway/gateway_options.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tailcut/http/client_error.hpp"
#include "tailcut/http/url.hpp"

namespace tailcut::gateway {

namespace {

void require(bool holds, const char* flag, const std::string& what) {
  if (!holds) throw std::invalid_argument{std::string{flag} + " " + what};
}

std::string ms(std::chrono::milliseconds duration) {
  return std::to_string(duration.count()) + "ms";
}

// Checked at start-up with the client's own parser: a URL it rejects would
// otherwise only show as a 502 for every call. Replicas serve one service:
// they may differ in host and port only.
void validate_upstream_urls(const std::vector<std::string>& urls) {
  std::vector<http::HttpUrl> parsed;
  for (const auto& url : urls) {
    try {
      parsed.push_back(http::parse_http_url(url));
    } catch (const http::ClientError& error) {
      throw std::invalid_argument{std::string{"--upstream: "} + error.what()};
    }
  }
  for (std::size_t i = 1; i < parsed.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      require(parsed[i].origin != parsed[j].origin, "--upstream",
              "names the replica " + parsed[i].origin.authority() + " twice");
    }
    require(
        parsed[i].origin.scheme == parsed[0].origin.scheme && parsed[i].target == parsed[0].target,
        "--upstream",
        "replicas may differ only in host and port (the same scheme, path and query): '" + urls[i] +
            "' and '" + urls[0] + "'");
  }
}

void validate_hedge_delay(const GatewayOptions& options) {
  using std::chrono::milliseconds;
  require(options.hedge_delay >= milliseconds::zero(), "--hedge-delay", "must not be negative");
  require(options.hedge_delay_min >= milliseconds::zero(), "--hedge-delay-min",
          "must not be negative");
  require(options.hedge_delay_max >= options.hedge_delay_min, "--hedge-delay-max",
          "(" + ms(options.hedge_delay_max) + ") must be at least --hedge-delay-min (" +
              ms(options.hedge_delay_min) + ")");
  if (options.hedge_budget_percent) {
    require(*options.hedge_budget_percent >= 0, "--hedge-budget",
            "must not be negative (0: no cap)");
  }
  require(!options.adaptive_hedge_delay || options.effective_hedge_budget_percent() > 0,
          "--hedge-delay auto",
          "needs a hedge budget above 0: the delay is chosen to spend it (--hedge-budget, 5 by "
          "default with auto)");
  require(!options.adaptive_hedge_delay || options.hedge_count > 0, "--hedge-delay auto",
          "needs --hedge-count of at least 1");
}

void validate_server(const http::ServerOptions& server) {
  using std::chrono::milliseconds;
  require(server.threads >= 1, "--threads", "must be at least 1");
  require(server.max_connections >= 1, "--max-connections", "must be at least 1");
  require(server.max_header_bytes >= 1 && server.max_header_bytes <= UINT32_MAX,
          "--max-header-bytes", "must be in 1..4294967295");
  require(server.max_body_bytes >= 1, "--max-body-bytes", "must be at least 1");
  require(server.idle_timeout > milliseconds::zero(), "--idle-timeout", "must be more than 0");
  require(server.header_timeout > milliseconds::zero(), "--header-timeout", "must be more than 0");
  require(server.shutdown_grace >= milliseconds::zero(), "--shutdown-grace",
          "must not be negative");
}

}  // namespace

std::string replica_name(const std::string& url) {
  return http::parse_http_url(url).origin.authority();
}

void validate(const GatewayOptions& options) {
  using std::chrono::milliseconds;
  validate_upstream_urls(options.upstream_urls);
  validate_hedge_delay(options);
  require(options.hedge_count <= GatewayOptions::max_hedge_count, "--hedge-count",
          "must be at most " + std::to_string(GatewayOptions::max_hedge_count));
  require(options.max_timeout >= milliseconds{1}, "--max-timeout", "must be at least 1ms");
  require(options.max_timeout <= GatewayOptions::longest_max_timeout, "--max-timeout",
          "must be at most " + ms(GatewayOptions::longest_max_timeout) + " (60m)");
  require(options.max_wait >= milliseconds{1}, "--max-wait", "must be at least 1ms");
  require(options.timeout_status >= 400 && options.timeout_status <= 599, "--timeout-status",
          "must be an HTTP error status (400-599)");
  require(options.deadline_margin >= milliseconds::zero(), "--deadline-margin",
          "must not be negative");
  require(options.deadline_margin_max >= options.deadline_margin, "--deadline-margin-max",
          "(" + ms(options.deadline_margin_max) + ") must be at least --deadline-margin (" +
              ms(options.deadline_margin) + ")");
  require(options.client.connection_limit >= 1, "--upstream-connections", "must be at least 1");
  require(options.upstream_max_body_bytes >= 1, "--upstream-max-body-bytes", "must be at least 1");
  require(options.upstream_buffer_bytes >= options.upstream_max_body_bytes,
          "--upstream-buffer-bytes",
          "(" + std::to_string(options.upstream_buffer_bytes) +
              ") must be at least --upstream-max-body-bytes (" +
              std::to_string(options.upstream_max_body_bytes) + ")");
  validate_server(options.server);
}

}  // namespace tailcut::gateway
