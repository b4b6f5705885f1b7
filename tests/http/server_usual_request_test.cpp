// read_usual_request: the server's side of the head fast path reads a
// request of the usual shape as Beast's parser does, and leaves to Beast
// whatever is not all there or is over a limit.
#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/server/usual_request.hpp"

namespace tailcut::http::detail {
namespace {

namespace bhttp = boost::beast::http;
using Fields = std::vector<std::pair<std::string, std::string>>;

Fields fields_of(const Request& request) {
  Fields fields;
  for (const auto& field : request) fields.emplace_back(field.name_string(), field.value());
  return fields;
}

// What Beast's request parser builds from `bytes`.
Request read_by_beast(std::string_view bytes) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  boost::system::error_code error;
  parser.put(boost::asio::buffer(bytes.data(), bytes.size()), error);
  EXPECT_FALSE(error) << error.message();
  EXPECT_TRUE(parser.is_done());
  return parser.release();
}

constexpr std::string_view post =
    "POST /submit?x=1 HTTP/1.1\r\nHost: a\r\nX-Repeated: one\r\nContent-Length: 5\r\n"
    "x-repeated: two\r\n\r\nhello";

TEST(UsualRequestTest, ReadsTheRequestAsBeastDoesAndCountsItsBytes) {
  const std::string pipelined = std::string{post} + "GET /next HTTP/1.1\r\n\r\n";
  std::size_t used = 0;
  const auto request = read_usual_request(pipelined, ServerOptions{}, used);
  ASSERT_TRUE(request);
  EXPECT_EQ(used, post.size());
  const Request expected = read_by_beast(post);
  EXPECT_EQ(request->method(), bhttp::verb::post);
  EXPECT_EQ(request->target(), expected.target());
  EXPECT_EQ(request->version(), expected.version());
  EXPECT_EQ(request->body(), "hello");
  EXPECT_EQ(fields_of(*request), fields_of(expected));
  EXPECT_EQ(
      fields_of(*request),
      (Fields{
          {"Host", "a"}, {"X-Repeated", "one"}, {"x-repeated", "two"}, {"Content-Length", "5"}}));
}

TEST(UsualRequestTest, KeepsAnUnknownMethodAsSent) {
  std::size_t used = 0;
  const auto request = read_usual_request("BREW /pot HTTP/1.0\r\n\r\n", ServerOptions{}, used);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->method(), bhttp::verb::unknown);
  EXPECT_EQ(request->method_string(), "BREW");
  EXPECT_EQ(request->version(), 10u);
  EXPECT_FALSE(request->keep_alive());
}

TEST(UsualRequestTest, LeavesToBeastWhatIsNotAllHereOrOverALimit) {
  const auto reads = [](std::string_view bytes, const ServerOptions& options) {
    std::size_t used = 0;
    return read_usual_request(bytes, options, used).has_value();
  };
  const ServerOptions defaults;
  EXPECT_TRUE(reads(post, defaults));
  EXPECT_FALSE(reads(post.substr(0, post.size() - 1), defaults));  // body not all here
  EXPECT_FALSE(reads("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", defaults));
  // Refused by the framing decision (request_framing.hpp): Beast's path
  // answers it.
  EXPECT_FALSE(reads("GET / HTTP/1.1\r\n\r\n", defaults));  // no Host
  EXPECT_FALSE(reads("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", defaults));
  EXPECT_TRUE(reads("GET / HTTP/1.0\r\n\r\n", defaults));

  const std::size_t head_size = post.size() - 5;
  ServerOptions limits;
  limits.max_header_bytes = head_size + 1;
  limits.max_body_bytes = 5;
  EXPECT_TRUE(reads(post, limits));
  limits.max_header_bytes = head_size;  // Beast decides at the limit
  EXPECT_FALSE(reads(post, limits));
  limits.max_header_bytes = head_size + 1;
  limits.max_body_bytes = 4;
  EXPECT_FALSE(reads(post, limits));  // Beast answers it 413
}

}  // namespace
}  // namespace tailcut::http::detail
