// Stopping http::Session requests from outside through RequestOptions::stop
// (how policy::hedge stops a first attempt run in its own frame): the
// request ends at once as a cancellation, at whatever stage it is, while the
// coroutine awaiting it is not cancelled; a stop requested before the request
// starts keeps it from the network; the session and its pool stay usable.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <stop_token>
#include <string>

#include "support/client_test_helpers.hpp"
#include "support/client_test_server.hpp"
#include "tailcut/async/error.hpp"
#include "tailcut/async/task.hpp"
#include "tailcut/http/session.hpp"

namespace tailcut::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::ClientTestServer;
using test::ReceivedRequest;
using test::Reply;
using test::run_to_completion;
using test::run_until;
using test::Stopwatch;

// "/slow" is answered after `slow_delay`, anything else at once.
auto slow_after(std::chrono::milliseconds slow_delay) {
  return [slow_delay](const ReceivedRequest& request) {
    return request.target == "/slow" ? Reply::text(200, "slow").delayed(slow_delay)
                                     : Reply::text(200, "fast");
  };
}

RequestOptions stoppable(std::string url, std::stop_token stop) {
  RequestOptions options;
  options.url = std::move(url);
  options.stop = std::move(stop);
  return options;
}

// What the coroutine awaiting a stopped request saw.
struct Awaited {
  bool done = false;
  std::optional<ClientResponse> response;
  std::exception_ptr error;
  // After the request: was the coroutine itself cancelled, and could it
  // still await something else?
  bool coroutine_cancelled = true;
  bool awaited_after = false;
};

// Awaits session.request(options) (try_request() when `outcome`), then a
// timer, noting everything in *awaited.
asio::awaitable<void> await_request(Session& session, RequestOptions options, bool outcome,
                                    Awaited* awaited) {
  if (outcome) {
    async::Outcome<ClientResponse> result = co_await session.try_request(options);
    if (result.has_value()) {
      awaited->response.emplace(std::move(result).value());
    } else {
      awaited->error = result.error();
    }
  } else {
    try {
      awaited->response.emplace(co_await session.request(options));
    } catch (...) {
      awaited->error = std::current_exception();
    }
  }
  awaited->done = true;
  const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  awaited->coroutine_cancelled = state.cancelled() != asio::cancellation_type::none;
  asio::steady_timer timer{co_await asio::this_coro::executor, 1ms};
  co_await timer.async_wait(asio::use_awaitable);
  awaited->awaited_after = true;
}

// Starts session.request(options) (try_request() when `outcome`) on a
// coroutine of its own; `awaited` tells how it went.
void start_request(asio::io_context& io, Session& session, RequestOptions options, bool outcome,
                   Awaited& awaited) {
  asio::co_spawn(io, await_request(session, std::move(options), outcome, &awaited), asio::detached);
}

// Requests the stop, then runs `io` until the awaiting coroutine has seen
// its request end (2 s at most).
[[nodiscard]] bool stop_and_wait(asio::io_context& io, std::stop_source& stop,
                                 const Awaited& awaited) {
  stop.request_stop();
  return run_until(
      io, [&] { return awaited.done; }, 2s);
}

void expect_stopped(const Awaited& awaited) {
  EXPECT_TRUE(awaited.done);
  EXPECT_FALSE(awaited.response.has_value());
  ASSERT_TRUE(awaited.error);
  EXPECT_TRUE(async::is_cancellation(awaited.error));
  EXPECT_EQ(error_kind_of(awaited.error), ErrorKind::cancelled);
}

class ClientStop : public testing::TestWithParam<bool> {
 protected:
  // try_request() (an Outcome) rather than request() (throws).
  [[nodiscard]] bool outcome() const { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Calls, ClientStop, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& call) {
                           return call.param ? "TryRequest" : "Request";
                         });

TEST_P(ClientStop, AStopEndsARequestAwaitingItsAnswerAtOnceAsACancellation) {
  asio::io_context io;
  ClientTestServer server{io, slow_after(5s)};
  Session session{io.get_executor()};
  std::stop_source stop;
  Awaited awaited;
  start_request(io, session, stoppable(server.url("/slow"), stop.get_token()), outcome(), awaited);
  ASSERT_TRUE(run_until(io, [&] { return server.counters().in_flight == 1; }));
  const Stopwatch stopwatch;
  ASSERT_TRUE(stop_and_wait(io, stop, awaited));
  EXPECT_LT(stopwatch.elapsed(), 1s);  // well before the server's 5 s
  expect_stopped(awaited);
  // The awaiting coroutine was not cancelled: it goes on.
  EXPECT_FALSE(awaited.coroutine_cancelled);
  EXPECT_TRUE(run_until(
      io, [&] { return awaited.awaited_after; }, 2s));
  // Its connection was not pooled; the session goes on.
  EXPECT_EQ(session.stats().in_use, 0u);
  EXPECT_EQ(session.stats().idle, 0u);
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
  EXPECT_EQ(server.counters().connections_accepted, 2u);
}

// As when its coroutine is cancelled: the server sees the connection reset.
TEST_P(ClientStop, AStoppedRequestsConnectionIsReset) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) { return Reply::no_answer(); }};
  Session session{io.get_executor()};
  std::stop_source stop;
  Awaited awaited;
  start_request(io, session, stoppable(server.url("/hang"), stop.get_token()), outcome(), awaited);
  ASSERT_TRUE(run_until(io, [&] { return server.counters().in_flight == 1; }));
  ASSERT_TRUE(stop_and_wait(io, stop, awaited));
  expect_stopped(awaited);
  EXPECT_TRUE(run_until(
      io, [&] { return server.counters().closed_by_client == 1; }, 2s));
  EXPECT_EQ(server.counters().reset_by_client, 1u);
  EXPECT_EQ(session.stats().idle, 0u);
}

// A stopped request on a kept-alive connection is not taken for one the
// server closed: it is not retried on a new connection.
TEST_P(ClientStop, AStopEndsARequestOnAReusedConnectionWithoutARetry) {
  asio::io_context io;
  ClientTestServer server{io, slow_after(5s)};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
  ASSERT_EQ(session.stats().idle, 1u);
  std::stop_source stop;
  Awaited awaited;
  start_request(io, session, stoppable(server.url("/slow"), stop.get_token()), outcome(), awaited);
  ASSERT_TRUE(run_until(io, [&] { return server.counters().in_flight == 1; }));
  EXPECT_EQ(server.requests().back().index_on_connection, 1u);  // on the kept-alive one
  ASSERT_TRUE(stop_and_wait(io, stop, awaited));
  expect_stopped(awaited);
  EXPECT_EQ(server.counters().connections_accepted, 1u);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(session.stats().connections_opened, 1u);
  EXPECT_EQ(session.stats().in_use, 0u);
  EXPECT_EQ(session.stats().idle, 0u);
}

TEST_P(ClientStop, AStopRequestedBeforeTheRequestKeepsItFromTheServer) {
  asio::io_context io;
  ClientTestServer server{io, slow_after(5s)};
  Session session{io.get_executor()};
  std::stop_source stop;
  stop.request_stop();
  Awaited awaited;
  run_to_completion(io, await_request(session, stoppable(server.url("/fast"), stop.get_token()),
                                      outcome(), &awaited));
  expect_stopped(awaited);
  EXPECT_FALSE(awaited.coroutine_cancelled);
  EXPECT_TRUE(awaited.awaited_after);
  EXPECT_EQ(session.stats().connections_opened, 0u);
  EXPECT_EQ(server.counters().connections_accepted, 0u);
  EXPECT_TRUE(server.requests().empty());
  // Only that request: the next one goes.
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_P(ClientStop, AStopEndsARequestWaitingForAConnectionAndTheHolderCompletes) {
  asio::io_context io;
  ClientTestServer server{io, slow_after(500ms)};
  Session session{io.get_executor(), SessionOptions{.connection_limit = 1}};
  auto holder = async::spawn(io.get_executor(), session.get(server.url("/slow")));
  ASSERT_TRUE(run_until(io, [&] { return server.counters().in_flight == 1; }));
  std::stop_source stop;
  Awaited awaited;
  start_request(io, session, stoppable(server.url("/fast"), stop.get_token()), outcome(), awaited);
  ASSERT_TRUE(run_until(io, [&] { return session.stats().waiting == 1; }));
  const Stopwatch stopwatch;
  ASSERT_TRUE(stop_and_wait(io, stop, awaited));
  EXPECT_LT(stopwatch.elapsed(), 300ms);  // before the holder's answer freed the connection
  EXPECT_FALSE(holder.done());
  expect_stopped(awaited);
  EXPECT_FALSE(awaited.coroutine_cancelled);
  EXPECT_EQ(session.stats().waiting, 0u);
  // The holder of the only connection is answered as usual.
  ASSERT_TRUE(run_until(
      io, [&] { return holder.done(); }, 5s));
  ASSERT_FALSE(holder.failed());
  EXPECT_EQ(holder.outcome().value().status, 200);
  EXPECT_EQ(holder.outcome().value().body, "slow");
  EXPECT_EQ(server.requests().size(), 1u);  // the stopped request was never sent
  EXPECT_EQ(session.stats().in_use, 0u);
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
}

// Awaits the holder's request, then at once (in the turn its connection
// went back to the pool and was granted to the waiter) stops the waiter.
asio::awaitable<void> hold_then_stop(Session& session, std::string url, std::stop_source* stop) {
  co_await session.get(std::move(url));
  stop->request_stop();
}

TEST_P(ClientStop, AStopInTheTurnItsConnectionIsGrantedLeavesTheConnectionPooled) {
  asio::io_context io;
  ClientTestServer server{io, slow_after(50ms)};
  Session session{io.get_executor(), SessionOptions{.connection_limit = 1}};
  std::stop_source stop;
  asio::co_spawn(io, hold_then_stop(session, server.url("/slow"), &stop), asio::detached);
  ASSERT_TRUE(run_until(io, [&] { return server.counters().in_flight == 1; }));
  Awaited awaited;
  start_request(io, session, stoppable(server.url("/fast"), stop.get_token()), outcome(), awaited);
  ASSERT_TRUE(run_until(io, [&] { return session.stats().waiting == 1; }));
  ASSERT_TRUE(run_until(
      io, [&] { return awaited.done; }, 5s));
  expect_stopped(awaited);
  EXPECT_EQ(server.requests().size(), 1u);  // the stopped request was never sent
  EXPECT_EQ(session.stats().in_use, 0u);
  EXPECT_EQ(session.stats().idle, 1u);  // the holder's connection, unused by the stopped one
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
  EXPECT_EQ(server.counters().connections_accepted, 1u);
  EXPECT_EQ(server.counters().closed_by_client, 0u);
}

TEST_P(ClientStop, AStopEndsARequestWhileItConnects) {
  asio::io_context io;
  const test::SaturatedListener listener{io};
  Session session{io.get_executor()};
  std::stop_source stop;
  Awaited awaited;
  start_request(io, session, stoppable(listener.url(), stop.get_token()), outcome(), awaited);
  ASSERT_TRUE(run_until(io, [&] { return session.stats().in_use == 1; }));
  const Stopwatch stopwatch;
  ASSERT_TRUE(stop_and_wait(io, stop, awaited));
  EXPECT_LT(stopwatch.elapsed(), 1s);
  expect_stopped(awaited);
  EXPECT_FALSE(awaited.coroutine_cancelled);
  EXPECT_EQ(session.stats().in_use, 0u);
}

// A TCP listener that accepts and then says nothing: a TLS handshake with
// it waits for the server's hello forever.
struct SilentListener {
  explicit SilentListener(asio::io_context& io)
      : acceptor{io, asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}},
        accepted{io} {
    acceptor.async_accept(accepted,
                          [this](const boost::system::error_code& error) { connected = !error; });
  }
  asio::ip::tcp::acceptor acceptor;
  asio::ip::tcp::socket accepted;
  bool connected = false;
};

TEST_P(ClientStop, AStopEndsARequestDuringItsTlsHandshake) {
  asio::io_context io;
  SilentListener listener{io};
  Session session{io.get_executor()};
  std::stop_source stop;
  Awaited awaited;
  const std::string url =
      "https://127.0.0.1:" + std::to_string(listener.acceptor.local_endpoint().port()) + "/";
  start_request(io, session, stoppable(url, stop.get_token()), outcome(), awaited);
  ASSERT_TRUE(run_until(io, [&] { return listener.connected; }));
  const Stopwatch stopwatch;
  ASSERT_TRUE(stop_and_wait(io, stop, awaited));
  EXPECT_LT(stopwatch.elapsed(), 1s);
  expect_stopped(awaited);
  EXPECT_FALSE(awaited.coroutine_cancelled);
  EXPECT_EQ(session.stats().in_use, 0u);
}

// Once the request has ended, its stop token is let go: a later stop does
// not touch the connection it pooled, which the next request reuses.
TEST_P(ClientStop, AStopAfterTheRequestEndedChangesNothing) {
  asio::io_context io;
  ClientTestServer server{io, slow_after(5s)};
  Session session{io.get_executor()};
  std::stop_source stop;
  Awaited awaited;
  run_to_completion(io, await_request(session, stoppable(server.url("/fast"), stop.get_token()),
                                      outcome(), &awaited));
  ASSERT_TRUE(awaited.response.has_value());
  EXPECT_EQ(awaited.response->body, "fast");
  EXPECT_EQ(session.stats().idle, 1u);
  stop.request_stop();
  EXPECT_EQ(session.stats().idle, 1u);
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
  EXPECT_EQ(server.counters().connections_accepted, 1u);
  EXPECT_EQ(session.stats().connections_reused, 1u);
  EXPECT_EQ(server.counters().closed_by_client, 0u);
}

}  // namespace
}  // namespace tailcut::http
