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

TEST(UpstreamCommand, NegativeMillisecondsSayWhatIsExpected) {
  expect_usage_error(upstream({"--hang-ms", "-1"}),
                     "tailcut upstream: --hang-ms: must be 0 or more (milliseconds), got '-1'");
  expect_usage_error(
      upstream({"--min-delay-ms", "-1"}),
      "tailcut upstream: --min-delay-ms: must be 0 or more (milliseconds), got '-1'");
  expect_usage_error(upstream({"--error-rate", "2"}),
                     "tailcut upstream: --error-rate: must be from 0 to 1, got '2'");
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

  expect_usage_error(upstream({}, {"TAILCUT_UPSTREAM_HANG_MS=-1"}),
                     "tailcut upstream: --hang-ms: must be 0 or more (milliseconds), got '-1'");
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
