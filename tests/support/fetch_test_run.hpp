// Helpers of the tests of `tailcut fetch`: a scripted server to fetch from,
// fetch_all run on the test's io_context with its records parsed, a server
// that answers at once (for runs of many URLs), and the check of a usage
// error of the binary.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/fetch/fetch.hpp"
#include "support/client_test_server.hpp"
#include "support/tailcut_binary.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::test {

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One JSON object per line of `output` (fetch's records).
inline std::vector<boost::json::object> records_of(const std::string& output) {
  std::vector<boost::json::object> records;
  std::istringstream lines{output};
  for (std::string line; std::getline(lines, line);) {
    records.push_back(boost::json::parse(line).as_object());
  }
  return records;
}

// The record's error category, or "" when it has no error.
inline std::string category_of(const boost::json::object& record) {
  if (record.at("error").is_null()) return "";
  return std::string{record.at("error").at("category").as_string()};
}

// /fast 200, /slow 200 after 300 ms, /fail 500, /hang never answers,
// /late 200 after 40 ms.
inline Reply scripted(const ReceivedRequest& request) {
  using namespace std::chrono_literals;
  if (request.target == "/slow") return Reply::text(200, "slow").delayed(300ms);
  if (request.target == "/fail") return Reply::text(500, "boom");
  if (request.target == "/hang") return Reply::no_answer();
  if (request.target == "/late") return Reply::text(200, "late").delayed(40ms);
  return Reply::text(200, "fast");
}

// Runs fetch_all on `io` (where the test servers run too).
struct FetchRun {
  cli::fetch::FetchTotals totals;
  std::vector<boost::json::object> records;
  std::string summary;
  std::chrono::steady_clock::duration took{};
};

// `streams` says where the URLs come from; the records and the summary are
// collected here.
inline FetchRun fetch_with(boost::asio::io_context& io, cli::fetch::FetchOptions options,
                           cli::fetch::FetchStreams streams) {
  std::ostringstream out;
  std::ostringstream summary;
  streams.out = &out;
  streams.summary = &summary;
  const auto started = std::chrono::steady_clock::now();
  FetchRun run;
  run.totals = run_to_completion(io, cli::fetch::fetch_all(std::move(options), std::move(streams)));
  run.took = std::chrono::steady_clock::now() - started;
  run.records = records_of(out.str());
  run.summary = summary.str();
  return run;
}

inline FetchRun fetch_on(boost::asio::io_context& io, cli::fetch::FetchOptions options,
                         std::vector<std::string> urls) {
  return fetch_with(io, std::move(options), cli::fetch::FetchStreams{.urls = std::move(urls)});
}

// A scripted server on the test's io_context.
class FetchTest : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
  ClientTestServer server_{io_, scripted};
};

inline boost::asio::awaitable<http::Response> answer_at_once(http::Request, http::RequestContext) {
  co_return http::json_response(boost::beast::http::status::ok, "{}");
}

// A server on threads of its own whose GET /n answers 200 "{}" at once.
inline std::unique_ptr<http::Server> start_instant_server() {
  http::Router router;
  router.add(boost::beast::http::verb::get, "/n", answer_at_once);
  http::ServerOptions options;
  options.threads = 1;
  options.shutdown_grace = std::chrono::milliseconds{100};
  auto server = std::make_unique<http::Server>(options, std::move(router));
  server->start();
  return server;
}

// `tailcut fetch <arguments> <a refused URL>` (shell text) exits with status
// 2 and a line saying what is wrong, instead of a record per URL that fails
// the same way (or a silent success).
inline void expect_fetch_usage_error(const std::string& arguments, const std::string& says) {
  SCOPED_TRACE(arguments);
  const auto refused = " http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  const auto run = run_tailcut_shell("fetch " + arguments + refused);
  EXPECT_EQ(run.status, 2);
  EXPECT_TRUE(contains(run.err, says)) << run.err;
  EXPECT_EQ(run.out, "");
}

}  // namespace tailcut::test
