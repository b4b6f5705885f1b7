// tailcut send: the delivery timeline against scripted endpoints, the
// events reported for each endpoint, a private CA, exit statuses and usage
// errors.
#include "cli/send/send.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "support/client_test_server.hpp"
#include "support/tailcut_binary.hpp"

namespace tailcut::cli::send {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using test::ClientTestServer;
using test::Reply;

// A scripted endpoint that notes when each request arrived.
struct Endpoint {
  Endpoint(asio::io_context& io, Reply reply)
      : server{io,
               [this](const test::ReceivedRequest&) {
                 arrivals.push_back(Clock::now());
                 return reply_;
               }},
        reply_{std::move(reply)} {}

  ClientTestServer server;
  std::vector<Clock::time_point> arrivals;

 private:
  Reply reply_;
};

struct Event {
  std::string event;
  std::string url;
  boost::json::value status;
  std::string category;  // of the error, "" when none
};

struct SendRun {
  bool delivered = false;
  std::vector<Event> events;
  Clock::time_point began;
  milliseconds took{};
};

SendRun send_on(asio::io_context& io, std::vector<std::string> urls, milliseconds linger = 1s,
                milliseconds per_try = 100ms) {
  SendOptions options;
  options.endpoints = std::move(urls);
  options.per_try = per_try;
  options.linger = linger;
  options.request.body = "payload";
  std::ostringstream out;
  SendRun run;
  run.began = Clock::now();
  run.delivered = test::run_to_completion(io, send_all(options, &out, nullptr));
  run.took = std::chrono::duration_cast<milliseconds>(Clock::now() - run.began);
  std::istringstream lines{out.str()};
  for (std::string line; std::getline(lines, line);) {
    const auto event = boost::json::parse(line).as_object();
    const auto& error = event.at("error");
    run.events.push_back({std::string{event.at("event").as_string()},
                          std::string{event.at("url").as_string()}, event.at("status"),
                          error.is_null() ? "" : std::string{error.at("category").as_string()}});
  }
  return run;
}

milliseconds after(const SendRun& run, Clock::time_point when) {
  return std::chrono::duration_cast<milliseconds>(when - run.began);
}

class SendTest : public ::testing::Test {
 protected:
  asio::io_context io_;
};

TEST_F(SendTest, AFirstEndpointThatAnswersInTimeGetsTheOnlyRequest) {
  Endpoint first{io_, Reply::text(200, "ok")};
  Endpoint second{io_, Reply::text(200, "ok")};
  const auto run = send_on(io_, {first.server.url("/hook"), second.server.url("/hook")});
  EXPECT_TRUE(run.delivered);
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].event, "delivered");
  EXPECT_EQ(run.events[0].url, first.server.url("/hook"));
  EXPECT_EQ(run.events[0].status, 200);
  EXPECT_EQ(first.server.requests().size(), 1u);
  EXPECT_EQ(first.server.requests()[0].method, "POST");
  EXPECT_EQ(first.server.requests()[0].body, "payload");
  EXPECT_TRUE(second.server.requests().empty());
}

TEST_F(SendTest, ASlowFirstEndpointGetsCompanyAtThePerTryLimitAndItsLateSuccessIsReported) {
  Endpoint first{io_, Reply::text(200, "ok").delayed(300ms)};
  Endpoint second{io_, Reply::text(201, "ok")};
  // A linger far above the first one's 300 ms, so that "not for the whole
  // linger" holds even under ThreadSanitizer on a loaded machine.
  const auto run = send_on(io_, {first.server.url(), second.server.url()}, 3s);
  EXPECT_TRUE(run.delivered);
  ASSERT_EQ(second.arrivals.size(), 1u);
  ASSERT_EQ(first.arrivals.size(), 1u);
  EXPECT_GE(after(run, second.arrivals[0]), 90ms);
  // Sent at the per-try limit, while the first was still working on its
  // answer (not once it had answered): exact however slow the machine.
  EXPECT_LT(second.arrivals[0], first.arrivals[0] + 300ms);
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[0].event, "delivered");
  EXPECT_EQ(run.events[0].url, second.server.url());
  EXPECT_EQ(run.events[0].status, 201);
  EXPECT_EQ(run.events[1].event, "also_delivered");
  EXPECT_EQ(run.events[1].url, first.server.url());
  EXPECT_EQ(run.events[1].status, 200);
  EXPECT_GE(run.took, 290ms);  // waited for the first one's answer
  EXPECT_LT(run.took, 2s);     // and not for the whole linger
}

TEST_F(SendTest, AFirstEndpointThatFailsFastHandsOverAtOnce) {
  Endpoint first{io_, Reply::text(503, "busy")};
  Endpoint second{io_, Reply::text(200, "ok")};
  // A per-try limit far above what "at once" takes, even under a sanitizer
  // on a loaded machine: the hand-over must not wait for it.
  const auto run = send_on(io_, {first.server.url(), second.server.url()}, 1s, 3s);
  EXPECT_TRUE(run.delivered);
  ASSERT_EQ(second.arrivals.size(), 1u);
  EXPECT_LT(after(run, second.arrivals[0]), 1s);
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[0].event, "failed");
  EXPECT_EQ(run.events[0].status, 503);
  EXPECT_EQ(run.events[0].category, "http_status");
  EXPECT_EQ(run.events[1].event, "delivered");
}

TEST_F(SendTest, WhenEveryEndpointFailsEachFailureIsReported) {
  Endpoint first{io_, Reply::text(500, "no")};
  Endpoint second{io_, Reply::drop()};
  const auto refused = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  const auto run = send_on(io_, {first.server.url(), second.server.url(), refused});
  EXPECT_FALSE(run.delivered);
  ASSERT_EQ(run.events.size(), 3u);
  for (const auto& event : run.events) EXPECT_EQ(event.event, "failed");
  EXPECT_EQ(run.events[0].status, 500);
  EXPECT_EQ(run.events[1].category, "connection_closed");
  EXPECT_EQ(run.events[2].category, "connect_refused");
}

TEST_F(SendTest, WhatIsStillInFlightWhenTheLingerEndsIsReportedUnknown) {
  Endpoint first{io_, Reply::no_answer()};
  Endpoint second{io_, Reply::text(200, "ok")};
  const auto run = send_on(io_, {first.server.url(), second.server.url()}, 200ms);
  EXPECT_TRUE(run.delivered);
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[0].event, "delivered");
  EXPECT_EQ(run.events[1].event, "unknown");
  EXPECT_EQ(run.events[1].url, first.server.url());
  EXPECT_TRUE(run.events[1].status.is_null());
  EXPECT_GE(run.took, 290ms);  // 100 ms per try + 200 ms linger
  EXPECT_LT(run.took, 2s);
}

// The exit status of `tailcut send <arguments>` (shell text).
int exit_status_of(const std::string& arguments) {
  return test::run_tailcut_shell("send " + arguments).status;
}

TEST(SendExitStatus, OneWhenNotDeliveredTwoOnAUsageError) {
  const auto refused = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  EXPECT_EQ(exit_status_of("--to " + refused + " --to http://nowhere.invalid/"), 1);
  EXPECT_EQ(exit_status_of(""), 2);  // no --to
  EXPECT_EQ(exit_status_of("--to " + refused + " --per-try soon"), 2);
  EXPECT_EQ(exit_status_of("--to " + refused + " --data a --json 1"), 2);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Exit status 2 and a line saying what is wrong, before anything is sent.
void expect_usage_error(const std::string& arguments, const std::string& says) {
  SCOPED_TRACE(arguments);
  const auto run = test::run_tailcut_shell("send " + arguments);
  EXPECT_EQ(run.status, 2);
  EXPECT_TRUE(contains(run.err, says)) << run.err;
  EXPECT_EQ(run.out, "");  // no event: nothing was sent
}

TEST(SendUsageErrors, AreFoundAtStartupAndSayWhatIsWrong) {
  const auto refused = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  expect_usage_error("--to not-a-url", "--to: invalid URL \"not-a-url\"");
  expect_usage_error("--to " + refused + " --to ftp://backup/hook", "--to: invalid URL \"ftp://");
  expect_usage_error("--to " + refused + " -H 'Bad Name: x'",
                     "-H: invalid header name \"Bad Name\"");
  expect_usage_error("--to " + refused + " --ca-file /nonexistent/ca.pem",
                     "--ca-file: cannot read '/nonexistent/ca.pem': No such file or directory");
  const auto directory = std::filesystem::temp_directory_path().string();
  expect_usage_error("--to " + refused + " --ca-file " + directory,
                     "--ca-file: cannot read '" + directory + "': Is a directory");
}

TEST(SendTls, APrivateCaIsTrustedWithCaFile) {
  asio::io_context io;
  const test::TestCertificate certificate;
  ClientTestServer server{io, [](const test::ReceivedRequest&) { return Reply::text(200, "ok"); },
                          &certificate};
  const auto untrusted = test::run_tailcut_serving(io, "send --to " + server.url("/hook"));
  EXPECT_EQ(untrusted.status, 1);
  EXPECT_TRUE(contains(untrusted.out, "\"failed\"")) << untrusted.out;
  EXPECT_TRUE(contains(untrusted.out, "--ca-file")) << untrusted.out;
  const auto trusted = test::run_tailcut_serving(
      io, "send --ca-file " + certificate.ca_file().string() + " --to " + server.url("/hook"));
  EXPECT_EQ(trusted.status, 0) << trusted.err;
  EXPECT_TRUE(contains(trusted.out, "\"delivered\"")) << trusted.out;
  EXPECT_EQ(server.requests().size(), 1u);
}

}  // namespace
}  // namespace tailcut::cli::send
