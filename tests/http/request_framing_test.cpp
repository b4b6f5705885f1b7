// FramingFields, the server's one decision on a request head's framing and
// Host: field lists in wire order against the body framing they give, or
// the reason they are refused.
#include "http/server/request_framing.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tailcut::http::detail {
namespace {

using Kind = BodyFraming::Kind;
using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

struct Case {
  std::string_view label;
  unsigned version;
  Fields fields;
  Kind kind;             // when accepted
  std::uint64_t length;  // with Kind::content_length
  FramingError error;    // when refused
  bool refused;
};

Case accepted(std::string_view label, unsigned version, Fields fields, Kind kind,
              std::uint64_t length = 0) {
  return {label, version, std::move(fields), kind, length, FramingError{}, false};
}

Case refused(std::string_view label, unsigned version, Fields fields, FramingError error) {
  return {label, version, std::move(fields), Kind::none, 0, error, true};
}

TEST(FramingFieldsTest, DecidesTheFramingOfEachFieldList) {
  using enum FramingError;
  const std::vector<Case> cases{
      accepted("no body", 11, {{"Host", "a"}}, Kind::none),
      accepted("HTTP/1.0 without Host", 10, {}, Kind::none),
      accepted("other fields ignored", 11, {{"Host", "a:80"}, {"X-Length", "5"}}, Kind::none),
      accepted("length", 11, {{"Host", "a"}, {"Content-Length", "5"}}, Kind::content_length, 5),
      accepted("length, any case", 11, {{"host", "a"}, {"CONTENT-LENGTH", "0"}},
               Kind::content_length, 0),
      accepted("a list of one length", 11, {{"Host", "a"}, {"Content-Length", "7, 7"}},
               Kind::content_length, 7),
      accepted("one length twice", 11,
               {{"Host", "a"}, {"Content-Length", "7"}, {"Content-Length", "7"}},
               Kind::content_length, 7),
      accepted("the largest length", 11,
               {{"Host", "a"}, {"Content-Length", "18446744073709551615"}}, Kind::content_length,
               UINT64_MAX),
      accepted("chunked", 11, {{"Host", "a"}, {"Transfer-Encoding", "chunked"}}, Kind::chunked),
      accepted("chunked, any case, empty elements", 11,
               {{"Host", "a"}, {"transfer-encoding", " , Chunked ,"}}, Kind::chunked),
      accepted("IP-literal host", 11, {{"Host", "[::1]:8080"}}, Kind::none),
      refused("HTTP/1.1 without Host", 11, {}, missing_host),
      refused("two Hosts", 11, {{"Host", "a"}, {"host", "a"}}, repeated_host),
      refused("two Hosts in HTTP/1.0", 10, {{"Host", "a"}, {"Host", "b"}}, repeated_host),
      refused("a slash in Host", 11, {{"Host", "a/b"}}, bad_host),
      refused("userinfo in Host", 11, {{"Host", "u@a"}}, bad_host),
      refused("a space in Host", 11, {{"Host", "a b"}}, bad_host),
      refused("not a number", 11, {{"Host", "a"}, {"Content-Length", "0x5"}}, bad_content_length),
      refused("signed", 11, {{"Host", "a"}, {"Content-Length", "+5"}}, bad_content_length),
      refused("empty length", 11, {{"Host", "a"}, {"Content-Length", ""}}, bad_content_length),
      refused("an empty element", 11, {{"Host", "a"}, {"Content-Length", "5,"}},
              bad_content_length),
      refused("over 64 bits", 11, {{"Host", "a"}, {"Content-Length", "18446744073709551616"}},
              bad_content_length),
      refused("two lengths in a list", 11, {{"Host", "a"}, {"Content-Length", "5, 6"}},
              conflicting_content_length),
      refused("two lengths in two fields", 11,
              {{"Host", "a"}, {"Content-Length", "5"}, {"Content-Length", "6"}},
              conflicting_content_length),
      refused("chunked and a length", 11,
              {{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}},
              transfer_encoding_with_content_length),
      refused("a length and chunked", 11,
              {{"Host", "a"}, {"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}},
              transfer_encoding_with_content_length),
      refused("chunked in HTTP/1.0", 10, {{"Transfer-Encoding", "chunked"}},
              transfer_encoding_in_http_1_0),
      refused("chunked not last", 11, {{"Host", "a"}, {"Transfer-Encoding", "chunked, gzip"}},
              transfer_coding_not_chunked),
      refused("chunked twice", 11,
              {{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
              transfer_coding_not_chunked),
      refused("no coding", 11, {{"Host", "a"}, {"Transfer-Encoding", ""}},
              transfer_coding_not_chunked),
      refused("a coding with parameters", 11, {{"Host", "a"}, {"Transfer-Encoding", "chunked;q=1"}},
              transfer_coding_not_chunked),
      refused("gzip then chunked", 11, {{"Host", "a"}, {"Transfer-Encoding", "gzip, chunked"}},
              unknown_transfer_coding),
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.label);
    FramingFields noted;
    for (const auto& [name, value] : test.fields) noted.note(name, value);
    boost::system::error_code error;
    const BodyFraming framing = noted.decide(test.version, error);
    if (test.refused) {
      EXPECT_EQ(error, make_error_code(test.error)) << error.message();
      EXPECT_EQ(error.category(), framing_category());
    } else {
      EXPECT_FALSE(error) << error.message();
      EXPECT_EQ(framing.kind, test.kind);
      EXPECT_EQ(framing.length, test.length);
    }
  }
}

// RFC 9112 5.2: a framing field continued on a further line is refused,
// whatever its joined value says; another field may be continued.
TEST(FramingFieldsTest, RefusesAFramingFieldContinuedOnAFurtherLine) {
  const std::vector<std::pair<std::string_view, bool>> heads{
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n chunked\r\n\r\n", true},
      {"POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 5\r\n\t\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost:\r\n a\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nX-Other: b\r\n c\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n continued body", false},
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false},
      {"", false},
  };
  for (const auto& [head, refused] : heads) {
    SCOPED_TRACE(head);
    FramingFields noted;
    noted.note("Host", "a");
    noted.note_folds(head);
    boost::system::error_code error;
    (void)noted.decide(11, error);
    if (refused) {
      EXPECT_EQ(error, make_error_code(FramingError::folded_framing_field));
    } else {
      EXPECT_FALSE(error) << error.message();
    }
  }
}

}  // namespace
}  // namespace tailcut::http::detail
