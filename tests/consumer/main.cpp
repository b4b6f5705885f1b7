// A consumer of the installed libtailcut: gathers two coroutines.
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <tailcut/async.hpp>

namespace {

boost::asio::awaitable<int> answer(int value) { co_return value; }

boost::asio::awaitable<void> run(int& sum) {
  auto [first, second] = co_await tailcut::async::gather(answer(40), answer(2));
  sum = first + second;
}

}  // namespace

int main() {
  boost::asio::io_context io;
  int sum = 0;
  boost::asio::co_spawn(io, run(sum), boost::asio::detached);
  io.run();
  std::printf("sum=%d\n", sum);
  return sum == 42 ? 0 : 1;
}
