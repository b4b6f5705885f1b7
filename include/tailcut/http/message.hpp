// The HTTP request and response types shared by the server, its handlers and
// the client, and the JSON bodies every tailcut service answers errors with.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace tailcut::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// An HTTP/1.1 response with `body` as `Content-Type: application/json`. The
// body is sent as given (the caller makes sure it is JSON); Content-Length
// is set by the server when it sends the response.
[[nodiscard]] Response json_response(boost::beast::http::status status, std::string body);

// The error response of every tailcut service:
//   {"success":false,"error":{"code":<code>,"message":<message>}}
// `code` is a stable snake_case identifier ("not_found"), `message` says what
// happened for a human; both are escaped as JSON strings.
[[nodiscard]] Response json_error(boost::beast::http::status status, std::string_view code,
                                  std::string_view message);

}  // namespace tailcut::http
