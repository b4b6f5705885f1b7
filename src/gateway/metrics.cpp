// Metrics: prometheus-cpp registry and families, serialized by our own server.
#include "gateway/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>

namespace tailcut::gateway {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr std::array<double, 20> latency_buckets{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2,
                                                 0.3,   0.4,   0.5,  0.6,   0.8,  1.0, 1.5,
                                                 2.0,   3.0,   5.0,  10.0,  30.0, 60.0};

double seconds(std::chrono::steady_clock::duration elapsed) {
  return std::chrono::duration<double>(elapsed).count();
}

// A count written by one thread and read by any: a relaxed atomic, which
// its writer adds to without a locked instruction (nobody else writes it).
class Count {
 public:
  void add(std::uint64_t amount = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t get() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }
  // For a total its writer learns whole (a replica's ejections so far).
  void set(std::uint64_t value) noexcept { value_.store(value, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A latency histogram written by one thread (see Count), in the buckets of
// latency_buckets plus +Inf; counts per bucket, not cumulative.
class Histogram {
 public:
  static constexpr std::size_t buckets = latency_buckets.size() + 1;

  void observe(double value) noexcept {
    // A bucket counts the values up to its bound: the first bound >= value.
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(latency_buckets.begin(), latency_buckets.end(), value) -
        latency_buckets.begin());
    counts_[bucket].add();
    sum_.store(sum_.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
  }
  void add_to(std::array<std::uint64_t, buckets>& counts, double& sum) const noexcept {
    for (std::size_t i = 0; i < buckets; ++i) counts[i] += counts_[i].get();
    sum += sum_.load(std::memory_order_relaxed);
  }

 private:
  std::array<Count, buckets> counts_;
  std::atomic<double> sum_{0.0};
};

// A Count alone on its cache line: for counts kept on the heap, whose block
// could otherwise share a line with another worker's.
struct alignas(64) CountLine {
  Count count;
};

constexpr std::array<CallOutcome, 4> all_outcomes{
    CallOutcome::success, CallOutcome::upstream_failed, CallOutcome::deadline_exceeded,
    CallOutcome::bad_request};

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

ClientMetric counter(std::uint64_t value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = static_cast<double>(value);
  return metric;
}

// A histogram's family from its per-bucket counts (made cumulative here).
MetricFamily histogram(std::string name, std::string help,
                       const std::array<std::uint64_t, Histogram::buckets>& counts, double sum) {
  ClientMetric metric;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < Histogram::buckets; ++i) {
    cumulative += counts[i];
    metric.histogram.bucket.push_back({cumulative, i < latency_buckets.size()
                                                       ? latency_buckets[i]
                                                       : std::numeric_limits<double>::infinity()});
  }
  metric.histogram.sample_count = cumulative;
  metric.histogram.sample_sum = sum;
  MetricFamily histograms = family(std::move(name), std::move(help), MetricType::Histogram);
  histograms.metric.push_back(std::move(metric));
  return histograms;
}

}  // namespace

// The results an attempt of a replica is counted under.
constexpr std::array<std::string_view, 3> attempt_results{"succeeded", "failed", "cancelled"};

// One worker's counts, on cache lines of their own.
struct alignas(64) MetricsShard::Counts {
  Counts(std::size_t max_attempts, std::size_t replicas)
      : wins(max_attempts), replica_attempts(replicas), replica_ejections(replicas) {}

  std::array<Count, all_outcomes.size()> calls_by_outcome;
  Count attempts;
  Count hedges;
  Count cancelled;
  Count budget_refusals;
  Count late_answers;
  Histogram late_answer_seconds;  // how late
  std::vector<CountLine> wins;    // [0] is attempt 1
  Histogram call_seconds;
  Histogram attempt_seconds;
  // The ledger of what hedging bought.
  Count hedged_calls;
  Count hedge_wins;
  Histogram first_attempt_seconds;
  // Summed over the calls an extra attempt won: how long attempt 1 had run
  // when the winner answered, which those calls would have waited at least.
  std::atomic<double> hedge_win_first_attempt_seconds{0.0};
  std::vector<std::array<Count, attempt_results.size()>> replica_attempts;
  std::vector<Count> replica_ejections;
};

std::string_view to_string(CallOutcome outcome) noexcept {
  switch (outcome) {
    case CallOutcome::success:
      return "success";
    case CallOutcome::upstream_failed:
      return "upstream_failed";
    case CallOutcome::deadline_exceeded:
      return "deadline_exceeded";
    case CallOutcome::bad_request:
      return "bad_request";
  }
  return "unknown";
}

MetricsShard::MetricsShard(std::size_t max_attempts, std::size_t replicas, Gauges gauges)
    : counts_{std::make_unique<Counts>(max_attempts, replicas)}, gauges_{gauges} {}

MetricsShard::~MetricsShard() = default;

void MetricsShard::record_call(CallOutcome outcome, std::chrono::steady_clock::duration elapsed) {
  counts_->calls_by_outcome[static_cast<std::size_t>(outcome)].add();
  counts_->call_seconds.observe(seconds(elapsed));
}

void MetricsShard::record_late_answer(std::chrono::steady_clock::duration late_by) {
  counts_->late_answers.add();
  counts_->late_answer_seconds.observe(seconds(late_by));
}

void MetricsShard::record_hedge(const policy::HedgeResult<std::string>& result) {
  Counts& counts = *counts_;
  counts.attempts.add(result.fired);
  if (result.fired > 1) counts.hedges.add(result.fired - 1);
  if (result.budget_refused) counts.budget_refusals.add();
  if (result.winner != 0 && result.winner <= counts.wins.size())
    counts.wins[result.winner - 1].count.add();
  for (const auto& attempt : result.attempts) {
    if (attempt.state == policy::AttemptState::cancelled) {
      counts.cancelled.add();
    } else {
      counts.attempt_seconds.observe(std::chrono::duration<double>(attempt.elapsed).count());
    }
    if (attempt.replica && *attempt.replica < counts.replica_attempts.size()) {
      counts.replica_attempts[*attempt.replica][static_cast<std::size_t>(attempt.state)].add();
    }
  }
  if (result.attempts.empty()) return;
  const double first_seconds = seconds(result.attempts.front().elapsed);
  counts.first_attempt_seconds.observe(first_seconds);
  if (result.fired > 1) counts.hedged_calls.add();
  if (result.winner > 1) {
    counts.hedge_wins.add();
    counts.hedge_win_first_attempt_seconds.store(
        counts.hedge_win_first_attempt_seconds.load(std::memory_order_relaxed) + first_seconds,
        std::memory_order_relaxed);
  }
}

void MetricsShard::record_upstreams(std::chrono::steady_clock::duration hedge_delay,
                                    std::span<const std::uint64_t> ejections) {
  gauges_.hedge_delay->Set(seconds(hedge_delay));
  for (std::size_t replica = 0;
       replica < std::min(ejections.size(), counts_->replica_ejections.size()); ++replica) {
    counts_->replica_ejections[replica].set(ejections[replica]);
  }
}

void MetricsShard::record_pool(const http::PoolStats& pool) {
  gauges_.pool_idle->Set(static_cast<double>(pool.idle));
  gauges_.pool_in_use->Set(static_cast<double>(pool.in_use));
  gauges_.pool_waiting->Set(static_cast<double>(pool.waiting));
  // A counter only goes up: it is given what was opened since it was last told.
  if (pool.connections_opened > connections_opened_counted_) {
    gauges_.connections_opened->Increment(
        static_cast<double>(pool.connections_opened - connections_opened_counted_));
    connections_opened_counted_ = pool.connections_opened;
  }
}

void MetricsShard::record_deadline_margin(std::chrono::steady_clock::duration margin) {
  gauges_.deadline_margin->Set(seconds(margin));
}

Metrics::Metrics(std::size_t max_attempts, std::vector<std::string> replicas)
    : max_attempts_{max_attempts},
      replicas_{std::move(replicas)},
      registry_{std::make_shared<prometheus::Registry>()} {
  pool_idle_ = &prometheus::BuildGauge()
                    .Name("tailcut_upstream_pool_idle_connections")
                    .Help("Idle keep-alive upstream connections, by worker")
                    .Register(*registry_);
  pool_in_use_ = &prometheus::BuildGauge()
                      .Name("tailcut_upstream_pool_in_use_connections")
                      .Help("Upstream connections serving a request, by worker")
                      .Register(*registry_);
  pool_waiting_ = &prometheus::BuildGauge()
                       .Name("tailcut_upstream_pool_waiting_requests")
                       .Help("Upstream requests waiting for a free connection, by worker")
                       .Register(*registry_);
  connections_opened_ = &prometheus::BuildCounter()
                             .Name("tailcut_upstream_connections_opened_total")
                             .Help("Upstream connections opened since start, by worker")
                             .Register(*registry_);
  deadline_margin_ = &prometheus::BuildGauge()
                          .Name("tailcut_deadline_margin_seconds")
                          .Help(
                              "How early answers are aimed before their deadlines: "
                              "--deadline-margin plus the recent peak of late timers, by worker")
                          .Register(*registry_);
  hedge_delay_ = &prometheus::BuildGauge()
                      .Name("tailcut_hedge_delay_seconds")
                      .Help(
                          "The hedge delay a call starting now would get (with --hedge-delay "
                          "auto, as the worker's latency window says), by worker")
                      .Register(*registry_);
}

Metrics::~Metrics() = default;

MetricsShard& Metrics::add_shard(std::size_t worker) {
  const prometheus::Labels labels{{"worker", std::to_string(worker)}};
  const MetricsShard::Gauges gauges{
      .pool_idle = &pool_idle_->Add(labels),
      .pool_in_use = &pool_in_use_->Add(labels),
      .pool_waiting = &pool_waiting_->Add(labels),
      .connections_opened = &connections_opened_->Add(labels),
      .deadline_margin = &deadline_margin_->Add(labels),
      .hedge_delay = &hedge_delay_->Add(labels),
  };
  // Not make_unique: the constructor is private to the friend.
  shards_.push_back(
      std::unique_ptr<MetricsShard>{new MetricsShard{max_attempts_, replicas_.size(), gauges}});
  return *shards_.back();
}

void Metrics::record_connections_rejected(std::uint64_t total) noexcept {
  // Two scrapes may race: the counter keeps the larger total.
  std::uint64_t known = connections_rejected_.load(std::memory_order_relaxed);
  while (total > known &&
         !connections_rejected_.compare_exchange_weak(known, total, std::memory_order_relaxed)) {
  }
}

std::string Metrics::serialize() const {
  using Counts = MetricsShard::Counts;
  const auto total = [this](const auto& count_of) {
    std::uint64_t sum = 0;
    for (const auto& shard : shards_) sum += count_of(*shard->counts_).get();
    return sum;
  };
  const auto counter_family = [&](std::string name, std::string help, const auto& count_of) {
    MetricFamily counters = family(std::move(name), std::move(help), MetricType::Counter);
    counters.metric.push_back(counter(total(count_of)));
    return counters;
  };
  const auto histogram_family = [this](std::string name, std::string help,
                                       Histogram Counts::*of_shard) {
    std::array<std::uint64_t, Histogram::buckets> counts{};
    double sum = 0.0;
    for (const auto& shard : shards_) ((*shard->counts_).*of_shard).add_to(counts, sum);
    return histogram(std::move(name), std::move(help), counts, sum);
  };

  std::vector<MetricFamily> families;
  families.push_back(
      counter_family("tailcut_attempts_total", "Upstream attempts fired, first ones included",
                     [](const Counts& shard) -> const Count& { return shard.attempts; }));
  families.push_back(
      counter_family("tailcut_hedges_total", "Extra (hedged) upstream attempts fired",
                     [](const Counts& shard) -> const Count& { return shard.hedges; }));
  families.push_back(
      counter_family("tailcut_attempts_cancelled_total",
                     "Upstream attempts cancelled (lost the race or ran out of time)",
                     [](const Counts& shard) -> const Count& { return shard.cancelled; }));
  families.push_back(counter_family(
      "tailcut_hedge_budget_refusals_total", "Calls whose extra attempts the hedge budget refused",
      [](const Counts& shard) -> const Count& { return shard.budget_refusals; }));
  families.push_back(counter_family(
      "tailcut_calls_answered_late_total",
      "Calls whose answer was ready only after their timeout, counted from the request's arrival "
      "(see --deadline-margin)",
      [](const Counts& shard) -> const Count& { return shard.late_answers; }));
  families.push_back(histogram_family("tailcut_call_lateness_seconds",
                                      "How long after their timeout the late answers were ready "
                                      "(tailcut_calls_answered_late_total)",
                                      &Counts::late_answer_seconds));
  families.push_back(histogram_family("tailcut_call_duration_seconds",
                                      "Time from reading a call to answering it",
                                      &Counts::call_seconds));
  families.push_back(histogram_family("tailcut_attempt_duration_seconds",
                                      "Duration of upstream attempts that finished on their own",
                                      &Counts::attempt_seconds));
  MetricFamily rejected = family(
      "tailcut_connections_rejected_total",
      "Client connections closed at once because --max-connections were open", MetricType::Counter);
  rejected.metric.push_back(counter(connections_rejected_.load(std::memory_order_relaxed)));
  families.push_back(std::move(rejected));
  MetricFamily calls =
      family("tailcut_calls_total", "/api/smart calls answered, by outcome", MetricType::Counter);
  for (const CallOutcome outcome : all_outcomes) {
    const auto index = static_cast<std::size_t>(outcome);
    calls.metric.push_back(counter(total([index](const Counts& shard) -> const Count& {
                                     return shard.calls_by_outcome[index];
                                   }),
                                   {{"outcome", std::string{to_string(outcome)}}}));
  }
  families.push_back(std::move(calls));
  MetricFamily wins =
      family("tailcut_wins_total", "Successful calls by the attempt that won (1 = first)",
             MetricType::Counter);
  for (std::size_t attempt = 1; attempt <= max_attempts_; ++attempt) {
    wins.metric.push_back(counter(total([attempt](const Counts& shard) -> const Count& {
                                    return shard.wins[attempt - 1].count;
                                  }),
                                  {{"attempt", std::to_string(attempt)}}));
  }
  families.push_back(std::move(wins));
  add_ledger(families);
  for (auto& family : registry_->Collect()) families.push_back(std::move(family));
  return prometheus::TextSerializer{}.Serialize(families);
}

void Metrics::add_ledger(std::vector<MetricFamily>& families) const {
  std::uint64_t hedged_calls = 0;
  std::uint64_t hedge_wins = 0;
  double first_attempt_seconds_at_wins = 0.0;
  std::array<std::uint64_t, Histogram::buckets> first_attempt_counts{};
  double first_attempt_sum = 0.0;
  std::vector<std::array<std::uint64_t, attempt_results.size()>> replica_attempts(replicas_.size());
  std::vector<std::uint64_t> replica_ejections(replicas_.size());
  for (const auto& shard : shards_) {
    const MetricsShard::Counts& counts = *shard->counts_;
    hedged_calls += counts.hedged_calls.get();
    hedge_wins += counts.hedge_wins.get();
    first_attempt_seconds_at_wins +=
        counts.hedge_win_first_attempt_seconds.load(std::memory_order_relaxed);
    counts.first_attempt_seconds.add_to(first_attempt_counts, first_attempt_sum);
    for (std::size_t replica = 0; replica < replicas_.size(); ++replica) {
      for (std::size_t result = 0; result < attempt_results.size(); ++result) {
        replica_attempts[replica][result] += counts.replica_attempts[replica][result].get();
      }
      replica_ejections[replica] += counts.replica_ejections[replica].get();
    }
  }
  MetricFamily hedged =
      family("tailcut_hedged_calls_total", "Calls that fired extra attempts", MetricType::Counter);
  hedged.metric.push_back(counter(hedged_calls));
  families.push_back(std::move(hedged));
  MetricFamily won =
      family("tailcut_hedge_wins_total", "Calls won by an extra attempt", MetricType::Counter);
  won.metric.push_back(counter(hedge_wins));
  families.push_back(std::move(won));
  MetricFamily waited = family(
      "tailcut_hedge_wins_first_attempt_seconds_total",
      "Summed over the calls an extra attempt won: how long attempt 1 had run when the winner "
      "answered, which those calls would have waited at least without hedging",
      MetricType::Counter);
  ClientMetric seconds_metric;
  seconds_metric.counter.value = first_attempt_seconds_at_wins;
  waited.metric.push_back(std::move(seconds_metric));
  families.push_back(std::move(waited));
  families.push_back(histogram("tailcut_first_attempt_duration_seconds",
                               "Time of each call's attempt 1: to its end, or until it was stopped",
                               first_attempt_counts, first_attempt_sum));
  if (replicas_.empty()) return;
  MetricFamily attempts = family("tailcut_replica_attempts_total",
                                 "Upstream attempts by replica and result", MetricType::Counter);
  MetricFamily ejections =
      family("tailcut_replica_ejections_total",
             "Times a replica was left out after failures in a row (summed over the workers)",
             MetricType::Counter);
  for (std::size_t replica = 0; replica < replicas_.size(); ++replica) {
    for (std::size_t result = 0; result < attempt_results.size(); ++result) {
      attempts.metric.push_back(counter(
          replica_attempts[replica][result],
          {{"replica", replicas_[replica]}, {"result", std::string{attempt_results[result]}}}));
    }
    ejections.metric.push_back(
        counter(replica_ejections[replica], {{"replica", replicas_[replica]}}));
  }
  families.push_back(std::move(attempts));
  families.push_back(std::move(ejections));
}

}  // namespace tailcut::gateway
