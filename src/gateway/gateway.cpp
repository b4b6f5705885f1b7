// Gateway: wiring of the server, the workers' shards and routes, and the
// embedded upstream, and their ordered shutdown.
#include "gateway/gateway.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "gateway/memory_release.hpp"
#include "gateway/smart_api.hpp"

namespace tailcut::gateway {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;

namespace {

asio::awaitable<http::Response> healthz(http::Request, http::RequestContext) {
  co_return http::json_response(beast_http::status::ok, R"({"status":"ok"})");
}

// Brings a worker's pool figures up to date; runs on that worker's thread,
// which alone touches its shard.
asio::awaitable<void> report_gauges(GatewayShard* shard) {
  shard->report_gauges();
  co_return;
}

// The metrics, with every worker's pool as of now: each worker is visited
// in turn on its own thread.
asio::awaitable<http::Response> serve_metrics(Metrics* metrics, const http::Server* server,
                                              std::deque<GatewayShard>* shards, http::Request,
                                              http::RequestContext) {
  for (std::size_t worker = 0; worker < shards->size(); ++worker) {
    // Not cancellable: Asio 1.81 hands a cancellation to the other worker
    // with a pointer to a signal that may be gone by the time it runs
    // (chriskohlhoff/asio#1332); a visit takes microseconds anyway.
    co_await asio::co_spawn(
        server->worker_executor(worker), report_gauges(&(*shards)[worker]),
        asio::bind_cancellation_slot(asio::cancellation_slot{}, asio::use_awaitable));
  }
  metrics->record_connections_rejected(server->stats().connections_rejected);
  auto response = http::json_response(beast_http::status::ok, metrics->serialize());
  response.set(beast_http::field::content_type, "text/plain; version=0.0.4");
  co_return response;
}

}  // namespace

Gateway::Gateway(GatewayOptions options, upstream::SimulatorOptions embedded_upstream)
    : options_{std::move(options)},
      embedded_options_{std::move(embedded_upstream)},
      upstream_buffer_{options_.upstream_buffer_bytes} {
  validate(options_);
  // The server's lines (a refused connection, a handler that threw) go
  // where the gateway's go.
  if (!options_.server.error_log) {
    options_.server.error_log = [](std::string_view line) {
      spdlog::warn("http server: {}", line);
    };
  }
}

Gateway::~Gateway() { stop(); }

void Gateway::start() {
  if (server_) throw std::logic_error{"Gateway::start called twice"};
  upstream_urls_ = options_.upstream_urls;
  if (upstream_urls_.empty()) {
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
    upstream_urls_.push_back("http://127.0.0.1:" + std::to_string(embedded_upstream_->port()) +
                             "/api/work");
  }

  std::vector<std::string> replica_names;
  if (upstream_urls_.size() > 1) {
    for (const auto& url : upstream_urls_) replica_names.push_back(replica_name(url));
  }
  metrics_ = std::make_unique<Metrics>(options_.hedge_count + 1, std::move(replica_names));
  options_.server.reserve_descriptor_table = true;  // opens connections under load
  server_ = std::make_unique<http::Server>(
      options_.server, [this](const http::WorkerContext& worker) { return worker_router(worker); });
  server_->start();
  // One worker watches the bodies' peak for all: the budget is shared.
  asio::co_spawn(server_->worker_executor(0), release_memory_after_bursts(&upstream_buffer_),
                 asio::detached);
}

http::Router Gateway::worker_router(const http::WorkerContext& worker) {
  GatewayShard* shard =
      &shards_.emplace_back(options_, upstream_urls_, worker.executor, worker.worker,
                            metrics_->add_shard(worker.worker), upstream_buffer_);
  http::Router router;
  router.add(beast_http::verb::get, "/api/smart",
             [shard](http::Request request, http::RequestContext context) {
               return handle_smart_call(*shard, std::move(request), context);
             });
  router.add(beast_http::verb::get, "/healthz", healthz);
  // The server is reached through its slot: it is set once the factory
  // has made every worker's routes, before any request.
  Metrics* metrics = metrics_.get();
  const auto* server_slot = &server_;
  auto* shards = &shards_;
  router.add(beast_http::verb::get, "/metrics",
             [metrics, server_slot, shards](http::Request request, http::RequestContext context) {
               return serve_metrics(metrics, server_slot->get(), shards, std::move(request),
                                    context);
             });
  return router;
}

void Gateway::stop() {
  // Order matters: the server's workers run the shards' sessions, so they
  // stop first; the sessions' sockets go while their io_contexts still exist.
  if (server_) server_->stop();
  shards_.clear();
  if (embedded_upstream_) embedded_upstream_->stop();
}

}  // namespace tailcut::gateway
