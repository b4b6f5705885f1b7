// Gateway: wiring of the server, the sessions, the routes and the embedded
// upstream, and their ordered shutdown.
#include "gateway/gateway.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

namespace tailcut::gateway {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

namespace {

asio::awaitable<http::Response> healthz(http::Request, http::RequestContext) {
  co_return http::json_response(beast_http::status::ok, R"({"status":"ok"})");
}

// Brings worker `worker`'s pool figures up to date; runs on that worker's
// thread, which alone touches its session.
asio::awaitable<void> report_pool(Metrics* metrics, const http::Session* session,
                                  std::size_t worker) {
  metrics->record_pool(worker, session->stats());
  co_return;
}

// The metrics, with every worker's pool as of now: each worker is visited
// in turn on its own thread.
asio::awaitable<http::Response> serve_metrics(Metrics* metrics, const http::Server* server,
                                              const std::deque<http::Session>* sessions,
                                              http::Request, http::RequestContext) {
  for (std::size_t worker = 0; worker < sessions->size(); ++worker) {
    // Not cancellable: Asio 1.81 hands a cancellation to the other worker
    // with a pointer to a signal that may be gone by the time it runs
    // (chriskohlhoff/asio#1332); a visit takes microseconds anyway.
    co_await asio::co_spawn(
        server->worker_executor(worker), report_pool(metrics, &(*sessions)[worker], worker),
        asio::bind_cancellation_slot(asio::cancellation_slot{}, asio::use_awaitable));
  }
  auto response = http::json_response(beast_http::status::ok, metrics->serialize());
  response.set(beast_http::field::content_type, "text/plain; version=0.0.4");
  co_return response;
}

}  // namespace

Gateway::Gateway(GatewayOptions options, upstream::SimulatorOptions embedded_upstream)
    : options_{std::move(options)}, embedded_options_{std::move(embedded_upstream)} {
  validate(options_);
}

Gateway::~Gateway() { stop(); }

void Gateway::start() {
  if (server_) throw std::logic_error{"Gateway::start called twice"};
  upstream_url_ = options_.upstream_url;
  if (upstream_url_.empty()) {
    // The whole system on one machine: the simulator in-process, on a free port.
    http::ServerOptions upstream_server;
    upstream_server.address = "127.0.0.1";
    upstream_server.port = 0;
    upstream_server.threads = 1;
    upstream_server.shutdown_grace = std::chrono::milliseconds{100};
    upstream_server.count_kernel_wait = false;  // the simulator keeps no deadlines
    http::Router upstream_routes;
    upstream::add_routes(upstream_routes, std::make_shared<upstream::Simulator>(embedded_options_));
    embedded_upstream_ =
        std::make_unique<http::Server>(upstream_server, std::move(upstream_routes));
    embedded_upstream_->start();
    upstream_url_ = "http://127.0.0.1:" + std::to_string(embedded_upstream_->port()) + "/api/work";
  }

  metrics_ = std::make_unique<Metrics>(options_.server.threads, options_.hedge_count + 1);
  http::Router router;
  // The router's handlers reach the API and the metrics through pointers set
  // below, before the server starts.
  auto* api_slot = &smart_api_;
  router.add(beast_http::verb::get, "/api/smart",
             [api_slot](http::Request request, http::RequestContext context) {
               return (*api_slot)->handle(std::move(request), context);
             });
  router.add(beast_http::verb::get, "/healthz", healthz);
  Metrics* metrics = metrics_.get();
  const auto* server_slot = &server_;
  const auto* sessions = &sessions_;
  router.add(beast_http::verb::get, "/metrics",
             [metrics, server_slot, sessions](http::Request request, http::RequestContext context) {
               return serve_metrics(metrics, server_slot->get(), sessions, std::move(request),
                                    context);
             });
  server_ = std::make_unique<http::Server>(options_.server, std::move(router));
  for (std::size_t worker = 0; worker < server_->worker_count(); ++worker) {
    sessions_.emplace_back(server_->worker_executor(worker), options_.client);
  }
  smart_api_ = std::make_unique<SmartApi>(options_, upstream_url_, *metrics_, sessions_);
  server_->start();
}

void Gateway::stop() {
  // Order matters: the server's workers run the sessions, so they stop
  // first; the sessions' sockets go while their io_contexts still exist.
  if (server_) server_->stop();
  sessions_.clear();
  if (embedded_upstream_) embedded_upstream_->stop();
}

}  // namespace tailcut::gateway
