// JSON responses shared by the server and the services built on it.
#include "tailcut/http/message.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace tailcut::http {

Response json_response(boost::beast::http::status status, std::string body) {
  Response response{status, 11};
  response.insert(boost::beast::http::field::content_type, "application/json");
  response.body() = std::move(body);  // framed by the server (see message.hpp)
  return response;
}

Response json_error(boost::beast::http::status status, std::string_view code,
                    std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  boost::json::object body;
  body["success"] = false;
  body["error"] = std::move(error);
  return json_response(status, boost::json::serialize(body));
}

}  // namespace tailcut::http
