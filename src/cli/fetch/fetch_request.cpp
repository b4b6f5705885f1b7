// perform_request: a plain request, or hedged attempts with the last 5xx kept.
#include "cli/fetch/fetch_request.hpp"

#include <stdexcept>

#include "tailcut/async/error.hpp"
#include "tailcut/policy/hedge.hpp"

namespace tailcut::cli::fetch {

namespace {

namespace asio = boost::asio;

void fill(FetchRecord* record, http::ClientResponse& response, bool include_body) {
  record->status = response.status;
  record->bytes = response.body.size();
  if (include_body) record->body = std::move(response.body);
}

// What the hedged attempts leave behind for the record when none succeeds.
struct HedgeLeftovers {
  std::optional<http::ClientResponse> server_error;  // the last 5xx
  std::exception_ptr last_error;                     // the last other failure
};

class ServerErrorStatus : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

asio::awaitable<http::ClientResponse> hedged_attempt(http::Session* session,
                                                     http::RequestOptions request,
                                                     HedgeLeftovers* leftovers,
                                                     policy::AttemptContext context) {
  // An attempt gets what is left of the URL's budget, and ends when the
  // hedge stops it.
  if (context.remaining && request.timeouts) request.timeouts->total = *context.remaining;
  request.stop = context.stop;
  try {
    auto response = co_await session->request(std::move(request));
    if (response.status >= 500) {
      const auto status = response.status;
      leftovers->server_error = std::move(response);
      throw ServerErrorStatus{"HTTP " + std::to_string(status)};
    }
    co_return response;
  } catch (const ServerErrorStatus&) {
    throw;
  } catch (...) {
    if (!async::is_cancellation(std::current_exception())) {
      leftovers->last_error = std::current_exception();
    }
    throw;
  }
}

policy::Attempt<http::ClientResponse> make_attempt(http::Session* session,
                                                   http::RequestOptions request,
                                                   HedgeLeftovers* leftovers) {
  return [session, request = std::move(request), leftovers](policy::AttemptContext context) {
    return hedged_attempt(session, request, leftovers, context);
  };
}

asio::awaitable<void> perform_hedged(RequestPlan plan, FetchRecord* record) {
  HedgeLeftovers leftovers;
  auto attempt = make_attempt(plan.session, plan.request, &leftovers);
  policy::HedgeOptions options;
  options.delay = plan.hedge->delay;
  if (plan.host_hedge && plan.host_hedge->delay) {
    options.delay = policy::HedgeDelayPolicy::adaptive(*plan.host_hedge->delay);
  }
  if (plan.host_hedge && plan.host_hedge->budget) options.budget = &*plan.host_hedge->budget;
  options.extra_attempts = plan.hedge->extra_attempts;
  options.on_failure = policy::HedgeOnFailure::immediate;
  options.deadline = policy::HedgeOptions::Clock::now() + plan.timeout;
  record->attempts = 1;
  auto result = co_await policy::hedge(std::move(attempt), options);
  record->attempts = result.fired;
  if (result.value) {
    fill(record, *result.value, plan.include_body);
    co_return;
  }
  if (leftovers.server_error) {
    fill(record, *leftovers.server_error, plan.include_body);
    co_return;
  }
  if (result.outcome == policy::HedgeOutcome::deadline_exceeded || !leftovers.last_error) {
    throw http::ClientError{http::ErrorKind::total_timeout,
                            "no answer from " + plan.request.url + " within the --timeout of " +
                                std::to_string(plan.timeout.count()) + " ms (" +
                                std::to_string(result.fired) + " attempts)"};
  }
  std::rethrow_exception(leftovers.last_error);
}

}  // namespace

http::RequestOptions request_for(const FetchOptions& options, const std::string& url) {
  http::RequestOptions request = options.request;
  request.url = url;
  request.timeouts =
      http::Timeouts{.total = options.timeout, .connect = options.connect_timeout, .sock_read = {}};
  return request;
}

asio::awaitable<void> perform_request(RequestPlan plan, FetchRecord* record) {
  if (plan.hedge && plan.hedge->extra_attempts > 0) {
    co_await perform_hedged(std::move(plan), record);
    co_return;
  }
  record->attempts = 1;
  auto response = co_await plan.session->request(std::move(plan.request));
  fill(record, response, plan.include_body);
}

}  // namespace tailcut::cli::fetch
