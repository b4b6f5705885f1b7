// ClientResponse: a complete HTTP response received by a Session, body
// included.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tailcut/http/client_headers.hpp"

namespace tailcut::http {

// A plain value: copyable, owns everything, usable on any thread.
struct ClientResponse {
  int status = 0;        // e.g. 200
  std::string reason{};  // e.g. "OK"; may be empty
  HeaderFields headers{};
  std::string body{};  // bytes as received (chunked encoding removed)
  std::string url{};   // the URL that answered, after redirects
  std::size_t redirect_count = 0;

  // 2xx.
  [[nodiscard]] bool ok() const noexcept { return status >= 200 && status < 300; }

  // The first header named `name` (case-insensitive); the view points into
  // this response.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept {
    return find_header(headers, name);
  }

  // The body parsed as JSON. Throws ClientError(invalid_json) naming the
  // URL and the parse error when it is not JSON.
  [[nodiscard]] boost::json::value json() const;
};

}  // namespace tailcut::http
