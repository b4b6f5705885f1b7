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
        pool{executor, PoolLimits{.total = options.connection_limit,
                                  .per_host = options.per_host_connection_limit,
                                  .keepalive_timeout = options.keepalive_timeout}} {}

  asio::any_io_executor executor;
  SessionOptions options;
  std::shared_ptr<asio::ssl::context> tls_context;
  BaseHeaders base_headers;  // of options, for every request
  LastUrl last_url;          // of the last request
  ConnectionPool pool;
  bool closed = false;
};

namespace {

// What a request needs across its hops; the coroutine keeps only this.
class RequestPlan {
 public:
  RequestPlan(SessionState& state, const RequestOptions& options)
      : timeouts_{options.timeouts.value_or(state.options.timeouts)},
        total_{total_deadline(timeouts_.total)},
        request_{prepare_request(state.options, options, &state.base_headers, &state.last_url)},
        follow_redirects_{options.follow_redirects},
        max_redirects_{options.max_redirects},
        max_body_bytes_{options.max_body_bytes},
        body_charge_{options.body_charge},
        stop_{options.stop} {}

  [[nodiscard]] const PreparedRequest& request() const noexcept { return request_; }
  [[nodiscard]] const Deadline& total() const noexcept { return total_; }
  [[nodiscard]] const Timeouts& timeouts() const noexcept { return timeouts_; }
  [[nodiscard]] const std::stop_token& stop() const noexcept { return stop_; }
  [[nodiscard]] ExchangeLimits limits() const noexcept {
    return ExchangeLimits{.max_body_bytes = max_body_bytes_,
                          .head_request = request_.method == boost::beast::http::verb::head,
                          .body_charge = body_charge_};
  }

  // The final response, or nullopt after switching to the redirect target.
  // Throws ClientError(too_many_redirects | invalid_url).
  [[nodiscard]] std::optional<ClientResponse> on_response(RawResponse response) {
    std::optional<PreparedRequest> next;
    if (follow_redirects_) next = follow_redirect(request_, response);
    if (!next) {
      return ClientResponse{.status = response.status,
                            .reason = std::move(response.reason),
                            .headers = std::move(response.headers),
                            .body = std::move(response.body),
                            .url = request_.url->text,
                            .redirect_count = redirects_};
    }
    if (redirects_ == max_redirects_) {
      throw ClientError{
          ErrorKind::too_many_redirects,
          "more than " + std::to_string(max_redirects_) + " redirects starting from " +
              (redirects_ == 0 ? request_.url->text : first_url_) + "; the last went from " +
              request_.url->text + " to " + next->url->text};
    }
    if (redirects_ == 0) first_url_ = request_.url->text;  // kept only once needed
    ++redirects_;
    request_ = std::move(*next);
    return std::nullopt;
  }

 private:
  Timeouts timeouts_;
  Deadline total_;
  PreparedRequest request_;
  std::string first_url_;  // set at the first redirect
  bool follow_redirects_;
  std::size_t max_redirects_;
  std::size_t max_body_bytes_;
  BodyCharge* body_charge_;
  std::size_t redirects_ = 0;
  std::stop_token stop_;
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

// The plan is made before the coroutine starts (see Session::request), so
// that its frame, which every request in flight holds, carries the plan only.
template <Throw Failures>
asio::awaitable<RequestResult<Failures>> run_request(std::shared_ptr<SessionState> state,
                                                     RequestPlan plan) {
  async::Failure failure;
  try {
    for (;;) {  // a hop: the request, then one per redirect followed
      const PreparedRequest& request = plan.request();
      ExchangeResult result;
      // A connection from the pool (or a new one), the exchange, and one
      // retry on a new connection when a reused one turns out closed. Here
      // rather than in a coroutine of its own: a frame fewer per request.
      Reuse reuse = request.idempotent() ? Reuse::idle_first_retryable : Reuse::idle_first;
      for (;;) {
        if (plan.stop().stop_requested()) {
          result.failure = async::Failure::cancelled();
          break;
        }
        const Deadline connect =
            earliest(plan.total(), plan.timeouts().connect, ErrorKind::connect_timeout);
        // Usually at once: the coroutine of acquire() runs only to queue.
        std::optional<ConnectionPool::Lease> taken =
            state->pool.try_acquire(request.url->origin, reuse);
        if (!taken) {
          co_await state->pool.acquire(taken, result.failure, request.url->origin, connect, reuse,
                                       request.url->text, plan.stop());
          if (result.failure) break;
        }
        ConnectionPool::Lease& lease = *taken;
        if (!lease.connection()) {
          std::unique_ptr<Connection> connection = co_await Connection::open(
              state->executor, request.url->origin, state->tls_context.get(), connect,
              request.url->text, result.failure, plan.stop());
          if (result.failure) break;
          lease.attach(std::move(connection));
        }
        result = co_await lease.connection()->exchange(request.wire, plan.limits(), plan.total(),
                                                       plan.timeouts().sock_read, request.url->text,
                                                       plan.stop());
        if (result.failure) break;
        if (result.response) {
          lease.served();
          if (result.response->reusable) lease.release_to_pool();
          break;
        }
        // The server had closed this kept-alive connection (the lease closes it).
        if (reuse == Reuse::fresh_only || !request.idempotent()) {
          result.failure = closed_before_answering(request);
          break;
        }
        reuse = Reuse::fresh_only;
      }
      if (result.failure) {
        // Stopped from outside: whatever the stage reported, it was stopped.
        failure =
            plan.stop().stop_requested() ? async::Failure::cancelled() : std::move(result.failure);
        break;
      }
      std::optional<ClientResponse> final_response = plan.on_response(std::move(*result.response));
      if (!final_response) continue;
      if constexpr (Failures == Throw::yes) {
        co_return std::move(*final_response);
      } else {
        co_return async::Outcome<ClientResponse>::success(std::move(*final_response));
      }
    }
  } catch (const std::exception& error) {
    if constexpr (Failures == Throw::yes) throw;
    failure = async::Failure::from_exception(error, std::current_exception());
  } catch (...) {
    if constexpr (Failures == Throw::yes) throw;
    failure = async::Failure::from_exception(std::current_exception());
  }
  if constexpr (Failures == Throw::yes) {
    failure.rethrow();
  } else {
    co_return async::Outcome<ClientResponse>::failure(std::move(failure));
  }
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
