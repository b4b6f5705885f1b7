// tailcut_client_bench: requests per second of http::Session against one URL.
//
//   tailcut_client_bench URL [REQUESTS=100000] [CONCURRENCY=64]
//
// One Session on one io_context and thread, connection_limit = CONCURRENCY,
// CONCURRENCY worker coroutines each looping: GET, check 200, count. Prints
//   tailcut-client requests=N concurrency=C seconds=S rps=R errors=E
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>

#include "count_arg.hpp"
#include "tailcut/http/response.hpp"
#include "tailcut/http/session.hpp"
#include "tailcut/http/session_options.hpp"

namespace {

namespace asio = boost::asio;
namespace http = tailcut::http;

// Shared by the workers; they all run on the one thread, so plain counters.
struct Counters {
  std::size_t total = 0;      // requests to send
  std::size_t started = 0;    // requests handed out to workers
  std::size_t ok = 0;         // 200 responses
  std::size_t errors = 0;     // other statuses and exceptions
  std::string first_error{};  // the first error's description, for the report
};

asio::awaitable<void> worker(http::Session* session, std::string url, Counters* counters) {
  while (counters->started < counters->total) {
    ++counters->started;
    try {
      http::ClientResponse response = co_await session->get(url);
      if (response.status == 200) {
        ++counters->ok;
      } else {
        ++counters->errors;
        if (counters->first_error.empty()) {
          counters->first_error = "HTTP status " + std::to_string(response.status);
        }
      }
    } catch (const std::exception& error) {
      ++counters->errors;
      if (counters->first_error.empty()) counters->first_error = error.what();
    }
  }
}

}  // namespace

using tailcut::bench::parse_count;

int main(int argc, char** argv) {
  try {
    if (argc < 2 || argc > 4) {
      std::cerr << "usage: tailcut_client_bench URL [REQUESTS=100000] [CONCURRENCY=64]\n";
      return 2;
    }
    const std::string url = argv[1];
    const std::size_t requests = argc > 2 ? parse_count(argv[2], "REQUESTS") : 100'000;
    const std::size_t concurrency = argc > 3 ? parse_count(argv[3], "CONCURRENCY") : 64;

    asio::io_context io{1};
    http::SessionOptions options;
    options.connection_limit = concurrency;
    http::Session session{io.get_executor(), options};

    Counters counters;
    counters.total = requests;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < concurrency; ++i) {
      asio::co_spawn(io, worker(&session, url, &counters), asio::detached);
    }
    io.run();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    session.close();

    const double seconds = elapsed.count();
    std::printf("tailcut-client requests=%zu concurrency=%zu seconds=%.3f rps=%.0f errors=%zu\n",
                counters.ok + counters.errors, concurrency, seconds,
                static_cast<double>(counters.ok) / seconds, counters.errors);
    if (!counters.first_error.empty()) {
      std::cerr << "first error: " << counters.first_error << '\n';
    }
    return counters.errors == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  } catch (const std::exception& error) {
    std::cerr << "tailcut_client_bench: " << error.what() << '\n';
    return EXIT_FAILURE;
  }
}
