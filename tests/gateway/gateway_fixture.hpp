// The fixture of the gateway's end-to-end tests: a scripted simulator
// upstream, the gateway, and a client, all on 127.0.0.1 with ports picked
// by the system; and the helpers those tests share.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "gateway/gateway.hpp"
#include "support/server_test_client.hpp"
#include "tailcut/http/server.hpp"
#include "upstream/simulator.hpp"

namespace tailcut::gateway::test_support {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class GatewayTest : public ::testing::Test {
 protected:
  // Starts the scripted upstream and a gateway in front of it.
  void start(std::string_view script, GatewayOptions options = {}, std::size_t threads = 1) {
    upstream::SimulatorOptions simulator_options;
    simulator_options.script = upstream::parse_script(script);
    simulator_options.hang_duration = 10s;
    simulator_ = std::make_shared<upstream::Simulator>(simulator_options);
    http::Router routes;
    upstream::add_routes(routes, simulator_);
    http::ServerOptions upstream_server;
    upstream_server.threads = 1;
    upstream_server.shutdown_grace = 100ms;
    upstream_ = std::make_unique<http::Server>(upstream_server, std::move(routes));
    upstream_->start();

    options.upstream_urls = {"http://127.0.0.1:" + std::to_string(upstream_->port()) + "/api/work"};
    options.hedge_delay = 100ms;
    options.server.threads = threads;
    gateway_ = std::make_unique<Gateway>(options);
    gateway_->start();
  }

  void TearDown() override {
    if (gateway_) gateway_->stop();
    if (upstream_) upstream_->stop();
  }

  http::Response call(std::string_view target) {
    testing::ServerTestClient client{gateway_->port()};
    return client.request("GET", target);
  }

  upstream::SimulatorCounters upstream_counters() const { return simulator_->counters(); }

  std::shared_ptr<upstream::Simulator> simulator_;
  std::unique_ptr<http::Server> upstream_;
  std::unique_ptr<Gateway> gateway_;
};

inline boost::json::value json_of(const http::Response& response) {
  return boost::json::parse(response.body());
}

// Polls the simulator's counters (a server of its own, with no event to
// wait on) until `done` holds or 2 s pass.
template <typename Condition>
void wait_for_upstream(Condition done) {
  const auto give_up = Clock::now() + 2s;
  while (!done() && Clock::now() < give_up) std::this_thread::sleep_for(5ms);
}

// Sends what spdlog's default logger writes to a string while it lives.
// Swapping the default logger is not thread-safe: no thread that logs may
// run when it is made or destroyed, nor when text() is read.
class CapturedLog {
 public:
  explicit CapturedLog(spdlog::level::level_enum level = spdlog::level::warn)
      : previous_{spdlog::default_logger()} {
    auto logger = std::make_shared<spdlog::logger>(
        "captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(text_));
    logger->set_level(level);
    spdlog::set_default_logger(std::move(logger));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string text() {
    spdlog::default_logger()->flush();
    return text_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream text_;
};

inline std::size_t count_of(const std::string& text, std::string_view part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

}  // namespace tailcut::gateway::test_support
