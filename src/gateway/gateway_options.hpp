// GatewayOptions: everything `tailcut serve` can be told, in one struct that
// the command line fills and the gateway reads.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "tailcut/http/server_options.hpp"
#include "tailcut/http/session_options.hpp"
#include "tailcut/policy/hedge.hpp"

namespace tailcut::gateway {

struct GatewayOptions {
  // http:// or https:// URL of the upstream's work endpoint; empty: start the
  // simulator in-process and use it.
  std::string upstream_url;
  std::chrono::milliseconds hedge_delay{300};
  std::size_t hedge_count = 2;  // extra attempts fired at the hedge delay
  policy::HedgeOnFailure hedge_on_failure = policy::HedgeOnFailure::immediate;
  std::optional<double> hedge_budget_percent;  // unset: no cap on extra attempts
  std::chrono::milliseconds max_timeout{60'000};
  std::chrono::milliseconds max_wait{30'000};  // bound of calls without timeout
  unsigned timeout_status = 504;               // or 408, the seeds' status
  // The answer is aimed this much before the deadline, so that it arrives
  // in time; never more than half the timeout. On top of it goes the recent
  // peak of how late the hedge's timers ran (DeadlineMargin), up to
  // deadline_margin_max.
  std::chrono::milliseconds deadline_margin{3};
  std::chrono::milliseconds deadline_margin_max{50};
  http::ServerOptions server;
  http::SessionOptions client;
};

}  // namespace tailcut::gateway
