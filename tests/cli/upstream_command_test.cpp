// `tailcut upstream` run as a user runs it: flag and script errors (one line
// naming the flag, exit status 2), and its own TAILCUT_UPSTREAM_<FLAG>
// variables, apart from serve's TAILCUT_<FLAG>.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "support/server_test_client.hpp"
#include "support/tailcut_binary.hpp"
#include "support/tailcut_process.hpp"

namespace tailcut::cli {
namespace {

using test::run_tailcut;

test::TailcutExit upstream(std::vector<std::string> arguments,
                           const std::vector<std::string>& environment = {}) {
  return test::run_server_command("upstream", std::move(arguments), environment);
}

using test::expect_usage_error;

// A script file that is removed with the test.
class ScriptFile {
 public:
  explicit ScriptFile(const std::string& text)
      : path_{::testing::TempDir() + "tailcut-script-" + std::to_string(getpid()) + ".json"} {
    std::ofstream{path_} << text;
  }
  ~ScriptFile() { std::remove(path_.c_str()); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(UpstreamCommand, DurationsTakeUnitsAndSayWhatIsExpected) {
  expect_usage_error(upstream({"--hang", "-1s"}),
                     "tailcut upstream: --hang: '-1s' is negative; a duration is 0 or more");
  expect_usage_error(upstream({"--min-delay", "soon"}),
                     "tailcut upstream: --min-delay: 'soon' is not a duration; use e.g. 300ms, "
                     "2s, 1m (a bare number is ms)");
  expect_usage_error(upstream({"--min-delay", "2s", "--max-delay", "1s"}),
                     "tailcut upstream: --max-delay (1000ms) must be at least --min-delay "
                     "(2000ms)");
  expect_usage_error(upstream({"--tail-min", "1m", "--tail-max", "59s"}),
                     "tailcut upstream: --tail-max (59000ms) must be at least --tail-min "
                     "(60000ms)");
  expect_usage_error(upstream({"--error-rate", "0.5", "--hang-rate", "0.6"}),
                     "tailcut upstream: --error-rate, --invalid-json-rate and --hang-rate add up "
                     "to more than 1");
  expect_usage_error(upstream({"--error-rate", "2"}),
                     "tailcut upstream: --error-rate: must be from 0 to 1, got '2'");
}

TEST(UpstreamCommand, TheConnectionCapIsAWholeNumberOfAtLeastOne) {
  const auto refused = upstream({"--max-connections", "0"});
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.err.find("--max-connections"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("1 or more"), std::string::npos) << refused.err;
  const auto help = run_tailcut({"upstream", "--help"});
  EXPECT_NE(help.out.find("--max-connections UINT:INT >= 1=10000"), std::string::npos) << help.out;
}

TEST(UpstreamCommand, AScriptWithAnUnknownKeyIsRejectedNamingTheEntryAndTheKey) {
  const ScriptFile script{R"([{"delay_ms": 1}, {"delay": 5}])"};
  expect_usage_error(upstream({"--script", script.path()}),
                     "tailcut upstream: --script " + script.path() +
                         ": script[1]: unknown key \"delay\"; the keys are delay_ms, status, "
                         "body, hang");
}

TEST(UpstreamCommand, AScriptThatIsNotJsonSaysWhere) {
  const ScriptFile script{"[{\"delay_ms\": 1},\n {\"status\" 500}]"};
  expect_usage_error(upstream({"--script", script.path()}),
                     "tailcut upstream: --script " + script.path() +
                         ": script is not valid JSON: syntax error at line 2, column 12");
}

TEST(UpstreamCommand, ReadsItsOwnVariablesAndNotServes) {
  // Were TAILCUT_LISTEN or TAILCUT_THREADS read, it would not start.
  test::TailcutServer server{test::tailcut_binary(),
                             {"upstream"},
                             {"TAILCUT_UPSTREAM_LISTEN=127.0.0.1:0",
                              "TAILCUT_LISTEN=not-an-address", "TAILCUT_THREADS=many"}};
  const auto port = server.wait_until_listening();
  ASSERT_NE(port, 0) << server.stop().err;
  testing::ServerTestClient client{port};
  EXPECT_EQ(client.request("GET", "/healthz").result_int(), 200);
  const auto exit = server.stop();
  EXPECT_EQ(exit.status, 0) << exit.err;

  expect_usage_error(upstream({}, {"TAILCUT_UPSTREAM_HANG=-1"}),
                     "tailcut upstream: --hang: '-1' is negative; a duration is 0 or more");
}

// The integer flags of before still work, hidden from --help; a duration
// flag given too wins.
TEST(UpstreamCommand, TheFormerMillisecondFlagsAreHiddenAliases) {
  expect_usage_error(upstream({"--min-delay-ms", "700"}),
                     "tailcut upstream: --max-delay (600ms) must be at least --min-delay (700ms)");
  expect_usage_error(upstream({"--hang-ms", "-1"}),
                     "tailcut upstream: --hang-ms: '-1' is negative; a duration is 0 or more");
  expect_usage_error(upstream({}, {"TAILCUT_UPSTREAM_TAIL_MIN_MS=5000"}),
                     "tailcut upstream: --tail-max (3000ms) must be at least --tail-min (5000ms)");
  expect_usage_error(upstream({"--max-delay-ms", "50", "--max-delay", "2s", "--min-delay", "1s",
                               "--tail-min", "9s"}),
                     "tailcut upstream: --tail-max (3000ms) must be at least --tail-min (9000ms)");
  const auto help = run_tailcut({"upstream", "--help"});
  for (const auto* flag :
       {"--min-delay-ms", "--max-delay-ms", "--hang-ms", "--tail-min-ms", "--tail-max-ms"}) {
    EXPECT_EQ(help.out.find(flag), std::string::npos) << flag;
  }
  for (const auto* flag : {"--min-delay TEXT=100ms", "--max-delay TEXT=600ms", "--hang TEXT=30s",
                           "--tail-min TEXT=1s", "--tail-max TEXT=3s"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
}

TEST(UpstreamCommand, HelpNamesItsVariablesAndTheExitStatus) {
  const auto help = run_tailcut({"upstream", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("(Env:TAILCUT_UPSTREAM_LISTEN)"), std::string::npos);
  EXPECT_NE(help.out.find("(Env:TAILCUT_UPSTREAM_SEED)"), std::string::npos);
  EXPECT_EQ(help.out.find("(Env:TAILCUT_LISTEN)"), std::string::npos);
  EXPECT_NE(help.out.find("Exit status: 0"), std::string::npos);
}

}  // namespace
}  // namespace tailcut::cli
