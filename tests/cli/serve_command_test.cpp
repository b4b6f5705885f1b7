// `tailcut serve` run as a user runs it: start-up validation of its flags
// (each error one line naming the flag, exit status 2), its --help, and the
// TAILCUT_<FLAG> variables.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <sstream>

#include "cli/option_helpers.hpp"
#include "gateway/gateway_options.hpp"
#include "support/server_test_client.hpp"
#include "support/tailcut_binary.hpp"
#include "support/tailcut_process.hpp"

namespace tailcut::cli {
namespace {

using test::run_tailcut;

test::TailcutExit serve(std::vector<std::string> arguments,
                        const std::vector<std::string>& environment = {}) {
  return test::run_server_command("serve", std::move(arguments), environment);
}

using test::expect_usage_error;

TEST(ServeCommand, AnUpstreamUrlTheClientRejectsStopsItAtStartUp) {
  expect_usage_error(serve({"--upstream", "ftp://x"}),
                     "tailcut serve: --upstream: invalid URL \"ftp://x\": the scheme must be "
                     "http or https");
  expect_usage_error(serve({"--upstream", "http://"}),
                     "tailcut serve: --upstream: invalid URL \"http://\": the host is empty");
  const auto not_a_url = serve({"--upstream", "not-a-url"});
  EXPECT_EQ(not_a_url.status, 2);
  EXPECT_TRUE(not_a_url.err.starts_with("tailcut serve: --upstream: invalid URL \"not-a-url\""))
      << not_a_url.err;
}

TEST(ServeCommand, NumberFlagsSayWhatIsExpectedWithTheCommandPrefix) {
  expect_usage_error(serve({"--threads", "abc"}),
                     "tailcut serve: --threads: expected a whole number from 1 to 1024, got 'abc'");
  expect_usage_error(serve({"--hedge-budget", "abc"}),
                     "tailcut serve: --hedge-budget: expected a number (a percentage; 0: no "
                     "cap), got 'abc'");
  expect_usage_error(serve({"--hedge-budget", "-1"}),
                     "tailcut serve: --hedge-budget must not be negative (0: no cap)");
  expect_usage_error(serve({"--timeout-status", "200"}),
                     "tailcut serve: --timeout-status must be an HTTP error status (400-599)");
}

TEST(ServeCommand, LimitsAreValidatedWithTheFlagsNames) {
  expect_usage_error(serve({"--max-connections", "0"}),
                     "tailcut serve: --max-connections must be at least 1");
  expect_usage_error(serve({"--idle-timeout", "0"}),
                     "tailcut serve: --idle-timeout must be more than 0");
  expect_usage_error(serve({"--header-timeout", "0s"}),
                     "tailcut serve: --header-timeout must be more than 0");
  expect_usage_error(serve({"--max-header-bytes", "0"}),
                     "tailcut serve: --max-header-bytes must be in 1..4294967295");
  expect_usage_error(serve({"--hedge-count", "17"}),
                     "tailcut serve: --hedge-count must be at most 16");
}

TEST(ServeCommand, DurationsThatOverflowAreTooLarge) {
  expect_usage_error(serve({"--max-wait", "153722867280913m"}),
                     "tailcut serve: --max-wait: '153722867280913m' is too large; the longest "
                     "duration is 52560000m (100 years)");
  // This one used to wrap around silently, and the server started.
  expect_usage_error(serve({"--hedge-delay", "999999999999999m"}),
                     "tailcut serve: --hedge-delay: '999999999999999m' is too large; the longest "
                     "duration is 52560000m (100 years)");
}

TEST(ServeCommand, MaxTimeoutIsADurationBoundedByAnHour) {
  expect_usage_error(serve({"--max-timeout", "61m"}),
                     "tailcut serve: --max-timeout must be at most 3600000ms (60m)");
  expect_usage_error(serve({"--max-timeout", "0"}),
                     "tailcut serve: --max-timeout must be at least 1ms");
}

TEST(ServeCommand, MaxTimeoutTakesUnitsAndBareMilliseconds) {
  for (const auto& [flag, largest] : {std::pair{"2s", "2000"}, std::pair{"1500", "1500"}}) {
    test::TailcutServer server{
        test::tailcut_binary(),
        {"serve", "--listen", "127.0.0.1:0", "--threads", "1", "--max-timeout", flag}};
    const auto port = server.wait_until_listening();
    ASSERT_NE(port, 0) << server.stop().err;
    testing::ServerTestClient client{port};
    const auto too_long = std::to_string(std::stoi(largest) + 1);
    const auto answer = client.request("GET", "/api/smart?timeout=" + too_long);
    EXPECT_EQ(answer.result_int(), 400);
    EXPECT_NE(answer.body().find(std::string{"from 1 to "} + largest), std::string::npos)
        << answer.body();
    EXPECT_EQ(server.stop().status, 0);
  }
}

TEST(ServeCommand, CannotListenIsSaidOnceWithOnePrefix) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken{
      io, {boost::asio::ip::make_address("127.0.0.1"), 0}};  // listening
  const auto port = std::to_string(taken.local_endpoint().port());
  const auto exit = run_tailcut({"serve", "--threads", "1", "--listen", "127.0.0.1:" + port});
  expect_usage_error(exit, "tailcut serve: cannot listen on 127.0.0.1:" + port +
                               ": bind failed: Address already in use");
}

TEST(ServeCommand, ListenMustBeAnIpAddressAndAPort) {
  const auto name = run_tailcut({"serve", "--listen", "localhost:8080"});
  EXPECT_EQ(name.status, 2);
  EXPECT_TRUE(name.err.starts_with(
      "tailcut serve: --listen: 'localhost:8080' does not start with an IP address"))
      << name.err;
}

TEST(ServeCommand, HelpNamesEveryLogLevelPortZeroTheVariablesAndTheExitStatus) {
  const auto help = run_tailcut({"serve", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("trace, debug, info, warn, error, critical, off"), std::string::npos);
  EXPECT_NE(help.out.find("port 0: any free port"), std::string::npos);
  EXPECT_NE(help.out.find("TAILCUT_<FLAG>"), std::string::npos);
  EXPECT_NE(help.out.find("(Env:TAILCUT_LISTEN)"), std::string::npos);
  EXPECT_NE(help.out.find("Exit status: 0 after a clean shutdown (SIGTERM or SIGINT); 2 on a "
                          "usage error"),
            std::string::npos);
  // Descriptions are wrapped: no line runs on far beyond the others.
  std::istringstream lines{help.out};
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(line.size(), 100u) << line;
  }
}

// The defaults shown are GatewayOptions', the one place they are written.
TEST(ServeCommand, HelpShowsTheDefaultsOfGatewayOptions) {
  const auto help = run_tailcut({"serve", "--help"});
  const gateway::GatewayOptions defaults;
  for (const auto& [flag, value] :
       {std::pair{"--hedge-delay", duration_text(defaults.hedge_delay)},
        std::pair{"--max-timeout", duration_text(defaults.max_timeout)},
        std::pair{"--max-wait", duration_text(defaults.max_wait)},
        std::pair{"--deadline-margin", duration_text(defaults.deadline_margin)},
        std::pair{"--idle-timeout", duration_text(defaults.server.idle_timeout)},
        std::pair{"--shutdown-grace", duration_text(defaults.server.shutdown_grace)}}) {
    EXPECT_NE(help.out.find(std::string{flag} + " TEXT=" + value + " "), std::string::npos) << flag;
  }
  EXPECT_NE(help.out.find("--hedge-count UINT:INT >= 0=" + std::to_string(defaults.hedge_count)),
            std::string::npos);
  EXPECT_NE(help.out.find("=" + std::to_string(defaults.timeout_status) + " "), std::string::npos);
  EXPECT_EQ(help.out.find("seeds"), std::string::npos);  // the behaviour, not its origin
}

// Checked as fetch and send check theirs: at start-up, with the reason.
TEST(ServeCommand, ACaFileThatCannotBeReadStopsItAtStartUp) {
  expect_usage_error(serve({"--ca-file", "/nonexistent/ca.pem"}),
                     "tailcut serve: --ca-file: cannot read '/nonexistent/ca.pem': No such file or "
                     "directory");
}

TEST(ServeCommand, ReadsTailcutFlagVariables) {
  expect_usage_error(serve({}, {"TAILCUT_MAX_CONNECTIONS=0"}),
                     "tailcut serve: --max-connections must be at least 1");
}

TEST(ServeCommand, AdaptiveDelayFlagsAreCheckedAtStartUp) {
  expect_usage_error(serve({"--hedge-delay", "auto", "--hedge-budget", "0"}),
                     "tailcut serve: --hedge-delay auto needs a hedge budget above 0: the delay is "
                     "chosen to spend it (--hedge-budget, 5 by default with auto)");
  expect_usage_error(serve({"--hedge-delay-min", "2s", "--hedge-delay-max", "1s"}),
                     "tailcut serve: --hedge-delay-max (1000ms) must be at least "
                     "--hedge-delay-min (2000ms)");
  expect_usage_error(serve({"--hedge-delay", "soon"}),
                     "tailcut serve: --hedge-delay: 'soon' is not a duration; use e.g. 300ms, "
                     "2s, 1m (a bare number is ms)");
}

TEST(ServeCommand, ReplicasComeFromRepeatedFlagsOrACommaSeparatedVariable) {
  expect_usage_error(serve({"--upstream", "http://a:1/w", "--upstream", "http://a:1/w"}),
                     "tailcut serve: --upstream names the replica a:1 twice");
  expect_usage_error(serve({}, {"TAILCUT_UPSTREAM=http://a:1/w,https://b:1/w"}),
                     "tailcut serve: --upstream replicas may differ only in host and port (the "
                     "same scheme, path and query): 'https://b:1/w' and 'http://a:1/w'");
}

TEST(ServeCommand, AnswersACallAndExitsZeroOnSigterm) {
  test::TailcutServer server{test::tailcut_binary(),
                             {"serve", "--listen", "127.0.0.1:0", "--threads", "1"}};
  const auto port = server.wait_until_listening();
  ASSERT_NE(port, 0) << server.stop().err;
  testing::ServerTestClient client{port};
  EXPECT_EQ(client.request("GET", "/healthz").result_int(), 200);
  const auto exit = server.stop();
  EXPECT_EQ(exit.status, 0) << exit.err;
  // The shutdown is told in the log (stdout), from the signal to the end.
  EXPECT_NE(exit.out.find("SIGTERM received: stopping"), std::string::npos) << exit.out;
  EXPECT_NE(exit.out.find("] stopped"), std::string::npos) << exit.out;
}

}  // namespace
}  // namespace tailcut::cli
