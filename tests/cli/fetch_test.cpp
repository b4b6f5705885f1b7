// tailcut fetch run in process: records for every kind of URL in both
// orders, the request's method, headers and body, concurrency and per-host
// limits, the batch deadline, fail-fast, hedging and a private CA.
#include "cli/fetch/fetch.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>

#include "support/fetch_test_run.hpp"

namespace tailcut::cli::fetch {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::category_of;
using test::ClientTestServer;
using test::contains;
using test::fetch_on;
using test::FetchTest;
using test::Reply;
using test::scripted;

std::vector<std::string> mixed_urls(const ClientTestServer& server) {
  return {server.url("/fast"), server.url("/slow"),
          server.url("/fail"), "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/",
          "not a url",         "http://nowhere.invalid/",
          server.url("/fast")};
}

void expect_mixed_records(const std::map<std::string, boost::json::object>& by_url,
                          const std::vector<std::string>& urls) {
  EXPECT_EQ(by_url.at(urls[0]).at("status"), 200);
  EXPECT_EQ(by_url.at(urls[0]).at("bytes"), 4);
  EXPECT_EQ(by_url.at(urls[0]).at("attempts"), 1);
  EXPECT_TRUE(by_url.at(urls[0]).at("error").is_null());
  EXPECT_EQ(by_url.at(urls[1]).at("status"), 200);
  EXPECT_GE(by_url.at(urls[1]).at("ms").as_int64(), 250);
  EXPECT_EQ(by_url.at(urls[2]).at("status"), 500);
  EXPECT_TRUE(by_url.at(urls[2]).at("error").is_null());
  EXPECT_TRUE(by_url.at(urls[3]).at("status").is_null());
  EXPECT_EQ(category_of(by_url.at(urls[3])), "connect_refused");
  EXPECT_EQ(category_of(by_url.at(urls[4])), "invalid_url");
  EXPECT_EQ(by_url.at(urls[4]).at("attempts"), 0);
  EXPECT_EQ(category_of(by_url.at(urls[5])), "dns");
}

TEST_F(FetchTest, AMixedListGetsTheRightRecordForEachUrlInInputOrder) {
  const auto urls = mixed_urls(server_);
  const auto run = fetch_on(io_, FetchOptions{}, urls);
  ASSERT_EQ(run.records.size(), urls.size());
  std::map<std::string, boost::json::object> by_url;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    EXPECT_EQ(run.records[i].at("url").as_string(), urls[i]);  // input order
    by_url[urls[i]] = run.records[i];
  }
  expect_mixed_records(by_url, urls);
  EXPECT_EQ(run.totals.records, 7u);
  EXPECT_EQ(run.totals.succeeded, 3u);
  EXPECT_EQ(run.totals.failed, 4u);
  EXPECT_NE(run.summary.find("7 URLs"), std::string::npos) << run.summary;
  EXPECT_NE(run.summary.find("500 x1"), std::string::npos) << run.summary;
  EXPECT_NE(run.summary.find("p99"), std::string::npos) << run.summary;
}

TEST_F(FetchTest, AMixedListGetsTheRightRecordForEachUrlInCompletionOrder) {
  const auto urls = mixed_urls(server_);
  FetchOptions options;
  options.order = OutputOrder::completion;
  const auto run = fetch_on(io_, options, urls);
  ASSERT_EQ(run.records.size(), urls.size());
  std::map<std::string, boost::json::object> by_url;
  for (const auto& record : run.records) by_url[std::string{record.at("url").as_string()}] = record;
  expect_mixed_records(by_url, urls);
  // The slow one finishes last.
  EXPECT_EQ(run.records.back().at("url").as_string(), urls[1]);
}

TEST_F(FetchTest, TheBodyIsIncludedOnRequestAndTheRequestCarriesMethodHeadersAndJson) {
  FetchOptions options;
  options.include_body = true;
  options.request.method = boost::beast::http::verb::post;
  options.request.headers.push_back({"X-Test", "yes"});
  options.request.json = boost::json::parse(R"({"a":1})");
  const auto run = fetch_on(io_, options, {server_.url("/fast")});
  ASSERT_EQ(run.records.size(), 1u);
  EXPECT_EQ(run.records[0].at("body").as_string(), "fast");
  ASSERT_EQ(server_.requests().size(), 1u);
  const auto& request = server_.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.header("X-Test"), "yes");
  EXPECT_EQ(request.header("Content-Type"), "application/json");
  EXPECT_EQ(request.body, R"({"a":1})");
}

TEST_F(FetchTest, TheConcurrencyLimitIsNeverExceededInEitherOrder) {
  for (const auto order : {OutputOrder::completion, OutputOrder::input}) {
    ClientTestServer server{io_, scripted};
    FetchOptions options;
    options.concurrency = 4;
    options.order = order;
    const auto run = fetch_on(io_, options, std::vector<std::string>(40, server.url("/late")));
    EXPECT_EQ(run.totals.succeeded, 40u);
    EXPECT_LE(server.counters().max_in_flight, 4u);
    EXPECT_GE(server.counters().max_in_flight, 2u);  // it does run them concurrently
  }
}

TEST_F(FetchTest, ThePerHostLimitIsNeverExceeded) {
  ClientTestServer other{io_, scripted};
  std::vector<std::string> urls;
  for (int i = 0; i < 20; ++i) {
    urls.push_back(server_.url("/late"));
    urls.push_back(other.url("/late"));
  }
  FetchOptions options;
  options.concurrency = 10;
  options.per_host = 2;
  options.order = OutputOrder::completion;
  const auto run = fetch_on(io_, options, urls);
  EXPECT_EQ(run.totals.succeeded, 40u);
  EXPECT_LE(server_.counters().max_in_flight, 2u);
  EXPECT_LE(other.counters().max_in_flight, 2u);
  EXPECT_EQ(server_.counters().max_in_flight + other.counters().max_in_flight, 4u);
}

TEST_F(FetchTest, TheBatchDeadlineCancelsWhatRunsAndReportsEveryUrlLeft) {
  FetchOptions options;
  options.concurrency = 3;
  // Long enough for the fast ones to finish first on a loaded machine (and
  // under ThreadSanitizer, which runs this 5-15 times slower, next to the
  // rest of the suite).
  options.deadline = 2000ms;
  const auto run = fetch_on(io_, options,
                            {server_.url("/fast"), server_.url("/hang"), server_.url("/hang"),
                             server_.url("/hang"), server_.url("/fast"), server_.url("/fast")});
  EXPECT_GE(run.took, 1990ms);
  EXPECT_LT(run.took, 6s);
  ASSERT_EQ(run.records.size(), 6u);
  EXPECT_EQ(run.records[0].at("status"), 200);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(category_of(run.records[i]), "deadline");
    EXPECT_EQ(run.records[i].at("attempts"), 1);
  }
  for (std::size_t i = 4; i < 6; ++i) {
    EXPECT_EQ(category_of(run.records[i]), "deadline");
    EXPECT_EQ(run.records[i].at("attempts"), 0);  // never started
  }
  // The hanging requests were cut off: their connections closed.
  EXPECT_TRUE(test::run_until(
      io_, [&] { return server_.counters().closed_by_client == 3; }, 2000ms));
}

TEST_F(FetchTest, FailFastCancelsEverythingAfterTheFirstFailure) {
  FetchOptions options;
  options.concurrency = 4;
  options.fail_fast = true;
  options.order = OutputOrder::completion;
  std::vector<std::string> urls{server_.url("/hang"), server_.url("/hang"), server_.url("/hang"),
                                server_.url("/fail"), server_.url("/fast"), server_.url("/fast")};
  const auto run = fetch_on(io_, options, urls);
  EXPECT_LT(run.took, 5s);
  ASSERT_EQ(run.records.size(), 6u);
  EXPECT_EQ(run.records[0].at("status"), 500);  // the failure comes first
  std::size_t cancelled = 0;
  for (const auto& record : run.records) cancelled += category_of(record) == "cancelled" ? 1 : 0;
  EXPECT_EQ(cancelled, 5u);
  EXPECT_EQ(server_.counters().requests, 4u);  // the last two never went out
}

TEST_F(FetchTest, HedgingFiresASecondAttemptWhenTheFirstIsSlow) {
  std::size_t seen = 0;
  ClientTestServer hedged{io_, [&seen](const test::ReceivedRequest&) {
                            return ++seen == 1 ? Reply::no_answer() : Reply::text(200, "second");
                          }};
  FetchOptions options;
  options.hedge = HedgeSpec{.delay = 50ms, .extra_attempts = 1};
  const auto run = fetch_on(io_, options, {hedged.url("/"), server_.url("/fail")});
  ASSERT_EQ(run.records.size(), 2u);
  EXPECT_EQ(run.records[0].at("status"), 200);
  EXPECT_EQ(run.records[0].at("attempts"), 2);
  // Every attempt answered 5xx: that is the record's status.
  EXPECT_EQ(run.records[1].at("status"), 500);
  EXPECT_EQ(run.records[1].at("attempts"), 2);
}

TEST(FetchTls, APrivateCaIsTrustedWithCaFileAndWithoutItTheErrorSaysHow) {
  asio::io_context io;
  const test::TestCertificate certificate;
  ClientTestServer server{io, scripted, &certificate};
  FetchOptions options;
  const auto untrusted = fetch_on(io, options, {server.url("/fast")});
  ASSERT_EQ(untrusted.records.size(), 1u);
  EXPECT_EQ(category_of(untrusted.records[0]), "tls");
  const std::string message{untrusted.records[0].at("error").at("message").as_string()};
  EXPECT_TRUE(contains(message, "self-signed")) << message;
  EXPECT_TRUE(contains(message, "--ca-file")) << message;
  options.ca_file = certificate.ca_file();
  const auto trusted = fetch_on(io, options, {server.url("/fast")});
  ASSERT_EQ(trusted.records.size(), 1u);
  EXPECT_EQ(trusted.records[0].at("status"), 200);
  EXPECT_TRUE(trusted.records[0].at("error").is_null());
}

}  // namespace
}  // namespace tailcut::cli::fetch
