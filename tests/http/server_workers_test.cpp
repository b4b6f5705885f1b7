// Tests of http::Server's workers on real sockets: connections spread over
// the workers with each handler on its worker's thread, and the time a
// request waited in the kernel while its worker was busy, counted or not in
// its received_at.
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "support/server_test_client.hpp"
#include "support/server_test_handlers.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::raw_request;
using testing::ServerTestClient;

// The thread of each worker, as seen by code posted to its executor.
class WorkerThreads {
 public:
  void add(std::thread::id id) {
    std::lock_guard lock{mutex_};
    ids_.push_back(id);
  }
  std::vector<std::thread::id> ids() const {
    std::lock_guard lock{mutex_};
    return ids_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::thread::id> ids_;
};

boost::asio::awaitable<Response> report_worker(std::shared_ptr<const WorkerThreads> threads,
                                               Request, RequestContext context) {
  const bool on_its_thread = threads->ids().at(context.worker) == std::this_thread::get_id();
  co_return testing::text_response(std::to_string(context.worker) +
                                   (on_its_thread ? " on its thread" : " ELSEWHERE"));
}

TEST(ServerWorkersTest, ConnectionsAreSpreadOverTheWorkersAndHandlersRunOnTheirThread) {
  auto threads = std::make_shared<WorkerThreads>();
  Router router;
  router.add(bhttp::verb::get, "/worker", [threads](Request request, RequestContext context) {
    return report_worker(threads, std::move(request), std::move(context));
  });
  ServerOptions options;
  options.threads = 2;
  Server server{options, std::move(router)};
  ASSERT_EQ(server.worker_count(), 2u);
  std::vector<std::future<std::thread::id>> ids;
  for (std::size_t i = 0; i < server.worker_count(); ++i) {
    auto id = std::make_shared<std::promise<std::thread::id>>();
    ids.push_back(id->get_future());
    boost::asio::post(server.worker_executor(i),
                      [id] { id->set_value(std::this_thread::get_id()); });
  }
  server.start();  // work posted before start runs once the workers run
  for (auto& id : ids) {
    ASSERT_EQ(id.wait_for(10s), std::future_status::ready);
    threads->add(id.get());
  }
  EXPECT_NE(threads->ids()[0], threads->ids()[1]);

  std::set<std::string> answers;
  for (int i = 0; i < 4; ++i) {
    ServerTestClient client{server.port()};
    answers.insert(client.request("GET", "/worker").body());
  }
  EXPECT_EQ(answers, (std::set<std::string>{"0 on its thread", "1 on its thread"}));
  EXPECT_THROW((void)server.worker_executor(2), std::out_of_range);
}

// Holds its worker thread for `hold` after telling `started`: on purpose,
// so that the next request waits in the kernel (the test's subject).
struct BlockingHandler {
  std::shared_ptr<testing::Event> started;
  std::chrono::milliseconds hold;
  boost::asio::awaitable<Response> operator()(Request /*request*/,
                                              RequestContext /*context*/) const {
    started->set();
    std::this_thread::sleep_for(hold);
    co_return Response{bhttp::status::ok, 11};
  }
};

// Answers how long ago, in ms, the server says the request was received.
boost::asio::awaitable<Response> report_age(Request /*request*/, RequestContext context) {
  const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - context.received_at);
  Response response{bhttp::status::ok, 11};
  response.body() = std::to_string(age.count());
  co_return response;
}

struct AgeSeen {
  std::chrono::milliseconds reported;   // by the handler, from received_at
  std::chrono::milliseconds at_client;  // from sending to the answer
};

// One worker blocked for 300 ms; a request sent meanwhile waits in the
// kernel until the worker is free again.
AgeSeen age_of_a_request_sent_while_blocked(bool count_kernel_wait) {
  auto started = std::make_shared<testing::Event>();
  Router router;
  router.add(bhttp::verb::get, "/block", BlockingHandler{started, 300ms});
  router.add(bhttp::verb::get, "/age", report_age);
  ServerOptions options;
  options.threads = 1;
  options.count_kernel_wait = count_kernel_wait;
  Server server{options, std::move(router)};
  server.start();

  ServerTestClient blocker{server.port()};
  blocker.send(raw_request("GET", "/block"));
  EXPECT_TRUE(started->wait_for(10s));
  // Timed from before the connect: the kernel may date the request's
  // bytes from the handshake (its receive stamp is set when the connection
  // is made), and a busy machine can stall between connect and send.
  const auto sent = std::chrono::steady_clock::now();
  ServerTestClient client{server.port()};
  const Response answer = client.request("GET", "/age");
  const auto at_client = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - sent);
  EXPECT_EQ(answer.result(), bhttp::status::ok);
  server.stop();
  return AgeSeen{std::chrono::milliseconds{std::stol(answer.body())}, at_client};
}

TEST(ServerArrivalTest, ReceivedAtCountsTheTimeTheRequestWaitedInTheKernel) {
  const AgeSeen age = age_of_a_request_sent_while_blocked(true);
  // It waited most of the 300 ms block (the kernel's receive time stamp).
  EXPECT_GE(age.reported, 150ms) << "client saw " << age.at_client.count() << " ms";
  EXPECT_LE(age.reported, age.at_client + 5ms);
}

TEST(ServerArrivalTest, WithoutCountingTheKernelWaitReceivedAtIsTheRead) {
  const AgeSeen age = age_of_a_request_sent_while_blocked(false);
  EXPECT_GE(age.at_client, 150ms);
  EXPECT_LT(age.reported, 100ms);
}

}  // namespace
}  // namespace tailcut::http
