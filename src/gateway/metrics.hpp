// The gateway's Prometheus metrics: calls by outcome, attempts and hedges,
// winners, cancellations, latency, late answers, and the upstream connection
// pools.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailcut/http/session.hpp"
#include "tailcut/policy/hedge.hpp"

namespace tailcut::gateway {

enum class CallOutcome { success, upstream_failed, deadline_exceeded, bad_request };

// The stable name of an outcome, as in metrics labels, logs and error codes.
std::string_view to_string(CallOutcome outcome) noexcept;

// Thread-safe: every worker records into the same metrics.
class Metrics {
 public:
  Metrics(std::size_t workers, std::size_t max_attempts);

  void record_call(CallOutcome outcome, std::chrono::steady_clock::duration elapsed);
  // A call whose answer was ready only after its timeout had passed.
  void record_late_answer();
  void record_hedge(const policy::HedgeResult<std::string>& result);
  // The pool of worker `worker`'s session, as of now (called on that worker).
  void record_pool(std::size_t worker, const http::PoolStats& pool);
  // How early worker `worker` aims its answers before their deadlines.
  void record_deadline_margin(std::size_t worker, std::chrono::steady_clock::duration margin);

  // The text exposition format, for GET /metrics.
  [[nodiscard]] std::string serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::array<prometheus::Counter*, 4> calls_by_outcome_{};
  prometheus::Counter& attempts_;
  prometheus::Counter& hedges_;
  prometheus::Counter& cancelled_;
  prometheus::Counter& budget_refusals_;
  prometheus::Counter& late_answers_;
  std::vector<prometheus::Counter*> wins_by_attempt_;  // [0] is attempt 1
  prometheus::Histogram& call_seconds_;
  prometheus::Histogram& attempt_seconds_;
  std::vector<prometheus::Gauge*> pool_idle_;
  std::vector<prometheus::Gauge*> pool_in_use_;
  std::vector<prometheus::Gauge*> pool_opened_;
  std::vector<prometheus::Gauge*> deadline_margin_;
};

}  // namespace tailcut::gateway
