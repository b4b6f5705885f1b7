// tailcut_latency_client: a closed-loop client that reports raw latency
// percentiles of the calls it made (no synthetic samples behind slow
// answers, unlike wrk's coordinated-omission correction).
//
//   tailcut_latency_client URL [REQUESTS=20000] [CONNECTIONS=50]
//
// CONNECTIONS coroutines on one thread and one Session (one connection
// each) loop: GET, time it, next. Prints one line:
//   calls=N non200=K errors=E seconds=S p50_ms=.. p90_ms=.. p99_ms=..
//   p99.9_ms=.. max_ms=..
#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "count_arg.hpp"
#include "tailcut/http/response.hpp"
#include "tailcut/http/session.hpp"
#include "tailcut/http/session_options.hpp"

namespace {

namespace asio = boost::asio;
namespace http = tailcut::http;
using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::duration<double, std::milli>;

// Shared by the connections; they all run on the one thread.
struct Run {
  std::size_t total = 0;
  std::size_t started = 0;
  std::size_t non_200 = 0;
  std::size_t errors = 0;
  std::vector<double> latencies_ms;
  std::string first_error;
};

asio::awaitable<void> connection(http::Session* session, std::string url, Run* run) {
  while (run->started < run->total) {
    ++run->started;
    const auto began = Clock::now();
    try {
      const http::ClientResponse response = co_await session->get(url);
      if (response.status != 200) ++run->non_200;
    } catch (const std::exception& error) {
      ++run->errors;
      if (run->first_error.empty()) run->first_error = error.what();
    }
    run->latencies_ms.push_back(Milliseconds{Clock::now() - began}.count());
  }
}

// The sample at rank ceil(q * n) of the sorted latencies (nearest rank).
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

using tailcut::bench::parse_count;

int main(int argc, char** argv) {
  try {
    if (argc < 2 || argc > 4) {
      std::cerr << "usage: tailcut_latency_client URL [REQUESTS=20000] [CONNECTIONS=50]\n";
      return 2;
    }
    const std::string url = argv[1];
    Run run;
    run.total = argc > 2 ? parse_count(argv[2], "REQUESTS") : 20'000;
    const std::size_t connections = argc > 3 ? parse_count(argv[3], "CONNECTIONS") : 50;
    run.latencies_ms.reserve(run.total);

    asio::io_context io{1};
    http::SessionOptions options;
    options.connection_limit = connections;
    http::Session session{io.get_executor(), options};
    const auto start = Clock::now();
    for (std::size_t i = 0; i < connections; ++i) {
      asio::co_spawn(io, connection(&session, url, &run), asio::detached);
    }
    io.run();
    const std::chrono::duration<double> elapsed = Clock::now() - start;
    session.close();

    std::sort(run.latencies_ms.begin(), run.latencies_ms.end());
    std::printf(
        "calls=%zu non200=%zu errors=%zu seconds=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f "
        "p99.9_ms=%.1f max_ms=%.1f\n",
        run.latencies_ms.size(), run.non_200, run.errors, elapsed.count(),
        percentile(run.latencies_ms, 0.5), percentile(run.latencies_ms, 0.9),
        percentile(run.latencies_ms, 0.99), percentile(run.latencies_ms, 0.999),
        run.latencies_ms.empty() ? 0.0 : run.latencies_ms.back());
    if (!run.first_error.empty()) std::cerr << "first error: " << run.first_error << '\n';
    return EXIT_SUCCESS;
  } catch (const std::exception& error) {
    std::cerr << "tailcut_latency_client: " << error.what() << '\n';
    return EXIT_FAILURE;
  }
}
