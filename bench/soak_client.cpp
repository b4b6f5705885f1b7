// tailcut_soak_client: keeps a gateway busy for a while with a mix of calls
// and checks that every answer kept its deadline.
//
//   tailcut_soak_client BASE_URL SECONDS [CONNECTIONS=500]
//
// BASE_URL is the gateway's, e.g. http://127.0.0.1:8080. CONNECTIONS
// coroutines on one thread loop until SECONDS have passed, each call one of:
//   - GET /api/smart?timeout=1000, waited for;
//   - GET /api/smart?timeout=250, waited for (deadline pressure);
//   - GET /api/smart?timeout=1000, abandoned after 150 ms (the client
//     leaves: its connection is closed under the call).
// An answer later than its timeout + 5 ms (as this client measures it, so
// including its own delays) counts as late. Prints one line:
//   calls=N ok=.. status504=.. status502=.. other=.. abandoned=.. errors=..
//   late=.. worst_overshoot_ms=..
// Exit status 1 when any answer was late or no call succeeded.
#include <algorithm>
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include "count_arg.hpp"
#include "tailcut/http/response.hpp"
#include "tailcut/http/session.hpp"
#include "tailcut/http/session_options.hpp"

namespace {

namespace asio = boost::asio;
namespace http = tailcut::http;
using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::duration<double, std::milli>;
using namespace std::chrono_literals;

struct Soak {
  std::string base_url;
  Clock::time_point end;
  std::size_t calls = 0, ok = 0, status_504 = 0, status_502 = 0, other = 0;
  std::size_t abandoned = 0, errors = 0, late = 0;
  double worst_overshoot_ms = 0;
  std::string first_error;
};

struct Mode {
  std::chrono::milliseconds timeout;
  std::optional<std::chrono::milliseconds> give_up_after;
};
constexpr std::array<Mode, 3> modes{Mode{1000ms, {}}, Mode{250ms, {}}, Mode{1000ms, 150ms}};

void count_answer(Soak& soak, int status, const Mode& mode, Clock::duration elapsed) {
  if (status == 200)
    ++soak.ok;
  else if (status == 504)
    ++soak.status_504;
  else if (status == 502)
    ++soak.status_502;
  else
    ++soak.other;
  const double overshoot = Milliseconds{elapsed - mode.timeout}.count();
  soak.worst_overshoot_ms = std::max(soak.worst_overshoot_ms, overshoot);
  if (overshoot > 5.0) ++soak.late;
}

asio::awaitable<void> connection(http::Session* session, Soak* soak, std::size_t first_mode) {
  for (std::size_t call = first_mode; Clock::now() < soak->end; ++call) {
    const Mode& mode = modes[call % modes.size()];
    http::RequestOptions options;
    options.url = soak->base_url + "/api/smart?timeout=" + std::to_string(mode.timeout.count());
    if (mode.give_up_after) options.timeouts = http::Timeouts{.total = *mode.give_up_after};
    ++soak->calls;
    const auto began = Clock::now();
    try {
      const http::ClientResponse response = co_await session->request(options);
      count_answer(*soak, response.status, mode, Clock::now() - began);
    } catch (const std::exception& error) {
      if (mode.give_up_after && Clock::now() - began >= *mode.give_up_after) {
        ++soak->abandoned;
      } else {
        ++soak->errors;
        if (soak->first_error.empty()) soak->first_error = error.what();
      }
    }
  }
}

}  // namespace

using tailcut::bench::parse_count;

int main(int argc, char** argv) {
  try {
    if (argc < 3 || argc > 4) {
      std::cerr << "usage: tailcut_soak_client BASE_URL SECONDS [CONNECTIONS=500]\n";
      return 2;
    }
    Soak soak;
    soak.base_url = argv[1];
    soak.end = Clock::now() + std::chrono::seconds{parse_count(argv[2], "SECONDS")};
    const std::size_t connections = argc > 3 ? parse_count(argv[3], "CONNECTIONS") : 500;

    asio::io_context io{1};
    http::SessionOptions options;
    options.connection_limit = connections;
    http::Session session{io.get_executor(), options};
    for (std::size_t i = 0; i < connections; ++i) {
      asio::co_spawn(io, connection(&session, &soak, i), asio::detached);
    }
    io.run();
    session.close();

    std::printf(
        "calls=%zu ok=%zu status504=%zu status502=%zu other=%zu abandoned=%zu errors=%zu late=%zu "
        "worst_overshoot_ms=%.1f\n",
        soak.calls, soak.ok, soak.status_504, soak.status_502, soak.other, soak.abandoned,
        soak.errors, soak.late, soak.worst_overshoot_ms);
    if (!soak.first_error.empty()) std::cerr << "first error: " << soak.first_error << '\n';
    return soak.late == 0 && soak.ok > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  } catch (const std::exception& error) {
    std::cerr << "tailcut_soak_client: " << error.what() << '\n';
    return EXIT_FAILURE;
  }
}
