// hedged_get: GET a URL with hedging. When the first attempt has not
// answered within the hedge delay, two more are fired; the first success
// wins and the others are cancelled.
//
//   hedged_get http://127.0.0.1:8081/work [HEDGE_DELAY_MS]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <tailcut/http/session.hpp>
#include <tailcut/policy/hedge.hpp>

namespace asio = boost::asio;
namespace http = tailcut::http;
namespace policy = tailcut::policy;

namespace {

// One attempt. A named coroutine function: its frame owns `url`.
asio::awaitable<std::string> fetch_once(http::Session& session, std::string url) {
  http::ClientResponse response = co_await session.get(std::move(url));
  if (!response.ok()) throw std::runtime_error{"HTTP " + std::to_string(response.status)};
  co_return std::move(response.body);
}

asio::awaitable<int> hedged_get(std::string url, std::chrono::milliseconds hedge_delay) {
  http::Session session{co_await asio::this_coro::executor};
  policy::HedgeOptions options;
  options.delay = hedge_delay;
  options.deadline = policy::HedgeOptions::Clock::now() + std::chrono::seconds{5};

  // The attempt function is a named variable, not a temporary written inside
  // the co_await expression: g++ 12 destroys such a temporary twice.
  policy::Attempt<std::string> attempt = [&session, url](policy::AttemptContext) {
    return fetch_once(session, url);
  };
  policy::HedgeResult<std::string> result =
      co_await policy::hedge<std::string>(std::move(attempt), options);

  for (const policy::AttemptRecord& record : result.attempts) {
    const bool failed = record.state == policy::AttemptState::failed;
    const char* state = failed                                            ? "failed"
                        : record.state == policy::AttemptState::succeeded ? "succeeded"
                                                                          : "cancelled";
    std::printf("attempt %zu: started after %lld ms, %s after %lld ms%s%s\n", record.number,
                static_cast<long long>(record.started_after.count()), state,
                static_cast<long long>(record.elapsed.count()), failed ? ": " : "",
                failed ? record.failure.message().c_str() : "");
  }
  if (!result.value) co_return 1;  // all failed, or the deadline passed
  std::printf("attempt %zu won: %s\n", result.winner, result.value->c_str());
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: hedged_get URL [HEDGE_DELAY_MS]\n");
    return 2;
  }
  const std::chrono::milliseconds hedge_delay{argc > 2 ? std::atol(argv[2]) : 300};
  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, hedged_get(argv[1], hedge_delay), [&](std::exception_ptr error, int result) {
    status = error ? 1 : result;
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& failure) {
      std::fprintf(stderr, "hedged_get: %s\n", failure.what());
    }
  });
  io.run();
  return status;
}
