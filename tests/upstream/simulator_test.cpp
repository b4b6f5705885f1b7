// The upstream simulator: sampling, faults, script, and its HTTP routes.
#include "upstream/simulator.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/server_test_client.hpp"
#include "tailcut/http/server.hpp"

namespace tailcut::upstream {
namespace {

using namespace std::chrono_literals;

SimulatorOptions seeded(std::uint64_t seed) {
  SimulatorOptions options;
  options.seed = seed;
  return options;
}

TEST(Simulator, TheSameSeedPlaysTheSameAnswers) {
  Simulator first{seeded(7)};
  Simulator second{seeded(7)};
  for (int i = 0; i < 200; ++i) {
    const auto a = first.plan_next();
    const auto b = second.plan_next();
    ASSERT_EQ(a.delay, b.delay);
    ASSERT_EQ(a.status, b.status);
    ASSERT_EQ(a.hang, b.hang);
    ASSERT_EQ(a.body, b.body);
  }
}

TEST(Simulator, DefaultsGiveDelaysInRangeAndAboutTenPercentOfEachFault) {
  Simulator simulator{seeded(42)};
  int errors = 0;
  int invalid_json = 0;
  int hangs = 0;
  constexpr int kSamples = 20'000;
  for (int i = 0; i < kSamples; ++i) {
    const auto answer = simulator.plan_next();
    ASSERT_GE(answer.delay, 100ms);
    ASSERT_LE(answer.delay, 600ms);
    if (answer.status == 500) ++errors;
    if (answer.status == 200 && answer.body) ++invalid_json;
    if (answer.hang) ++hangs;
  }
  for (const int count : {errors, invalid_json, hangs}) {
    EXPECT_GT(count, kSamples / 10 - 600);
    EXPECT_LT(count, kSamples / 10 + 600);
  }
  EXPECT_EQ(simulator.counters().received, static_cast<std::uint64_t>(kSamples));
}

TEST(Simulator, HeavyTailModeMakesAFewAnswersVerySlow) {
  auto options = seeded(3);
  options.delay_model = DelayModel::heavy_tail;
  options.min_delay = 1ms;
  options.max_delay = 10ms;
  options.tail_rate = 0.05;
  Simulator simulator{options};
  int slow = 0;
  for (int i = 0; i < 10'000; ++i) {
    if (simulator.plan_next().delay >= 1s) ++slow;
  }
  EXPECT_GT(slow, 350);
  EXPECT_LT(slow, 650);
}

TEST(Simulator, AScriptIsPlayedInOrderThenAgain) {
  SimulatorOptions options;
  options.script = parse_script(
      R"([{"delay_ms": 5, "status": 500}, {"delay_ms": 1, "body": "{\"a\":1}"}, {"hang": true}])");
  Simulator simulator{options};
  EXPECT_EQ(simulator.plan_next().status, 500u);
  EXPECT_EQ(simulator.plan_next().body, R"({"a":1})");
  EXPECT_TRUE(simulator.plan_next().hang);
  EXPECT_EQ(simulator.plan_next().status, 500u);
}

TEST(Simulator, BadScriptsAndOptionsAreRejectedWithAReason) {
  EXPECT_THROW(parse_script("not json"), std::invalid_argument);
  EXPECT_THROW(parse_script("{}"), std::invalid_argument);
  EXPECT_THROW(parse_script("[]"), std::invalid_argument);
  EXPECT_THROW(parse_script(R"([{"delay_ms": -1}])"), std::invalid_argument);
  EXPECT_THROW(parse_script(R"([{"status": 42}])"), std::invalid_argument);
  auto options = seeded(1);
  options.error_rate = 0.6;
  options.hang_rate = 0.6;
  EXPECT_THROW(Simulator{options}, std::invalid_argument);
  options = seeded(1);
  options.max_delay = 1ms;
  EXPECT_THROW(Simulator{options}, std::invalid_argument);
}

std::string script_error(std::string_view text) {
  try {
    static_cast<void>(parse_script(text));
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(Simulator, AScriptKeyThatIsNotKnownIsRejectedByEntryAndName) {
  // A misspelt "delay_ms" used to leave the delay at 0 without a word.
  EXPECT_EQ(script_error(R"([{"delay": 5}])"),
            R"(script[0]: unknown key "delay"; the keys are delay_ms, status, body, hang)");
  EXPECT_EQ(script_error(R"([{"delay_ms": 5}, {"status": 500, "Body": ""}])"),
            R"(script[1]: unknown key "Body"; the keys are delay_ms, status, body, hang)");
}

TEST(Simulator, AScriptErrorNamesTheEntry) {
  EXPECT_EQ(script_error(R"([{"delay_ms": 1}, {"delay_ms": 2}, {"status": 42}])"),
            "script[2]: status must be a whole number from 100 to 599");
  EXPECT_EQ(script_error(R"([{"delay_ms": -1}])"),
            "script[0]: delay_ms must be a whole number, 0 or more");
  EXPECT_EQ(script_error(R"([{}, 5])"),
            R"(script[1]: each entry must be an object, e.g. {"delay_ms": 100})");
}

TEST(Simulator, AScriptThatIsNotJsonSaysWhere) {
  EXPECT_EQ(script_error("[{\"delay_ms\": 1},\n {\"status\" 500}]"),
            "script is not valid JSON: syntax error at line 2, column 12");
  EXPECT_EQ(script_error(R"([{"delay_ms": 1})"),
            "script is not valid JSON: incomplete JSON at line 1, column 17");
  EXPECT_EQ(script_error(R"([{"delay_ms": 1}] x)"),
            "script is not valid JSON: extra data at line 1, column 19");
}

class SimulatorServer : public ::testing::Test {
 protected:
  void start(SimulatorOptions options) {
    simulator_ = std::make_shared<Simulator>(std::move(options));
    http::Router router;
    add_routes(router, simulator_);
    http::ServerOptions server_options;
    server_options.threads = 1;
    server_ = std::make_unique<http::Server>(server_options, std::move(router));
    server_->start();
  }

  std::shared_ptr<Simulator> simulator_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(SimulatorServer, WorkAnswersTheScriptedAnswerAndStatsCountIt) {
  SimulatorOptions options;
  options.script = parse_script(R"([{"delay_ms": 20}, {"delay_ms": 1, "status": 500}])");
  start(options);
  testing::ServerTestClient client{server_->port()};
  const auto ok = client.request("GET", "/api/work");
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(boost::json::parse(ok.body()).at("time").as_int64(), 20);
  EXPECT_EQ(client.request("GET", "/api/work").result_int(), 500);

  const auto stats = boost::json::parse(client.request("GET", "/stats").body());
  EXPECT_EQ(stats.at("received").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(stats.at("answered").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(stats.at("in_flight").to_number<std::uint64_t>(), 0u);
}

TEST_F(SimulatorServer, HangEndsWithTheConnectionClosedAndNoAnswer) {
  SimulatorOptions options;
  options.script = parse_script(R"([{"hang": true}, {"delay_ms": 0}])");
  options.hang_duration = 50ms;
  start(options);
  testing::ServerTestClient hung{server_->port()};
  hung.send(testing::raw_request("GET", "/api/work"));
  const auto reply = hung.read_response();
  EXPECT_FALSE(reply.response) << "answered " << reply.response->result_int();
  EXPECT_TRUE(reply.error) << "the connection should have closed";

  testing::ServerTestClient client{server_->port()};
  EXPECT_EQ(client.request("GET", "/api/work").result_int(), 200);  // the server serves on
  const auto stats = boost::json::parse(client.request("GET", "/stats").body());
  EXPECT_EQ(stats.at("received").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(stats.at("answered").to_number<std::uint64_t>(), 2u);  // the hang ran its course
  EXPECT_EQ(stats.at("aborted").to_number<std::uint64_t>(), 0u);
}

TEST_F(SimulatorServer, InvalidJsonFaultIsAnOkWithABrokenBody) {
  auto options = seeded(1);
  options.error_rate = 0;
  options.hang_rate = 0;
  options.invalid_json_rate = 1.0;
  options.min_delay = options.max_delay = 0ms;
  start(options);
  testing::ServerTestClient client{server_->port()};
  const auto response = client.request("GET", "/api/work");
  EXPECT_EQ(response.result_int(), 200);
  boost::system::error_code error;
  boost::json::parse(response.body(), error);
  EXPECT_TRUE(error);
}

}  // namespace
}  // namespace tailcut::upstream
