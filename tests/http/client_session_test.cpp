// What http::Session sends and receives on the happy paths: bodies, JSON,
// query parameters, chunked and EOF-delimited responses, HEAD, headers.
#include <gtest/gtest.h>

#include "support/client_test_helpers.hpp"
#include "support/client_test_server.hpp"
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

TEST(ClientSession, GetReturnsStatusReasonHeadersAndBody) {
  asio::io_context io;
  ClientTestServer server{
      io, [](const ReceivedRequest&) { return Reply::text(404, "missing", "X-Trace: abc\r\n"); }};
  Session session{io.get_executor()};
  const ClientResponse response = run_to_completion(io, session.get(server.url("/a?b=c")));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.reason, "Not Found");
  EXPECT_FALSE(response.ok());
  EXPECT_EQ(response.header("x-trace"), "abc");
  EXPECT_EQ(response.body, "missing");
  EXPECT_EQ(response.url, server.url("/a?b=c"));
  EXPECT_EQ(response.redirect_count, 0u);
  ASSERT_EQ(server.requests().size(), 1u);
  const ReceivedRequest& request = server.requests()[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/a?b=c");
  EXPECT_EQ(request.header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(request.header("User-Agent"), "tailcut/0.1");
  EXPECT_EQ(request.header("Content-Length"), std::nullopt);
}

Reply echo(const ReceivedRequest& request) {
  return Reply::text(200, request.method + " " + request.header("Content-Type").value_or("-") +
                              " " + request.body);
}

TEST(ClientSession, PostSendsTheBody) {
  asio::io_context io;
  ClientTestServer server{io, echo};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.post(server.url(), "raw bytes")).body,
            "POST application/octet-stream raw bytes");
  const boost::json::value json = boost::json::object{{"n", 1}};
  EXPECT_EQ(run_to_completion(io, session.post_json(server.url(), json)).body,
            "POST application/json {\"n\":1}");
  RequestOptions options;
  options.headers = {{"Content-Type", "text/plain"}};
  EXPECT_EQ(run_to_completion(io, session.post(server.url(), "hi", options)).body,
            "POST text/plain hi");
  EXPECT_EQ(server.requests()[0].header("Content-Length"), "9");
}

TEST(ClientSession, EveryMethod) {
  asio::io_context io;
  ClientTestServer server{io, echo};
  Session session{io.get_executor()};
  namespace verbs = boost::beast::http;
  for (const auto method :
       {verbs::verb::put, verbs::verb::patch, verbs::verb::delete_, verbs::verb::options}) {
    RequestOptions options;
    options.method = method;
    options.url = server.url();
    options.body = "b";
    const ClientResponse response = run_to_completion(io, session.request(options));
    EXPECT_EQ(response.body.substr(0, response.body.find(' ')),
              std::string{verbs::to_string(method)});
  }
  EXPECT_EQ(server.counters().connections_accepted, 1u);
}

TEST(ClientSession, QueryParametersAreEncoded) {
  asio::io_context io;
  ClientTestServer server{io, echo};
  Session session{io.get_executor()};
  RequestOptions options;
  options.query = {{"q", "a b&c"}, {"lang", "é"}};
  (void)run_to_completion(io, session.get(server.url("/search?x=1"), options));
  EXPECT_EQ(server.requests()[0].target, "/search?x=1&q=a%20b%26c&lang=%C3%A9");
}

TEST(ClientSession, JsonResponse) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest& request) {
                            return Reply::text(
                                200, request.target == "/json" ? R"({"time":250})" : "not json");
                          }};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/json"))).json().at("time").as_int64(),
            250);
  const ClientResponse bad = run_to_completion(io, session.get(server.url("/text")));
  try {
    (void)bad.json();
    FAIL();
  } catch (const ClientError& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_json);
  }
}

TEST(ClientSession, ChunkedBodyIsReassembledAndTheConnectionReused) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::chunked({"hello ", "chunked ", "world"}, 5ms);
                          }};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url())).body, "hello chunked world");
  EXPECT_EQ(run_to_completion(io, session.get(server.url())).body, "hello chunked world");
  EXPECT_EQ(server.counters().connections_accepted, 1u);
}

TEST(ClientSession, BodyDelimitedByTheEndOfTheConnection) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::raw("HTTP/1.1 200 OK\r\n\r\nuntil the end",
                                              AfterReply::close);
                          }};
  Session session{io.get_executor()};
  EXPECT_EQ(run_to_completion(io, session.get(server.url())).body, "until the end");
  EXPECT_EQ(session.stats().idle, 0u);
}

TEST(ClientSession, HeadIgnoresContentLengthAndKeepsTheConnection) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest& request) {
                            if (request.method == "HEAD") {
                              return Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
                                                AfterReply::keep_alive);
                            }
                            return Reply::text(200, "body");
                          }};
  Session session{io.get_executor()};
  RequestOptions options;
  options.method = boost::beast::http::verb::head;
  options.url = server.url();
  const ClientResponse head = run_to_completion(io, session.request(options));
  EXPECT_EQ(head.header("Content-Length"), "100");
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(run_to_completion(io, session.get(server.url())).body, "body");
  EXPECT_EQ(server.counters().connections_accepted, 1u);
}

TEST(ClientSession, InterimResponsesAreSkipped) {
  asio::io_context io;
  ClientTestServer server{io, [](const ReceivedRequest&) {
                            return Reply::raw(
                                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
                                "2\r\n\r\nok",
                                AfterReply::keep_alive);
                          }};
  Session session{io.get_executor()};
  const ClientResponse response = run_to_completion(io, session.get(server.url()));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
}

TEST(ClientSession, HeadersLayerSessionDefaultsUnderRequestHeaders) {
  asio::io_context io;
  ClientTestServer server{io, echo};
  Session session{io.get_executor(),
                  SessionOptions{.user_agent = "agent/1",
                                 .default_headers = {{"X-Team", "core"}, {"X-Env", "test"}}}};
  RequestOptions options;
  options.headers = {{"x-env", "prod"}};
  (void)run_to_completion(io, session.get(server.url(), options));
  const ReceivedRequest& request = server.requests()[0];
  EXPECT_EQ(request.header("User-Agent"), "agent/1");
  EXPECT_EQ(request.header("X-Team"), "core");
  EXPECT_EQ(request.header("X-Env"), "prod");
}

TEST(ClientSession, LeavesNoWorkBehindSoTheIoContextRunsOut) {
  asio::io_context io;
  Session session{io.get_executor()};
  {
    ClientTestServer server{io, [](const ReceivedRequest&) { return Reply::text(200, "ok"); }};
    EXPECT_EQ(run_to_completion(io, session.get(server.url())).status, 200);
    EXPECT_EQ(session.stats().idle, 1u);
  }
  // An idle pooled connection has nothing pending: run() returns.
  io.restart();
  io.run_for(std::chrono::seconds{10});
  EXPECT_TRUE(io.stopped());
}

}  // namespace
}  // namespace tailcut::http
