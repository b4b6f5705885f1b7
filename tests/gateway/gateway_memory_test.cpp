// The gateway's bound on upstream bodies buffered at once: over real
// sockets, an attempt whose body would pass --upstream-buffer-bytes fails as
// too large and its call answers 502 saying so, the others succeed, and the
// bytes accounted return to zero.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gateway/gateway.hpp"
#include "support/client_test_server.hpp"
#include "support/server_test_client.hpp"

namespace tailcut::gateway {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t body_bytes = 1024 * 1024;

// A JSON object of body_bytes.
std::string large_json() {
  std::string body = R"({"pad":")";
  body.append(body_bytes - body.size() - 2, 'a');
  body += "\"}";
  return body;
}

// Every request is answered with large_json(), all but its last byte at
// once and that byte `hold` later: the bodies of concurrent calls are
// buffered in the gateway at the same time.
test::Reply held_large_answer(std::chrono::milliseconds hold) {
  const std::string body = large_json();
  test::Reply reply;
  reply.parts.push_back(test::ReplyPart{
      .delay = 0ms,
      .bytes = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() - 1)});
  reply.parts.push_back(test::ReplyPart{.delay = hold, .bytes = body.substr(body.size() - 1)});
  return reply;
}

// A scripted upstream on a thread of its own.
class ThreadedUpstream {
 public:
  explicit ThreadedUpstream(test::RequestScript script)
      : server_{std::make_unique<test::ClientTestServer>(io_, std::move(script))}, thread_{[this] {
          io_.run();
        }} {}
  ~ThreadedUpstream() {
    std::promise<void> closed;
    boost::asio::post(io_, [this, &closed] {
      server_.reset();
      closed.set_value();
    });
    closed.get_future().wait();
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  ThreadedUpstream(const ThreadedUpstream&) = delete;
  ThreadedUpstream& operator=(const ThreadedUpstream&) = delete;

  [[nodiscard]] std::string url() const { return server_->url("/api/work"); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  std::unique_ptr<test::ClientTestServer> server_;
  std::thread thread_;
};

TEST(GatewayUpstreamBuffer, AnAttemptOverTheLimitFailsAsTooLargeAndTheAccountReturnsToZero) {
  ThreadedUpstream upstream{[](const test::ReceivedRequest&) { return held_large_answer(2s); }};
  GatewayOptions options;
  options.upstream_urls = {upstream.url()};
  options.server.threads = 1;  // the refusals happen in one order
  options.hedge_count = 0;     // each call is one attempt
  // Room for two bodies, not three.
  options.upstream_buffer_bytes = body_bytes * 5 / 2;
  options.upstream_max_body_bytes = body_bytes;
  Gateway gateway{options};
  gateway.start();

  constexpr std::size_t calls = 3;
  std::vector<std::unique_ptr<testing::ServerTestClient>> clients;
  for (std::size_t i = 0; i < calls; ++i) {
    clients.push_back(std::make_unique<testing::ServerTestClient>(gateway.port()));
    clients.back()->send(testing::raw_request("GET", "/api/smart?timeout=20000"));
  }
  std::size_t succeeded = 0;
  std::vector<std::string> refused;
  for (auto& client : clients) {
    auto reply = client->read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    if (reply.response->result_int() == 200) ++succeeded;
    if (reply.response->result_int() == 502) refused.push_back(reply.response->body());
  }
  EXPECT_EQ(succeeded, 2U);
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_NE(refused[0].find("body_too_large"), std::string::npos) << refused[0];
  EXPECT_NE(refused[0].find("--upstream-buffer-bytes"), std::string::npos) << refused[0];
  // Every attempt has ended before its answer was written.
  EXPECT_EQ(gateway.upstream_buffer().charged_bytes(), 0U);
  gateway.stop();
}

TEST(GatewayUpstreamBuffer, MustHoldTheLargestBody) {
  GatewayOptions options;
  options.upstream_max_body_bytes = 2048;
  options.upstream_buffer_bytes = 1024;
  try {
    validate(options);
    FAIL() << "a buffer smaller than one body was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string{error.what()}.find("--upstream-buffer-bytes"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace tailcut::gateway
