// SmartApi: validates the call, hedges the upstream under the deadline, and
// answers 200 / 502 / 504, with one log line and the metrics of the call.
#include "gateway/smart_api.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "gateway/json_check.hpp"
#include "gateway/timeout_param.hpp"
#include "http/common/text_escape.hpp"

namespace tailcut::gateway {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// The request of one attempt. Built in place of the previous attempt's on
// this thread: the session reads it before request() returns, and reusing
// its strings' memory saves allocations on every call.
const http::RequestOptions& attempt_request(const std::string& url,
                                            const policy::AttemptContext& context) {
  thread_local http::RequestOptions request;
  request.url = url;
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

// Success is HTTP 200 with a JSON object body; anything else is what went
// wrong.
std::optional<std::string> upstream_failure(const http::ClientResponse& response) {
  if (response.status != 200) return "HTTP " + std::to_string(response.status);
  switch (json_shape(response.body)) {
    case JsonShape::object:
      break;
    case JsonShape::other_value:
      return "HTTP 200 with a JSON body that is not an object";
    case JsonShape::invalid:
      return "HTTP 200 with a body that is not JSON";
  }
  return std::nullopt;
}

// An attempt's response judged: its body, or why it failed (a value, no
// exception). Not in call_upstream's coroutine, whose frame would hold each
// temporary.
async::Outcome<std::string> judge_attempt(async::Outcome<http::ClientResponse>& outcome) {
  if (!outcome) return async::Outcome<std::string>::failure(std::move(outcome.failure()));
  if (auto failure = upstream_failure(outcome.value())) {
    return async::Outcome<std::string>::failure(
        async::Failure{async::Error::failed, std::move(*failure)});
  }
  return async::Outcome<std::string>::success(std::move(outcome.value().body));
}

// Not a coroutine: the request options are built on the stack and handed
// to the session, rather than kept in call_upstream's frame.
asio::awaitable<async::Outcome<http::ClientResponse>> send_attempt(
    http::Session& session, const std::string& url, const policy::AttemptContext& context) {
  return session.try_request(attempt_request(url, context));
}

// One attempt: GET the upstream. `url` outlives every call (SmartApi owns it).
// Failures, cancellation included, are returned, never thrown: thousands of
// attempts a second fail or are cancelled, and no exception is raised for
// them on the way.
asio::awaitable<async::Outcome<std::string>> call_upstream(http::Session* session,
                                                           const std::string* url,
                                                           policy::AttemptContext context) {
  auto outcome = co_await send_attempt(*session, *url, context);
  co_return judge_attempt(outcome);
}

// Every answer says how many attempts were fired and which one won.
void add_attempt_fields(http::Response& response, std::size_t fired, std::size_t winner) {
  // Inserted, not set: the response has neither yet. Named as unknown
  // fields, which they are: Beast then skips looking the names up.
  response.insert(beast_http::field::unknown, "X-Tailcut-Attempts", std::to_string(fired));
  response.insert(beast_http::field::unknown, "X-Tailcut-Winner",
                  winner != 0 ? std::to_string(winner) : "none");
}

// The 400 of a call whose target or timeout is not valid: no attempt made.
http::Response bad_request_response(const TimeoutParamError& invalid) {
  auto response = http::json_error(beast_http::status::bad_request, invalid.code, invalid.message);
  add_attempt_fields(response, 0, 0);
  return response;
}

// The answer to a successful call: the upstream's JSON, byte for byte.
std::string success_body(const std::string& upstream_json) {
  constexpr std::string_view head = R"({"success":true,"response":)";
  std::string body;
  body.reserve(head.size() + upstream_json.size() + 1);
  body.append(head).append(upstream_json).push_back('}');
  return body;
}

boost::json::array attempt_reports(const policy::HedgeResult<std::string>& result) {
  boost::json::array reports;
  for (const auto& attempt : result.attempts) {
    boost::json::object report;
    report["attempt"] = attempt.number;
    switch (attempt.state) {
      case policy::AttemptState::succeeded:
        report["result"] = "succeeded";
        break;
      case policy::AttemptState::failed:
        report["result"] = "failed";
        report["reason"] = attempt.failure.message();
        break;
      case policy::AttemptState::cancelled:
        report["result"] = "cancelled";
        break;
    }
    report["started_after_ms"] = attempt.started_after.count();
    report["ms"] = attempt.elapsed.count();
    reports.push_back(std::move(report));
  }
  return reports;
}

http::Response failure_response(beast_http::status status, CallOutcome outcome, std::string message,
                                const policy::HedgeResult<std::string>& result) {
  boost::json::object error;
  error["code"] = to_string(outcome);
  error["message"] = std::move(message);
  error["attempts"] = attempt_reports(result);
  boost::json::object body;
  body["success"] = false;
  body["error"] = std::move(error);
  return http::json_response(status, boost::json::serialize(body));
}

}  // namespace

SmartApi::SmartApi(const GatewayOptions& options, std::string upstream_url, Metrics& metrics,
                   std::deque<http::Session>& sessions)
    : options_{options},
      upstream_url_{std::move(upstream_url)},
      metrics_{metrics},
      sessions_{sessions} {
  if (options.hedge_budget_percent > 0) budget_.emplace(options.hedge_budget_percent);
  margins_.assign(sessions.size(),
                  DeadlineMargin{options.deadline_margin, options.deadline_margin_max});
  late_logs_.resize(sessions.size());
  const auto now = Clock::now();
  for (std::size_t worker = 0; worker < margins_.size(); ++worker) {
    metrics_.record_deadline_margin(worker, margins_[worker].current(now));
  }
}

asio::awaitable<http::Response> SmartApi::handle(http::Request request,
                                                 http::RequestContext context) {
  const auto timeout_param = parse_timeout_param(request.target(), options_.max_timeout);
  if (const auto* invalid = std::get_if<TimeoutParamError>(&timeout_param)) {
    co_return reject(*invalid, context);
  }
  const auto timeout = std::get<0>(timeout_param);
  // Read: its memory goes now, not when the call ends (a slow call in
  // flight holds this frame).
  request = http::Request{};
  http::Session* session = &sessions_.at(context.worker);
  const std::string* url = &upstream_url_;
  policy::OutcomeAttempt<std::string> attempt = [session,
                                                 url](policy::AttemptContext attempt_context) {
    return call_upstream(session, url, attempt_context);
  };
  const auto result =
      co_await policy::hedge(std::move(attempt), hedge_options(timeout, context, Clock::now()));
  co_return answer(result, timeout, context);
}

http::Response SmartApi::reject(const TimeoutParamError& invalid,
                                const http::RequestContext& context) {
  metrics_.record_call(context.worker, CallOutcome::bad_request,
                       Clock::now() - context.received_at);
  if (spdlog::should_log(spdlog::level::info)) {
    spdlog::info("call id={} outcome=bad_request reason={}", context.id,
                 http::detail::quoted_for_log(invalid.message));
  }
  return bad_request_response(invalid);
}

policy::HedgeOptions SmartApi::hedge_options(std::optional<std::chrono::milliseconds> timeout,
                                             const http::RequestContext& context,
                                             Clock::time_point now) {
  const auto received_at = context.received_at;
  policy::HedgeOptions hedge_options;
  hedge_options.delay = options_.hedge_delay;
  hedge_options.extra_attempts = options_.hedge_count;
  hedge_options.on_failure = options_.hedge_on_failure;
  hedge_options.budget = budget_ ? &*budget_ : nullptr;
  // The answer leaves as soon as it is known; the losers are cancelled then
  // and unwind after it. Safe: an attempt (call_upstream) holds only its
  // context and pointers to the session and URL, which outlive every call.
  hedge_options.losers = policy::Losers::cancel_without_joining;
  // Attempt 1 in the hedge's own frame, stopped through its request's stop
  // token: a call answered before the hedge delay spawns no task.
  hedge_options.first_attempt_in_frame = true;
  // A client that leaves cancels its call: by the thousand when a load
  // balancer or a benchmark drops its connections at once.
  hedge_options.report_cancellation = true;
  // Measured from the moment the request was read; the answer is aimed a
  // margin early so that it arrives in time. A deadline passed already is
  // aimed at now: the hedge's lateness is measured against it.
  if (timeout) {
    const auto margin =
        std::min<Clock::duration>(margins_[context.worker].current(now), *timeout / 2);
    hedge_options.deadline = std::max(received_at + *timeout - margin, now);
  } else {
    hedge_options.deadline = std::max(received_at + options_.max_wait, now);
  }
  return hedge_options;
}

http::Response SmartApi::answer(const policy::HedgeResult<std::string>& result,
                                std::optional<std::chrono::milliseconds> timeout,
                                const http::RequestContext& context) {
  http::Response response;
  CallOutcome outcome = CallOutcome::success;
  switch (result.outcome) {
    case policy::HedgeOutcome::succeeded:
      response = http::json_response(beast_http::status::ok, success_body(*result.value));
      break;
    case policy::HedgeOutcome::all_failed:
      outcome = CallOutcome::upstream_failed;
      response = failure_response(beast_http::status::bad_gateway, outcome,
                                  "every upstream attempt failed", result);
      break;
    case policy::HedgeOutcome::deadline_exceeded:
      outcome = CallOutcome::deadline_exceeded;
      response = failure_response(
          static_cast<beast_http::status>(options_.timeout_status), outcome,
          timeout
              ? "no successful upstream response within " + std::to_string(timeout->count()) + " ms"
              : "no successful upstream response within the maximum wait of " +
                    std::to_string(options_.max_wait.count()) + " ms",
          result);
      break;
    case policy::HedgeOutcome::cancelled:
      // The client left, or the server closes its connection: nobody reads
      // this answer (a bare 503, not a JSON body: thousands of them are made
      // when clients leave at once), and the call is not counted.
      return http::Response{beast_http::status::service_unavailable, 11};
  }
  add_attempt_fields(response, result.fired, result.winner);

  const auto now = Clock::now();
  const auto elapsed = now - context.received_at;
  metrics_.record_call(context.worker, outcome, elapsed);
  if (timeout && elapsed > *timeout) {
    metrics_.record_late_answer(context.worker);
    warn_late(context, *timeout, elapsed, result.timer_lateness, now);
  }
  // How late the hedge acted on its timers (the hedge delay: every hedged
  // call, the first to tell when the machine gets busy; the deadline)
  // widens the margin of the calls to come.
  auto& margin = margins_[context.worker];
  if (result.timer_lateness > Clock::duration::zero()) {
    margin.observe_lateness(result.timer_lateness, now);
  }
  metrics_.record_deadline_margin(context.worker, margin.current(now));
  metrics_.record_hedge(context.worker, result);
  if (spdlog::should_log(spdlog::level::info)) {
    spdlog::info("call id={} timeout_ms={} attempts={} winner={} outcome={} ms={}", context.id,
                 timeout ? std::to_string(timeout->count()) : "none", result.fired, result.winner,
                 to_string(outcome),
                 std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  }
  return response;
}

void SmartApi::warn_late(const http::RequestContext& context, std::chrono::milliseconds timeout,
                         Clock::duration elapsed, Clock::duration timer_lateness,
                         Clock::time_point now) {
  auto& log = late_logs_[context.worker];
  if (now < log.next_line) {
    ++log.untold;
    return;
  }
  using Milliseconds = std::chrono::duration<double, std::milli>;
  const auto margin = margins_[context.worker].current(now);
  // Timers later than the margin: the machine is busier than the margin
  // has learnt. Otherwise the margin was smaller when the call began, or
  // capped at half of a short timeout.
  const std::string cause =
      fmt::format("its timers ran up to {:.1f} ms late{}", Milliseconds{timer_lateness}.count(),
                  timer_lateness > margin ? ": the machine is busy" : "");
  const std::string untold =
      log.untold == 0
          ? std::string{}
          : fmt::format("; {} more late answers on this worker since the previous warning",
                        log.untold);
  spdlog::warn(
      "call id={} answered late: {:.1f} ms after its timeout of {} ms (deadline margin "
      "{:.1f} ms; {}){}",
      context.id, Milliseconds{elapsed - timeout}.count(), timeout.count(),
      Milliseconds{margin}.count(), cause, untold);
  log.untold = 0;
  log.next_line = now + std::chrono::seconds{1};
}

}  // namespace tailcut::gateway
