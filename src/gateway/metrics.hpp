// The gateway's Prometheus metrics: calls by outcome, attempts and hedges,
// winners, cancellations, latency, late answers, and the upstream connection
// pools.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
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

// Thread-safe. Every call's counts and latencies go into its worker's own
// shard, without a lock and without sharing a cache line with another
// worker (as Envoy's thread-local stats); serialize() sums the shards. The
// pool's gauges and counter and the margin gauge are prometheus-cpp's, one
// per worker.
class Metrics {
 public:
  Metrics(std::size_t workers, std::size_t max_attempts);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The record_* calls of worker `worker` run on that worker's thread.
  void record_call(std::size_t worker, CallOutcome outcome,
                   std::chrono::steady_clock::duration elapsed);
  // A call whose answer was ready only after its timeout had passed.
  void record_late_answer(std::size_t worker);
  void record_hedge(std::size_t worker, const policy::HedgeResult<std::string>& result);
  // The pool of worker `worker`'s session, as of now. Called when /metrics
  // is served (the gateway visits each worker for it), so that the gauges
  // are current even when no call has ended for a while.
  void record_pool(std::size_t worker, const http::PoolStats& pool);
  // How early worker `worker` aims its answers before their deadlines.
  void record_deadline_margin(std::size_t worker, std::chrono::steady_clock::duration margin);

  // The text exposition format, for GET /metrics (from any thread).
  [[nodiscard]] std::string serialize() const;

 private:
  class Shard;

  std::size_t max_attempts_;
  std::vector<std::unique_ptr<Shard>> shards_;  // [worker]
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<prometheus::Gauge*> pool_idle_;
  std::vector<prometheus::Gauge*> pool_in_use_;
  std::vector<prometheus::Gauge*> pool_waiting_;
  std::vector<prometheus::Counter*> connections_opened_;
  std::vector<std::uint64_t> connections_opened_counted_;  // [worker], on its thread
  std::vector<prometheus::Gauge*> deadline_margin_;
};

}  // namespace tailcut::gateway
