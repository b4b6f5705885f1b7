// Tests of http::Server's life cycle: graceful stop with a request in flight
// and an idle connection, the forced end after the grace, stop() from a
// handler, bind failures and invalid options.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "support/server_test_client.hpp"
#include "support/server_test_handlers.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::raw_request;
using testing::ServerTestClient;

ServerOptions quiet_options(testing::LogCapture& log) {
  ServerOptions options;
  options.threads = 2;
  options.error_log = log.sink();
  return options;
}

TEST(ServerShutdownTest, StopFinishesTheRequestInFlightAndClosesIdleConnections) {
  testing::LogCapture log;
  auto entered = std::make_shared<testing::Event>();
  Router router;
  router.add(bhttp::verb::get, "/hello", testing::hello);
  router.add(bhttp::verb::get, "/slow", testing::slow_handler(entered, 300ms));
  Server server{quiet_options(log), std::move(router)};
  server.start();
  const auto port = server.port();

  ServerTestClient idle{port};
  ASSERT_EQ(idle.request("GET", "/hello").result(), bhttp::status::ok);
  ServerTestClient busy{port};
  busy.send(raw_request("GET", "/slow"));
  ASSERT_TRUE(entered->wait_for(10s));

  auto stopped = std::async(std::launch::async, [&server] { server.stop(); });
  EXPECT_TRUE(idle.wait_for_close(10s));
  const auto reply = busy.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::ok);
  EXPECT_EQ(reply.response->body(), "slow done");
  EXPECT_FALSE(reply.response->keep_alive());
  EXPECT_TRUE(busy.wait_for_close(10s));
  ASSERT_EQ(stopped.wait_for(20s), std::future_status::ready);

  EXPECT_FALSE(ServerTestClient::can_connect(port));
  EXPECT_EQ(server.stats().connections_open, 0u);
  EXPECT_TRUE(log.lines().empty());
  server.stop();  // idempotent
  server.wait();  // returns at once when stopped
}

TEST(ServerShutdownTest, HandlersStillRunningAfterTheGraceAreCancelledAndAnswered503) {
  testing::LogCapture log;
  auto entered = std::make_shared<testing::Event>();
  Router router;
  router.add(bhttp::verb::get, "/stuck", testing::slow_handler(entered, std::chrono::hours{1}));
  auto options = quiet_options(log);
  options.shutdown_grace = 200ms;
  Server server{options, std::move(router)};
  server.start();
  ServerTestClient client{server.port()};
  client.send(raw_request("GET", "/stuck"));
  ASSERT_TRUE(entered->wait_for(10s));

  const auto started = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  // The client is told its request was cut short, and the connection closes.
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result_int(), 503);
  EXPECT_EQ((*reply.response)[bhttp::field::connection], "close");
  EXPECT_NE(reply.response->body().find(R"("code":"shutting_down")"), std::string::npos)
      << reply.response->body();
  EXPECT_TRUE(client.wait_for_close(5000ms).has_value());
  EXPECT_EQ(server.stats().connections_open, 0u);
}

// A handler that stops the server it runs in.
boost::asio::awaitable<Response> stop_server(std::shared_ptr<std::atomic<Server*>> server,
                                             std::shared_ptr<std::atomic<bool>> wait_refused,
                                             Request, RequestContext) {
  Server& self = *server->load();
  self.stop();  // on a worker thread: starts the shutdown, returns at once
  try {
    self.wait();
  } catch (const std::logic_error&) {
    wait_refused->store(true);
  }
  co_return testing::text_response("stopping");
}

TEST(ServerShutdownTest, StopFromAHandlerReturnsAndTheServerStops) {
  testing::LogCapture log;
  auto server_pointer = std::make_shared<std::atomic<Server*>>(nullptr);
  auto wait_refused = std::make_shared<std::atomic<bool>>(false);
  Router router;
  router.add(bhttp::verb::post, "/stop",
             [server_pointer, wait_refused](Request request, RequestContext context) {
               return stop_server(server_pointer, wait_refused, std::move(request),
                                  std::move(context));
             });
  Server server{quiet_options(log), std::move(router)};
  server_pointer->store(&server);
  server.start();

  ServerTestClient client{server.port()};
  const auto response = client.request("POST", "/stop");
  EXPECT_EQ(response.body(), "stopping");
  EXPECT_FALSE(response.keep_alive());
  auto waited = std::async(std::launch::async, [&server] { server.wait(); });
  ASSERT_EQ(waited.wait_for(20s), std::future_status::ready);
  EXPECT_TRUE(wait_refused->load());
}

TEST(ServerShutdownTest, StopBeforeStartAndDestructionWithoutStopAreFine) {
  {
    Server server{ServerOptions{}, Router{}};
    server.stop();
    server.wait();
    EXPECT_THROW(server.start(), std::logic_error);
  }
  {
    Server server{ServerOptions{}, Router{}};
    server.start();
    ServerTestClient client{server.port()};
  }  // the destructor stops the server
}

TEST(ServerStartTest, BindFailureIsAClearError) {
  Server first{ServerOptions{}, Router{}};
  first.start();
  ServerOptions options;
  options.port = first.port();
  Server second{options, Router{}};
  try {
    second.start();
    FAIL() << "bind to a port in use succeeded";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string{error.what()}.find("127.0.0.1:" + std::to_string(first.port())),
              std::string::npos)
        << error.what();
  }

  ServerOptions bad_address;
  bad_address.address = "localhost";  // a name, not an address
  Server third{bad_address, Router{}};
  EXPECT_THROW(third.start(), std::runtime_error);
}

TEST(ServerStartTest, InvalidOptionsAreRefused) {
  ServerOptions no_threads;
  no_threads.threads = 0;
  EXPECT_THROW(Server(no_threads, Router{}), std::invalid_argument);
  ServerOptions no_timeout;
  no_timeout.idle_timeout = 0ms;
  EXPECT_THROW(Server(no_timeout, Router{}), std::invalid_argument);
}

}  // namespace
}  // namespace tailcut::http
