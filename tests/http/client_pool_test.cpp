// Connection pool of http::Session against scripted servers on 127.0.0.1:
// keep-alive reuse, limits under load, FIFO waiting, stale connections.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "support/client_test_helpers.hpp"
#include "support/client_test_server.hpp"
#include "tailcut/async/error.hpp"
#include "tailcut/http/session.hpp"

namespace tailcut::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::AfterReply;
using test::ClientTestServer;
using test::ReceivedRequest;
using test::Reply;
using test::run_to_completion;
using test::run_until;

Reply ok(const ReceivedRequest&) { return Reply::text(200, "ok"); }

asio::awaitable<std::vector<int>> get_in_sequence(Session& session, std::string url, int count) {
  std::vector<int> statuses;
  for (int i = 0; i < count; ++i) {
    ClientResponse response = co_await session.get(url);
    statuses.push_back(response.status);
  }
  co_return statuses;
}

asio::awaitable<void> pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer{co_await asio::this_coro::executor, duration};
  co_await timer.async_wait(asio::use_awaitable);
}

// Starts `count` requests at once (url i % urls.size()); counts the
// outcomes and the most connections the session had in use at a time.
struct Burst {
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::size_t max_in_use = 0;
  std::size_t max_waiting = 0;
};

Burst run_burst(asio::io_context& io, Session& session, const std::vector<std::string>& urls,
                std::size_t count) {
  auto burst = std::make_shared<Burst>();
  for (std::size_t i = 0; i < count; ++i) {
    asio::co_spawn(io, session.get(urls[i % urls.size()]),
                   [burst, &session](std::exception_ptr error, ClientResponse response) {
                     const PoolStats stats = session.stats();
                     burst->max_in_use = std::max(burst->max_in_use, stats.in_use);
                     burst->max_waiting = std::max(burst->max_waiting, stats.waiting);
                     (!error && response.status == 200 ? burst->succeeded : burst->failed) += 1;
                   });
  }
  const auto stats = session.stats();
  burst->max_in_use = std::max(burst->max_in_use, stats.in_use);
  burst->max_waiting = std::max(burst->max_waiting, stats.waiting);
  EXPECT_TRUE(run_until(
      io, [&] { return burst->succeeded + burst->failed == count; }, 90s));
  return *burst;
}

TEST(ClientPool, SequentialRequestsReuseOneConnection) {
  asio::io_context io;
  ClientTestServer server{io, ok};
  Session session{io.get_executor()};
  const auto statuses = run_to_completion(io, get_in_sequence(session, server.url("/x"), 10));
  EXPECT_EQ(statuses, std::vector<int>(10, 200));
  EXPECT_EQ(server.counters().connections_accepted, 1u);
  const PoolStats stats = session.stats();
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_EQ(stats.connections_reused, 9u);
  EXPECT_EQ(stats.idle, 1u);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.waiting, 0u);
}

TEST(ClientPool, PerHostLimitHoldsUnder500ConcurrentRequests) {
  asio::io_context io;
  ClientTestServer server{
      io, [](const ReceivedRequest&) { return Reply::text(200, "ok").delayed(1ms); }};
  Session session{io.get_executor(), SessionOptions{.per_host_connection_limit = 5}};
  const Burst burst = run_burst(io, session, {server.url("/")}, 500);
  EXPECT_EQ(burst.succeeded, 500u);
  EXPECT_LE(burst.max_in_use, 5u);
  EXPECT_GT(burst.max_waiting, 0u);
  EXPECT_LE(server.counters().max_in_flight, 5u);
  EXPECT_LE(server.counters().connections_accepted, 5u);
  EXPECT_EQ(session.stats().waiting, 0u);
  EXPECT_EQ(session.stats().in_use, 0u);
}

TEST(ClientPool, TotalLimitHoldsAcrossHostsUnder500ConcurrentRequests) {
  asio::io_context io;
  auto shared = std::make_shared<test::ServerCounters>();
  auto script = [](const ReceivedRequest&) { return Reply::text(200, "ok").delayed(1ms); };
  ClientTestServer first{io, script, nullptr, shared};
  ClientTestServer second{io, script, nullptr, shared};
  ClientTestServer third{io, script, nullptr, shared};
  Session session{io.get_executor(), SessionOptions{.connection_limit = 8}};
  const Burst burst = run_burst(io, session, {first.url(), second.url(), third.url()}, 500);
  EXPECT_EQ(burst.succeeded, 500u);
  EXPECT_LE(burst.max_in_use, 8u);
  EXPECT_LE(shared->max_in_flight, 8u);
  EXPECT_LE(session.stats().idle + session.stats().in_use, 8u);
}

TEST(ClientPool, QueuedRequestsAreServedFirstComeFirstServed) {
  asio::io_context io;
  ClientTestServer server{
      io, [](const ReceivedRequest&) { return Reply::text(200, "ok").delayed(5ms); }};
  Session session{io.get_executor(), SessionOptions{.connection_limit = 1}};
  std::size_t done = 0;
  for (int i = 0; i < 6; ++i) {
    asio::co_spawn(io, session.get(server.url("/" + std::to_string(i))),
                   [&](std::exception_ptr, ClientResponse) { ++done; });
  }
  ASSERT_TRUE(run_until(io, [&] { return done == 6; }));
  std::vector<std::string> targets;
  for (const auto& request : server.requests()) targets.push_back(request.target);
  EXPECT_EQ(targets, (std::vector<std::string>{"/0", "/1", "/2", "/3", "/4", "/5"}));
  EXPECT_EQ(server.counters().connections_accepted, 1u);
}

// A session limited to one connection, whose only slot a request to /hang
// holds (the server never answers it) until release() cancels that request.
class ClientPoolOneSlotTaken : public ::testing::Test {
 protected:
  void SetUp() override {
    asio::co_spawn(io, session.get(server.url("/hang")),
                   asio::bind_cancellation_slot(
                       stop_hanging.slot(),
                       [this](std::exception_ptr, ClientResponse) { hanging_done = true; }));
    ASSERT_TRUE(run_until(io, [this] { return server.counters().in_flight == 1; }));
  }

  void release() {
    stop_hanging.emit(asio::cancellation_type::terminal);
    ASSERT_TRUE(run_until(io, [this] { return hanging_done; }));
  }

  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest& request) {
                            return request.target == "/hang" ? Reply::no_answer()
                                                             : Reply::text(200, "ok");
                          }};
  Session session{io.get_executor(), SessionOptions{.connection_limit = 1}};
  asio::cancellation_signal stop_hanging;
  bool hanging_done = false;
};

TEST_F(ClientPoolOneSlotTaken, WaitingForAFreeConnectionCountsAgainstTheConnectTimeout) {
  RequestOptions options;
  options.timeouts = test::timeouts(10s, 200ms, std::nullopt);
  const test::Stopwatch stopwatch;
  const auto error = test::failure_of(io, session.get(server.url("/fast"), options));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::connect_timeout) << error->what();
  EXPECT_NE(std::string{error->what()}.find("waiting for a free connection"), std::string::npos)
      << error->what();
  EXPECT_GE(stopwatch.elapsed(), 150ms);
  EXPECT_EQ(session.stats().waiting, 0u);

  release();
  // The slot is free again.
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).status, 200);
}

// Runs try_request and keeps its outcome (co_spawn wants a default value).
asio::awaitable<void> store_outcome(Session* session, RequestOptions options,
                                    std::optional<async::Outcome<ClientResponse>>* outcome) {
  outcome->emplace(co_await session->try_request(options));
}

// A request queued for a slot and then cancelled (a hedged attempt that
// lost) fails as cancelled, returned rather than thrown by try_request, and
// leaves the queue: the slot goes to the next request.
TEST_F(ClientPoolOneSlotTaken, ARequestCancelledWhileQueuedFailsAsCancelledAndLeavesTheQueue) {
  asio::cancellation_signal stop_queued;
  std::optional<async::Outcome<ClientResponse>> queued;
  RequestOptions options;
  options.url = server.url("/fast");
  asio::co_spawn(io, store_outcome(&session, options, &queued),
                 asio::bind_cancellation_slot(
                     stop_queued.slot(), [](std::exception_ptr thrown) { EXPECT_FALSE(thrown); }));
  ASSERT_TRUE(run_until(io, [&] { return session.stats().waiting == 1; }));
  stop_queued.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(io, [&] { return queued.has_value(); }));
  ASSERT_FALSE(*queued);
  EXPECT_TRUE(async::is_cancellation(queued->error()));
  EXPECT_EQ(session.stats().waiting, 0u);

  release();
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).status, 200);
  EXPECT_EQ(server.counters().requests, 2u);  // the cancelled one never reached it
}

TEST(ClientPool, OriginsAreForgottenOnceNothingUsesThem) {
  asio::io_context io;
  ClientTestServer keeps{io, ok};
  ClientTestServer closes{io, [](const ReceivedRequest& request) {
                            return request.target == "/hang"
                                       ? Reply::no_answer()
                                       : Reply::text(200, "ok", "Connection: close\r\n");
                          }};
  Session session{io.get_executor(),
                  SessionOptions{.connection_limit = 1, .keepalive_timeout = 100ms}};
  // A response that closes its connection leaves nothing behind.
  EXPECT_EQ(run_to_completion(io, session.get(closes.url())).status, 200);
  EXPECT_EQ(session.stats().origins, 0u);
  // An idle connection keeps its origin...
  EXPECT_EQ(run_to_completion(io, session.get(keeps.url())).status, 200);
  EXPECT_EQ(session.stats().origins, 1u);
  // ...until it is closed to make room under the limit for another origin.
  EXPECT_EQ(run_to_completion(io, session.get(closes.url())).status, 200);
  EXPECT_EQ(session.stats().origins, 0u);
  // ...or until it expires (noticed by the next request).
  EXPECT_EQ(run_to_completion(io, session.get(keeps.url())).status, 200);
  run_to_completion(io, pause(200ms));  // the time that passes is what is tested
  EXPECT_EQ(run_to_completion(io, session.get(closes.url())).status, 200);
  EXPECT_EQ(session.stats().origins, 0u);

  // A request that gave up waiting for a connection leaves no entry either.
  asio::cancellation_signal stop_hanging;
  bool hanging_done = false;
  asio::co_spawn(
      io, session.get(closes.url("/hang")),
      asio::bind_cancellation_slot(
          stop_hanging.slot(), [&](std::exception_ptr, ClientResponse) { hanging_done = true; }));
  ASSERT_TRUE(run_until(io, [&] { return closes.counters().in_flight == 1; }));
  RequestOptions options;
  options.timeouts = test::timeouts(10s, 50ms, std::nullopt);
  const auto error = test::failure_of(io, session.get(keeps.url(), options));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::connect_timeout) << error->what();
  EXPECT_EQ(session.stats().origins, 1u);  // the hanging request's
  stop_hanging.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(io, [&] { return hanging_done; }));
  EXPECT_EQ(session.stats().origins, 0u);
}

// Answers, then closes the connection without saying so (no Connection: close).
Reply answer_then_close(const ReceivedRequest&) {
  Reply reply = Reply::text(200, "ok");
  reply.after = AfterReply::close;
  return reply;
}

// A POST (not retryable) checks an idle connection before it takes it.
TEST(ClientPool, IdleConnectionClosedByTheServerIsNotReused) {
  asio::io_context io;
  ClientTestServer server{io, answer_then_close};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.post(server.url(), "1")).status, 200);
  ASSERT_TRUE(run_until(io, [&] { return server.counters().closed_by_server == 1; }));
  EXPECT_EQ(run_to_completion(io, session.post(server.url(), "2")).status, 200);
  EXPECT_EQ(server.counters().connections_accepted, 2u);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(session.stats().connections_reused, 0u);
}

// A GET takes a connection idle for less than trusted_idle_time unchecked
// (one system call less per request); closed, it is retried on a new one.
TEST(ClientPool, RecentlyIdleConnectionClosedByTheServerCostsARetry) {
  asio::io_context io;
  ClientTestServer server{io, answer_then_close};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/1"))).status, 200);
  ASSERT_TRUE(run_until(io, [&] { return server.counters().closed_by_server == 1; }));
  const ClientResponse second = run_to_completion(io, session.get(server.url("/2")));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(server.counters().connections_accepted, 2u);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].target, "/2");
  EXPECT_EQ(session.stats().connections_reused, 0u);  // the retry answered
}

// Answers a connection's first request and drops the connection on its second.
Reply answer_once_then_drop(const ReceivedRequest& request) {
  return request.index_on_connection == 0 ? Reply::text(200, "ok") : Reply::drop();
}

TEST(ClientPool, StaleConnectionIsRetriedOnceForAnIdempotentRequest) {
  asio::io_context io;
  ClientTestServer server{io, answer_once_then_drop};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/1"))).status, 200);
  const ClientResponse second = run_to_completion(io, session.get(server.url("/2")));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(server.counters().connections_accepted, 2u);
  ASSERT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.requests()[2].target, "/2");
  EXPECT_EQ(server.requests()[2].connection_index, 1u);
}

TEST(ClientPool, StaleConnectionIsNotRetriedForPost) {
  asio::io_context io;
  ClientTestServer server{io, answer_once_then_drop};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/1"))).status, 200);
  const auto error = test::failure_of(io, session.post(server.url("/2"), "payload"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::connection_closed);
  EXPECT_NE(std::string{error->what()}.find("not idempotent"), std::string::npos) << error->what();
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.counters().connections_accepted, 1u);
}

TEST(ClientPool, RetryHappensOnlyOnce) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest& request) {
                            return request.target == "/first" ? Reply::text(200, "ok")
                                                              : Reply::drop();
                          }};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/first"))).status, 200);
  // Reused connection dropped, then the fresh one dropped too: no third try.
  EXPECT_EQ(test::kind_of_failure(io, session.get(server.url("/again"))),
            ErrorKind::connection_closed);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ClientPool, ConnectionCloseAndHttp10ResponsesAreNotPooled) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest& request) {
                            if (request.target == "/close") {
                              return Reply::text(200, "ok", "Connection: close\r\n");
                            }
                            return Reply::text(200, "ok", "", "HTTP/1.0");
                          }};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/close"))).status, 200);
  EXPECT_EQ(session.stats().idle, 0u);
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/http10"))).status, 200);
  EXPECT_EQ(session.stats().idle, 0u);
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/close"))).status, 200);
  EXPECT_EQ(server.counters().connections_accepted, 3u);
}

TEST(ClientPool, IdleConnectionsExpireAfterTheKeepaliveTimeout) {
  asio::io_context io;
  ClientTestServer server{io, ok};
  Session session{io.get_executor(), SessionOptions{.keepalive_timeout = 50ms}};
  EXPECT_EQ(run_to_completion(io, session.get(server.url())).status, 200);
  run_to_completion(io, pause(120ms));  // the time that passes is what is tested
  EXPECT_EQ(run_to_completion(io, session.get(server.url())).status, 200);
  EXPECT_EQ(server.counters().connections_accepted, 2u);
  // The expired connection was closed, not just skipped.
  EXPECT_TRUE(run_until(io, [&] { return server.counters().closed_by_client == 1; }));
}

TEST(ClientPool, CloseClosesIdleConnectionsAndRefusesNewRequests) {
  asio::io_context io;
  ClientTestServer server{io, ok};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url())).status, 200);
  EXPECT_EQ(session.stats().idle, 1u);
  session.close();
  EXPECT_EQ(session.stats().idle, 0u);
  EXPECT_TRUE(run_until(io, [&] { return server.counters().closed_by_client == 1; }));
  EXPECT_THROW(run_to_completion(io, session.get(server.url())), std::logic_error);
}

TEST(ClientPool, DestroyingTheSessionClosesIdleConnections) {
  asio::io_context io;
  ClientTestServer server{io, ok};
  {
    Session session{io.get_executor()};
    EXPECT_EQ(run_to_completion(io, session.get(server.url())).status, 200);
  }
  EXPECT_TRUE(run_until(io, [&] { return server.counters().closed_by_client == 1; }));
}

}  // namespace
}  // namespace tailcut::http
