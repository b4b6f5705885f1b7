// Redirects followed by http::Session end to end: method rules per status,
// relative Locations, other origins, limits, loops, and turning them off.
#include <gtest/gtest.h>

#include "support/client_test_helpers.hpp"
#include "support/client_test_server.hpp"
#include "tailcut/http/session.hpp"

namespace tailcut::http {
namespace {

namespace asio = boost::asio;
namespace verbs = boost::beast::http;
using test::ClientTestServer;
using test::ReceivedRequest;
using test::Reply;
using test::run_to_completion;

// "/redirect/<status>" redirects to "/target"; "/loop" to itself;
// "/chain/<n>" to "/chain/<n-1>" and "/chain/0" answers.
Reply redirecting(const ReceivedRequest& request) {
  const std::string& target = request.target;
  if (target.starts_with("/redirect/"))
    return Reply::redirect(std::stoi(target.substr(10)), "/target");
  if (target == "/loop") return Reply::redirect(302, "/loop");
  if (target.starts_with("/chain/")) {
    const int left = std::stoi(target.substr(7));
    if (left > 0) return Reply::redirect(302, "/chain/" + std::to_string(left - 1));
  }
  if (target == "/relative/start") return Reply::redirect(301, "next?x=1");
  if (target == "/bad-location") return Reply::redirect(302, "ftp://files.example/");
  return Reply::text(200, request.method + " " + request.body);
}

RequestOptions post_to(std::string url) {
  RequestOptions options;
  options.method = verbs::verb::post;
  options.url = std::move(url);
  options.body = "payload";
  return options;
}

TEST(ClientRedirect, MethodRulesPerStatus) {
  asio::io_context io;
  ClientTestServer server{io, redirecting};
  Session session{io.get_executor()};
  const std::pair<int, std::string> expected[] = {
      {301, "GET "}, {302, "GET "}, {303, "GET "}, {307, "POST payload"}, {308, "POST payload"}};
  for (const auto& [status, answer] : expected) {
    SCOPED_TRACE(status);
    const ClientResponse response = run_to_completion(
        io, session.request(post_to(server.url("/redirect/" + std::to_string(status)))));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, answer);
    EXPECT_EQ(response.url, server.url("/target"));
    EXPECT_EQ(response.redirect_count, 1u);
  }
  // The body-less GETs carry no Content-Length or Content-Type.
  const ReceivedRequest& after_303 = server.requests()[5];
  EXPECT_EQ(after_303.method, "GET");
  EXPECT_EQ(after_303.header("Content-Length"), std::nullopt);
  EXPECT_EQ(after_303.header("Content-Type"), std::nullopt);
}

TEST(ClientRedirect, HeadStaysHeadOn303AndPutStaysPutOn302) {
  asio::io_context io;
  ClientTestServer server{io, redirecting};
  Session session{io.get_executor()};
  RequestOptions head;
  head.method = verbs::verb::head;
  head.url = server.url("/redirect/303");
  EXPECT_EQ(run_to_completion(io, session.request(head)).status, 200);
  EXPECT_EQ(server.requests()[1].method, "HEAD");
  RequestOptions put = post_to(server.url("/redirect/302"));
  put.method = verbs::verb::put;
  EXPECT_EQ(run_to_completion(io, session.request(put)).body, "PUT payload");
}

TEST(ClientRedirect, RelativeLocationIsResolvedAgainstTheCurrentUrl) {
  asio::io_context io;
  ClientTestServer server{io, redirecting};
  Session session{io.get_executor()};
  const ClientResponse response = run_to_completion(io, session.get(server.url("/relative/start")));
  EXPECT_EQ(response.url, server.url("/relative/next?x=1"));
  EXPECT_EQ(server.requests()[1].target, "/relative/next?x=1");
}

TEST(ClientRedirect, ToAnotherServerDropsCredentials) {
  asio::io_context io;
  ClientTestServer target{io, redirecting};
  ClientTestServer origin{
      io, [&](const ReceivedRequest&) { return Reply::redirect(307, target.url("/moved")); }};
  Session session{io.get_executor()};
  RequestOptions options = post_to(origin.url("/start"));
  options.headers = {{"Authorization", "Bearer secret"}, {"X-Keep", "1"}};
  const ClientResponse response = run_to_completion(io, session.request(options));
  EXPECT_EQ(response.body, "POST payload");
  EXPECT_EQ(response.url, target.url("/moved"));
  EXPECT_EQ(origin.requests()[0].header("Authorization"), "Bearer secret");
  EXPECT_EQ(target.requests()[0].header("Authorization"), std::nullopt);
  EXPECT_EQ(target.requests()[0].header("X-Keep"), "1");
}

TEST(ClientRedirect, LimitAndLoops) {
  asio::io_context io;
  ClientTestServer server{io, redirecting};
  Session session{io.get_executor()};
  RequestOptions options;
  options.max_redirects = 3;
  EXPECT_EQ(run_to_completion(io, session.get(server.url("/chain/3"), options)).redirect_count, 3u);
  EXPECT_EQ(test::kind_of_failure(io, session.get(server.url("/chain/4"), options)),
            ErrorKind::too_many_redirects);
  const auto loop = test::failure_of(io, session.get(server.url("/loop")));
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->kind(), ErrorKind::too_many_redirects);
  EXPECT_NE(std::string{loop->what()}.find("more than 10 redirects"), std::string::npos)
      << loop->what();
  options.max_redirects = 0;
  EXPECT_EQ(test::kind_of_failure(io, session.get(server.url("/chain/1"), options)),
            ErrorKind::too_many_redirects);
}

TEST(ClientRedirect, CanBeTurnedOff) {
  asio::io_context io;
  ClientTestServer server{io, redirecting};
  Session session{io.get_executor()};
  RequestOptions options;
  options.follow_redirects = false;
  const ClientResponse response =
      run_to_completion(io, session.get(server.url("/redirect/302"), options));
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(response.header("Location"), "/target");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientRedirect, UnusableLocationIsAnInvalidUrl) {
  asio::io_context io;
  ClientTestServer server{io, redirecting};
  Session session{io.get_executor()};
  EXPECT_EQ(test::kind_of_failure(io, session.get(server.url("/bad-location"))),
            ErrorKind::invalid_url);
}

}  // namespace
}  // namespace tailcut::http
