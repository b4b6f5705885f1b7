// GatewayShard: one worker's session, margin, budget and metrics.
#include "gateway/gateway_shard.hpp"

#include <utility>

namespace tailcut::gateway {

GatewayShard::GatewayShard(const GatewayOptions& options, std::string upstream_url,
                           boost::asio::any_io_executor executor, MetricsShard& metrics)
    : options_{options},
      session_{std::move(executor), options.client},
      metrics_{metrics},
      margin_{options.deadline_margin, options.deadline_margin_max} {
  if (options.hedge_budget_percent > 0) budget_.emplace(options.hedge_budget_percent);
  attempt_request_.url = std::move(upstream_url);
  metrics_.record_deadline_margin(margin_.current(DeadlineMargin::Clock::now()));
}

const http::RequestOptions& GatewayShard::attempt_request(const policy::AttemptContext& context) {
  http::RequestOptions& request = attempt_request_;
  request.headers.resize(context.remaining ? 2 : 1);
  request.headers[0].name = "X-Tailcut-Attempt";
  request.headers[0].value = std::to_string(context.number);
  if (context.remaining) {
    request.headers[1].name = "X-Tailcut-Deadline-Remaining-Ms";
    request.headers[1].value = std::to_string(context.remaining->count());
  }
  request.stop = context.stop;  // attempt 1, run in the hedge's frame
  return request;
}

void GatewayShard::report_pool() { metrics_.record_pool(session_.stats()); }

}  // namespace tailcut::gateway
