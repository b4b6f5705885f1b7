// failover_send: POST a message to the first of several endpoints that takes
// it. The next endpoint is tried when the last one failed or has not
// answered within 200 ms; the earlier ones keep running, and those that end
// after the delivery are reported as late results.
//
//   failover_send MESSAGE http://primary:8081/deliveries http://backup:8081/deliveries
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <tailcut/http/session.hpp>
#include <tailcut/policy/failover.hpp>
#include <vector>

namespace asio = boost::asio;
namespace http = tailcut::http;
namespace policy = tailcut::policy;

namespace {

// One delivery. It runs as a task that may outlive the failover call (until
// `settled`), so it holds the session by shared_ptr and owns its strings.
asio::awaitable<int> post_to(std::shared_ptr<http::Session> session, std::string url,
                             std::string message) {
  http::ClientResponse response = co_await session->post(std::move(url), std::move(message));
  if (!response.ok()) throw std::runtime_error{"HTTP " + std::to_string(response.status)};
  co_return response.status;
}

asio::awaitable<int> send(std::string message, std::vector<std::string> urls) {
  auto session = std::make_shared<http::Session>(co_await asio::this_coro::executor);
  std::vector<policy::EndpointAttempt<int>> endpoints;
  for (const std::string& url : urls) {
    endpoints.emplace_back([session, url, message] { return post_to(session, url, message); });
  }
  policy::FailoverOptions options;
  options.per_try = std::chrono::milliseconds{200};
  options.linger = std::chrono::seconds{2};
  // Named, like the endpoints: no capturing temporary inside a co_await.
  policy::LateResultHandler<int> on_late = [&urls](const policy::EndpointOutcome<int>& late) {
    std::printf("late: %s %s\n", urls[late.endpoint].c_str(),
                std::string{policy::to_string(late.state)}.c_str());
  };
  policy::FailoverResult<int> result =
      co_await policy::failover(std::move(endpoints), options, on_late);

  for (const policy::EndpointOutcome<int>& outcome : result.endpoints) {
    std::printf("%s: %s after %lld ms\n", urls[outcome.endpoint].c_str(),
                std::string{policy::to_string(outcome.state)}.c_str(),
                static_cast<long long>(outcome.elapsed.count()));
  }
  co_await result.settled.join();  // the late results arrive until then
  co_return result.delivered() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: failover_send MESSAGE URL...\n");
    return 2;
  }
  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, send(argv[1], {argv + 2, argv + argc}),
                 [&](std::exception_ptr error, int result) {
                   status = error ? 1 : result;
                   try {
                     if (error) std::rethrow_exception(error);
                   } catch (const std::exception& failure) {
                     std::fprintf(stderr, "failover_send: %s\n", failure.what());
                   }
                 });
  io.run();
  return status;
}
