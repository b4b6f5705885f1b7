// Gateway: `tailcut serve` assembled — the server core with /api/smart,
// /healthz and /metrics, one GatewayShard per worker, and the embedded
// simulator when no upstream is given.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "gateway/gateway_options.hpp"
#include "gateway/gateway_shard.hpp"
#include "gateway/metrics.hpp"
#include "tailcut/http/body_budget.hpp"
#include "tailcut/http/server.hpp"
#include "upstream/simulator.hpp"

namespace tailcut::gateway {

class Gateway {
 public:
  // Validates the options (std::invalid_argument says which is wrong).
  explicit Gateway(GatewayOptions options,
                   upstream::SimulatorOptions embedded_upstream = upstream::SimulatorOptions{});
  // Stops gracefully if still running. Not from a worker thread.
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Starts the embedded upstream (if any) and the gateway's server.
  void start();
  // Graceful: stops accepting, lets calls in flight finish within their
  // deadlines (bounded by the server's shutdown grace), then stops.
  void stop();

  [[nodiscard]] http::Server& server() noexcept { return *server_; }
  [[nodiscard]] std::uint16_t port() const noexcept { return server_->port(); }
  // The upstream replicas called (the embedded simulator's URL without --upstream).
  [[nodiscard]] const std::vector<std::string>& upstream_urls() const noexcept {
    return upstream_urls_;
  }
  [[nodiscard]] const Metrics& metrics() const noexcept { return *metrics_; }
  // The upstream bodies buffered at once, over all workers
  // (GatewayOptions::upstream_buffer_bytes).
  [[nodiscard]] const http::BodyBudget& upstream_buffer() const noexcept {
    return upstream_buffer_;
  }

 private:
  // The routes of one worker, on its own shard (the server's router factory).
  http::Router worker_router(const http::WorkerContext& worker);

  GatewayOptions options_;
  upstream::SimulatorOptions embedded_options_;
  std::unique_ptr<http::Server> embedded_upstream_;
  std::vector<std::string> upstream_urls_;
  std::unique_ptr<Metrics> metrics_;
  http::BodyBudget upstream_buffer_;  // outlives the server's workers
  std::unique_ptr<http::Server> server_;
  // The workers' shards, in worker order: made by worker_router(), visited
  // by /metrics, and gone after the server's workers stop.
  std::deque<GatewayShard> shards_;
};

}  // namespace tailcut::gateway
