// JSON responses shared by the server and the services built on it.
#include "tailcut/http/message.hpp"

#include <boost/beast/http/field.hpp>

#include "../common/text_escape.hpp"

namespace tailcut::http {

Response json_response(boost::beast::http::status status, std::string body) {
  Response response{status, 11};
  response.insert(boost::beast::http::field::content_type, "application/json");
  response.body() = std::move(body);  // framed by the server (see message.hpp)
  return response;
}

Response json_error(boost::beast::http::status status, std::string_view code,
                    std::string_view message) {
  // Written by hand: `message` may quote a client's bytes, which are not
  // always valid UTF-8 (json_string makes them so).
  std::string body = R"({"success":false,"error":{"code":)";
  detail::append_json_string(body, code);
  body += R"(,"message":)";
  detail::append_json_string(body, message);
  body += "}}";
  return json_response(status, std::move(body));
}

}  // namespace tailcut::http
