// How http::Session fails, against scripted servers on 127.0.0.1: the
// ErrorKind and message for bad URLs, DNS, refused and slow connects, each
// timeout, servers that close early, lie or send too much.
#include <gtest/gtest.h>

#include "support/client_test_helpers.hpp"
#include "support/client_test_server.hpp"
#include "tailcut/async/task.hpp"
#include "tailcut/http/session.hpp"

namespace tailcut::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::AfterReply;
using test::ClientTestServer;
using test::failure_of;
using test::kind_of_failure;
using test::ReceivedRequest;
using test::Reply;
using test::run_to_completion;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

RequestOptions with_timeouts(std::optional<std::chrono::milliseconds> total,
                             std::optional<std::chrono::milliseconds> connect,
                             std::optional<std::chrono::milliseconds> sock_read) {
  RequestOptions options;
  options.timeouts = test::timeouts(total, connect, sock_read);
  return options;
}

TEST(ClientErrors, InvalidUrls) {
  asio::io_context io;
  Session session{io.get_executor()};
  for (const char* url : {"not a url", "ftp://x/", "http://", "http:///path", ""}) {
    SCOPED_TRACE(url);
    EXPECT_EQ(kind_of_failure(io, session.get(url)), ErrorKind::invalid_url);
  }
}

TEST(ClientErrors, InvalidHostFailsWithDnsQuickly) {
  asio::io_context io;
  Session session{io.get_executor()};
  const test::Stopwatch stopwatch;
  const auto error = failure_of(io, session.get("http://no-such-host.invalid/x"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::dns);
  EXPECT_TRUE(contains(error->what(), "no-such-host.invalid")) << error->what();
  EXPECT_LT(stopwatch.elapsed(), 2s);
}

TEST(ClientErrors, RefusedConnectionNamesTheAddress) {
  asio::io_context io;
  Session session{io.get_executor()};
  const std::uint16_t port = test::closed_port();
  const auto error = failure_of(io, session.get("http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::connect_refused);
  EXPECT_TRUE(contains(error->what(), "connect to 127.0.0.1:" + std::to_string(port) + " refused"))
      << error->what();
  // Not counted as opened, nor left in use.
  EXPECT_EQ(session.stats().connections_opened, 0u);
  EXPECT_EQ(session.stats().in_use, 0u);
}

// The error try_request() handed back (null if it succeeded), awaited in a
// task: co_spawn wants a default-constructible result, which Outcome is not.
std::exception_ptr try_request_error(asio::io_context& io, Session& session,
                                     const RequestOptions& options) {
  auto task = async::spawn_outcome(io.get_executor(), session.try_request(options));
  EXPECT_TRUE(test::run_until(
      io, [&] { return task.done(); }, 10s));
  return task.done() ? task.outcome().error() : nullptr;
}

TEST(ClientErrors, TryRequestReturnsTheFailureInsteadOfThrowing) {
  asio::io_context io;
  Session session{io.get_executor()};
  RequestOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  EXPECT_EQ(error_kind_of(try_request_error(io, session, options)), ErrorKind::connect_refused);
  options.url = "not a url";
  EXPECT_EQ(error_kind_of(try_request_error(io, session, options)), ErrorKind::invalid_url);
  session.close();
  const auto closed = try_request_error(io, session, options);
  ASSERT_TRUE(closed);
  EXPECT_THROW(std::rethrow_exception(closed), std::logic_error);
}

// A connect, DNS or exchange failure comes back as a Failure value: its
// kind as the code, its message, and no exception until one is asked for.
TEST(ClientErrors, TryRequestDescribesTheFailureItHandsBack) {
  asio::io_context io;
  Session session{io.get_executor()};
  RequestOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  auto task = async::spawn_outcome(io.get_executor(), session.try_request(options));
  ASSERT_TRUE(test::run_until(
      io, [&] { return task.done(); }, 10s));
  const auto& outcome = task.outcome();
  ASSERT_FALSE(outcome);
  const auto& failure = outcome.failure();
  EXPECT_TRUE(contains(failure.message(), "refused")) << failure.message();
  EXPECT_EQ(failure.code(), ErrorKind::connect_refused);
  EXPECT_EQ(error_kind_of(failure), ErrorKind::connect_refused);
  // A value: no exception was made for it, and rethrowing makes the typed one.
  EXPECT_FALSE(failure.exception());
  try {
    failure.rethrow();
    ADD_FAILURE() << "rethrow() returned";
  } catch (const ClientError& error) {
    EXPECT_EQ(error.kind(), ErrorKind::connect_refused);
    EXPECT_EQ(failure.message(), error.what());
  }
  EXPECT_FALSE(task.cancelled());
}

TEST(ClientErrors, ServerThatNeverAcceptsGivesConnectTimeout) {
  asio::io_context io;
  const test::SaturatedListener listener{io};
  Session session{io.get_executor()};
  const std::string url = listener.url();
  const test::Stopwatch stopwatch;
  const auto error = failure_of(io, session.get(url, with_timeouts(10s, 300ms, std::nullopt)));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::connect_timeout) << error->what();
  EXPECT_GE(stopwatch.elapsed(), 250ms);
  EXPECT_LT(stopwatch.elapsed(), 5s);
}

Reply never_answer(const ReceivedRequest&) { return Reply::no_answer(); }

TEST(ClientErrors, NoResponseHeaderGivesReadTimeout) {
  asio::io_context io;
  ClientTestServer server{io, never_answer};
  Session session{io.get_executor()};
  const test::Stopwatch stopwatch;
  const auto error = failure_of(io, session.get(server.url(), with_timeouts(10s, 1s, 200ms)));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::read_timeout) << error->what();
  EXPECT_GE(stopwatch.elapsed(), 150ms);
  EXPECT_LT(stopwatch.elapsed(), 5s);
  // The timed-out connection is reset (the watchdog closes it mid-exchange),
  // not pooled.
  EXPECT_TRUE(test::run_until(io, [&] { return server.counters().closed_by_client == 1; }));
  EXPECT_EQ(server.counters().reset_by_client, 1u);
  EXPECT_EQ(session.stats().idle, 0u);
}

TEST(ClientErrors, NoResponseHeaderGivesTotalTimeoutWithoutSockRead) {
  asio::io_context io;
  ClientTestServer server{io, never_answer};
  Session session{io.get_executor()};
  const test::Stopwatch stopwatch;
  const auto error =
      failure_of(io, session.get(server.url(), with_timeouts(300ms, std::nullopt, std::nullopt)));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::total_timeout) << error->what();
  EXPECT_TRUE(contains(error->what(), "300 ms")) << error->what();
  EXPECT_GE(stopwatch.elapsed(), 250ms);
}

TEST(ClientErrors, SessionTimeoutsApplyWhenTheRequestSetsNone) {
  asio::io_context io;
  ClientTestServer server{io, never_answer};
  Session session{io.get_executor(),
                  SessionOptions{.timeouts = test::timeouts(10s, std::nullopt, 150ms)}};
  EXPECT_EQ(kind_of_failure(io, session.get(server.url())), ErrorKind::read_timeout);
}

TEST(ClientErrors, StallMidBodyGivesReadTimeout) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::raw(
                                "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
                                AfterReply::hang);
                          }};
  Session session{io.get_executor()};
  EXPECT_EQ(kind_of_failure(io, session.get(server.url(), with_timeouts(10s, 1s, 200ms))),
            ErrorKind::read_timeout);
}

TEST(ClientErrors, SockReadBoundsTheGapNotTheWholeBody) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::chunked({"a", "b", "c", "d", "e", "f"}, 60ms);
                          }};
  Session session{io.get_executor()};
  // Six gaps of 60 ms take longer than sock_read, but no single gap does.
  const ClientResponse response =
      run_to_completion(io, session.get(server.url(), with_timeouts(10s, 1s, 300ms)));
  EXPECT_EQ(response.body, "abcdef");
}

TEST(ClientErrors, ServerClosingMidBodyGivesConnectionClosed) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::raw(
                                "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
                                AfterReply::close);
                          }};
  Session session{io.get_executor()};
  const auto error = failure_of(io, session.get(server.url()));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::connection_closed);
  EXPECT_TRUE(contains(error->what(), "10 body bytes received of 100")) << error->what();
}

TEST(ClientErrors, ServerClosingBeforeAnsweringGivesConnectionClosed) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) { return Reply::drop(); }};
  Session session{io.get_executor()};
  EXPECT_EQ(kind_of_failure(io, session.get(server.url())), ErrorKind::connection_closed);
  EXPECT_EQ(server.requests().size(), 1u);  // a new connection is not retried
}

TEST(ClientErrors, GarbageIsAProtocolError) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::raw("SSH-2.0-OpenSSH_9.2\r\n\r\n", AfterReply::close);
                          }};
  Session session{io.get_executor()};
  EXPECT_EQ(kind_of_failure(io, session.get(server.url())), ErrorKind::protocol);
}

TEST(ClientErrors, AStatusBelow100IsAProtocolError) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::raw("HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n",
                                              AfterReply::close);
                          }};
  Session session{io.get_executor()};
  const auto error = failure_of(io, session.get(server.url()));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::protocol);
  EXPECT_TRUE(contains(error->what(), "invalid HTTP response")) << error->what();
}

TEST(ClientErrors, OversizedBodyIsRefused) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest& request) {
                            if (request.target == "/chunked") {
                              return Reply::chunked(
                                  std::vector<std::string>(8, std::string(512, 'x')), 0ms);
                            }
                            return Reply::text(200, std::string(4096, 'x'));
                          }};
  Session session{io.get_executor()};
  RequestOptions options;
  options.max_body_bytes = 1024;
  const auto error = failure_of(io, session.get(server.url("/length"), options));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::body_too_large);
  EXPECT_TRUE(contains(error->what(), "1024")) << error->what();
  EXPECT_EQ(kind_of_failure(io, session.get(server.url("/chunked"), options)),
            ErrorKind::body_too_large);
  // Exactly at the limit is fine.
  options.max_body_bytes = 4096;
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/length"), options)).body.size(), 4096u);
}

TEST(ClientErrors, DefaultBodyLimitIsEightMebibytes) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::text(200, std::string(default_max_body_bytes + 1, 'x'));
                          }};
  Session session{io.get_executor()};
  EXPECT_EQ(kind_of_failure(io, session.get(server.url())), ErrorKind::body_too_large);
}

TEST(ClientErrors, InvalidHeaderIsRefusedBeforeSending) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) { return Reply::text(200, "ok"); }};
  Session session{io.get_executor()};
  RequestOptions options;
  options.headers = {{"X-Evil", "a\r\nInjected: yes"}};
  EXPECT_EQ(kind_of_failure(io, session.get(server.url(), options)), ErrorKind::invalid_request);
  EXPECT_EQ(server.requests().size(), 0u);
}

}  // namespace
}  // namespace tailcut::http
