// GatewayShard: one worker's session, margin, budget and metrics.
#include "gateway/gateway_shard.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace tailcut::gateway {

namespace {

policy::AdaptiveDelayOptions adaptive_delay_options(const GatewayOptions& options) {
  policy::AdaptiveDelayOptions adaptive;
  adaptive.budget = options.effective_hedge_budget_percent() / 100.0;
  adaptive.extras_per_hedge = options.hedge_count;
  adaptive.min = options.hedge_delay_min;
  adaptive.max = options.hedge_delay_max;
  adaptive.fallback = options.hedge_delay;
  return adaptive;
}

template <class Integer>
void assign_decimal(std::string& text, Integer number) {
  std::array<char, 24> digits;
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), number).ptr;
  text.assign(digits.data(), end);
}

}  // namespace

GatewayShard::GatewayShard(const GatewayOptions& options,
                           const std::vector<std::string>& upstream_urls,
                           boost::asio::any_io_executor executor, std::size_t worker,
                           MetricsShard& metrics, http::BodyBudget& upstream_buffer)
    : options_{options},
      upstream_urls_{upstream_urls},
      session_{std::move(executor), options.client},
      metrics_{metrics},
      upstream_buffer_{upstream_buffer},
      margin_{options.deadline_margin, options.deadline_margin_max} {
  const double budget_percent = options.effective_hedge_budget_percent();
  if (budget_percent > 0) budget_.emplace(budget_percent);
  if (options.adaptive_hedge_delay) {
    adaptive_delay_.emplace(adaptive_delay_options(options));
    // Its burst follows this worker's call rate (validate() made sure
    // there is a budget).
    if (budget_) adaptive_delay_->use_budget(&*budget_);
  }
  // Each worker draws its own random choices.
  if (upstream_urls.size() > 1) {
    replicas_.emplace(upstream_urls.size(), policy::ReplicaSetOptions{}, worker + 1);
    for (const auto& url : upstream_urls) replica_names_.push_back(replica_name(url));
  }
  attempt_request_.url = upstream_urls.front();
  attempt_request_.max_body_bytes = options.upstream_max_body_bytes;
  metrics_.record_deadline_margin(margin_.current(DeadlineMargin::Clock::now()));
}

const http::RequestOptions& GatewayShard::attempt_request(const policy::AttemptContext& context,
                                                          http::BodyCharge& charge) {
  http::RequestOptions& request = attempt_request_;
  request.body_charge = &charge;  // read by the session before the next attempt's
  // The fields keep their names and their strings' room from call to call.
  http::HeaderFields& fields = request.headers;
  if (fields.empty()) fields.push_back({"X-Tailcut-Attempt", {}});
  assign_decimal(fields[0].value, context.number);
  if (context.remaining) {
    if (fields.size() < 2) fields.push_back({"X-Tailcut-Deadline-Remaining-Ms", {}});
    assign_decimal(fields[1].value, context.remaining->count());
  } else {
    fields.resize(1);
  }
  request.stop = context.stop;  // how the hedge stops any attempt
  const std::size_t replica = context.replica.value_or(0);
  if (replica != attempt_replica_) {
    request.url = upstream_urls_[replica];
    attempt_replica_ = replica;
  }
  return request;
}

policy::HedgeDelayPolicy GatewayShard::hedge_delay() noexcept {
  if (adaptive_delay_) return policy::HedgeDelayPolicy::adaptive(*adaptive_delay_);
  return options_.hedge_delay;
}

void GatewayShard::report_gauges() {
  metrics_.record_pool(session_.stats());
  const auto now = policy::ReplicaSet::Clock::now();
  std::vector<std::uint64_t> ejections;
  if (replicas_) {
    for (std::size_t replica = 0; replica < replicas_->size(); ++replica) {
      ejections.push_back(replicas_->state(replica, now).ejections);
    }
  }
  metrics_.record_upstreams(hedge_delay().delay(now), ejections);
}

}  // namespace tailcut::gateway
