// Tests of http::Server on real sockets: header and body size limits,
// Expect: 100-continue, HTTP versions and malformed input, the idle and
// header timeouts, and the connection limit.
#include <gtest/gtest.h>

#include <tuple>

#include "support/server_test_client.hpp"
#include "support/server_test_fixture.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::error_code_of;
using testing::json_body;
using testing::raw_request;
using testing::ServerTest;
using testing::ServerTestClient;
using testing::test_options;

TEST_F(ServerTest, HeaderAboveTheLimitIs431) {
  Server& server = start();
  ServerTestClient client{server.port()};
  client.send(raw_request("GET", "/hello", "X-Big: " + std::string(20'000, 'a') + "\r\n"));
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::request_header_fields_too_large);
  EXPECT_EQ(error_code_of(*reply.response), "header_too_large");
  EXPECT_TRUE(client.wait_for_close(10s));
}

TEST_F(ServerTest, BodyAboveTheLimitIs413) {
  auto options = test_options(log_);
  options.max_body_bytes = 1024;
  Server& server = start(options);
  ServerTestClient client{server.port()};
  const auto within = client.request("POST", "/describe", {}, std::string(1024, 'b'));
  EXPECT_EQ(json_body(within).at("body_bytes").to_number<std::uint64_t>(), 1024u);

  client.send(raw_request("POST", "/describe", {}, std::string(4096, 'b')));
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::payload_too_large);
  EXPECT_EQ(error_code_of(*reply.response), "body_too_large");
  EXPECT_TRUE(client.wait_for_close(10s));
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  Server& server = start();
  ServerTestClient client{server.port()};
  client.send(
      "POST /describe HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\n\r\n");
  const auto interim = client.read_response();
  ASSERT_TRUE(interim.response) << interim.error.message();
  EXPECT_EQ(interim.response->result(), bhttp::status::continue_);
  client.send("12345");
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(json_body(*reply.response).at("body_bytes").to_number<std::uint64_t>(), 5u);
}

TEST_F(ServerTest, AnotherMajorVersionOfHttpIs505AndAMalformedOne400) {
  Server& server = start();
  for (const auto& [line, status, code] :
       {std::tuple{"GET /describe HTTP/2.0", bhttp::status::http_version_not_supported,
                   "http_version_not_supported"},
        std::tuple{"GET /describe HTTP/0.9", bhttp::status::http_version_not_supported,
                   "http_version_not_supported"},
        std::tuple{"GET /describe HTTP/x.y", bhttp::status::bad_request, "bad_request"}}) {
    SCOPED_TRACE(line);
    ServerTestClient client{server.port()};
    client.send(std::string{line} + "\r\nHost: test\r\n\r\n");
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    EXPECT_EQ(reply.response->result(), status);
    EXPECT_EQ(error_code_of(*reply.response), code);
  }
}

TEST_F(ServerTest, AHigherMinorVersionOfHttp1IsServedAsHttp11) {
  // RFC 9110 2.5. HTTP/1.10 is not a version (one digit each side): 400.
  Server& server = start();
  ServerTestClient client{server.port()};
  for (const char* version : {"HTTP/1.2", "HTTP/1.9"}) {
    SCOPED_TRACE(version);
    client.send(std::string{"GET /describe "} + version + "\r\nHost: test\r\n\r\n");
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    EXPECT_EQ(reply.response->result(), bhttp::status::ok);
    EXPECT_EQ(reply.response->version(), 11u);
    EXPECT_EQ(json_body(*reply.response).at("version").to_number<unsigned>(), 11u);
    EXPECT_TRUE(json_body(*reply.response).at("keep_alive").as_bool());
  }
  ServerTestClient other{server.port()};
  other.send("GET /describe HTTP/1.10\r\nHost: test\r\n\r\n");
  const auto reply = other.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::bad_request);
}

TEST_F(ServerTest, MalformedRequestIs400ThenClosedAndOthersAreStillServed) {
  Server& server = start();
  ServerTestClient client{server.port()};
  client.send("NOT HTTP AT ALL\r\n\r\n");
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::bad_request);
  EXPECT_EQ(error_code_of(*reply.response), "bad_request");
  EXPECT_TRUE(client.wait_for_close(10s));

  ServerTestClient other{server.port()};
  EXPECT_EQ(other.request("GET", "/hello").result(), bhttp::status::ok);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  auto options = test_options(log_);
  options.idle_timeout = 200ms;
  Server& server = start(options);
  ServerTestClient client{server.port()};
  ASSERT_EQ(client.request("GET", "/hello").result(), bhttp::status::ok);
  const auto closed_after = client.wait_for_close(10s);
  ASSERT_TRUE(closed_after);
  EXPECT_GE(*closed_after, 100ms);  // the timer never fires early; the response left first
}

TEST_F(ServerTest, StalledHeaderIsClosedAfterTheHeaderTimeout) {
  auto options = test_options(log_);
  options.header_timeout = 200ms;
  Server& server = start(options);
  ServerTestClient client{server.port()};
  client.send("GET /hello HTTP/1.1\r\nHost: te");
  const auto closed_after = client.wait_for_close(10s);
  ASSERT_TRUE(closed_after);
  EXPECT_GE(*closed_after, 100ms);
}

TEST_F(ServerTest, SilentNewConnectionIsClosedAfterTheHeaderTimeout) {
  auto options = test_options(log_);
  options.header_timeout = 200ms;
  Server& server = start(options);
  ServerTestClient client{server.port()};
  EXPECT_TRUE(client.wait_for_close(10s));
}

TEST_F(ServerTest, ConnectionAboveTheLimitIsRejected) {
  auto options = test_options(log_);
  options.max_connections = 2;
  Server& server = start(options);
  ServerTestClient first{server.port()};
  ServerTestClient second{server.port()};
  ASSERT_EQ(first.request("GET", "/hello").result(), bhttp::status::ok);
  ASSERT_EQ(second.request("GET", "/hello").result(), bhttp::status::ok);

  ServerTestClient third{server.port()};  // the kernel completes the handshake
  EXPECT_TRUE(third.wait_for_close(10s));
  const auto stats = server.stats();
  EXPECT_EQ(stats.connections_rejected, 1u);
  EXPECT_EQ(stats.connections_accepted, 2u);
  EXPECT_EQ(stats.connections_open, 2u);
  EXPECT_EQ(first.request("GET", "/hello").result(), bhttp::status::ok);
}

}  // namespace
}  // namespace tailcut::http
