// SmartApi: GET /api/smart?timeout=MS — hedged upstream requests that always
// answer within the deadline.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/deadline_margin.hpp"
#include "gateway/gateway_options.hpp"
#include "gateway/metrics.hpp"
#include "gateway/timeout_param.hpp"
#include "tailcut/http/router.hpp"
#include "tailcut/http/session.hpp"
#include "tailcut/policy/hedge.hpp"
#include "tailcut/policy/hedge_budget.hpp"

namespace tailcut::gateway {

// Shared by every worker. Each worker uses only its own upstream session
// and deadline margin ([RequestContext::worker]); metrics and the budget are
// thread-safe.
class SmartApi {
 public:
  SmartApi(const GatewayOptions& options, std::string upstream_url, Metrics& metrics,
           std::deque<http::Session>& sessions);

  boost::asio::awaitable<http::Response> handle(http::Request request,
                                                http::RequestContext context);

 private:
  // The parts of handle() that do not wait: kept out of its coroutine frame,
  // which thousands of calls in flight each hold.
  policy::HedgeOptions hedge_options(std::optional<std::chrono::milliseconds> timeout,
                                     const http::RequestContext& context,
                                     std::chrono::steady_clock::time_point now);
  http::Response answer(const policy::HedgeResult<std::string>& result,
                        std::optional<std::chrono::milliseconds> timeout,
                        const http::RequestContext& context);
  // A call whose target or timeout is not valid: counted, logged, 400.
  http::Response reject(const TimeoutParamError& invalid, const http::RequestContext& context);

  // A late answer (ready after its timeout, by this worker's clock) is
  // warned about: at most one line a second per worker, which tells how
  // many more there were since the previous one.
  struct LateAnswerLog {
    std::chrono::steady_clock::time_point next_line{};
    std::size_t untold = 0;
  };
  void warn_late(const http::RequestContext& context, std::chrono::milliseconds timeout,
                 std::chrono::steady_clock::duration elapsed,
                 std::chrono::steady_clock::duration timer_lateness,
                 std::chrono::steady_clock::time_point now);

  const GatewayOptions& options_;
  std::string upstream_url_;
  Metrics& metrics_;
  std::deque<http::Session>& sessions_;
  std::optional<policy::HedgeBudget> budget_;
  std::vector<DeadlineMargin> margins_;   // one per worker
  std::vector<LateAnswerLog> late_logs_;  // one per worker
};

}  // namespace tailcut::gateway
