// The `tailcut fetch` binary: its exit statuses, the usage errors found at
// startup, and a private CA given with --ca-file or SSL_CERT_FILE.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/fetch/fetch.hpp"
#include "support/fetch_test_run.hpp"

namespace tailcut::cli::fetch {
namespace {

namespace asio = boost::asio;
using test::ClientTestServer;
using test::contains;
using test::expect_fetch_usage_error;
using test::records_of;
using test::scripted;
using test::start_instant_server;

TEST(FetchExitStatus, ZeroWhenEveryUrlGotA2xxOneOtherwise) {
  auto server = start_instant_server();
  const auto base = "http://127.0.0.1:" + std::to_string(server->port());
  std::ostringstream out;
  FetchStreams streams;
  streams.out = &out;
  streams.urls = {base + "/n", base + "/n"};
  EXPECT_EQ(run_fetch(FetchOptions{}, streams), 0);
  streams.urls = {base + "/n", base + "/missing"};  // 404
  EXPECT_EQ(run_fetch(FetchOptions{}, streams), 1);
  server->stop();
}

// The exit status of `tailcut fetch <arguments>` (shell text).
int exit_status_of(const std::string& arguments) {
  return test::run_tailcut_shell("fetch " + arguments).status;
}

TEST(FetchExitStatus, TwoOnAUsageError) {
  EXPECT_EQ(exit_status_of(""), 2);  // no URLs
  EXPECT_EQ(exit_status_of("--timeout abc http://127.0.0.1:1/"), 2);
  EXPECT_EQ(exit_status_of("--order sideways http://127.0.0.1:1/"), 2);
  EXPECT_EQ(exit_status_of("--hedge 10ms http://127.0.0.1:1/"), 2);
  EXPECT_EQ(exit_status_of("--json '{bad' http://127.0.0.1:1/"), 2);
  EXPECT_EQ(exit_status_of("-i /nonexistent/urls.txt"), 2);
  EXPECT_EQ(exit_status_of("http://127.0.0.1:1/"), 1);  // refused: a failure, not a usage error
}

TEST(FetchUsageErrors, AreFoundAtStartupAndSayWhatIsWrong) {
  const auto directory = std::filesystem::temp_directory_path().string();
  expect_fetch_usage_error("-i " + directory,
                           "-i: cannot read '" + directory + "': Is a directory");
  expect_fetch_usage_error("-i /nonexistent/urls.txt",
                           "-i: cannot read '/nonexistent/urls.txt': No such file or directory");
  expect_fetch_usage_error("-H 'Bad Name: x'", "-H: invalid header name \"Bad Name\"");
  expect_fetch_usage_error("-H \"$(printf 'X-Test: a\\rb')\"", "X-Test contains CR, LF or NUL");
  expect_fetch_usage_error("-H 'Transfer-Encoding: chunked'",
                           "Transfer-Encoding is set by the client");
  expect_fetch_usage_error("--hedge 300ms:1000",
                           "COUNT 1000 is too many extra attempts; use 0 to 16");
  expect_fetch_usage_error("--hedge 300ms:99999999999999999999999", "use 0 to 16");
  expect_fetch_usage_error("--per-host -1", "--per-host");
  expect_fetch_usage_error("--timeout 0", "--timeout: must be more than 0");
  expect_fetch_usage_error("--connect-timeout 0s", "--connect-timeout: must be more than 0");
  expect_fetch_usage_error("--deadline 0", "--deadline: must be more than 0");
  expect_fetch_usage_error("--concurrency 0", "--concurrency: must be at least 1");
  expect_fetch_usage_error(
      "--ca-file /nonexistent/ca.pem",
      "--ca-file: cannot read '/nonexistent/ca.pem': No such file or directory");
  const auto not_a_certificate = std::filesystem::temp_directory_path() /
                                 ("tailcut-fetch-not-ca-" + std::to_string(::getpid()) + ".pem");
  std::ofstream{not_a_certificate} << "not a certificate\n";
  expect_fetch_usage_error("--ca-file " + not_a_certificate.string(),
                           "cannot load the CA file " + not_a_certificate.string());
  std::filesystem::remove(not_a_certificate);
}

TEST(FetchBinary, TrustsAPrivateCaGivenWithCaFileOrSslCertFile) {
  asio::io_context io;
  const test::TestCertificate certificate;
  ClientTestServer server{io, scripted, &certificate};
  const auto url = server.url("/fast");
  const auto untrusted = test::run_tailcut_serving(io, "fetch " + url);
  EXPECT_EQ(untrusted.status, 1);
  EXPECT_TRUE(contains(untrusted.out, "--ca-file")) << untrusted.out;
  for (const auto& [arguments, environment] :
       {std::pair{"--ca-file " + certificate.ca_file().string() + " " + url, std::string{}},
        std::pair{url, "SSL_CERT_FILE=" + certificate.ca_file().string()}}) {
    SCOPED_TRACE(environment + " " + arguments);
    const auto trusted = test::run_tailcut_serving(io, "fetch " + arguments, environment);
    EXPECT_EQ(trusted.status, 0) << trusted.err;
    const auto records = records_of(trusted.out);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].at("status"), 200);
  }
}

}  // namespace
}  // namespace tailcut::cli::fetch
