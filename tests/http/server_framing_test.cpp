// Tests of http::Server's reading of request framing on real sockets
// (RFC 9112 2.2, 3.2, 6): a request whose body's end is in doubt is refused
// and its connection closed, so that no bytes of its body are ever served as
// a request of their own (request smuggling); the valid shapes around those
// rules are served.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/server_test_client.hpp"
#include "support/server_test_handlers.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::ServerTestClient;
using namespace std::string_view_literals;

// The request each smuggling attempt hides in its body: the server must
// never handle it.
constexpr std::string_view smuggled = "GET /smuggled HTTP/1.1\r\nHost: test\r\n\r\n";

std::atomic<int> smuggled_handled{0};

boost::asio::awaitable<Response> count_smuggled(Request /*request*/, RequestContext /*context*/) {
  ++smuggled_handled;
  co_return testing::text_response("smuggled");
}

boost::json::object json_body(const Response& response) {
  return boost::json::parse(response.body()).as_object();
}

class ServerFramingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    smuggled_handled = 0;
    Router router;
    router.add(bhttp::verb::get, "/smuggled", count_smuggled);
    router.add(bhttp::verb::post, "/describe", testing::describe_request);
    router.add(bhttp::verb::get, "/describe", testing::describe_request);
    ServerOptions options;
    options.threads = 1;
    options.error_log = log_.sink();
    server_ = std::make_unique<Server>(std::move(options), std::move(router));
    server_->start();
  }

  // Sends `head` (its empty line included) and `body` followed by the
  // smuggled request, the head in two pieces when `split` (so that the
  // server reads it with Beast's parser over more than one read); expects
  // `status`, then the connection closed, and the smuggled request never
  // handled.
  void expect_refused(const std::string& head, std::string_view body, bhttp::status status,
                      bool split) {
    SCOPED_TRACE(head + (split ? " (split)" : ""));
    ServerTestClient client{server_->port()};
    const std::string bytes = head + std::string{body} + std::string{smuggled};
    if (split) {
      client.send(bytes.substr(0, 20));
      // Not a synchronisation: makes it likely that the server reads the
      // first piece alone; the checks hold either way.
      std::this_thread::sleep_for(20ms);
      client.send(bytes.substr(20));
    } else {
      client.send(bytes);
    }
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    EXPECT_EQ(reply.response->result(), status) << reply.response->body();
    EXPECT_EQ((*reply.response)[bhttp::field::connection], "close");
    EXPECT_TRUE(client.wait_for_close(10s));
    EXPECT_EQ(smuggled_handled.load(), 0);
  }

  void expect_refused(const std::string& head, std::string_view body, bhttp::status status) {
    expect_refused(head, body, status, false);
    expect_refused(head, body, status, true);
  }

  testing::LogCapture log_;
  std::unique_ptr<Server> server_;
};

std::string post_head(std::string_view fields, std::string_view version = "HTTP/1.1") {
  return "POST /describe " + std::string{version} + "\r\nHost: test\r\n" + std::string{fields} +
         "\r\n";
}

TEST_F(ServerFramingTest, TransferEncodingNotEndingInChunkedIs400) {
  for (const std::string_view codings : {"xchunked", "chunked, identity", "identity", "gzip",
                                         "chunked, chunked", "chunkedx", "chunked;q=1", ""}) {
    expect_refused(post_head("Transfer-Encoding: " + std::string{codings} + "\r\n"), "",
                   bhttp::status::bad_request);
  }
  // chunked twice, over two fields
  expect_refused(post_head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
                 "0\r\n\r\n", bhttp::status::bad_request);
  // chunked, then another coding in a second field
  expect_refused(post_head("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"), "",
                 bhttp::status::bad_request);
}

TEST_F(ServerFramingTest, AnUnknownCodingBeforeChunkedIs501) {
  expect_refused(post_head("Transfer-Encoding: gzip, chunked\r\n"), "0\r\n\r\n",
                 bhttp::status::not_implemented);
}

TEST_F(ServerFramingTest, TransferEncodingWithContentLengthIs400) {
  expect_refused(post_head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), "0\r\n\r\n",
                 bhttp::status::bad_request);
  expect_refused(post_head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), "0\r\n\r\n",
                 bhttp::status::bad_request);
  expect_refused(post_head("Content-Length: 5\r\nTransfer-Encoding: xchunked\r\n"), "12345",
                 bhttp::status::bad_request);
}

TEST_F(ServerFramingTest, TransferEncodingInHttp10Is400) {
  expect_refused(post_head("Transfer-Encoding: chunked\r\n", "HTTP/1.0"), "0\r\n\r\n",
                 bhttp::status::bad_request);
}

TEST_F(ServerFramingTest, InvalidOrConflictingContentLengthIs400) {
  for (const std::string_view fields :
       {"Content-Length: 5, 6\r\n", "Content-Length: 0\r\nContent-Length: 5\r\n",
        "Content-Length: -5\r\n", "Content-Length: +5\r\n", "Content-Length: 0x5\r\n",
        "Content-Length: 5 5\r\n", "Content-Length: \r\n", "Content-Length: 5,\r\n",
        "Content-Length: 99999999999999999999999\r\n"}) {
    expect_refused(post_head(fields), "", bhttp::status::bad_request);
  }
}

TEST_F(ServerFramingTest, MissingRepeatedOrInvalidHostIs400) {
  expect_refused("GET /describe HTTP/1.1\r\n\r\n", "", bhttp::status::bad_request);
  expect_refused("GET /describe HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "",
                 bhttp::status::bad_request);
  expect_refused("GET /describe HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", "",
                 bhttp::status::bad_request);
  expect_refused("GET /describe HTTP/1.1\r\nHost: a/b\r\n\r\n", "", bhttp::status::bad_request);
  expect_refused("GET /describe HTTP/1.1\r\nHost: a b\r\n\r\n", "", bhttp::status::bad_request);
  expect_refused("GET /describe HTTP/1.1\r\nHost: user@a\r\n\r\n", "", bhttp::status::bad_request);
}

// RFC 9112 5.2: a framing field continued on a further line (obs-fold) is
// refused, whatever its joined value would say; another field may be.
TEST_F(ServerFramingTest, AFramingFieldContinuedOnAFurtherLineIs400) {
  expect_refused(post_head("Transfer-Encoding: \r\n chunked\r\n"), "0\r\n\r\n",
                 bhttp::status::bad_request);
  expect_refused(post_head("Transfer-Encoding: chunked\r\n\t\r\n"), "0\r\n\r\n",
                 bhttp::status::bad_request);
  expect_refused(post_head("Content-Length:\r\n 5\r\n"), "12345", bhttp::status::bad_request);
  expect_refused("GET /describe HTTP/1.1\r\nHost: \r\n test\r\n\r\n", "",
                 bhttp::status::bad_request);
  ServerTestClient client{server_->port()};
  client.send(post_head("X-Folded: a\r\n b\r\nContent-Length: 2\r\n") + "ok");
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::ok) << reply.response->body();
}

// The shapes next to the refused ones are served, and a request after
// them on the same connection too.
TEST_F(ServerFramingTest, ValidFramingIsServed) {
  ServerTestClient client{server_->port()};
  const std::vector<std::pair<std::string, std::uint64_t>> requests{
      {post_head("Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n", 5},
      {post_head("transfer-encoding: Chunked\r\n") + "2\r\nhi\r\n0\r\n\r\n", 2},
      {post_head("Transfer-Encoding: ,chunked,\r\n") + "0\r\n\r\n", 0},
      {post_head("Content-Length: 3, 3\r\n") + "abc", 3},
      {post_head("Content-Length: 3\r\nContent-Length: 3\r\n") + "abc", 3},
      {"GET /describe HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0},  // no Host needed
      {"GET /describe HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0},
      {"GET /describe HTTP/1.1\r\nHost:\r\n\r\n", 0},  // an empty authority
  };
  for (const auto& [request, body_bytes] : requests) {
    SCOPED_TRACE(request);
    client.send(request);
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    ASSERT_EQ(reply.response->result(), bhttp::status::ok) << reply.response->body();
    EXPECT_EQ(json_body(*reply.response).at("body_bytes").to_number<std::uint64_t>(), body_bytes);
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
}

// RFC 9112 7.1.2: a chunked body's trailer fields are dropped, so they
// cannot change what the head said.
TEST_F(ServerFramingTest, TrailerFieldsAreNotMergedIntoTheHead) {
  ServerTestClient client{server_->port()};
  client.send(post_head("Transfer-Encoding: chunked\r\nX-Head: 1\r\n") +
              "2\r\nhi\r\n0\r\nHost: other\r\nX-Head: 2\r\nX-Trailer: 3\r\n\r\n");
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  ASSERT_EQ(reply.response->result(), bhttp::status::ok) << reply.response->body();
  const boost::json::array expected{boost::json::array{"Host", "test"},
                                    boost::json::array{"Transfer-Encoding", "chunked"},
                                    boost::json::array{"X-Head", "1"}};
  EXPECT_EQ(json_body(*reply.response).at("fields").as_array(), expected);
}

// RFC 9112 2.2: empty lines before a request line are ignored, whether
// they arrive with the request, alone, or after a body.
TEST_F(ServerFramingTest, EmptyLinesBeforeARequestAreIgnored) {
  ServerTestClient client{server_->port()};
  for (const std::string& request : std::vector<std::string>{
           "\r\nGET /describe HTTP/1.1\r\nHost: test\r\n\r\n",
           "\r\n\r\n\r\nGET /describe HTTP/1.1\r\nHost: test\r\n\r\n",
           post_head("Content-Length: 2\r\n") + "ok\r\n",  // a CRLF after the body
           std::string{"GET /describe HTTP/1.1\r\nHost: test\r\n\r\n"}}) {
    SCOPED_TRACE(request);
    client.send(request);
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    EXPECT_EQ(reply.response->result(), bhttp::status::ok) << reply.response->body();
  }
  // Alone, the CR apart from its LF, then the request.
  for (const std::string_view piece : {"\r\n"sv, "\r"sv, "\nGET /describe HTTP/1.1\r\n"sv}) {
    client.send(piece);
    std::this_thread::sleep_for(20ms);  // likely read apart; the checks hold either way
  }
  client.send("Host: test\r\n\r\n");
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::ok) << reply.response->body();
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
}

// An empty line after a request is not the start of the next: the
// connection waits for one under the idle timeout, not the header timeout.
TEST_F(ServerFramingTest, AnEmptyLineAfterARequestLeavesTheConnectionIdle) {
  Router router;
  router.add(bhttp::verb::get, "/describe", testing::describe_request);
  ServerOptions options;
  options.threads = 1;
  options.header_timeout = 200ms;
  options.idle_timeout = 5s;
  options.error_log = log_.sink();
  Server server{std::move(options), std::move(router)};
  server.start();
  for (const std::string_view after : {"\r\n"sv, "\r\n\r\n"sv, "\r"sv}) {
    SCOPED_TRACE(after.size());
    ServerTestClient client{server.port()};
    client.send(std::string{"GET /describe HTTP/1.1\r\nHost: test\r\n\r\n"} + std::string{after});
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    EXPECT_EQ(reply.response->result(), bhttp::status::ok);
    EXPECT_FALSE(client.wait_for_close(600ms));  // three header timeouts
  }
}

}  // namespace
}  // namespace tailcut::http
