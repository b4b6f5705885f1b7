// Tests of http::Server on real sockets: responses and their headers, router
// and handler errors, keep-alive, pipelining, requests arriving in pieces or
// read by either parser, large responses and request ids.
#include "tailcut/http/server.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "support/server_test_client.hpp"
#include "support/server_test_fixture.hpp"

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::error_code_of;
using testing::json_body;
using testing::large_body;
using testing::large_body_bytes;
using testing::raw_request;
using testing::ServerTest;
using testing::ServerTestClient;

TEST_F(ServerTest, AnswersWithContentLengthServerAndRequestId) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto response = client.request("GET", "/hello");
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response.body(), "hello");
  EXPECT_EQ(response[bhttp::field::content_length], "5");
  EXPECT_EQ(response[bhttp::field::server], "tailcut");
  EXPECT_FALSE(response["X-Request-Id"].empty());
}

TEST_F(ServerTest, RouterErrorsReachTheClientAsJson) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto not_found = client.request("GET", "/nowhere");
  EXPECT_EQ(not_found.result(), bhttp::status::not_found);
  EXPECT_EQ(error_code_of(not_found), "not_found");
  const auto not_allowed = client.request("DELETE", "/hello");
  EXPECT_EQ(not_allowed.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(not_allowed[bhttp::field::allow], "GET, HEAD");
  EXPECT_EQ(error_code_of(not_allowed), "method_not_allowed");
}

TEST_F(ServerTest, HandlerExceptionIs500LoggedAndTheServerKeepsServing) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto failed = client.request("GET", "/throw");
  EXPECT_EQ(failed.result(), bhttp::status::internal_server_error);
  EXPECT_EQ(error_code_of(failed), "internal_error");
  EXPECT_EQ(client.request("GET", "/hello").result(), bhttp::status::ok);  // same connection
  const auto lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  // The exception's text is quoted too: its line break cannot end the line.
  EXPECT_NE(lines[0].find(R"("handler exploded\x0aon a second line")"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("GET /throw"), std::string::npos) << lines[0];
}

// The target is the client's bytes: quoted in the log line, so that they
// can neither end it nor act on a terminal (a raw or an encoded CSI, a
// bidirectional override).
TEST_F(ServerTest, AFailedRequestsTargetIsQuotedInTheLog) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto failed = client.request("GET", "/throw?\x9b\xc2\x9b\xe2\x80\xae");
  EXPECT_EQ(failed.result(), bhttp::status::internal_server_error);
  const auto lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("GET /throw?\x9b\u009b\u202e": handler failed)"), std::string::npos)
      << lines[0];
}

TEST_F(ServerTest, HeadIsAnsweredByTheGetRouteWithoutBody) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto head = client.request("HEAD", "/hello");
  EXPECT_EQ(head.result(), bhttp::status::ok);
  EXPECT_EQ(head[bhttp::field::content_length], "5");
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(client.request("GET", "/hello").body(), "hello");  // nothing stray on the wire
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Server& server = start();
  ServerTestClient client{server.port()};
  EXPECT_EQ(client.request("GET", "/hello").body(), "hello");
  EXPECT_EQ(client.request("GET", "/hello").body(), "hello");
  const auto stats = server.stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.requests_handled, 2u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Server& server = start();
  ServerTestClient client{server.port()};
  // The first takes 100 ms, so answering out of order would show.
  client.send(raw_request("GET", "/slow") + raw_request("GET", "/describe?n=2"));
  const auto first = client.read_response();
  const auto second = client.read_response();
  ASSERT_TRUE(first.response) << first.error.message();
  ASSERT_TRUE(second.response) << second.error.message();
  EXPECT_EQ(first.response->body(), "slow done");
  EXPECT_EQ(json_body(*second.response).at("target").as_string(), "/describe?n=2");
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

// The server parses a request whole from its buffer when it can, and
// reads on when it cannot: a request cut anywhere is served all the same.
TEST_F(ServerTest, RequestArrivingInPiecesIsServed) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const std::string request =
      "POST /describe?n=3 HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\n12345";
  for (const std::size_t cut : {std::size_t{3}, request.find("Host") + 2, request.size() - 2}) {
    client.send(request.substr(0, cut));
    // Not a synchronisation: the pause makes the server likely to read the
    // first piece alone, which is the case under test; the checks below
    // hold either way.
    std::this_thread::sleep_for(20ms);
    client.send(request.substr(cut));
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << "cut at " << cut << ": " << reply.error.message();
    EXPECT_EQ(reply.response->result(), bhttp::status::ok) << "cut at " << cut;
    EXPECT_EQ(json_body(*reply.response).at("target").as_string(), "/describe?n=3");
    EXPECT_EQ(json_body(*reply.response).at("body_bytes").to_number<std::uint64_t>(), 5u);
  }
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

// Most requests are read by the head fast path, the others by Beast's
// parser: a handler sees the same request either way. The second request
// is the first plus a field with a non-ASCII byte, which only Beast reads.
TEST_F(ServerTest, RequestReadByTheFastPathEqualsTheOneReadByBeast) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const std::string head =
      "PATCH /describe?x=1 HTTP/1.0\r\nhost: test\r\nX-Repeated: one\r\n"
      "Content-Length: 5\r\nX-Trimmed: \t a  b \t\r\nX-Empty:\r\nx-repeated: two\r\n"
      "Connection: Keep-Alive\r\n";
  const std::string beast_only_field = "X-Beast-Only: caf\xc3\xa9\r\n";
  std::vector<boost::json::object> seen;
  for (const auto& request : {head + "\r\nhello", head + beast_only_field + "\r\nhello"}) {
    client.send(request);
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    ASSERT_EQ(reply.response->result(), bhttp::status::ok) << reply.response->body();
    seen.push_back(json_body(*reply.response));
  }
  boost::json::array& beast_fields = seen[1].at("fields").as_array();
  ASSERT_EQ(beast_fields.back(), (boost::json::array{"X-Beast-Only", "caf\xc3\xa9"}));
  beast_fields.pop_back();
  for (auto* description : {&seen[0], &seen[1]}) {
    description->erase("id");
    description->erase("worker");
  }
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(seen[0].at("method"), "PATCH");
  EXPECT_EQ(seen[0].at("version"), 10);
  EXPECT_EQ(seen[0].at("keep_alive"), true);
  EXPECT_EQ(seen[0].at("body"), "hello");
  // Repeated names kept together, values trimmed, the empty one kept.
  const boost::json::array expected_fields{boost::json::array{"host", "test"},
                                           boost::json::array{"X-Repeated", "one"},
                                           boost::json::array{"x-repeated", "two"},
                                           boost::json::array{"Content-Length", "5"},
                                           boost::json::array{"X-Trimmed", "a  b"},
                                           boost::json::array{"X-Empty", ""},
                                           boost::json::array{"Connection", "Keep-Alive"}};
  EXPECT_EQ(seen[0].at("fields"), expected_fields);
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

// A response larger than the socket's send buffer is written partly at
// once and the rest as the client reads: all of it arrives, in order, and
// the connection serves the next request.
TEST_F(ServerTest, ResponseLargerThanTheSendBufferArrivesWhole) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto response = client.request("GET", "/large");
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response[bhttp::field::content_length], std::to_string(large_body_bytes));
  ASSERT_EQ(response.body().size(), large_body_bytes);
  EXPECT_TRUE(response.body() == large_body()) << "the body differs from what was sent";
  EXPECT_EQ(client.request("GET", "/hello").body(), "hello");
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

TEST_F(ServerTest, RequestIdsIncreaseAndMatchTheHandlersContext) {
  Server& server = start();
  ServerTestClient first{server.port()};
  ServerTestClient second{server.port()};
  std::uint64_t previous = 0;
  for (auto* client : {&first, &second, &first}) {
    const auto response = client->request("GET", "/describe");
    const auto id = std::stoull(std::string{response["X-Request-Id"]});
    EXPECT_GT(id, previous);
    EXPECT_EQ(json_body(response).at("id").to_number<std::uint64_t>(), id);
    previous = id;
  }
}

}  // namespace
}  // namespace tailcut::http
