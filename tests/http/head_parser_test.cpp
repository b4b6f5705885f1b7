// The head fast path: what it reads, and how; what it leaves to Beast (a
// head cut anywhere, and every unusual shape). fuzz/head_parser_fuzz.cpp
// checks on arbitrary bytes that Beast reads whatever it reads the same way.
#include "http/common/head_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace tailcut::http::detail {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields fields_of(const ParsedHead& head) {
  Fields fields;
  for (std::size_t i = 0; i < head.field_count; ++i) {
    fields.emplace_back(head.fields[i].name, head.fields[i].value);
  }
  return fields;
}

// Whether the fast path reads `bytes` (false: left to Beast).
bool reads_request(std::string_view bytes) {
  ParsedHead head;
  return parse_request_head(bytes, head);
}
bool reads_response(std::string_view bytes) {
  ParsedHead head;
  return parse_response_head(bytes, head);
}

constexpr std::string_view gateway_request =
    "GET /api/work HTTP/1.1\r\nHost: 127.0.0.1:18082\r\nUser-Agent: tailcut/0.1\r\n"
    "X-Tailcut-Attempt: 1\r\nX-Tailcut-Deadline-Remaining-Ms: 286\r\n\r\n";

TEST(HeadParserTest, ReadsTheRequestLineAndFieldsInWireOrder) {
  ParsedHead head;
  ASSERT_TRUE(parse_request_head(gateway_request, head));
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/api/work");
  EXPECT_EQ(head.version, 11);
  EXPECT_EQ(head.size, gateway_request.size());
  EXPECT_EQ(fields_of(head), (Fields{{"Host", "127.0.0.1:18082"},
                                     {"User-Agent", "tailcut/0.1"},
                                     {"X-Tailcut-Attempt", "1"},
                                     {"X-Tailcut-Deadline-Remaining-Ms", "286"}}));
  EXPECT_FALSE(head.content_length);
  EXPECT_TRUE(head.keep_alive());
}

TEST(HeadParserTest, StopsAtTheEndOfTheHeadAndReadsLengthAndConnection) {
  const std::string request =
      "POST /submit?x=1 HTTP/1.0\r\nhost: a\r\ncontent-length: 0005\r\n"
      "CONNECTION: Keep-Alive\r\nX-Empty:\r\nX-Spaces: \t a b \t\r\n\r\nhello";
  ParsedHead head;
  ASSERT_TRUE(parse_request_head(request, head));
  EXPECT_EQ(head.size, request.size() - 5);
  EXPECT_EQ(head.version, 10);
  ASSERT_TRUE(head.content_length);
  EXPECT_EQ(*head.content_length, 5u);
  EXPECT_TRUE(head.connection_keep_alive);
  EXPECT_TRUE(head.keep_alive());  // 1.0 asking for it
  EXPECT_EQ(fields_of(head), (Fields{{"host", "a"},
                                     {"content-length", "0005"},
                                     {"CONNECTION", "Keep-Alive"},
                                     {"X-Empty", ""},
                                     {"X-Spaces", "a b"}}));
}

TEST(HeadParserTest, KeepAliveFollowsTheVersionAndConnection) {
  const auto keep_alive = [](std::string_view version, std::string_view connection) {
    ParsedHead head;
    const std::string request =
        "GET / " + std::string{version} + "\r\n" + std::string{connection} + "Host: a\r\n\r\n";
    EXPECT_TRUE(parse_request_head(request, head)) << request;
    return head.keep_alive();
  };
  EXPECT_TRUE(keep_alive("HTTP/1.1", ""));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "Connection: close\r\n"));
  EXPECT_FALSE(keep_alive("HTTP/1.0", ""));
  EXPECT_TRUE(keep_alive("HTTP/1.0", "Connection: keep-alive\r\n"));
}

TEST(HeadParserTest, ReadsAStatusLine) {
  const std::string response =
      "HTTP/1.1 503 Service  Unavailable \r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
      "{\"time\": 0}";
  ParsedHead head;
  ASSERT_TRUE(parse_response_head(response, head));
  EXPECT_EQ(head.status, 503);
  EXPECT_EQ(head.reason, "Service  Unavailable ");  // as sent, as Beast keeps it
  EXPECT_EQ(head.size, response.size() - 11);
  ASSERT_TRUE(head.content_length);
  EXPECT_EQ(*head.content_length, 11u);
  EXPECT_FALSE(head.keep_alive());

  ParsedHead empty_reason;
  ASSERT_TRUE(parse_response_head("HTTP/1.0 200 \r\n\r\n", empty_reason));
  EXPECT_EQ(empty_reason.reason, "");
}

// Content-Length and Connection are known in any case, and only by their
// exact names ('_' is not '-').
TEST(HeadParserTest, KnowsFramingFieldsInAnyCaseAndOnlyByTheirNames) {
  ParsedHead head;
  ASSERT_TRUE(parse_request_head(
      "POST / HTTP/1.0\r\nCONTENT-LENGTH: 2\r\nConnection: KEEP-ALIVE\r\n\r\nok", head));
  ASSERT_TRUE(head.content_length);
  EXPECT_EQ(*head.content_length, 2u);
  EXPECT_TRUE(head.keep_alive());

  ASSERT_TRUE(parse_request_head("POST / HTTP/1.1\r\nContent_Length: 2\r\n\r\n", head));
  EXPECT_FALSE(head.content_length);
  EXPECT_EQ(head.field_count, 1u);
  EXPECT_FALSE(reads_request("GET / HTTP/1.1\r\nConnection: keep_alive\r\n\r\n"));
}

// A ParsedHead read into again describes the new message only.
TEST(HeadParserTest, AReusedHeadDescribesTheNewMessageOnly) {
  ParsedHead head;
  ASSERT_TRUE(parse_request_head(
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx", head));
  ASSERT_TRUE(parse_request_head(gateway_request, head));
  EXPECT_EQ(head.field_count, 4u);
  EXPECT_FALSE(head.content_length);
  EXPECT_TRUE(head.keep_alive());
}

// A head not complete yet is left to Beast, wherever it is cut.
TEST(HeadParserTest, LeavesEveryCutHeadToBeast) {
  for (std::size_t size = 0; size < gateway_request.size(); ++size) {
    EXPECT_FALSE(reads_request(gateway_request.substr(0, size))) << "cut at " << size;
  }
  constexpr std::string_view response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  for (std::size_t size = 0; size < response.size(); ++size) {
    EXPECT_FALSE(reads_response(response.substr(0, size))) << "cut at " << size;
  }
}

TEST(HeadParserTest, LeavesUnusualRequestsToBeast) {
  const std::vector<std::string> unusual = {
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",  // obs-fold
      "GET / HTTP/1.1\nHost: a\n\n",           // bare LF
      "GET / HTTP/1.1\r\nHost: a\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET / HTTP/1.2\r\n\r\n",
      "GET / HTTP/1.1 \r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      " GET / HTTP/1.1\r\n\r\n",
      "\r\nGET / HTTP/1.1\r\n\r\n",
      "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",  // obs-text in the target
      "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n",
      "GET / HTTP/1.1\r\nX : a\r\n\r\n",
      "GET / HTTP/1.1\r\n: a\r\n\r\n",
      "GET / HTTP/1.1\r\nConnection: close, upgrade\r\n\r\n",
      "GET / HTTP/1.1\r\nConnection: close\r\nConnection: close\r\n\r\n",
      "GET / HTTP/1.1\r\nProxy-Connection: keep-alive\r\n\r\n",
      "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n",
  };
  for (const auto& request : unusual) EXPECT_FALSE(reads_request(request)) << request;
  std::string many_fields = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i <= ParsedHead::max_fields; ++i) many_fields += "X: y\r\n";
  EXPECT_FALSE(reads_request(many_fields + "\r\n"));
  EXPECT_TRUE(reads_request("GET / HTTP/1.1\r\nX: y\r\n\r\n"));
}

// Long names, values and targets are read sixteen bytes at a time: a byte
// that does not belong, at any place in them, is still found.
TEST(HeadParserTest, FindsAnOddByteAnywhereInALongRun) {
  const std::string name(40, 'N');
  const std::string value(40, 'v');
  const std::string target = "/" + std::string(39, 't');
  const auto request = [](const std::string& the_target, const std::string& the_name,
                          const std::string& the_value) {
    return "GET " + the_target + " HTTP/1.1\r\n" + the_name + ": " + the_value +
           "\r\nHost: a\r\n\r\nbody after the head, long enough to read past";
  };
  ASSERT_TRUE(reads_request(request(target, name, value)));
  for (std::size_t at = 1; at < 40; ++at) {
    for (const char odd : {'\x01', '\x7f', '\x80', '\xff', '\r', '\n'}) {
      std::string odd_value = value;
      odd_value[at] = odd;
      EXPECT_FALSE(reads_request(request(target, name, odd_value))) << "value, at " << at;
      std::string odd_target = target;
      odd_target[at] = odd;
      EXPECT_FALSE(reads_request(request(odd_target, name, value))) << "target, at " << at;
    }
    for (const char odd : {' ', '(', '/', '@', '[', '{', '\x80', '\t'}) {
      std::string odd_name = name;
      odd_name[at] = odd;
      EXPECT_FALSE(reads_request(request(target, odd_name, value))) << "name, at " << at;
    }
    // Allowed, but not a letter, digit or '-': read past, and kept.
    std::string token_name = name;
    token_name[at] = '_';
    ParsedHead head;
    const std::string with_token_name = request(target, token_name, value);  // viewed by head
    ASSERT_TRUE(parse_request_head(with_token_name, head)) << at;
    EXPECT_EQ(head.fields[0].name, token_name);
    std::string tab_value = value;
    tab_value[at] = '\t';
    const std::string with_tab_value = request(target, name, tab_value);
    ASSERT_TRUE(parse_request_head(with_tab_value, head)) << at;
    // At the end, it is trailing white space: trimmed.
    const std::string read_value = at + 1 < tab_value.size() ? tab_value : tab_value.substr(0, at);
    EXPECT_EQ(head.fields[0].value, read_value);
  }
}

TEST(HeadParserTest, IsTokenTakesTcharsOnlyAndAtLeastOne) {
  EXPECT_FALSE(is_token(""));
  EXPECT_TRUE(is_token("X-Tailcut-Deadline-Remaining-Ms"));
  EXPECT_TRUE(is_token("!#$%&'*+-.^_`|~09azAZ"));
  const std::string name(40, 'n');
  for (std::size_t at = 0; at < name.size(); ++at) {
    for (const char odd : {' ', ':', '(', '"', '\x00', '\x7f', '\x80'}) {
      std::string odd_name = name;
      odd_name[at] = odd;
      EXPECT_FALSE(is_token(odd_name)) << at;
    }
    std::string tchar_name = name;
    tchar_name[at] = '~';
    EXPECT_TRUE(is_token(tchar_name)) << at;
  }
}

// A name in any case equals its lower case; a name of another length, or
// with another byte anywhere ('_' is not '-'), does not.
TEST(HeadParserTest, EqualsLowerTakesAnyCaseOfTheSameName) {
  EXPECT_TRUE(equals_lower("", ""));
  EXPECT_TRUE(equals_lower("Proxy-Connection", "proxy-connection"));
  EXPECT_TRUE(equals_lower("PROXY-CONNECTION", "proxy-connection"));
  EXPECT_FALSE(equals_lower("Proxy-Connectio", "proxy-connection"));
  EXPECT_FALSE(equals_lower("Proxy-Connections", "proxy-connection"));
  const std::string lower = "proxy-connection";
  for (std::size_t at = 0; at < lower.size(); ++at) {
    std::string other = lower;
    other[at] = lower[at] == '-' ? '_' : static_cast<char>(lower[at] - 'a' + 'A');
    EXPECT_EQ(equals_lower(other, lower), lower[at] != '-') << at;
    other[at] = lower[at] == 'z' ? 'a' : static_cast<char>(lower[at] + 1);
    EXPECT_FALSE(equals_lower(other, lower)) << at;
  }
}

TEST(HeadParserTest, LeavesUnusualResponsesToBeast) {
  const std::vector<std::string> unusual = {
      "HTTP/1.1 200\r\n\r\n",  // no SP after the status
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 200 caf\xc3\xa9\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      "http/1.1 200 OK\r\n\r\n",
  };
  for (const auto& response : unusual) EXPECT_FALSE(reads_response(response)) << response;
}

}  // namespace
}  // namespace tailcut::http::detail
