// Tests of http::Server on real sockets: responses and their headers,
// keep-alive, pipelining, size limits, malformed input, timeouts, the
// connection limit, request ids and the spreading of connections over workers.
#include "tailcut/http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "support/server_test_client.hpp"
#include "support/server_test_handlers.hpp"

namespace tailcut::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::raw_request;
using testing::ServerTestClient;

// A body too large for the socket's send buffer: the server writes what
// fits at once and the rest as the client reads. Bytes vary with their
// offset, so that a gap or a repeat would show.
constexpr std::size_t large_body_bytes = 16 * 1024 * 1024;

std::string large_body() {
  std::string body(large_body_bytes, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i / 7) % 26);
  return body;
}

boost::asio::awaitable<Response> large(Request /*request*/, RequestContext /*context*/) {
  Response response{bhttp::status::ok, 11};
  response.body() = large_body();
  co_return response;
}

Router test_router() {
  Router router;
  router.add(bhttp::verb::get, "/large", large);
  router.add(bhttp::verb::get, "/hello", testing::hello);
  router.add(bhttp::verb::get, "/describe", testing::describe_request);
  router.add(bhttp::verb::post, "/describe", testing::describe_request);
  router.add(bhttp::verb::patch, "/describe", testing::describe_request);
  router.add(bhttp::verb::get, "/throw", testing::throw_error);
  router.add(bhttp::verb::get, "/slow",
             testing::slow_handler(std::make_shared<testing::Event>(), 100ms));
  return router;
}

ServerOptions test_options(testing::LogCapture& log) {
  ServerOptions options;
  options.threads = 2;
  options.error_log = log.sink();
  return options;
}

boost::json::object json_body(const Response& response) {
  return boost::json::parse(response.body()).as_object();
}

std::string error_code_of(const Response& response) {
  return std::string{json_body(response).at("error").at("code").as_string()};
}

class ServerTest : public ::testing::Test {
 protected:
  // Starts the server with the test router and `options`.
  Server& start(ServerOptions options) {
    server_ = std::make_unique<Server>(std::move(options), test_router());
    server_->start();
    return *server_;
  }
  Server& start() { return start(test_options(log_)); }

  testing::LogCapture log_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, AnswersWithContentLengthServerAndRequestId) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto response = client.request("GET", "/hello");
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response.body(), "hello");
  EXPECT_EQ(response[bhttp::field::content_length], "5");
  EXPECT_EQ(response[bhttp::field::server], "tailcut");
  EXPECT_FALSE(response["X-Request-Id"].empty());
}

TEST_F(ServerTest, RouterErrorsReachTheClientAsJson) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto not_found = client.request("GET", "/nowhere");
  EXPECT_EQ(not_found.result(), bhttp::status::not_found);
  EXPECT_EQ(error_code_of(not_found), "not_found");
  const auto not_allowed = client.request("DELETE", "/hello");
  EXPECT_EQ(not_allowed.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(not_allowed[bhttp::field::allow], "GET, HEAD");
  EXPECT_EQ(error_code_of(not_allowed), "method_not_allowed");
}

TEST_F(ServerTest, HandlerExceptionIs500LoggedAndTheServerKeepsServing) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto failed = client.request("GET", "/throw");
  EXPECT_EQ(failed.result(), bhttp::status::internal_server_error);
  EXPECT_EQ(error_code_of(failed), "internal_error");
  EXPECT_EQ(client.request("GET", "/hello").result(), bhttp::status::ok);  // same connection
  const auto lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  // The exception's text is quoted too: its line break cannot end the line.
  EXPECT_NE(lines[0].find(R"("handler exploded\x0aon a second line")"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("GET /throw"), std::string::npos) << lines[0];
}

// The target is the client's bytes: quoted in the log line, so that they
// can neither end it nor act on a terminal (a raw or an encoded CSI, a
// bidirectional override).
TEST_F(ServerTest, AFailedRequestsTargetIsQuotedInTheLog) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto failed = client.request("GET", "/throw?\x9b\xc2\x9b\xe2\x80\xae");
  EXPECT_EQ(failed.result(), bhttp::status::internal_server_error);
  const auto lines = log_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("GET /throw?\x9b\u009b\u202e": handler failed)"), std::string::npos)
      << lines[0];
}

TEST_F(ServerTest, HeadIsAnsweredByTheGetRouteWithoutBody) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto head = client.request("HEAD", "/hello");
  EXPECT_EQ(head.result(), bhttp::status::ok);
  EXPECT_EQ(head[bhttp::field::content_length], "5");
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(client.request("GET", "/hello").body(), "hello");  // nothing stray on the wire
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Server& server = start();
  ServerTestClient client{server.port()};
  EXPECT_EQ(client.request("GET", "/hello").body(), "hello");
  EXPECT_EQ(client.request("GET", "/hello").body(), "hello");
  const auto stats = server.stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.requests_handled, 2u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Server& server = start();
  ServerTestClient client{server.port()};
  // The first takes 100 ms, so answering out of order would show.
  client.send(raw_request("GET", "/slow") + raw_request("GET", "/describe?n=2"));
  const auto first = client.read_response();
  const auto second = client.read_response();
  ASSERT_TRUE(first.response) << first.error.message();
  ASSERT_TRUE(second.response) << second.error.message();
  EXPECT_EQ(first.response->body(), "slow done");
  EXPECT_EQ(json_body(*second.response).at("target").as_string(), "/describe?n=2");
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

// The server parses a request whole from its buffer when it can, and
// reads on when it cannot: a request cut anywhere is served all the same.
TEST_F(ServerTest, RequestArrivingInPiecesIsServed) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const std::string request =
      "POST /describe?n=3 HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\n12345";
  for (const std::size_t cut : {std::size_t{3}, request.find("Host") + 2, request.size() - 2}) {
    client.send(request.substr(0, cut));
    // Not a synchronisation: the pause makes the server likely to read the
    // first piece alone, which is the case under test; the checks below
    // hold either way.
    std::this_thread::sleep_for(20ms);
    client.send(request.substr(cut));
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << "cut at " << cut << ": " << reply.error.message();
    EXPECT_EQ(reply.response->result(), bhttp::status::ok) << "cut at " << cut;
    EXPECT_EQ(json_body(*reply.response).at("target").as_string(), "/describe?n=3");
    EXPECT_EQ(json_body(*reply.response).at("body_bytes").to_number<std::uint64_t>(), 5u);
  }
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

// Most requests are read by the head fast path, the others by Beast's
// parser: a handler sees the same request either way. The second request
// is the first plus a field with a non-ASCII byte, which only Beast reads.
TEST_F(ServerTest, RequestReadByTheFastPathEqualsTheOneReadByBeast) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const std::string head =
      "PATCH /describe?x=1 HTTP/1.0\r\nhost: test\r\nX-Repeated: one\r\n"
      "Content-Length: 5\r\nX-Trimmed: \t a  b \t\r\nX-Empty:\r\nx-repeated: two\r\n"
      "Connection: Keep-Alive\r\n";
  const std::string beast_only_field = "X-Beast-Only: caf\xc3\xa9\r\n";
  std::vector<boost::json::object> seen;
  for (const auto& request : {head + "\r\nhello", head + beast_only_field + "\r\nhello"}) {
    client.send(request);
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    ASSERT_EQ(reply.response->result(), bhttp::status::ok) << reply.response->body();
    seen.push_back(json_body(*reply.response));
  }
  boost::json::array& beast_fields = seen[1].at("fields").as_array();
  ASSERT_EQ(beast_fields.back(), (boost::json::array{"X-Beast-Only", "caf\xc3\xa9"}));
  beast_fields.pop_back();
  for (auto* description : {&seen[0], &seen[1]}) {
    description->erase("id");
    description->erase("worker");
  }
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(seen[0].at("method"), "PATCH");
  EXPECT_EQ(seen[0].at("version"), 10);
  EXPECT_EQ(seen[0].at("keep_alive"), true);
  EXPECT_EQ(seen[0].at("body"), "hello");
  // Repeated names kept together, values trimmed, the empty one kept.
  const boost::json::array expected_fields{boost::json::array{"host", "test"},
                                           boost::json::array{"X-Repeated", "one"},
                                           boost::json::array{"x-repeated", "two"},
                                           boost::json::array{"Content-Length", "5"},
                                           boost::json::array{"X-Trimmed", "a  b"},
                                           boost::json::array{"X-Empty", ""},
                                           boost::json::array{"Connection", "Keep-Alive"}};
  EXPECT_EQ(seen[0].at("fields"), expected_fields);
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

// A response larger than the socket's send buffer is written partly at
// once and the rest as the client reads: all of it arrives, in order, and
// the connection serves the next request.
TEST_F(ServerTest, ResponseLargerThanTheSendBufferArrivesWhole) {
  Server& server = start();
  ServerTestClient client{server.port()};
  const auto response = client.request("GET", "/large");
  EXPECT_EQ(response.result(), bhttp::status::ok);
  EXPECT_EQ(response[bhttp::field::content_length], std::to_string(large_body_bytes));
  ASSERT_EQ(response.body().size(), large_body_bytes);
  EXPECT_TRUE(response.body() == large_body()) << "the body differs from what was sent";
  EXPECT_EQ(client.request("GET", "/hello").body(), "hello");
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

TEST_F(ServerTest, RequestIdsIncreaseAndMatchTheHandlersContext) {
  Server& server = start();
  ServerTestClient first{server.port()};
  ServerTestClient second{server.port()};
  std::uint64_t previous = 0;
  for (auto* client : {&first, &second, &first}) {
    const auto response = client->request("GET", "/describe");
    const auto id = std::stoull(std::string{response["X-Request-Id"]});
    EXPECT_GT(id, previous);
    EXPECT_EQ(json_body(response).at("id").to_number<std::uint64_t>(), id);
    previous = id;
  }
}

TEST_F(ServerTest, HeaderAboveTheLimitIs431) {
  Server& server = start();
  ServerTestClient client{server.port()};
  client.send(raw_request("GET", "/hello", "X-Big: " + std::string(20'000, 'a') + "\r\n"));
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::request_header_fields_too_large);
  EXPECT_EQ(error_code_of(*reply.response), "header_too_large");
  EXPECT_TRUE(client.wait_for_close(10s));
}

TEST_F(ServerTest, BodyAboveTheLimitIs413) {
  auto options = test_options(log_);
  options.max_body_bytes = 1024;
  Server& server = start(options);
  ServerTestClient client{server.port()};
  const auto within = client.request("POST", "/describe", {}, std::string(1024, 'b'));
  EXPECT_EQ(json_body(within).at("body_bytes").to_number<std::uint64_t>(), 1024u);

  client.send(raw_request("POST", "/describe", {}, std::string(4096, 'b')));
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::payload_too_large);
  EXPECT_EQ(error_code_of(*reply.response), "body_too_large");
  EXPECT_TRUE(client.wait_for_close(10s));
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  Server& server = start();
  ServerTestClient client{server.port()};
  client.send(
      "POST /describe HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\n\r\n");
  const auto interim = client.read_response();
  ASSERT_TRUE(interim.response) << interim.error.message();
  EXPECT_EQ(interim.response->result(), bhttp::status::continue_);
  client.send("12345");
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(json_body(*reply.response).at("body_bytes").to_number<std::uint64_t>(), 5u);
}

TEST_F(ServerTest, AnotherMajorVersionOfHttpIs505AndAMalformedOne400) {
  Server& server = start();
  for (const auto& [line, status, code] :
       {std::tuple{"GET /describe HTTP/2.0", bhttp::status::http_version_not_supported,
                   "http_version_not_supported"},
        std::tuple{"GET /describe HTTP/0.9", bhttp::status::http_version_not_supported,
                   "http_version_not_supported"},
        std::tuple{"GET /describe HTTP/x.y", bhttp::status::bad_request, "bad_request"}}) {
    SCOPED_TRACE(line);
    ServerTestClient client{server.port()};
    client.send(std::string{line} + "\r\nHost: test\r\n\r\n");
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    EXPECT_EQ(reply.response->result(), status);
    EXPECT_EQ(error_code_of(*reply.response), code);
  }
}

TEST_F(ServerTest, AHigherMinorVersionOfHttp1IsServedAsHttp11) {
  // RFC 9110 2.5. HTTP/1.10 is not a version (one digit each side): 400.
  Server& server = start();
  ServerTestClient client{server.port()};
  for (const char* version : {"HTTP/1.2", "HTTP/1.9"}) {
    SCOPED_TRACE(version);
    client.send(std::string{"GET /describe "} + version + "\r\nHost: test\r\n\r\n");
    const auto reply = client.read_response();
    ASSERT_TRUE(reply.response) << reply.error.message();
    EXPECT_EQ(reply.response->result(), bhttp::status::ok);
    EXPECT_EQ(reply.response->version(), 11u);
    EXPECT_EQ(json_body(*reply.response).at("version").to_number<unsigned>(), 11u);
    EXPECT_TRUE(json_body(*reply.response).at("keep_alive").as_bool());
  }
  ServerTestClient other{server.port()};
  other.send("GET /describe HTTP/1.10\r\nHost: test\r\n\r\n");
  const auto reply = other.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::bad_request);
}

TEST_F(ServerTest, MalformedRequestIs400ThenClosedAndOthersAreStillServed) {
  Server& server = start();
  ServerTestClient client{server.port()};
  client.send("NOT HTTP AT ALL\r\n\r\n");
  const auto reply = client.read_response();
  ASSERT_TRUE(reply.response) << reply.error.message();
  EXPECT_EQ(reply.response->result(), bhttp::status::bad_request);
  EXPECT_EQ(error_code_of(*reply.response), "bad_request");
  EXPECT_TRUE(client.wait_for_close(10s));

  ServerTestClient other{server.port()};
  EXPECT_EQ(other.request("GET", "/hello").result(), bhttp::status::ok);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  auto options = test_options(log_);
  options.idle_timeout = 200ms;
  Server& server = start(options);
  ServerTestClient client{server.port()};
  ASSERT_EQ(client.request("GET", "/hello").result(), bhttp::status::ok);
  const auto closed_after = client.wait_for_close(10s);
  ASSERT_TRUE(closed_after);
  EXPECT_GE(*closed_after, 100ms);  // the timer never fires early; the response left first
}

TEST_F(ServerTest, StalledHeaderIsClosedAfterTheHeaderTimeout) {
  auto options = test_options(log_);
  options.header_timeout = 200ms;
  Server& server = start(options);
  ServerTestClient client{server.port()};
  client.send("GET /hello HTTP/1.1\r\nHost: te");
  const auto closed_after = client.wait_for_close(10s);
  ASSERT_TRUE(closed_after);
  EXPECT_GE(*closed_after, 100ms);
}

TEST_F(ServerTest, SilentNewConnectionIsClosedAfterTheHeaderTimeout) {
  auto options = test_options(log_);
  options.header_timeout = 200ms;
  Server& server = start(options);
  ServerTestClient client{server.port()};
  EXPECT_TRUE(client.wait_for_close(10s));
}

TEST_F(ServerTest, ConnectionAboveTheLimitIsRejected) {
  auto options = test_options(log_);
  options.max_connections = 2;
  Server& server = start(options);
  ServerTestClient first{server.port()};
  ServerTestClient second{server.port()};
  ASSERT_EQ(first.request("GET", "/hello").result(), bhttp::status::ok);
  ASSERT_EQ(second.request("GET", "/hello").result(), bhttp::status::ok);

  ServerTestClient third{server.port()};  // the kernel completes the handshake
  EXPECT_TRUE(third.wait_for_close(10s));
  const auto stats = server.stats();
  EXPECT_EQ(stats.connections_rejected, 1u);
  EXPECT_EQ(stats.connections_accepted, 2u);
  EXPECT_EQ(stats.connections_open, 2u);
  EXPECT_EQ(first.request("GET", "/hello").result(), bhttp::status::ok);
}

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

}  // namespace
}  // namespace tailcut::http

namespace tailcut::http {
namespace {

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
