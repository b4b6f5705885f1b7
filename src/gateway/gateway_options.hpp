// GatewayOptions: everything `tailcut serve` can be told, in one struct that
// the command line fills and the gateway reads. Its defaults are the flags'
// defaults, and validate() is the one check of them.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tailcut/http/server_options.hpp"
#include "tailcut/http/session_options.hpp"
#include "tailcut/policy/hedge.hpp"

namespace tailcut::gateway {

struct GatewayOptions {
  // The most extra attempts one call may fire.
  static constexpr std::size_t max_hedge_count = 16;
  // The largest accepted max_timeout: an hour is already far beyond a call
  // anyone waits for.
  static constexpr std::chrono::milliseconds longest_max_timeout = std::chrono::minutes{60};

  // The budget an adaptive hedge delay aims at when none is given.
  static constexpr double adaptive_hedge_budget_percent = 5;

  // http:// or https:// URL of the upstream's work endpoint, or of each of
  // its replicas: they differ only in host and port. Empty: start the
  // simulator in-process and use it.
  std::vector<std::string> upstream_urls;
  // The fixed hedge delay; with adaptive_hedge_delay, the one used until
  // the latency window holds enough samples.
  std::chrono::milliseconds hedge_delay{300};
  // --hedge-delay auto: the delay is the upstream's recent latency quantile
  // that spends the hedge budget (policy::AdaptiveHedgeDelay), within
  // [hedge_delay_min, hedge_delay_max].
  bool adaptive_hedge_delay = false;
  std::chrono::milliseconds hedge_delay_min{1};
  std::chrono::milliseconds hedge_delay_max{1000};
  std::size_t hedge_count = 2;  // extra attempts fired at the hedge delay
  policy::HedgeOnFailure hedge_on_failure = policy::HedgeOnFailure::immediate;
  // Extra attempts allowed per 100 first attempts (a token bucket); 0: no
  // cap. Negative is an error. Unset: no cap with a fixed delay,
  // adaptive_hedge_budget_percent with an adaptive one.
  std::optional<double> hedge_budget_percent;
  [[nodiscard]] double effective_hedge_budget_percent() const noexcept {
    return hedge_budget_percent.value_or(adaptive_hedge_delay ? adaptive_hedge_budget_percent : 0);
  }
  std::chrono::milliseconds max_timeout{60'000};
  std::chrono::milliseconds max_wait{30'000};  // bound of calls without timeout
  unsigned timeout_status = 504;               // or 408, as some clients expect
  // The answer is aimed this much before the deadline, so that it arrives
  // in time; never more than half the timeout. On top of it goes the recent
  // peak of how late the hedge's timers ran (DeadlineMargin), up to
  // deadline_margin_max.
  std::chrono::milliseconds deadline_margin{3};
  std::chrono::milliseconds deadline_margin_max{50};
  // A 502's body names each attempt's upstream and the address it failed
  // on. Off: it says what failed without them (the log line keeps them),
  // since they tell a client about the network behind the gateway.
  bool expose_upstream_errors = false;
  // The upstream response bodies buffered at once, over all workers. An
  // attempt whose body would pass it fails at once as too large (its call
  // hedges on, or answers 502 saying so) rather than waiting for room: a
  // wait would hold its connection and deadline on memory that other calls
  // free at their own pace. The default holds 32 bodies of the largest size.
  std::size_t upstream_buffer_bytes = 256 * std::size_t{1024 * 1024};
  // The largest upstream response body one attempt accepts.
  std::size_t upstream_max_body_bytes = http::default_max_body_bytes;
  http::ServerOptions server;
  http::SessionOptions client;
};

// The name of the replica at `url` (host:port), for metrics and logs.
// `url` must be valid (validate() checks them).
[[nodiscard]] std::string replica_name(const std::string& url);

// Throws std::invalid_argument naming the `tailcut serve` flag of the first
// option out of range, and what it must be. The server's own options
// (listen address aside) are checked here too, under their flags' names.
void validate(const GatewayOptions& options);

}  // namespace tailcut::gateway
