// The gateway's Prometheus metrics: calls by outcome, attempts and hedges,
// winners, cancellations, latency, late answers, the upstream connection
// pools, and the ledger of what hedging bought (hedges won, attempts and
// ejections by replica, the current hedge delay).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tailcut/http/session.hpp"
#include "tailcut/policy/hedge.hpp"

namespace tailcut::gateway {

enum class CallOutcome { success, upstream_failed, deadline_exceeded, bad_request };

// The stable name of an outcome, as in metrics labels, logs and error codes.
std::string_view to_string(CallOutcome outcome) noexcept;

// One worker's metrics: its calls' counts and latencies, on cache lines of
// their own and without a lock (as Envoy's thread-local stats), and its
// per-worker gauges. Made by Metrics::add_shard; its record_* calls run on
// its worker's thread only.
class MetricsShard {
 public:
  ~MetricsShard();
  MetricsShard(const MetricsShard&) = delete;
  MetricsShard& operator=(const MetricsShard&) = delete;

  void record_call(CallOutcome outcome, std::chrono::steady_clock::duration elapsed);
  // A call whose answer was ready only `late_by` after its timeout.
  void record_late_answer(std::chrono::steady_clock::duration late_by);
  void record_hedge(const policy::HedgeResult<std::string>& result);
  // The pool of the worker's session, as of now. Called when /metrics is
  // served (the gateway visits each worker for it), so that the gauges are
  // current even when no call has ended for a while.
  void record_pool(const http::PoolStats& pool);
  // How early the worker aims its answers before their deadlines.
  void record_deadline_margin(std::chrono::steady_clock::duration margin);
  // The worker's hedge delay and each replica's ejections so far, as of
  // now (when /metrics is served, like the pool).
  void record_upstreams(std::chrono::steady_clock::duration hedge_delay,
                        std::span<const std::uint64_t> ejections);

 private:
  friend class Metrics;
  struct Counts;  // read by Metrics::serialize from any thread
  struct Gauges {
    prometheus::Gauge* pool_idle;
    prometheus::Gauge* pool_in_use;
    prometheus::Gauge* pool_waiting;
    prometheus::Counter* connections_opened;
    prometheus::Gauge* deadline_margin;
    prometheus::Gauge* hedge_delay;
  };
  MetricsShard(std::size_t max_attempts, std::size_t replicas, Gauges gauges);

  std::unique_ptr<Counts> counts_;
  Gauges gauges_;
  std::uint64_t connections_opened_counted_ = 0;
};

// The gateway's metrics: the shards of its workers, summed when served.
class Metrics {
 public:
  // `replicas`: the names of the upstream's replicas (host:port), as
  // labels; attempts carry their index (AttemptRecord::replica).
  explicit Metrics(std::size_t max_attempts, std::vector<std::string> replicas = {});
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A new shard for worker `worker` (its label on the per-worker gauges),
  // owned by this object. Not thread-safe: the shards are made before the
  // workers run (the server's router factory).
  MetricsShard& add_shard(std::size_t worker);

  // The server's count of connections refused at --max-connections, as of
  // now (fed when /metrics is served; from any thread).
  void record_connections_rejected(std::uint64_t total) noexcept;

  // The text exposition format, for GET /metrics (from any thread).
  [[nodiscard]] std::string serialize() const;

 private:
  void add_ledger(std::vector<prometheus::MetricFamily>& families) const;

  std::size_t max_attempts_;
  std::vector<std::string> replicas_;
  std::vector<std::unique_ptr<MetricsShard>> shards_;
  std::atomic<std::uint64_t> connections_rejected_{0};
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>* pool_idle_;
  prometheus::Family<prometheus::Gauge>* pool_in_use_;
  prometheus::Family<prometheus::Gauge>* pool_waiting_;
  prometheus::Family<prometheus::Counter>* connections_opened_;
  prometheus::Family<prometheus::Gauge>* deadline_margin_;
  prometheus::Family<prometheus::Gauge>* hedge_delay_;
};

}  // namespace tailcut::gateway
