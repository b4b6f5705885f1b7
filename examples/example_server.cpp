// example_server: the server the other examples talk to. GET /work answers
// a small JSON document and POST /deliveries answers 201, both after
// DELAY_MS; it prints its URL, then runs until SIGINT or SIGTERM.
//
//   example_server [DELAY_MS]          # port 0: the system picks a free one
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tailcut/http/router.hpp>
#include <tailcut/http/server.hpp>

namespace asio = boost::asio;
namespace http = tailcut::http;
using boost::beast::http::status;
using boost::beast::http::verb;

namespace {

// Answers after `delay`: slow enough, it is what a hedge or a failover cuts.
asio::awaitable<http::Response> answer_after(std::chrono::milliseconds delay, status code,
                                             std::string body) {
  asio::steady_timer timer{co_await asio::this_coro::executor, delay};
  co_await timer.async_wait(asio::use_awaitable);  // cancelled if the client leaves
  co_return http::json_response(code, std::move(body));
}

}  // namespace

int main(int argc, char** argv) {
  const std::chrono::milliseconds delay{argc > 1 ? std::atol(argv[1]) : 0};

  // Each handler returns the coroutine of a named function, which owns
  // copies of its arguments (no coroutine lambda with captures).
  http::Router router;
  router.add(verb::get, "/work", [delay](http::Request, http::RequestContext) {
    return answer_after(delay, status::ok, R"({"work":"done"})");
  });
  router.add(verb::post, "/deliveries", [delay](http::Request, http::RequestContext) {
    return answer_after(delay, status::created, R"({"delivered":true})");
  });

  http::ServerOptions options;  // 127.0.0.1, port 0
  options.threads = 1;
  options.shutdown_grace = std::chrono::seconds{1};
  http::Server server{options, std::move(router)};
  server.start();
  std::printf("listening on http://127.0.0.1:%u\n", unsigned{server.port()});
  std::fflush(stdout);

  // Wait for SIGINT or SIGTERM, then stop gracefully.
  asio::io_context signals_context;
  asio::signal_set signals{signals_context, SIGINT, SIGTERM};
  signals.async_wait([&server](const boost::system::error_code&, int) { server.stop(); });
  signals_context.run();
  return 0;
}
