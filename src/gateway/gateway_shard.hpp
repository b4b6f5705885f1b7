// GatewayShard: everything one worker of the gateway owns — its upstream
// session, replica set, hedge delay, deadline margin, hedge budget, log
// limits and metrics shard —
// in one object, made for the worker by the server's router factory and
// used only on that worker's thread, so nothing in it is locked.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gateway/deadline_margin.hpp"
#include "gateway/gateway_options.hpp"
#include "gateway/log_line_limit.hpp"
#include "gateway/metrics.hpp"
#include "tailcut/http/body_budget.hpp"
#include "tailcut/http/session.hpp"
#include "tailcut/policy/hedge.hpp"
#include "tailcut/policy/hedge_budget.hpp"
#include "tailcut/policy/hedge_delay.hpp"
#include "tailcut/policy/replica_set.hpp"

namespace tailcut::gateway {

class GatewayShard {
 public:
  // `options`, `upstream_urls` (one or more replicas) and `upstream_buffer`
  // (shared by every worker) outlive the shard; `executor` is the worker's,
  // `worker` its number.
  GatewayShard(const GatewayOptions& options, const std::vector<std::string>& upstream_urls,
               boost::asio::any_io_executor executor, std::size_t worker, MetricsShard& metrics,
               http::BodyBudget& upstream_buffer);
  GatewayShard(const GatewayShard&) = delete;
  GatewayShard& operator=(const GatewayShard&) = delete;

  [[nodiscard]] const GatewayOptions& options() const noexcept { return options_; }
  [[nodiscard]] http::Session& session() noexcept { return session_; }
  [[nodiscard]] MetricsShard& metrics() noexcept { return metrics_; }
  // The upstream bodies buffered at once, over all workers.
  [[nodiscard]] http::BodyBudget& upstream_buffer() noexcept { return upstream_buffer_; }
  [[nodiscard]] DeadlineMargin& deadline_margin() noexcept { return margin_; }
  // Null when --hedge-budget is 0 (no cap). Per worker, not shared: one
  // bucket for all would be a cache line every worker writes on every
  // call. Each worker's extra attempts stay within the percentage of its
  // own first attempts, so the sum does too; only the burst (the bucket's
  // size, which follows the worker's call rate with --hedge-delay auto) is
  // per worker.
  [[nodiscard]] policy::HedgeBudget* hedge_budget() noexcept {
    return budget_ ? &*budget_ : nullptr;
  }
  // When the calls' extra attempts are fired: the fixed --hedge-delay, or
  // this worker's adaptive delay.
  [[nodiscard]] policy::HedgeDelayPolicy hedge_delay() noexcept;
  [[nodiscard]] const policy::AdaptiveHedgeDelay* adaptive_delay() const noexcept {
    return adaptive_delay_ ? &*adaptive_delay_ : nullptr;
  }
  // Null with a single upstream: its attempts need no choice.
  [[nodiscard]] policy::ReplicaSet* replicas() noexcept {
    return replicas_ ? &*replicas_ : nullptr;
  }
  [[nodiscard]] const std::vector<std::string>& upstream_urls() const noexcept {
    return upstream_urls_;
  }
  // Warnings of calls answered after their timeout.
  [[nodiscard]] LogLineLimit& late_answer_log() noexcept { return late_answer_log_; }
  // Lines of calls refused as bad requests (400): a client can send any
  // number of them.
  [[nodiscard]] LogLineLimit& bad_request_log() noexcept { return bad_request_log_; }

  // The request of one attempt, its body charged to `charge`. Built in
  // place of the previous attempt's: the session reads it before request()
  // returns, and reusing its strings' memory saves allocations on every call.
  const http::RequestOptions& attempt_request(const policy::AttemptContext& context,
                                              http::BodyCharge& charge);

  // Brings this worker's gauges in the metrics up to date: its pool, its
  // hedge delay, its replicas' ejections.
  void report_gauges();
  // The replicas' names (host:port), for log lines; empty with one upstream.
  [[nodiscard]] const std::vector<std::string>& replica_names() const noexcept {
    return replica_names_;
  }

 private:
  const GatewayOptions& options_;
  const std::vector<std::string>& upstream_urls_;
  http::Session session_;
  MetricsShard& metrics_;
  http::BodyBudget& upstream_buffer_;
  DeadlineMargin margin_;
  std::optional<policy::HedgeBudget> budget_;
  std::optional<policy::AdaptiveHedgeDelay> adaptive_delay_;
  std::optional<policy::ReplicaSet> replicas_;
  std::vector<std::string> replica_names_;
  LogLineLimit late_answer_log_;
  LogLineLimit bad_request_log_;
  http::RequestOptions attempt_request_;
  std::size_t attempt_replica_ = 0;  // whose URL attempt_request_ holds
};

}  // namespace tailcut::gateway
