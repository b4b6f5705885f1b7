// /api/smart: validates the call, hedges the upstream under the deadline, and
// answers 200 / 502 / 504, with one log line and the metrics of the call.
#include "gateway/smart_api.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "gateway/json_check.hpp"
#include "gateway/timeout_param.hpp"
#include "http/common/text_escape.hpp"
#include "tailcut/http/client_error.hpp"

namespace tailcut::gateway {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// What a call in flight keeps of its request's context (not the client's
// address: thousands of calls in flight each hold it).
struct CallStart {
  std::uint64_t id;
  Clock::time_point received_at;
};

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

// An attempt refused for the gateway-wide bound on buffered upstream
// bodies: said without the upstream's address, which it does not depend on.
async::Failure over_upstream_buffer(const http::BodyCharge& charge) {
  return async::Failure{
      async::Error::failed,
      fmt::format("body_too_large: the upstream's response would take the upstream bodies the "
                  "gateway holds at once over --upstream-buffer-bytes ({} bytes)",
                  charge.budget()->limit_bytes())};
}

// An attempt's response judged: its body, or why it failed (a value, no
// exception). Not in call_upstream's coroutine, whose frame would hold each
// temporary.
async::Outcome<std::string> judge_attempt(async::Outcome<http::ClientResponse>& outcome,
                                          const http::BodyCharge& charge) {
  if (!outcome && charge.refused()) {
    return async::Outcome<std::string>::failure(over_upstream_buffer(charge));
  }
  if (!outcome) return async::Outcome<std::string>::failure(std::move(outcome.failure()));
  if (auto failure = upstream_failure(outcome.value())) {
    return async::Outcome<std::string>::failure(
        async::Failure{async::Error::failed, std::move(*failure)});
  }
  return async::Outcome<std::string>::success(std::move(outcome.value().body));
}

// Not a coroutine: the request options are handed to the session here,
// rather than kept in call_upstream's frame.
asio::awaitable<async::Outcome<http::ClientResponse>> send_attempt(
    GatewayShard& shard, const policy::AttemptContext& context, http::BodyCharge& charge) {
  return shard.session().try_request(shard.attempt_request(context, charge));
}

// One attempt: GET the upstream. The shard outlives every call.
// Failures, cancellation included, are returned, never thrown: thousands of
// attempts a second fail or are cancelled, and no exception is raised for
// them on the way. The body is charged to the gateway's upstream buffer
// while the attempt holds it; the winner's is moved into the answer, which
// is built as soon as the attempt returns.
asio::awaitable<async::Outcome<std::string>> call_upstream(GatewayShard* shard,
                                                           policy::AttemptContext context) {
  http::BodyCharge charge{&shard->upstream_buffer()};
  auto outcome = co_await send_attempt(*shard, context, charge);
  co_return judge_attempt(outcome, charge);
}

// The most bytes of a client's text a log line holds: a request's target
// can be 16 KB, and a line per bad call of that size would fill the log.
constexpr std::size_t logged_text_bytes = 256;

// `text` quoted for a log line (http::detail::quoted_for_log), cut after
// logged_text_bytes at a character's start; "...(+N bytes)" then says how
// much was left out.
std::string capped_for_log(std::string_view text) {
  if (text.size() <= logged_text_bytes) return http::detail::quoted_for_log(text);
  std::size_t shown = logged_text_bytes;
  while (shown > 0 && (static_cast<unsigned char>(text[shown]) & 0xc0) == 0x80) --shown;
  return fmt::format("{}...(+{} bytes)", http::detail::quoted_for_log(text.substr(0, shown)),
                     text.size() - shown);
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

// What a client error kind means, in words that name no host or address.
std::string_view meaning_of(http::ErrorKind kind) noexcept {
  switch (kind) {
    case http::ErrorKind::dns:
      return "the upstream's host name did not resolve";
    case http::ErrorKind::connect_refused:
      return "the upstream refused the connection";
    case http::ErrorKind::connect_failed:
      return "the connection to the upstream failed";
    case http::ErrorKind::connect_timeout:
      return "no connection to the upstream in time";
    case http::ErrorKind::tls:
      return "the TLS handshake with the upstream failed";
    case http::ErrorKind::read_timeout:
      return "the upstream sent nothing in time";
    case http::ErrorKind::total_timeout:
      return "the upstream request took too long";
    case http::ErrorKind::connection_closed:
      return "the upstream closed the connection before its response was complete";
    case http::ErrorKind::protocol:
      return "the upstream's response is not valid HTTP";
    case http::ErrorKind::body_too_large:
      return "the upstream's response body is too large";
    default:
      return "the upstream request failed";
  }
}

// What went wrong with a failed attempt, without the upstream's URL or
// address: the kind of client error, or our judgement of the upstream's
// answer (which names neither).
std::string failure_without_addresses(const async::Failure& failure) {
  if (const auto kind = http::error_kind_of(failure)) {
    return fmt::format("{}: {}", http::to_string(*kind), meaning_of(*kind));
  }
  if (failure.code() == async::Error::failed) return failure.message();  // judge_attempt's
  return "the upstream request failed";
}

// One report per attempt, for the body of a 502 or 504. `expose_upstream`:
// failures as the client described them, URL and address included.
boost::json::array attempt_reports(const policy::HedgeResult<std::string>& result,
                                   bool expose_upstream) {
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
        report["reason"] = expose_upstream ? attempt.failure.message()
                                           : failure_without_addresses(attempt.failure);
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
                                const policy::HedgeResult<std::string>& result,
                                bool expose_upstream) {
  boost::json::object error;
  error["code"] = to_string(outcome);
  error["message"] = std::move(message);
  error["attempts"] = attempt_reports(result, expose_upstream);
  boost::json::object body;
  body["success"] = false;
  body["error"] = std::move(error);
  return http::json_response(status, boost::json::serialize(body));
}

// The failures of a call's attempts as the client described them (URL and
// address included, whatever the 502 says), for its log line; empty when
// none failed.
std::string failures_for_log(const policy::HedgeResult<std::string>& result) {
  std::string failures;
  for (const auto& attempt : result.attempts) {
    if (attempt.state != policy::AttemptState::failed) continue;
    failures += fmt::format(" attempt{}_failure={}", attempt.number,
                            capped_for_log(attempt.failure.message()));
  }
  return failures;
}

// With replicas: " replicas=a:80,b:80", the replica of each attempt in
// firing order.
std::string replicas_for_log(const GatewayShard& shard,
                             const policy::HedgeResult<std::string>& result) {
  const auto& names = shard.replica_names();
  if (names.empty()) return {};
  std::string replicas = " replicas=";
  for (const auto& attempt : result.attempts) {
    if (attempt.number > 1) replicas += ',';
    replicas += attempt.replica && *attempt.replica < names.size() ? names[*attempt.replica] : "?";
  }
  return replicas;
}

// A call whose target or timeout is not valid: counted, logged, 400.
http::Response reject(GatewayShard& shard, const TimeoutParamError& invalid,
                      const http::RequestContext& context) {
  const auto now = Clock::now();
  shard.metrics().record_call(CallOutcome::bad_request, now - context.received_at);
  if (spdlog::should_log(spdlog::level::info)) {
    if (const auto untold = shard.bad_request_log().admit(now)) {
      spdlog::info("call id={} outcome=bad_request reason={}{}", context.id,
                   capped_for_log(invalid.message),
                   *untold == 0 ? std::string{}
                                : fmt::format("; {} more bad requests on this worker since the "
                                              "previous line",
                                              *untold));
    }
  }
  return bad_request_response(invalid);
}

// The hedge of one call. Not in hedged_call's coroutine frame, which
// thousands of calls in flight each hold.
policy::HedgeOptions hedge_options(GatewayShard& shard,
                                   std::optional<std::chrono::milliseconds> timeout,
                                   const CallStart& call, Clock::time_point now) {
  const GatewayOptions& options = shard.options();
  const auto received_at = call.received_at;
  policy::HedgeOptions hedge_options;
  hedge_options.delay = shard.hedge_delay();
  hedge_options.replicas = shard.replicas();
  hedge_options.extra_attempts = options.hedge_count;
  hedge_options.on_failure = options.hedge_on_failure;
  hedge_options.budget = shard.hedge_budget();
  // The answer leaves as soon as it is known; the losers are cancelled then
  // and unwind after it. Safe: an attempt (call_upstream) holds only its
  // context and a pointer to the shard, which outlives every call.
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
        std::min<Clock::duration>(shard.deadline_margin().current(now), *timeout / 2);
    hedge_options.deadline = std::max(received_at + *timeout - margin, now);
  } else {
    hedge_options.deadline = std::max(received_at + options.max_wait, now);
  }
  return hedge_options;
}

// A late answer (ready after its timeout, by this worker's clock) is
// warned about: at most one line a second per worker, which tells how many
// more there were since the previous one.
void warn_late(GatewayShard& shard, const CallStart& call, std::chrono::milliseconds timeout,
               Clock::duration elapsed, Clock::duration timer_lateness, Clock::time_point now) {
  const auto untold_lines = shard.late_answer_log().admit(now);
  if (!untold_lines) return;
  using Milliseconds = std::chrono::duration<double, std::milli>;
  const auto margin = shard.deadline_margin().current(now);
  // Timers later than the margin: the machine is busier than the margin
  // has learnt. Otherwise the margin was smaller when the call began, or
  // capped at half of a short timeout.
  const std::string cause =
      fmt::format("its timers ran up to {:.1f} ms late{}", Milliseconds{timer_lateness}.count(),
                  timer_lateness > margin ? ": the machine is busy" : "");
  const std::string untold =
      *untold_lines == 0
          ? std::string{}
          : fmt::format("; {} more late answers on this worker since the previous warning",
                        *untold_lines);
  spdlog::warn(
      "call id={} answered late: {:.1f} ms after its timeout of {} ms (deadline margin "
      "{:.1f} ms; {}){}",
      call.id, Milliseconds{elapsed - timeout}.count(), timeout.count(),
      Milliseconds{margin}.count(), cause, untold);
}

// The answer of a call whose hedge has ended, with its metrics and log line.
http::Response answer(GatewayShard& shard, const policy::HedgeResult<std::string>& result,
                      std::optional<std::chrono::milliseconds> timeout, const CallStart& call) {
  const GatewayOptions& options = shard.options();
  http::Response response;
  CallOutcome outcome = CallOutcome::success;
  switch (result.outcome) {
    case policy::HedgeOutcome::succeeded:
      response = http::json_response(beast_http::status::ok, success_body(*result.value));
      break;
    case policy::HedgeOutcome::all_failed:
      outcome = CallOutcome::upstream_failed;
      response =
          failure_response(beast_http::status::bad_gateway, outcome,
                           "every upstream attempt failed", result, options.expose_upstream_errors);
      break;
    case policy::HedgeOutcome::deadline_exceeded:
      outcome = CallOutcome::deadline_exceeded;
      response = failure_response(
          static_cast<beast_http::status>(options.timeout_status), outcome,
          timeout
              ? "no successful upstream response within " + std::to_string(timeout->count()) + " ms"
              : "no successful upstream response within the maximum wait of " +
                    std::to_string(options.max_wait.count()) + " ms",
          result, options.expose_upstream_errors);
      break;
    case policy::HedgeOutcome::cancelled:
      // The client left, or the server closes its connection: nobody reads
      // this answer (a bare 503, not a JSON body: thousands of them are made
      // when clients leave at once), and the call is not counted; its
      // attempts are, since they reached the upstream.
      shard.metrics().record_hedge(result);
      return http::Response{beast_http::status::service_unavailable, 11};
  }
  add_attempt_fields(response, result.fired, result.winner);

  MetricsShard& metrics = shard.metrics();
  const auto now = Clock::now();
  const auto elapsed = now - call.received_at;
  metrics.record_call(outcome, elapsed);
  if (timeout && elapsed > *timeout) {
    metrics.record_late_answer(elapsed - *timeout);
    warn_late(shard, call, *timeout, elapsed, result.timer_lateness, now);
  }
  // How late the hedge acted on its timers (the hedge delay: every hedged
  // call, the first to tell when the machine gets busy; the deadline)
  // widens the margin of the calls to come.
  auto& margin = shard.deadline_margin();
  if (result.timer_lateness > Clock::duration::zero()) {
    margin.observe_lateness(result.timer_lateness, now);
  }
  metrics.record_deadline_margin(margin.current(now));
  metrics.record_hedge(result);
  if (spdlog::should_log(spdlog::level::info)) {
    spdlog::info("call id={} timeout_ms={} attempts={} winner={} outcome={} ms={}{}{}", call.id,
                 timeout ? std::to_string(timeout->count()) : "none", result.fired, result.winner,
                 to_string(outcome),
                 std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(),
                 replicas_for_log(shard, result),
                 outcome == CallOutcome::success ? std::string{} : failures_for_log(result));
  }
  return response;
}

// The hedge of a call, its options and attempt made here rather than as
// temporaries of hedged_call's coroutine, whose frame each call in flight
// holds.
asio::awaitable<policy::HedgeResult<std::string>> start_hedge(
    GatewayShard& shard, std::optional<std::chrono::milliseconds> timeout, const CallStart& call) {
  GatewayShard* shard_of_call = &shard;
  policy::OutcomeAttempt<std::string> attempt =
      [shard_of_call](policy::AttemptContext attempt_context) {
        return call_upstream(shard_of_call, attempt_context);
      };
  return policy::hedge(std::move(attempt), hedge_options(shard, timeout, call, Clock::now()));
}

// A valid call: hedged, then answered.
asio::awaitable<http::Response> hedged_call(GatewayShard& shard,
                                            std::optional<std::chrono::milliseconds> timeout,
                                            CallStart call) {
  const policy::HedgeResult<std::string> result = co_await start_hedge(shard, timeout, call);
  // Apart from the co_await: the frame would otherwise hold the answer too.
  co_return answer(shard, result, timeout, call);
}

// An invalid call, answered when awaited.
asio::awaitable<http::Response> rejected_call(http::Response response) { co_return response; }

}  // namespace

// Not a coroutine: the request is read here and goes before the call waits
// (a call in flight holds hedged_call's frame, not the request).
asio::awaitable<http::Response> handle_smart_call(GatewayShard& shard, http::Request request,
                                                  http::RequestContext context) {
  const auto timeout_param = parse_timeout_param(request.target(), shard.options().max_timeout);
  if (const auto* invalid = std::get_if<TimeoutParamError>(&timeout_param)) {
    return rejected_call(reject(shard, *invalid, context));
  }
  return hedged_call(shard, std::get<0>(timeout_param),
                     CallStart{.id = context.id, .received_at = context.received_at});
}

}  // namespace tailcut::gateway
