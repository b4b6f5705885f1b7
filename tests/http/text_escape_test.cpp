// json_string and quoted_for_log: every byte string becomes valid UTF-8 JSON
// or a log field that cannot end, forge or reorder a line; and the error
// bodies of every service (json_error: 404, invalid timeout) are valid JSON
// whatever bytes the client sent.
#include "http/common/text_escape.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "tailcut/http/message.hpp"

namespace tailcut::http::detail {
namespace {

using namespace std::string_literals;

// Boost.JSON's parser refuses invalid UTF-8, as a strict reader does.
std::string parsed_string(const std::string& json) {
  return std::string{boost::json::parse(json).as_string()};
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("\n\r\t"), R"("\n\r\t")");
  EXPECT_EQ(json_string("a\0b\x1f"s), R"("a\u0000b\u001f")");
  EXPECT_EQ(parsed_string(json_string("a\0b\x1f\x7f"s)), "a\0b\x1f\x7f"s);
}

TEST(JsonString, KeepsValidUtf8AsItIs) {
  const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // é € 😀
  EXPECT_EQ(json_string(text), "\"" + text + "\"");
}

TEST(JsonString, ReplacesEachInvalidByteWithTheReplacementCharacter) {
  ASSERT_THROW(boost::json::parse("\"\xff\""), std::exception) << "the reader is not strict";
  const std::string replacement = "\xef\xbf\xbd";
  const std::vector<std::string> invalid{
      "\xff",              // never in UTF-8
      "\x9b",              // a continuation byte alone
      "\xe2\x82",          // a sequence cut short
      "\xc0\xaf",          // an overlong '/'
      "\xed\xa0\x80",      // a surrogate
      "\xf4\x90\x80\x80",  // above U+10FFFF
  };
  for (const auto& bytes : invalid) {
    SCOPED_TRACE(bytes.size());
    const auto json = json_string("a" + bytes + "b");
    const auto text = parsed_string(json);
    EXPECT_TRUE(text.starts_with("a" + replacement)) << json;
    EXPECT_TRUE(text.ends_with(replacement + "b")) << json;
    EXPECT_EQ(text.size(), 2 + bytes.size() * replacement.size()) << json;
  }
}

TEST(JsonError, BodiesAreValidJsonWhateverBytesTheMessageQuotes) {
  const auto response = json_error(boost::beast::http::status::not_found, "not_found",
                                   "no resource at /\xff\xfe\"\n");
  const auto body = boost::json::parse(response.body()).as_object();
  EXPECT_EQ(body.at("success"), false);
  EXPECT_EQ(body.at("error").at("code"), "not_found");
  EXPECT_EQ(std::string{body.at("error").at("message").as_string()},
            "no resource at /\xef\xbf\xbd\xef\xbf\xbd\"\n");
}

TEST(QuotedForLog, EscapesWhatCouldEndForgeOrHideALine) {
  EXPECT_EQ(quoted_for_log("plain"), R"("plain")");
  EXPECT_EQ(quoted_for_log("a\"b\\"), R"("a\"b\\")");
  EXPECT_EQ(quoted_for_log("a\r\nb\0\x1b\x7f"s), R"("a\x0d\x0ab\x00\x1b\x7f")");
  EXPECT_EQ(quoted_for_log("\xff\x9b"), R"("\xff\x9b")");  // bytes of no valid sequence
}

TEST(QuotedForLog, EscapesC1ControlsAndBidirectionalOverridesLikeC0Controls) {
  EXPECT_EQ(quoted_for_log("\xc2\x9b"
                           "2J"),
            R"("\u009b2J")");  // U+009B: CSI
  EXPECT_EQ(quoted_for_log("\xc2\x80\xc2\x9f"), R"("\u0080\u009f")");
  EXPECT_EQ(quoted_for_log("a\xe2\x80\xae"
                           "b"),
            R"("a\u202eb")");  // right-to-left override
  EXPECT_EQ(quoted_for_log("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\xa8"),
            R"("\u202a\u2066\u2069\u2028")");
  EXPECT_EQ(quoted_for_log("caf\xc3\xa9 \xc2\xa0"), "\"caf\xc3\xa9 \xc2\xa0\"");  // kept
}

}  // namespace
}  // namespace tailcut::http::detail
