// deadline: two GETs that share one deadline, then one GET with its own
// timeout. An operation still running when its time is up is cancelled
// (its connection closed) and waited for, then timed_out is thrown.
//
//   deadline http://127.0.0.1:8081/work TIMEOUT_MS
//   exit status: 0 all answered in time, 3 a deadline passed, 1 other errors
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tailcut/async/deadline.hpp>
#include <tailcut/async/error.hpp>
#include <tailcut/http/session.hpp>

namespace asio = boost::asio;
namespace async = tailcut::async;
namespace http = tailcut::http;

namespace {

asio::awaitable<int> get_in_time(std::string url, std::chrono::milliseconds timeout) {
  http::Session session{co_await asio::this_coro::executor};

  // Both steps together get `timeout`.
  async::DeadlineScope scope = async::DeadlineScope::after(timeout);
  http::ClientResponse first = co_await scope.run(session.get(url));
  http::ClientResponse second = co_await scope.run(session.get(url));
  std::printf("two GETs: HTTP %d, HTTP %d\n", first.status, second.status);

  // One step with a timeout of its own.
  http::ClientResponse third = co_await async::wait_for(session.get(url), timeout);
  std::printf("one GET: HTTP %d %s\n", third.status, third.body.c_str());
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: deadline URL TIMEOUT_MS\n");
    return 2;
  }
  const std::chrono::milliseconds timeout{std::atol(argv[2])};
  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, get_in_time(argv[1], timeout), [&](std::exception_ptr error, int result) {
    status = !error ? result : async::is_timeout(error) ? 3 : 1;
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& failure) {
      std::fprintf(stderr, "deadline: %s\n", failure.what());
    }
  });
  io.run();
  return status;
}
