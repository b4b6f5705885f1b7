// Session: runs a request through the pool (acquire, open, exchange), retries
// a stale keep-alive connection once, and follows redirects.
#include "tailcut/http/session.hpp"

#include <stdexcept>
#include <type_traits>

#include "pool.hpp"
#include "request.hpp"
#include "tailcut/http/tls.hpp"

namespace tailcut::http {

namespace asio = boost::asio;

namespace detail {

struct SessionState {
  SessionState(asio::any_io_executor executor_to_use, SessionOptions session_options)
      : executor{std::move(executor_to_use)},
        options{std::move(session_options)},
        tls_context{make_client_tls_context(options)},
        base_headers{detail::base_headers(options)},
        timers{std::make_shared<async::detail::SharedTimer>(executor)},
        pool{executor, PoolLimits{.total = options.connection_limit,
                                  .per_host = options.per_host_connection_limit,
                                  .keepalive_timeout = options.keepalive_timeout}} {}

  asio::any_io_executor executor;
  SessionOptions options;
  std::shared_ptr<asio::ssl::context> tls_context;
  BaseHeaders base_headers;  // of options, for every request
  // The connections' deadlines: the session's own, not its context's, as
  // the session may run on a strand of a multi-threaded context.
  std::shared_ptr<async::detail::SharedTimer> timers;
  LastUrl last_url;  // of the last request
  ConnectionPool pool;
  bool closed = false;
};

namespace {

// What a request needs across its hops; the coroutine keeps only this.
class RequestPlan {
 public:
  RequestPlan(SessionState& state, const RequestOptions& options)
      : request_{prepare_request(state.options, options, &state.base_headers, &state.last_url)},
        connect_timeout_{options.timeouts.value_or(state.options.timeouts).connect},
        follow_redirects_{options.follow_redirects},
        max_redirects_{options.max_redirects} {
    const Timeouts& timeouts = options.timeouts.value_or(state.options.timeouts);
    exchange_.limits = ExchangeLimits{.max_body_bytes = options.max_body_bytes,
                                      .body_charge = options.body_charge};
    exchange_.total = total_deadline(timeouts.total);
    exchange_.sock_read = timeouts.sock_read;
    exchange_.stop = options.stop;
  }

  [[nodiscard]] const PreparedRequest& request() const noexcept { return request_; }
  [[nodiscard]] const std::stop_token& stop() const noexcept { return exchange_.stop; }
  // The deadline of getting a connection for the current hop, from now.
  [[nodiscard]] Deadline connect_deadline() const {
    return earliest(exchange_.total, connect_timeout_, ErrorKind::connect_timeout);
  }
  // The current hop's exchange.
  [[nodiscard]] const ExchangeRequest& exchange() noexcept {
    exchange_.wire = &request_.wire;
    exchange_.url = request_.url.get();
    exchange_.limits.head_request = request_.method == boost::beast::http::verb::head;
    return exchange_;
  }

  // Whether `response` redirects the request, which then switches to its
  // target; false when it is the final response.
  // Throws ClientError(too_many_redirects | invalid_url).
  [[nodiscard]] bool redirected(const RawResponse& response) {
    if (!follow_redirects_) return false;
    std::optional<PreparedRequest> next = follow_redirect(request_, response);
    if (!next) return false;
    if (redirects_ == max_redirects_) {
      throw ClientError{
          ErrorKind::too_many_redirects,
          "more than " + std::to_string(max_redirects_) + " redirects starting from " +
              (redirects_ == 0 ? request_.url : first_url_)->text + "; the last went from " +
              request_.url->text + " to " + next->url->text};
    }
    if (redirects_ == 0) first_url_ = request_.url;
    ++redirects_;
    request_ = std::move(*next);
    return true;
  }

  // The final response, as the caller gets it.
  [[nodiscard]] ClientResponse final_response(RawResponse& response) const {
    return ClientResponse{.status = response.status,
                          .reason = std::move(response.reason),
                          .headers = std::move(response.headers),
                          .body = std::move(response.body),
                          .url = request_.url->text,
                          .redirect_count = redirects_};
  }

 private:
  PreparedRequest request_;
  ExchangeRequest exchange_;  // points into request_ once exchange() was called
  std::optional<std::chrono::milliseconds> connect_timeout_;
  std::shared_ptr<const HttpUrl> first_url_;  // set at the first redirect
  bool follow_redirects_;
  std::size_t max_redirects_;
  std::size_t redirects_ = 0;
};

// What request() (Throw::yes) and try_request() (Throw::no) return.
enum class Throw { yes, no };
template <Throw Failures>
using RequestResult =
    std::conditional_t<Failures == Throw::yes, ClientResponse, async::Outcome<ClientResponse>>;

// A kept-alive connection closed before answering, and not retried (again).
// Built outside run_request: GCC gives each temporary of a coroutine its
// own room in the frame, which every request in flight holds.
async::Failure closed_before_answering(const PreparedRequest& request) {
  return client_failure(ErrorKind::connection_closed,
                        request.url->origin.authority() +
                            " closed the kept-alive connection before answering " +
                            request.url->text +
                            (request.idempotent() ? " (even after one retry)"
                                                  : "; not retried: the method is not idempotent"));
}

// The functions below hand run_request the awaitable of a step, with the
// step's arguments taken from the plan here rather than as temporaries of
// the coroutine, whose frame would hold each of them.

// A free slot of the pool for the plan's origin, into `lease`.
asio::awaitable<void> wait_for_lease(SessionState& state, const RequestPlan& plan,
                                     const Deadline& connect, Reuse reuse,
                                     std::optional<ConnectionPool::Lease>& lease,
                                     async::Failure& failure) {
  const PreparedRequest& request = plan.request();
  return state.pool.acquire(lease, failure, request.url->origin, connect, reuse, request.url->text,
                            plan.stop());
}

// A new connection to the plan's origin.
asio::awaitable<std::unique_ptr<Connection>> open_connection(SessionState& state,
                                                             const RequestPlan& plan,
                                                             const Deadline& connect,
                                                             async::Failure& failure) {
  const PreparedRequest& request = plan.request();
  return Connection::open(state.executor, request.url->origin, state.tls_context.get(),
                          state.timers, connect, request.url->text, failure, plan.stop());
}

// What a request that succeeded returns.
template <Throw Failures>
RequestResult<Failures> succeeded(const RequestPlan& plan, RawResponse& response) {
  if constexpr (Failures == Throw::yes) {
    return plan.final_response(response);
  } else {
    return async::Outcome<ClientResponse>::success(plan.final_response(response));
  }
}

// What a request that failed returns (Throw::no) or throws (Throw::yes).
// Stopped from outside: whatever the stage reported, it was stopped.
template <Throw Failures>
RequestResult<Failures> failed(const RequestPlan& plan, async::Failure& failure) {
  if (plan.stop().stop_requested()) failure = async::Failure::cancelled();
  if constexpr (Failures == Throw::yes) {
    failure.rethrow();
  } else {
    return async::Outcome<ClientResponse>::failure(std::move(failure));
  }
}

// What the request returns (or throws) once it has ended with `result`.
template <Throw Failures>
RequestResult<Failures> ended(const RequestPlan& plan, ExchangeResult& result) {
  if (result.failure) return failed<Failures>(plan, result.failure);
  return succeeded<Failures>(plan, *result.response);
}

// The plan is made before the coroutine starts (see Session::request), so
// that its frame, which every request in flight holds, carries the plan
// and what a hop needs while it waits, little else.
template <Throw Failures>
asio::awaitable<RequestResult<Failures>> run_request(std::shared_ptr<SessionState> state,
                                                     RequestPlan plan) {
  ExchangeResult result;
  try {
    for (;;) {  // a hop: the request, then one per redirect followed
      // A connection from the pool (or a new one), the exchange, and one
      // retry on a new connection when a reused one turns out closed. Here
      // rather than in a coroutine of its own: a frame fewer per request.
      Reuse reuse = plan.request().idempotent() ? Reuse::idle_first_retryable : Reuse::idle_first;
      for (;;) {
        if (plan.stop().stop_requested()) {
          result.failure = async::Failure::cancelled();
          break;
        }
        const Deadline connect = plan.connect_deadline();
        // Usually at once: the coroutine of acquire() runs only to queue.
        std::optional<ConnectionPool::Lease> lease =
            state->pool.try_acquire(plan.request().url->origin, reuse);
        if (!lease) {
          co_await wait_for_lease(*state, plan, connect, reuse, lease, result.failure);
          if (result.failure) break;
        }
        if (!lease->connection()) {
          // Attached only when opened (null otherwise).
          lease->attach(co_await open_connection(*state, plan, connect, result.failure));
          if (result.failure) break;
        }
        Connection& connection = *lease->connection();
        connection.begin_exchange(plan.exchange(), result);
        while (connection.exchange_running()) {
          co_await connection.wait_for_exchange();
          connection.continue_exchange(result);
        }
        if (result.failure) break;
        if (result.response) {
          lease->served();
          if (result.response->reusable) lease->release_to_pool();
          break;
        }
        // The server had closed this kept-alive connection (the lease closes it).
        if (reuse == Reuse::fresh_only || !plan.request().idempotent()) {
          result.failure = closed_before_answering(plan.request());
          break;
        }
        reuse = Reuse::fresh_only;
      }
      if (result.failure || !plan.redirected(*result.response)) break;
    }
  } catch (const std::exception& error) {
    if constexpr (Failures == Throw::yes) throw;
    result.failure = async::Failure::from_exception(error, std::current_exception());
  } catch (...) {
    if constexpr (Failures == Throw::yes) throw;
    result.failure = async::Failure::from_exception(std::current_exception());
  }
  co_return ended<Failures>(plan, result);
}

// A request that failed before it could start: the failure is thrown (or
// returned) when it is awaited, as if it had started.
template <Throw Failures>
asio::awaitable<RequestResult<Failures>> failed_request(std::exception_ptr error) {
  if constexpr (Failures == Throw::yes) {
    std::rethrow_exception(error);
    co_return ClientResponse{};  // never reached; makes this a coroutine
  } else {
    co_return async::Outcome<ClientResponse>::failure(std::move(error));
  }
}

template <Throw Failures>
asio::awaitable<RequestResult<Failures>> start_request(const std::shared_ptr<SessionState>& state,
                                                       const RequestOptions& options) {
  try {
    if (state->closed) throw std::logic_error{"http::Session::request() after close()"};
    return run_request<Failures>(state, RequestPlan{*state, options});
  } catch (...) {
    return failed_request<Failures>(std::current_exception());
  }
}

}  // namespace
}  // namespace detail

Session::Session(asio::any_io_executor executor) : Session{std::move(executor), SessionOptions{}} {}

Session::Session(asio::any_io_executor executor, SessionOptions options)
    : state_{std::make_shared<detail::SessionState>(std::move(executor), std::move(options))} {}

Session::~Session() {
  if (state_) close();
}

Session::Session(Session&&) noexcept = default;

Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    if (state_) close();
    state_ = std::move(other.state_);
  }
  return *this;
}

asio::awaitable<ClientResponse> Session::request(const RequestOptions& options) {
  return detail::start_request<detail::Throw::yes>(state_, options);
}

asio::awaitable<async::Outcome<ClientResponse>> Session::try_request(
    const RequestOptions& options) {
  return detail::start_request<detail::Throw::no>(state_, options);
}

asio::awaitable<ClientResponse> Session::get(std::string url) {
  return get(std::move(url), RequestOptions{});
}

asio::awaitable<ClientResponse> Session::get(std::string url, RequestOptions options) {
  options.method = boost::beast::http::verb::get;
  options.url = std::move(url);
  return request(std::move(options));
}

asio::awaitable<ClientResponse> Session::post(std::string url, std::string body) {
  return post(std::move(url), std::move(body), RequestOptions{});
}

asio::awaitable<ClientResponse> Session::post(std::string url, std::string body,
                                              RequestOptions options) {
  options.method = boost::beast::http::verb::post;
  options.url = std::move(url);
  options.body = std::move(body);
  return request(std::move(options));
}

asio::awaitable<ClientResponse> Session::post_json(std::string url, boost::json::value json) {
  return post_json(std::move(url), std::move(json), RequestOptions{});
}

asio::awaitable<ClientResponse> Session::post_json(std::string url, boost::json::value json,
                                                   RequestOptions options) {
  options.method = boost::beast::http::verb::post;
  options.url = std::move(url);
  options.json = std::move(json);
  return request(std::move(options));
}

PoolStats Session::stats() const { return state_->pool.stats(); }

const SessionOptions& Session::options() const noexcept { return state_->options; }

const asio::any_io_executor& Session::get_executor() const noexcept { return state_->executor; }

void Session::close() {
  state_->closed = true;
  state_->pool.close();
}

}  // namespace tailcut::http
