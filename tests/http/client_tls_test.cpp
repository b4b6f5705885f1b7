// https with http::Session against a TLS test server whose self-signed
// certificate is made at run time: trust via ca_file, rejection by default,
// host name checks, and the insecure opt-out.
#include <gtest/gtest.h>

#include "support/client_test_helpers.hpp"
#include "support/client_test_server.hpp"
#include "support/client_test_tls.hpp"
#include "tailcut/http/session.hpp"

namespace tailcut::http {
namespace {

namespace asio = boost::asio;
using test::ClientTestServer;
using test::ReceivedRequest;
using test::Reply;
using test::run_to_completion;
using test::TestCertificate;

Reply hello(const ReceivedRequest&) { return Reply::text(200, "secure hello"); }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A TLS test server whose certificate a session trusts through ca_file.
class TrustedTlsServer : public ::testing::Test {
 protected:
  asio::io_context io_;
  const TestCertificate certificate_;
  ClientTestServer server_{io_, hello, &certificate_};
  Session session_{io_.get_executor(), SessionOptions{.ca_file = certificate_.ca_file()}};
};

TEST_F(TrustedTlsServer, IsReachedAndItsConnectionReused) {
  EXPECT_EQ(run_to_completion(io_, session_.get(server_.url("/a"))).body, "secure hello");
  EXPECT_EQ(run_to_completion(io_, session_.get(server_.url("/b"))).body, "secure hello");
  EXPECT_EQ(server_.counters().connections_accepted, 1u);
}

// An idle TLS connection that the client closes ends with its close_notify:
// the server reads an orderly end of stream, not a truncated one.
TEST_F(TrustedTlsServer, SeesAnIdleConnectionClosedByTheClientSayGoodbye) {
  EXPECT_EQ(run_to_completion(io_, session_.get(server_.url("/a"))).body, "secure hello");
  session_.close();  // closes the pooled connection
  ASSERT_TRUE(test::run_until(
      io_, [&] { return server_.counters().closed_by_client == 1; }, std::chrono::seconds{5}));
  EXPECT_EQ(server_.counters().tls_close_notify, 1u);
  EXPECT_EQ(server_.counters().reset_by_client, 0u);
}

TEST(ClientTls, HostNameIsCheckedAndSentAsSni) {
  asio::io_context io;
  const TestCertificate certificate{"DNS:localhost"};
  ClientTestServer server{io, hello, &certificate};
  Session session{io.get_executor(), SessionOptions{.ca_file = certificate.ca_file()}};
  const std::string port = std::to_string(server.port());
  // localhost may resolve to ::1 first, where nothing listens: the next
  // address is tried.
  EXPECT_EQ(run_to_completion(io, session.get("https://localhost:" + port + "/")).status, 200);
  const auto error = test::failure_of(io, session.get("https://127.0.0.1:" + port + "/"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::tls);
  EXPECT_TRUE(contains(error->what(), "mismatch")) << error->what();
}

TEST(ClientTls, UntrustedCertificateIsRejected) {
  asio::io_context io;
  const TestCertificate certificate;
  ClientTestServer server{io, hello, &certificate};
  Session session{io.get_executor()};  // the system store does not know it
  const auto error = test::failure_of(io, session.get(server.url()));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::tls);
  EXPECT_TRUE(contains(error->what(), "self-signed")) << error->what();
  EXPECT_TRUE(contains(error->what(), "127.0.0.1:" + std::to_string(server.port())))
      << error->what();
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST(ClientTls, InsecureSkipVerifyAcceptsAnything) {
  asio::io_context io;
  const TestCertificate certificate{"DNS:somewhere.else"};
  ClientTestServer server{io, hello, &certificate};
  Session session{io.get_executor(), SessionOptions{.insecure_skip_verify = true}};
  EXPECT_EQ(run_to_completion(io, session.get(server.url())).body, "secure hello");
}

TEST(ClientTls, HandshakeCountsAgainstTheConnectTimeout) {
  asio::io_context io;
  ClientTestServer server{io, hello};  // plain HTTP: never answers a ClientHello
  Session session{io.get_executor(), SessionOptions{.insecure_skip_verify = true}};
  RequestOptions options;
  options.timeouts = test::timeouts(std::chrono::seconds{10}, std::chrono::milliseconds{300}, {});
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  const auto error = test::failure_of(io, session.get(url, options));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::connect_timeout);
  EXPECT_TRUE(contains(error->what(), "TLS handshake")) << error->what();
}

TEST(ClientTls, MissingCaFileFailsAtConstruction) {
  asio::io_context io;
  try {
    Session session{io.get_executor(), SessionOptions{.ca_file = "/nonexistent/ca.pem"}};
    FAIL();
  } catch (const ClientError& error) {
    EXPECT_EQ(error.kind(), ErrorKind::tls);
    EXPECT_TRUE(contains(error.what(), "/nonexistent/ca.pem")) << error.what();
  }
}

}  // namespace
}  // namespace tailcut::http
