// http::Server with one router per worker: the factory is called once per
// worker, in order, before the constructor returns, and each worker's
// requests are handled by the router made for it.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/server_test_client.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

// Answers "<the worker the router was made for> <the worker that ran it>".
awaitable<Response> tell_workers(std::size_t made_for, Request, RequestContext context) {
  Response response{bhttp::status::ok, 11};
  response.body() = std::to_string(made_for) + " " + std::to_string(context.worker);
  co_return response;
}

Router router_of(std::size_t worker) {
  Router router;
  router.add(bhttp::verb::get, "/worker", [worker](Request request, RequestContext context) {
    return tell_workers(worker, std::move(request), context);
  });
  return router;
}

ServerOptions two_workers() {
  ServerOptions options;
  options.threads = 2;
  options.shutdown_grace = std::chrono::milliseconds{100};
  return options;
}

TEST(ServerWorkerRouterTest, TheFactoryMakesOneRouterPerWorkerInOrderOnTheCallingThread) {
  std::vector<std::size_t> made;
  std::vector<boost::asio::any_io_executor> executors;
  std::vector<std::thread::id> threads;
  Server server{two_workers(), [&](const WorkerContext& worker) {
                  made.push_back(worker.worker);
                  executors.push_back(worker.executor);
                  threads.push_back(std::this_thread::get_id());
                  return router_of(worker.worker);
                }};
  ASSERT_EQ(made, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(executors[0], server.worker_executor(0));
  EXPECT_EQ(executors[1], server.worker_executor(1));
  EXPECT_EQ(threads[0], std::this_thread::get_id());
  EXPECT_EQ(threads[1], std::this_thread::get_id());
}

TEST(ServerWorkerRouterTest, EachWorkerServesWithItsOwnRouter) {
  Server server{two_workers(),
                [](const WorkerContext& worker) { return router_of(worker.worker); }};
  server.start();
  // Connections are spread over the workers in turn: two reach both.
  testing::ServerTestClient first{server.port()};
  testing::ServerTestClient second{server.port()};
  std::vector<std::string> bodies{first.request("GET", "/worker").body(),
                                  second.request("GET", "/worker").body()};
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"0 0", "1 1"}));
  server.stop();
}

TEST(ServerWorkerRouterTest, WhatTheFactoryThrowsReachesTheCaller) {
  const auto construct = [] {
    Server server{two_workers(), [](const WorkerContext& worker) -> Router {
                    if (worker.worker == 1) throw std::runtime_error{"no router for worker 1"};
                    return router_of(worker.worker);
                  }};
  };
  EXPECT_THROW(construct(), std::runtime_error);
}

TEST(ServerWorkerRouterTest, OneRouterForAllIsCopiedToEveryWorker) {
  Router shared;
  shared.add(bhttp::verb::get, "/worker", [](Request request, RequestContext context) {
    return tell_workers(7, std::move(request), context);
  });
  Server server{two_workers(), std::move(shared)};
  server.start();
  testing::ServerTestClient first{server.port()};
  testing::ServerTestClient second{server.port()};
  std::vector<std::string> bodies{first.request("GET", "/worker").body(),
                                  second.request("GET", "/worker").body()};
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"7 0", "7 1"}));
  server.stop();
}

}  // namespace
}  // namespace tailcut::http
