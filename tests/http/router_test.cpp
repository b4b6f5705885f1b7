// Tests of http::Router: exact-path routing, 404/405 answers, HEAD fallback,
// and the routes add() refuses.
#include "tailcut/http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <exception>
#include <optional>
#include <stdexcept>

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

awaitable<Response> answer_with_target(Request request, RequestContext) {
  Response response{bhttp::status::ok, 11};
  response.body() = std::string{request.method_string()} + " " + std::string{request.target()};
  co_return response;
}

awaitable<Response> fail(Request, RequestContext) {
  throw std::runtime_error{"handler failed"};
  co_return Response{};
}

Request make_request(bhttp::verb method, std::string_view target) {
  return Request{method, target, 11};
}

// Runs router.dispatch to completion; rethrows what it throws.
Response dispatch(const Router& router, Request request) {
  boost::asio::io_context io;
  std::optional<Response> response;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, router.dispatch(std::move(request), RequestContext{}),
                        [&response, &failure](const std::exception_ptr& error, Response result) {
                          failure = error;
                          if (!error) response = std::move(result);
                        });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(response).value();
}

std::string error_code_of(const Response& response) {
  const auto body = boost::json::parse(response.body()).as_object();
  EXPECT_FALSE(body.at("success").as_bool());
  return std::string{body.at("error").at("code").as_string()};
}

TEST(RouterTest, RoutesByMethodAndExactPath) {
  Router router;
  router.add(bhttp::verb::get, "/a", answer_with_target);
  router.add(bhttp::verb::post, "/a", answer_with_target);
  router.add(bhttp::verb::get, "/a/b", answer_with_target);

  EXPECT_EQ(dispatch(router, make_request(bhttp::verb::get, "/a")).body(), "GET /a");
  EXPECT_EQ(dispatch(router, make_request(bhttp::verb::post, "/a")).body(), "POST /a");
  EXPECT_EQ(dispatch(router, make_request(bhttp::verb::get, "/a/b")).body(), "GET /a/b");
  EXPECT_EQ(dispatch(router, make_request(bhttp::verb::get, "/a/")).result(),
            bhttp::status::not_found);
}

TEST(RouterTest, IgnoresTheQueryString) {
  Router router;
  router.add(bhttp::verb::get, "/api/smart", answer_with_target);
  const auto response = dispatch(router, make_request(bhttp::verb::get, "/api/smart?timeout=5"));
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response.body(), "GET /api/smart?timeout=5");
}

// RFC 9112 3.2.2: a server accepts a target in absolute form, as clients
// send it to a proxy; the handler sees it in origin form.
TEST(RouterTest, AnAbsoluteFormTargetIsRoutedByItsPath) {
  Router router;
  router.add(bhttp::verb::get, "/api/smart", answer_with_target);
  router.add(bhttp::verb::get, "/", answer_with_target);
  EXPECT_EQ(
      dispatch(router, make_request(bhttp::verb::get, "http://127.0.0.1:8080/api/smart?timeout=5"))
          .body(),
      "GET /api/smart?timeout=5");
  EXPECT_EQ(dispatch(router, make_request(bhttp::verb::get, "HTTP://example.com")).body(), "GET /");
  EXPECT_EQ(
      dispatch(router, make_request(bhttp::verb::get, "ftp://example.com/api/smart")).result(),
      bhttp::status::not_found);
}

TEST(RouterTest, UnknownPathIs404WithJsonError) {
  Router router;
  router.add(bhttp::verb::get, "/a", answer_with_target);
  const auto response = dispatch(router, make_request(bhttp::verb::get, "/missing?x=1"));
  EXPECT_EQ(response.result(), bhttp::status::not_found);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(error_code_of(response), "not_found");
}

TEST(RouterTest, OtherMethodOnKnownPathIs405WithAllow) {
  Router router;
  router.add(bhttp::verb::post, "/items", answer_with_target);
  router.add(bhttp::verb::get, "/items", answer_with_target);
  const auto response = dispatch(router, make_request(bhttp::verb::delete_, "/items"));
  EXPECT_EQ(response.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(response[bhttp::field::allow], "GET, HEAD, POST");
  EXPECT_EQ(error_code_of(response), "method_not_allowed");
}

TEST(RouterTest, HeadUsesTheGetRouteUnlessItHasItsOwn) {
  Router router;
  router.add(bhttp::verb::get, "/a", answer_with_target);
  router.add(bhttp::verb::get, "/b", answer_with_target);
  router.add(bhttp::verb::head, "/b", fail);
  EXPECT_EQ(dispatch(router, make_request(bhttp::verb::head, "/a")).body(), "HEAD /a");
  EXPECT_THROW(dispatch(router, make_request(bhttp::verb::head, "/b")), std::runtime_error);
  EXPECT_EQ(router.methods_on("/b"), (std::vector{bhttp::verb::get, bhttp::verb::head}));
}

TEST(RouterTest, HandlerExceptionsPropagateToTheServer) {
  Router router;
  router.add(bhttp::verb::get, "/fail", fail);
  EXPECT_THROW(dispatch(router, make_request(bhttp::verb::get, "/fail")), std::runtime_error);
}

TEST(RouterTest, AddRefusesInvalidRoutes) {
  Router router;
  router.add(bhttp::verb::get, "/a", answer_with_target);
  EXPECT_THROW(router.add(bhttp::verb::get, "", answer_with_target), std::invalid_argument);
  EXPECT_THROW(router.add(bhttp::verb::get, "a", answer_with_target), std::invalid_argument);
  EXPECT_THROW(router.add(bhttp::verb::get, "/a?b=1", answer_with_target), std::invalid_argument);
  EXPECT_THROW(router.add(bhttp::verb::unknown, "/c", answer_with_target), std::invalid_argument);
  EXPECT_THROW(router.add(bhttp::verb::get, "/c", Handler{}), std::invalid_argument);
  EXPECT_THROW(router.add(bhttp::verb::get, "/a", answer_with_target), std::invalid_argument);
  // A refused route leaves nothing behind.
  EXPECT_TRUE(router.methods_on("/c").empty());
}

TEST(RouterTest, PathOfDropsTheQuery) {
  EXPECT_EQ(Router::path_of("/a/b?x=1&y=2"), "/a/b");
  EXPECT_EQ(Router::path_of("/a/b"), "/a/b");
  EXPECT_EQ(Router::path_of("/?"), "/");
}

}  // namespace
}  // namespace tailcut::http
