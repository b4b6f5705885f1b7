// ServerTest: an http::Server on real sockets with a router of test
// handlers (support/server_test_handlers.hpp) and a body too large for the
// socket's send buffer; and the reading of the JSON bodies it answers with.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "support/server_test_handlers.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::testing {

// A body too large for the socket's send buffer: the server writes what
// fits at once and the rest as the client reads. Bytes vary with their
// offset, so that a gap or a repeat would show.
inline constexpr std::size_t large_body_bytes = 16 * 1024 * 1024;

inline std::string large_body() {
  std::string body(large_body_bytes, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i / 7) % 26);
  return body;
}

inline boost::asio::awaitable<http::Response> large(http::Request /*request*/,
                                                    http::RequestContext /*context*/) {
  http::Response response{boost::beast::http::status::ok, 11};
  response.body() = large_body();
  co_return response;
}

// GET /large, GET /hello, GET/POST/PATCH /describe, GET /throw, and GET
// /slow (answers after 100 ms).
inline http::Router test_router() {
  namespace bhttp = boost::beast::http;
  http::Router router;
  router.add(bhttp::verb::get, "/large", large);
  router.add(bhttp::verb::get, "/hello", hello);
  router.add(bhttp::verb::get, "/describe", describe_request);
  router.add(bhttp::verb::post, "/describe", describe_request);
  router.add(bhttp::verb::patch, "/describe", describe_request);
  router.add(bhttp::verb::get, "/throw", throw_error);
  router.add(bhttp::verb::get, "/slow",
             slow_handler(std::make_shared<Event>(), std::chrono::milliseconds{100}));
  return router;
}

inline http::ServerOptions test_options(LogCapture& log) {
  http::ServerOptions options;
  options.threads = 2;
  options.error_log = log.sink();
  return options;
}

inline boost::json::object json_body(const http::Response& response) {
  return boost::json::parse(response.body()).as_object();
}

// The "code" of a JSON error response.
inline std::string error_code_of(const http::Response& response) {
  return std::string{json_body(response).at("error").at("code").as_string()};
}

class ServerTest : public ::testing::Test {
 protected:
  // Starts the server with the test router and `options`.
  http::Server& start(http::ServerOptions options) {
    server_ = std::make_unique<http::Server>(std::move(options), test_router());
    server_->start();
    return *server_;
  }
  http::Server& start() { return start(test_options(log_)); }

  LogCapture log_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace tailcut::testing
