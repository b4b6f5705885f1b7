// Metrics: prometheus-cpp registry and families, serialized by our own server.
#include "gateway/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace tailcut::gateway {

namespace {

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3,  0.4,  0.5,
          0.6,   0.8,   1.0,  1.5,   2.0,  3.0, 5.0, 10.0, 30.0, 60.0};
}

double seconds(std::chrono::steady_clock::duration elapsed) {
  return std::chrono::duration<double>(elapsed).count();
}

}  // namespace

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

Metrics::Metrics(std::size_t workers, std::size_t max_attempts)
    : registry_{std::make_shared<prometheus::Registry>()},
      attempts_{prometheus::BuildCounter()
                    .Name("tailcut_attempts_total")
                    .Help("Upstream attempts fired, first ones included")
                    .Register(*registry_)
                    .Add({})},
      hedges_{prometheus::BuildCounter()
                  .Name("tailcut_hedges_total")
                  .Help("Extra (hedged) upstream attempts fired")
                  .Register(*registry_)
                  .Add({})},
      cancelled_{prometheus::BuildCounter()
                     .Name("tailcut_attempts_cancelled_total")
                     .Help("Upstream attempts cancelled (lost the race or ran out of time)")
                     .Register(*registry_)
                     .Add({})},
      budget_refusals_{prometheus::BuildCounter()
                           .Name("tailcut_hedge_budget_refusals_total")
                           .Help("Calls whose extra attempts the hedge budget refused")
                           .Register(*registry_)
                           .Add({})},
      late_answers_{prometheus::BuildCounter()
                        .Name("tailcut_calls_answered_late_total")
                        .Help("Calls whose answer was ready only after their timeout, counted "
                              "from the request's arrival (see --deadline-margin)")
                        .Register(*registry_)
                        .Add({})},
      call_seconds_{prometheus::BuildHistogram()
                        .Name("tailcut_call_duration_seconds")
                        .Help("Time from reading a call to answering it")
                        .Register(*registry_)
                        .Add({}, latency_buckets())},
      attempt_seconds_{prometheus::BuildHistogram()
                           .Name("tailcut_attempt_duration_seconds")
                           .Help("Duration of upstream attempts that finished on their own")
                           .Register(*registry_)
                           .Add({}, latency_buckets())} {
  auto& calls = prometheus::BuildCounter()
                    .Name("tailcut_calls_total")
                    .Help("/api/smart calls answered, by outcome")
                    .Register(*registry_);
  for (const auto outcome : {CallOutcome::success, CallOutcome::upstream_failed,
                             CallOutcome::deadline_exceeded, CallOutcome::bad_request}) {
    calls_by_outcome_[static_cast<std::size_t>(outcome)] =
        &calls.Add({{"outcome", std::string{to_string(outcome)}}});
  }
  auto& wins = prometheus::BuildCounter()
                   .Name("tailcut_wins_total")
                   .Help("Successful calls by the attempt that won (1 = first)")
                   .Register(*registry_);
  for (std::size_t attempt = 1; attempt <= max_attempts; ++attempt) {
    wins_by_attempt_.push_back(&wins.Add({{"attempt", std::to_string(attempt)}}));
  }
  auto& idle = prometheus::BuildGauge()
                   .Name("tailcut_upstream_pool_idle_connections")
                   .Help("Idle keep-alive upstream connections, by worker")
                   .Register(*registry_);
  auto& in_use = prometheus::BuildGauge()
                     .Name("tailcut_upstream_pool_in_use_connections")
                     .Help("Upstream connections serving a request, by worker")
                     .Register(*registry_);
  auto& opened = prometheus::BuildGauge()
                     .Name("tailcut_upstream_pool_opened_connections")
                     .Help("Upstream connections opened since start, by worker")
                     .Register(*registry_);
  auto& margin = prometheus::BuildGauge()
                     .Name("tailcut_deadline_margin_seconds")
                     .Help(
                         "How early answers are aimed before their deadlines: "
                         "--deadline-margin plus the recent peak of late timers, by worker")
                     .Register(*registry_);
  for (std::size_t worker = 0; worker < workers; ++worker) {
    const prometheus::Labels labels{{"worker", std::to_string(worker)}};
    pool_idle_.push_back(&idle.Add(labels));
    pool_in_use_.push_back(&in_use.Add(labels));
    pool_opened_.push_back(&opened.Add(labels));
    deadline_margin_.push_back(&margin.Add(labels));
  }
}

void Metrics::record_call(CallOutcome outcome, std::chrono::steady_clock::duration elapsed) {
  calls_by_outcome_[static_cast<std::size_t>(outcome)]->Increment();
  call_seconds_.Observe(seconds(elapsed));
}

void Metrics::record_late_answer() { late_answers_.Increment(); }

void Metrics::record_hedge(const policy::HedgeResult<std::string>& result) {
  attempts_.Increment(static_cast<double>(result.fired));
  if (result.fired > 1) hedges_.Increment(static_cast<double>(result.fired - 1));
  if (result.budget_refused) budget_refusals_.Increment();
  if (result.winner != 0 && result.winner <= wins_by_attempt_.size()) {
    wins_by_attempt_[result.winner - 1]->Increment();
  }
  for (const auto& attempt : result.attempts) {
    if (attempt.state == policy::AttemptState::cancelled) {
      cancelled_.Increment();
    } else {
      attempt_seconds_.Observe(std::chrono::duration<double>(attempt.elapsed).count());
    }
  }
}

void Metrics::record_pool(std::size_t worker, const http::PoolStats& pool) {
  if (worker >= pool_idle_.size()) return;
  pool_idle_[worker]->Set(static_cast<double>(pool.idle));
  pool_in_use_[worker]->Set(static_cast<double>(pool.in_use));
  pool_opened_[worker]->Set(static_cast<double>(pool.connections_opened));
}

void Metrics::record_deadline_margin(std::size_t worker,
                                     std::chrono::steady_clock::duration margin) {
  if (worker < deadline_margin_.size()) deadline_margin_[worker]->Set(seconds(margin));
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer{}.Serialize(registry_->Collect());
}

}  // namespace tailcut::gateway
