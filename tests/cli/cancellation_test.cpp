// Cancelling fetch_all and send_all (SIGINT in the binary): what was in
// flight is cancelled and reported, every task is joined before they
// return (they use the caller's frame), and they end with operation_aborted
// promptly, not at the requests' or the linger's end.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/json/parse.hpp>
#include <functional>
#include <sstream>

#include "cli/fetch/fetch.hpp"
#include "cli/send/send.hpp"
#include "support/client_test_server.hpp"
#include "tailcut/async/error.hpp"

namespace tailcut::cli {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::ClientTestServer;
using test::Reply;

// Runs `operation` on `io` with a cancellation slot, emits a terminal
// cancellation once `cancel_now()` says so (checked after each handler),
// and returns the error it ended with; fails the test when it has not
// ended within `limit`.
template <typename T>
std::exception_ptr run_and_cancel(asio::io_context& io, asio::awaitable<T> operation,
                                  const std::function<bool()>& cancel_now,
                                  Clock::duration limit = 10s) {
  asio::cancellation_signal interrupt;
  bool done = false;
  bool emitted = false;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(operation),
                 asio::bind_cancellation_slot(interrupt.slot(), [&](std::exception_ptr thrown, T) {
                   error = thrown;
                   done = true;
                 }));
  const auto give_up = Clock::now() + limit;
  while (!done && Clock::now() < give_up) {
    io.run_one_for(50ms);
    if (!done && !emitted && cancel_now()) {
      emitted = true;
      interrupt.emit(asio::cancellation_type::terminal);
    }
  }
  EXPECT_TRUE(done) << "did not end after the cancellation";
  EXPECT_TRUE(emitted);
  return error;
}

TEST(FetchCancellation, WhatWasInFlightIsReportedCancelledAndFetchAllEndsAborted) {
  asio::io_context io;
  std::size_t arrived = 0;
  ClientTestServer server{io, [&arrived](const test::ReceivedRequest&) {
                            ++arrived;
                            return Reply::no_answer();
                          }};
  std::ostringstream out;
  std::ostringstream summary;
  fetch::FetchStreams streams;
  streams.urls = std::vector<std::string>(3, server.url("/hang"));
  streams.out = &out;
  streams.summary = &summary;
  const auto started = Clock::now();
  const auto error = run_and_cancel(io, fetch::fetch_all(fetch::FetchOptions{}, streams),
                                    [&arrived] { return arrived == 3; });
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_TRUE(error && async::is_cancellation(error));
  std::istringstream lines{out.str()};
  std::size_t records = 0;
  for (std::string line; std::getline(lines, line); ++records) {
    const auto record = boost::json::parse(line).as_object();
    EXPECT_EQ(record.at("error").at("category").as_string(), "cancelled") << line;
    EXPECT_EQ(record.at("error").at("message").as_string(), "cancelled: the fetch was interrupted");
  }
  EXPECT_EQ(records, 3U) << out.str();
  EXPECT_NE(summary.str().find("3 URLs"), std::string::npos) << summary.str();
}

TEST(SendCancellation, CancellingTheLingerEndsItAndReportsWhatWasStillInFlight) {
  asio::io_context io;
  ClientTestServer server{io, [](const test::ReceivedRequest& request) {
                            if (request.target == "/hang") return Reply::no_answer();
                            return Reply::text(200, "ok");
                          }};
  send::SendOptions options;
  options.endpoints = {server.url("/hang"), server.url("/ok")};
  options.per_try = 10ms;
  options.linger = 60s;  // the cancellation ends it
  std::ostringstream out;
  const auto started = Clock::now();
  const auto error = run_and_cancel(io, send::send_all(options, &out, nullptr), [&out] {
    return out.str().find(R"("event":"delivered")") != std::string::npos;
  });
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_TRUE(error && async::is_cancellation(error));
  EXPECT_NE(out.str().find(R"({"event":"unknown","url":")" + server.url("/hang")),
            std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace tailcut::cli
