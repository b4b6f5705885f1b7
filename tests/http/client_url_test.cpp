// Unit tests of the client's URL handling, request building, redirect rules,
// error names and JSON decoding: no sockets.
#include <gtest/gtest.h>

#include <vector>

#include "http/client/request.hpp"
#include "tailcut/http/client_error.hpp"
#include "tailcut/http/response.hpp"
#include "tailcut/http/url.hpp"

namespace tailcut::http {
namespace {

namespace beast_http = boost::beast::http;

ErrorKind kind_of(auto&& operation) {
  try {
    operation();
  } catch (const ClientError& error) {
    return error.kind();
  }
  ADD_FAILURE() << "no ClientError thrown";
  return ErrorKind::cancelled;
}

TEST(ClientUrl, SplitsAnAbsoluteUrl) {
  const HttpUrl url = parse_http_url("HTTP://Example.ORG:8080/a/b?x=1#frag");
  EXPECT_EQ(url.origin.scheme, "http");
  EXPECT_EQ(url.origin.host, "example.org");
  EXPECT_EQ(url.origin.port, 8080);
  EXPECT_EQ(url.host_header, "example.org:8080");
  EXPECT_EQ(url.target, "/a/b?x=1");
  EXPECT_EQ(url.text, "http://example.org:8080/a/b?x=1");
}

TEST(ClientUrl, DefaultPortsAndEmptyPath) {
  const HttpUrl https = parse_http_url("https://host");
  EXPECT_EQ(https.origin.port, 443);
  EXPECT_TRUE(https.origin.is_tls());
  EXPECT_EQ(https.target, "/");
  EXPECT_EQ(https.host_header, "host");
  EXPECT_EQ(parse_http_url("http://host:80/").host_header, "host");
}

TEST(ClientUrl, UnreservedCharactersPercentEncodedInTheHostAreDecoded) {
  const HttpUrl url = parse_http_url("http://ex%61mple.com/?q=1");
  EXPECT_EQ(url.origin.host, "example.com");
  EXPECT_EQ(url.host_header, "example.com");
  EXPECT_EQ(parse_http_url("http://h?x=1").target, "/?x=1");
}

TEST(ClientUrl, Ipv6LiteralKeepsBracketsOnlyWhereNeeded) {
  const HttpUrl url = parse_http_url("http://[::1]:9000/x");
  EXPECT_EQ(url.origin.host, "::1");
  EXPECT_EQ(url.origin.authority(), "[::1]:9000");
  EXPECT_EQ(url.host_header, "[::1]:9000");
}

TEST(ClientUrl, AppendsEncodedQueryParameters) {
  const std::vector<QueryParam> query{{"q", "a b&c=d"}, {"n", "1"}};
  const HttpUrl url = parse_http_url("http://host/search?x=1", query);
  EXPECT_EQ(url.target, "/search?x=1&q=a%20b%26c=d&n=1");
}

TEST(ClientUrl, RejectsWhatIsNotAnHttpUrl) {
  for (const char* text :
       {"not a url", "", "ftp://x/", "http://", "http:///path", "http://:80/", "http://host:99999/",
        "http://host:0/", "http://user:pw@host/", "/relative/path", "localhost:8080",
        "http://host:abc/x", "HTTP://h.example:M40/%7e", "http://example.u%eClOM:140/",
        "http://a%0d%0ab/"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(kind_of([&] { (void)parse_http_url(text); }), ErrorKind::invalid_url);
  }
}

TEST(ClientUrl, InvalidUrlMessageNamesTheUrl) {
  try {
    (void)parse_http_url("ftp://files.example/");
    FAIL();
  } catch (const ClientError& error) {
    EXPECT_NE(std::string{error.what()}.find("ftp://files.example/"), std::string::npos)
        << error.what();
  }
}

TEST(ClientUrl, ResolvesRelativeRedirects) {
  const HttpUrl base = parse_http_url("http://host:81/dir/start?q=1");
  EXPECT_EQ(resolve_redirect(base, "next?x=1").text, "http://host:81/dir/next?x=1");
  EXPECT_EQ(resolve_redirect(base, "/top").text, "http://host:81/top");
  EXPECT_EQ(resolve_redirect(base, "//other/x").text, "http://other/x");
  EXPECT_EQ(resolve_redirect(base, "https://secure/").origin.port, 443);
  EXPECT_EQ(kind_of([&] { (void)resolve_redirect(base, "ftp://x/"); }), ErrorKind::invalid_url);
}

TEST(ClientErrorKind, NamesAreStableSnakeCase) {
  EXPECT_EQ(to_string(ErrorKind::invalid_url), "invalid_url");
  EXPECT_EQ(to_string(ErrorKind::connect_refused), "connect_refused");
  EXPECT_EQ(to_string(ErrorKind::connect_timeout), "connect_timeout");
  EXPECT_EQ(to_string(ErrorKind::read_timeout), "read_timeout");
  EXPECT_EQ(to_string(ErrorKind::total_timeout), "total_timeout");
  EXPECT_EQ(to_string(ErrorKind::connection_closed), "connection_closed");
  EXPECT_EQ(to_string(ErrorKind::body_too_large), "body_too_large");
  EXPECT_EQ(to_string(ErrorKind::too_many_redirects), "too_many_redirects");
  EXPECT_EQ(to_string(ErrorKind::invalid_json), "invalid_json");
  EXPECT_TRUE(ClientError(ErrorKind::read_timeout, "x").is_timeout());
  EXPECT_FALSE(ClientError(ErrorKind::dns, "x").is_timeout());
}

TEST(ClientErrorKind, ClassifiesExceptions) {
  EXPECT_EQ(error_kind_of(std::make_exception_ptr(ClientError{ErrorKind::dns, "x"})),
            ErrorKind::dns);
  EXPECT_EQ(error_kind_of(std::make_exception_ptr(boost::system::system_error{
                boost::system::error_code{boost::asio::error::operation_aborted}})),
            ErrorKind::cancelled);
  EXPECT_EQ(error_kind_of(std::make_exception_ptr(std::runtime_error{"x"})), std::nullopt);
  EXPECT_EQ(error_kind_of(nullptr), std::nullopt);
}

TEST(ClientResponse, JsonAndHeaders) {
  ClientResponse response;
  response.url = "http://host/x";
  response.headers = {{"Content-Type", "application/json"}, {"X-Twice", "1"}, {"x-twice", "2"}};
  response.body = R"({"time": 120})";
  EXPECT_EQ(response.json().at("time").as_int64(), 120);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.header("X-TWICE"), "1");
  EXPECT_EQ(response.header("missing"), std::nullopt);

  response.body = "<html>oops</html>";
  try {
    (void)response.json();
    FAIL();
  } catch (const ClientError& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_json);
    EXPECT_NE(std::string{error.what()}.find("http://host/x"), std::string::npos);
  }
}

TEST(ClientRequest, SerializesHeadersAndBody) {
  RequestOptions options;
  options.method = beast_http::verb::post;
  options.url = "http://host:8080/p";
  options.json = boost::json::object{{"a", 1}};
  options.headers = {{"X-Id", "7"}, {"user-agent", "custom"}, {"Host", "ignored"}};
  const auto request = detail::prepare_request(SessionOptions{}, options);
  EXPECT_EQ(request.wire,
            "POST /p HTTP/1.1\r\nHost: host:8080\r\nAccept-Encoding: identity\r\n"
            "Content-Type: application/json\r\nX-Id: 7\r\nuser-agent: custom\r\n"
            "Content-Length: 7\r\n\r\n{\"a\":1}");
  EXPECT_FALSE(request.idempotent());
}

TEST(ClientRequest, GetWithoutBodyHasNoContentLength) {
  RequestOptions options;
  options.url = "http://host/";
  const auto request = detail::prepare_request(SessionOptions{}, options);
  EXPECT_EQ(request.wire.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(request.idempotent());
}

// A session's own and default fields serialized once (BaseHeaders) give the
// bytes the field-by-field path gives, whatever the request replaces.
TEST(ClientRequest, SessionBaseHeadersSerializeAsTheFullPath) {
  struct Case {
    HeaderFields defaults;
    HeaderFields headers;
    std::string body;
  };
  const std::vector<Case> cases{
      {{}, {}, ""},
      {{}, {{"X-Tailcut-Attempt", "2"}, {"X-Tailcut-Deadline-Remaining-Ms", "950"}}, ""},
      {{{"X-Team", "a"}}, {{"X-Id", "1"}}, ""},
      {{{"X-Team", "a"}, {"x-team", "b"}}, {}, ""},           // the later default wins
      {{}, {{"X-Id", "1"}, {"x-id", "2"}}, ""},               // the later header wins
      {{}, {{"accept-encoding", "gzip"}}, ""},                // replaces an own field
      {{{"User-Agent", "team-agent"}}, {{"X-Id", "1"}}, ""},  // a default replaces one
      {{{"X-Team", "a"}}, {{"x-TEAM", "b"}}, ""},             // replaces a default
      {{}, {{"Host", "ignored"}, {"Content-Length", "9"}}, ""},
      {{{"Host", "ignored"}}, {{"X-Id", "1"}}, ""},
      {{}, {{"X-Id", "1"}}, "payload"},  // a body adds Content-Type
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SessionOptions session;
    session.default_headers = cases[i].defaults;
    RequestOptions options;
    options.url = "http://host:8080/p?q=1";
    options.headers = cases[i].headers;
    options.body = cases[i].body;
    if (!options.body.empty()) options.method = beast_http::verb::post;
    const auto base = detail::base_headers(session);
    ASSERT_TRUE(base.usable) << "case " << i;
    EXPECT_EQ(detail::prepare_request(session, options, &base).wire,
              detail::prepare_request(session, options).wire)
        << "case " << i;
  }
}

TEST(ClientRequest, InvalidDefaultHeaderFailsEachRequestEvenWithBaseHeaders) {
  SessionOptions session;
  session.default_headers = {{"X-Evil", "a\r\nInjected: 1"}};
  const auto base = detail::base_headers(session);
  EXPECT_FALSE(base.usable);
  RequestOptions options;
  options.url = "http://host/";
  EXPECT_EQ(kind_of([&] { (void)detail::prepare_request(session, options, &base); }),
            ErrorKind::invalid_request);
}

TEST(ClientRequest, RefusesHeaderInjectionAndBadCombinations) {
  RequestOptions options;
  options.url = "http://host/";
  options.headers = {{"X-Evil", "a\r\nInjected: 1"}};
  EXPECT_EQ(kind_of([&] { (void)detail::prepare_request(SessionOptions{}, options); }),
            ErrorKind::invalid_request);
  options.headers = {{"Bad Name", "x"}};
  EXPECT_EQ(kind_of([&] { (void)detail::prepare_request(SessionOptions{}, options); }),
            ErrorKind::invalid_request);
  options.headers = {};
  options.body = "x";
  options.json = boost::json::value{1};
  EXPECT_EQ(kind_of([&] { (void)detail::prepare_request(SessionOptions{}, options); }),
            ErrorKind::invalid_request);
  options.json.reset();
  options.method = beast_http::verb::connect;
  EXPECT_EQ(kind_of([&] { (void)detail::prepare_request(SessionOptions{}, options); }),
            ErrorKind::invalid_request);
}

// The up-front check that callers use (fetch's -H) refuses exactly what a
// request refuses.
TEST(ClientRequest, RequestHeaderProblemMatchesWhatARequestRefuses) {
  const std::vector<HeaderField> fields{{"X-Fine", "a value; with: punctuation"},
                                        {"Bad Name", "x"},
                                        {"", "x"},
                                        {"X-Evil", "a\r\nInjected: 1"},
                                        {"X-Nul", {"a\0b", 3}},
                                        {"transfer-encoding", "x"},
                                        {"Accept", ""}};
  for (const auto& field : fields) {
    SCOPED_TRACE(field.name);
    RequestOptions options;
    options.url = "http://host/";
    options.headers = {field};
    bool refused = false;
    try {
      (void)detail::prepare_request(SessionOptions{}, options);
    } catch (const ClientError& error) {
      refused = error.kind() == ErrorKind::invalid_request;
    }
    EXPECT_EQ(request_header_problem(field).has_value(), refused);
  }
  EXPECT_FALSE(request_header_problem({"X-Fine", "ok"}));
  EXPECT_EQ(request_header_problem({"Bad Name", "x"}).value_or(""),
            "invalid header name \"Bad Name\": a name is letters, digits and !#$%&'*+-.^_`|~ only");
}

detail::RawResponse redirect(int status, std::string location) {
  detail::RawResponse response;
  response.status = status;
  response.headers = {{"Location", std::move(location)}};
  return response;
}

detail::PreparedRequest post_with_credentials() {
  RequestOptions options;
  options.method = beast_http::verb::post;
  options.url = "http://host/a";
  options.body = "payload";
  options.headers = {{"Authorization", "Bearer t"}, {"Content-Type", "text/plain"}};
  return detail::prepare_request(SessionOptions{}, options);
}

TEST(ClientRedirectRules, FollowAiohttpMethodRules) {
  const auto post = post_with_credentials();
  for (int status : {301, 302, 303}) {
    SCOPED_TRACE(status);
    const auto next = detail::follow_redirect(post, redirect(status, "/b"));
    ASSERT_TRUE(next);
    EXPECT_EQ(next->method, beast_http::verb::get);
    EXPECT_TRUE(next->body.empty());
    EXPECT_EQ(next->wire.find("Content-Type"), std::string::npos);
    EXPECT_EQ(next->url->target, "/b");
  }
  for (int status : {307, 308}) {
    SCOPED_TRACE(status);
    const auto next = detail::follow_redirect(post, redirect(status, "/b"));
    ASSERT_TRUE(next);
    EXPECT_EQ(next->method, beast_http::verb::post);
    EXPECT_EQ(next->body, "payload");
  }
}

TEST(ClientRedirectRules, HeadStaysHeadAndPutKeepsMethodOn301) {
  RequestOptions options;
  options.method = beast_http::verb::head;
  options.url = "http://host/a";
  EXPECT_EQ(detail::follow_redirect(detail::prepare_request(SessionOptions{}, options),
                                    redirect(303, "/b"))
                ->method,
            beast_http::verb::head);
  options.method = beast_http::verb::put;
  options.body = "x";
  const auto next = detail::follow_redirect(detail::prepare_request(SessionOptions{}, options),
                                            redirect(301, "/b"));
  EXPECT_EQ(next->method, beast_http::verb::put);
  EXPECT_EQ(next->body, "x");
}

TEST(ClientRedirectRules, CredentialsStayOnTheSameOriginOnly) {
  const auto post = post_with_credentials();
  EXPECT_NE(detail::follow_redirect(post, redirect(307, "/b"))->wire.find("Authorization"),
            std::string::npos);
  EXPECT_EQ(
      detail::follow_redirect(post, redirect(307, "http://other/b"))->wire.find("Authorization"),
      std::string::npos);
}

TEST(ClientRedirectRules, NotARedirectWithoutLocationOrOtherStatus) {
  const auto post = post_with_credentials();
  detail::RawResponse no_location;
  no_location.status = 302;
  EXPECT_FALSE(detail::follow_redirect(post, no_location));
  EXPECT_FALSE(detail::follow_redirect(post, redirect(200, "/b")));
  EXPECT_FALSE(detail::follow_redirect(post, redirect(304, "/b")));
}

// A session's requests to the URL of its previous one share that parse; any
// other URL, or one with query parameters to add, is parsed anew.
TEST(ClientLastUrl, TheSameUrlSharesOneParse) {
  detail::LastUrl last;
  const auto first = last.parse("http://127.0.0.1:8080/a", {});
  EXPECT_EQ(last.parse("http://127.0.0.1:8080/a", {}), first);
  const auto other = last.parse("http://127.0.0.1:8080/b", {});
  EXPECT_NE(other, first);
  EXPECT_EQ(other->text, "http://127.0.0.1:8080/b");
  const std::vector<QueryParam> query{{"q", "1"}};
  const auto with_query = last.parse("http://127.0.0.1:8080/b", query);
  EXPECT_NE(with_query, other);
  EXPECT_EQ(last.parse("http://127.0.0.1:8080/b", {}), other);
  // An invalid URL leaves the last parse in place.
  EXPECT_THROW((void)last.parse("not a url", {}), ClientError);
  EXPECT_EQ(last.parse("http://127.0.0.1:8080/b", {}), other);
}

}  // namespace
}  // namespace tailcut::http
