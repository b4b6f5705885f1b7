// Metrics: each worker records into its own shard, concurrently; the text
// exposition sums the shards, with cumulative histogram buckets whose bounds
// hold the values equal to them.
#include "gateway/metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tailcut::gateway {
namespace {

using namespace std::chrono_literals;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

policy::HedgeResult<std::string> hedged_call() {
  policy::HedgeResult<std::string> result;
  result.outcome = policy::HedgeOutcome::succeeded;
  result.fired = 3;
  result.winner = 2;
  result.attempts = {{1, policy::AttemptState::cancelled, 0ms, 400ms},
                     {2, policy::AttemptState::succeeded, 300ms, 100ms},
                     {3, policy::AttemptState::failed, 300ms, 50ms}};
  return result;
}

TEST(MetricsTest, WorkersRecordConcurrentlyAndTheTextSumsThem) {
  constexpr int calls_per_worker = 10000;
  Metrics metrics{3};
  std::vector<std::thread> workers;
  for (std::size_t worker = 0; worker < 2; ++worker) {
    MetricsShard* shard = &metrics.add_shard(worker);
    workers.emplace_back([shard, worker] {
      for (int i = 0; i < calls_per_worker; ++i) {
        shard->record_call(CallOutcome::success, 500ms);
        shard->record_hedge(hedged_call());
      }
      shard->record_call(CallOutcome::bad_request, 1ms);
      shard->record_late_answer(std::chrono::milliseconds{worker == 0 ? 3 : 7});
    });
  }
  for (auto& worker : workers) worker.join();

  const std::string text = metrics.serialize();
  EXPECT_TRUE(has_line(text, R"(tailcut_calls_total{outcome="success"} 20000)")) << text;
  EXPECT_TRUE(has_line(text, R"(tailcut_calls_total{outcome="bad_request"} 2)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_calls_total{outcome="deadline_exceeded"} 0)"));
  EXPECT_TRUE(has_line(text, "tailcut_attempts_total 60000"));
  EXPECT_TRUE(has_line(text, "tailcut_hedges_total 40000"));
  EXPECT_TRUE(has_line(text, "tailcut_attempts_cancelled_total 20000"));
  EXPECT_TRUE(has_line(text, "tailcut_calls_answered_late_total 2"));
  // How late: 3 ms and 7 ms.
  EXPECT_TRUE(has_line(text, R"(tailcut_call_lateness_seconds_bucket{le="0.001"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(tailcut_call_lateness_seconds_bucket{le="0.005"} 1)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_call_lateness_seconds_bucket{le="0.01"} 2)"));
  EXPECT_TRUE(has_line(text, "tailcut_call_lateness_seconds_count 2"));
  EXPECT_TRUE(has_line(text, R"(tailcut_wins_total{attempt="2"} 20000)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_wins_total{attempt="1"} 0)"));
  // 0.5 s falls in le="0.5", 1 ms in le="0.001"; buckets are cumulative.
  EXPECT_TRUE(has_line(text, R"(tailcut_call_duration_seconds_bucket{le="0.001"} 2)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_call_duration_seconds_bucket{le="0.4"} 2)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_call_duration_seconds_bucket{le="0.5"} 20002)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_call_duration_seconds_bucket{le="+Inf"} 20002)"));
  EXPECT_TRUE(has_line(text, "tailcut_call_duration_seconds_count 20002"));
  EXPECT_TRUE(has_line(text, "tailcut_call_duration_seconds_sum 10000.002"));
  // Attempts that finished on their own: the winner (0.1 s) and the failure (0.05 s).
  EXPECT_TRUE(has_line(text, R"(tailcut_attempt_duration_seconds_bucket{le="0.05"} 20000)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_attempt_duration_seconds_bucket{le="0.1"} 40000)"));
  EXPECT_TRUE(has_line(text, "tailcut_attempt_duration_seconds_count 40000"));
}

TEST(MetricsTest, GaugesArePerWorker) {
  Metrics metrics{3};
  MetricsShard& worker_0 = metrics.add_shard(0);
  MetricsShard& worker_1 = metrics.add_shard(1);
  worker_1.record_deadline_margin(25ms);
  worker_0.record_pool(http::PoolStats{.connections_opened = 9, .idle = 4, .in_use = 1});
  const std::string text = metrics.serialize();
  EXPECT_TRUE(has_line(text, R"(tailcut_deadline_margin_seconds{worker="1"} 0.025)")) << text;
  EXPECT_TRUE(has_line(text, R"(tailcut_upstream_pool_idle_connections{worker="0"} 4)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_upstream_pool_in_use_connections{worker="0"} 1)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_upstream_connections_opened_total{worker="0"} 9)"));
}

// The pool's figures are reported again at every scrape: the counter of
// connections opened takes what was opened since, and never goes down.
TEST(MetricsTest, ConnectionsOpenedIsACounterFedByTheLatestTotal) {
  Metrics metrics{3};
  MetricsShard& shard = metrics.add_shard(0);
  shard.record_pool(http::PoolStats{.connections_opened = 9});
  shard.record_pool(http::PoolStats{.connections_opened = 9});
  shard.record_pool(http::PoolStats{.connections_opened = 12, .waiting = 2});
  const std::string text = metrics.serialize();
  EXPECT_TRUE(has_line(text, "# TYPE tailcut_upstream_connections_opened_total counter")) << text;
  EXPECT_TRUE(has_line(text, R"(tailcut_upstream_connections_opened_total{worker="0"} 12)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_upstream_pool_waiting_requests{worker="0"} 2)"));
}

// The ledger of what hedging bought: hedges won, attempt 1's time, the
// attempts and ejections of each replica, the hedge delay per worker.
TEST(MetricsTest, TheLedgerCountsHedgeWinsAndReplicas) {
  Metrics metrics{3, {"a:80", "b:80"}};
  MetricsShard& worker_0 = metrics.add_shard(0);
  MetricsShard& worker_1 = metrics.add_shard(1);
  auto call = hedged_call();
  call.attempts[0].replica = 0;
  call.attempts[1].replica = 1;
  call.attempts[2].replica = 0;
  worker_0.record_hedge(call);
  worker_1.record_hedge(call);
  const std::uint64_t ejections_0[] = {2, 0};
  const std::uint64_t ejections_1[] = {1, 0};
  worker_0.record_upstreams(12ms, ejections_0);
  worker_1.record_upstreams(300ms, ejections_1);
  const std::string text = metrics.serialize();
  EXPECT_TRUE(has_line(text, "tailcut_hedged_calls_total 2")) << text;
  EXPECT_TRUE(has_line(text, "tailcut_hedge_wins_total 2"));
  EXPECT_TRUE(has_line(text, "tailcut_hedge_wins_first_attempt_seconds_total 0.8"));
  EXPECT_TRUE(has_line(text, R"(tailcut_first_attempt_duration_seconds_bucket{le="0.4"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(tailcut_replica_attempts_total{replica="a:80",result="cancelled"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(tailcut_replica_attempts_total{replica="a:80",result="failed"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(tailcut_replica_attempts_total{replica="b:80",result="succeeded"} 2)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_replica_ejections_total{replica="a:80"} 3)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_hedge_delay_seconds{worker="0"} 0.012)"));
  EXPECT_TRUE(has_line(text, R"(tailcut_hedge_delay_seconds{worker="1"} 0.3)"));
}

TEST(MetricsTest, WithOneUpstreamNoReplicaFamilyIsShown) {
  Metrics metrics{3};
  metrics.add_shard(0).record_hedge(hedged_call());
  const std::string text = metrics.serialize();
  EXPECT_EQ(text.find("tailcut_replica_attempts_total"), std::string::npos);
  EXPECT_TRUE(has_line(text, "tailcut_hedge_wins_total 1"));
}

}  // namespace
}  // namespace tailcut::gateway
