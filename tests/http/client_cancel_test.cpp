// Cancelling http::Session requests with the tailcut async combinators: the
// request ends at once, its socket is reset (the server sees the connection
// go, and the client keeps no TIME_WAIT), nothing is pooled, and the session
// keeps working.
#include <gtest/gtest.h>

#include "support/client_test_helpers.hpp"
#include "support/client_test_server.hpp"
#include "tailcut/async/deadline.hpp"
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

Reply hang_on_slow(const ReceivedRequest& request) {
  return request.target == "/slow" ? Reply::no_answer() : Reply::text(200, "fast");
}

// wait_for(session.get(url), limit); true when it timed out.
asio::awaitable<bool> get_within(Session& session, std::string url,
                                 std::chrono::milliseconds limit) {
  bool timed_out = false;
  try {
    (void)co_await async::wait_for(session.get(std::move(url)), limit);
  } catch (const boost::system::system_error& error) {
    timed_out = error.code() == async::Error::timed_out;
  }
  co_return timed_out;
}

TEST(ClientCancel, WaitForClosesTheSocketAndTheSessionStaysUsable) {
  asio::io_context io;
  ClientTestServer server{io, hang_on_slow};
  Session session{io.get_executor()};
  const test::Stopwatch stopwatch;
  EXPECT_TRUE(run_to_completion(io, get_within(session, server.url("/slow"), 100ms)));
  EXPECT_LT(stopwatch.elapsed(), 2s);
  // The server sees the connection end promptly.
  EXPECT_TRUE(run_until(
      io, [&] { return server.counters().closed_by_client == 1; }, 2s));
  EXPECT_EQ(server.counters().reset_by_client, 1u);
  EXPECT_EQ(session.stats().in_use, 0u);
  EXPECT_EQ(session.stats().idle, 0u);
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
}

// Cancels `task` (a request the server holds unanswered) and checks that it
// ends as a cancellation and that the server sees its connection reset.
template <typename Task>
void expect_cancel_resets(asio::io_context& io, ClientTestServer& server, Task& task) {
  ASSERT_TRUE(run_until(io, [&] { return server.counters().in_flight == 1; }));
  task.cancel();
  ASSERT_TRUE(run_until(
      io, [&] { return task.done(); }, 2s));
  EXPECT_TRUE(task.cancelled());
  EXPECT_EQ(error_kind_of(task.outcome().error()), ErrorKind::cancelled);
  EXPECT_TRUE(run_until(
      io, [&] { return server.counters().closed_by_client == 1; }, 2s));
  EXPECT_EQ(server.counters().reset_by_client, 1u);
}

TEST(ClientCancel, TaskCancelEndsWithOperationAborted) {
  asio::io_context io;
  ClientTestServer server{io, hang_on_slow};
  Session session{io.get_executor()};
  auto task = async::spawn(io.get_executor(), session.get(server.url("/slow")));
  expect_cancel_resets(io, server, task);
}

TEST(ClientCancel, TryRequestHandsTheCancellationBackAsAFailedOutcome) {
  asio::io_context io;
  ClientTestServer server{io, hang_on_slow};
  Session session{io.get_executor()};
  RequestOptions fast;
  fast.url = server.url("/fast");
  auto succeeding = async::spawn_outcome(io.get_executor(), session.try_request(fast));
  ASSERT_TRUE(run_until(io, [&] { return succeeding.done(); }));
  EXPECT_EQ(succeeding.outcome().value().body, "fast");
  RequestOptions slow;
  slow.url = server.url("/slow");
  auto task = async::spawn_outcome(io.get_executor(), session.try_request(slow));
  expect_cancel_resets(io, server, task);
}

// Only an exchange cut short is reset: a pooled connection closed with its
// session ends with a plain close.
TEST(ClientCancel, AConnectionClosedBetweenRequestsIsClosedGracefully) {
  asio::io_context io;
  ClientTestServer server{io, hang_on_slow};
  {
    Session session{io.get_executor()};
    EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
    EXPECT_EQ(session.stats().idle, 1u);
  }
  EXPECT_TRUE(run_until(
      io, [&] { return server.counters().closed_by_client == 1; }, 2s));
  EXPECT_EQ(server.counters().reset_by_client, 0u);
}

TEST(ClientCancel, CancellingAQueuedRequestLeavesTheQueue) {
  asio::io_context io;
  ClientTestServer server{io, hang_on_slow};
  Session session{io.get_executor(), SessionOptions{.connection_limit = 1}};
  auto holder = async::spawn(io.get_executor(), session.get(server.url("/slow")));
  ASSERT_TRUE(run_until(io, [&] { return server.counters().in_flight == 1; }));
  auto queued = async::spawn(io.get_executor(), session.get(server.url("/fast")));
  ASSERT_TRUE(run_until(io, [&] { return session.stats().waiting == 1; }));
  queued.cancel();
  ASSERT_TRUE(run_until(
      io, [&] { return queued.done(); }, 2s));
  EXPECT_TRUE(queued.cancelled());
  EXPECT_EQ(session.stats().waiting, 0u);
  holder.cancel();
  ASSERT_TRUE(run_until(
      io, [&] { return holder.done(); }, 2s));
  EXPECT_EQ(session.stats().in_use, 0u);
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/fast"))).body, "fast");
  EXPECT_EQ(server.requests().size(), 2u);  // the cancelled queued request was never sent
}

TEST(ClientCancel, CancellingDuringConnectStopsAtOnce) {
  asio::io_context io;
  const test::SaturatedListener listener{io};
  Session session{io.get_executor()};
  const std::string url = listener.url();
  const test::Stopwatch stopwatch;
  EXPECT_TRUE(run_to_completion(io, get_within(session, url, 100ms)));
  EXPECT_LT(stopwatch.elapsed(), 2s);
  EXPECT_EQ(session.stats().in_use, 0u);
}

}  // namespace
}  // namespace tailcut::http
