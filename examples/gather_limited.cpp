// gather_limited: GET a URL COUNT times concurrently, at most three at a
// time, and print every answer or error in input order.
//
//   gather_limited http://127.0.0.1:8081/work [COUNT]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tailcut/async/gather.hpp>
#include <tailcut/async/limiter.hpp>
#include <tailcut/http/session.hpp>
#include <vector>

namespace asio = boost::asio;
namespace async = tailcut::async;
namespace http = tailcut::http;

namespace {

// One GET, run while it holds one of the limiter's permits.
asio::awaitable<int> limited_get(http::Session& session, async::Limiter& limiter, std::string url) {
  async::Limiter::Permit permit = co_await limiter.acquire();  // waits while 3 are out
  http::ClientResponse response = co_await session.get(std::move(url));
  co_return response.status;
}  // the permit is given back here

asio::awaitable<int> get_all(std::string url, std::size_t count) {
  const auto executor = co_await asio::this_coro::executor;
  http::Session session{executor};
  async::Limiter limiter{executor, 3};

  std::vector<asio::awaitable<int>> gets;
  for (std::size_t i = 0; i < count; ++i) gets.push_back(limited_get(session, limiter, url));
  // Every answer or error as a value, in input order; all have ended when
  // gather returns, so they may use this frame's session and limiter.
  std::vector<async::Outcome<int>> outcomes =
      co_await async::gather(async::return_exceptions, std::move(gets));

  int failures = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    try {
      std::printf("GET %zu: HTTP %d\n", i + 1, outcomes[i].value());  // value() rethrows
      failures += outcomes[i].value() / 100 != 2;
    } catch (const std::exception& error) {
      std::printf("GET %zu: %s\n", i + 1, error.what());
      ++failures;
    }
  }
  co_return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gather_limited URL [COUNT]\n");
    return 2;
  }
  const std::size_t count = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 8;
  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, get_all(argv[1], count), [&](std::exception_ptr error, int result) {
    status = error ? 1 : result;
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& failure) {
      std::fprintf(stderr, "gather_limited: %s\n", failure.what());
    }
  });
  io.run();
  return status;
}
