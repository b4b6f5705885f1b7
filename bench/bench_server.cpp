// tailcut_bench_server: the local server of the client benchmark, GET /hello -> {"hello":"world"}.
//
//   tailcut_bench_server [PORT] [THREADS]     (PORT 0 = any free port; THREADS default 1)
//
// Prints "port N" once listening, runs until SIGINT or SIGTERM.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <utility>

#include "cli/server_runner.hpp"
#include "tailcut/http/message.hpp"
#include "tailcut/http/router.hpp"
#include "tailcut/http/server.hpp"
#include "tailcut/http/server_options.hpp"

namespace {

namespace http = tailcut::http;
namespace beast_http = boost::beast::http;

boost::asio::awaitable<http::Response> hello(http::Request /*request*/,
                                             http::RequestContext /*context*/) {
  co_return http::json_response(beast_http::status::ok, R"({"hello":"world"})");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    http::ServerOptions options;
    options.port = static_cast<std::uint16_t>(argc > 1 ? std::stoul(argv[1]) : 0);
    options.threads = argc > 2 ? std::stoul(argv[2]) : 1;

    http::Router router;
    router.add(beast_http::verb::get, "/hello", hello);

    http::Server server{std::move(options), std::move(router)};
    tailcut::cli::StopSignals stop_signals;  // caught from before the server says it listens
    server.start();
    std::cout << "port " << server.port() << std::endl;

    stop_signals.run_until_signal(server);
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    std::cerr << "tailcut_bench_server: " << error.what() << '\n';
    return EXIT_FAILURE;
  }
}
