// Header lookup and JSON decoding of a ClientResponse.
#include "tailcut/http/response.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>

#include "tailcut/http/client_error.hpp"

namespace tailcut::http {

namespace {

bool equal_ignoring_case(std::string_view left, std::string_view right) noexcept {
  return std::ranges::equal(left, right, [](unsigned char a, unsigned char b) {
    return std::tolower(a) == std::tolower(b);
  });
}

}  // namespace

std::optional<std::string_view> find_header(const HeaderFields& fields,
                                            std::string_view name) noexcept {
  for (const HeaderField& field : fields) {
    if (equal_ignoring_case(field.name, name)) return std::string_view{field.value};
  }
  return std::nullopt;
}

boost::json::value ClientResponse::json() const {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(body, error);
  if (error) {
    constexpr std::size_t preview_bytes = 60;
    std::string preview = body.substr(0, preview_bytes);
    if (body.size() > preview_bytes) preview += "...";
    throw ClientError{ErrorKind::invalid_json,
                      "the body of " + url + " (status " + std::to_string(status) + ", " +
                          std::to_string(body.size()) + " bytes) is not JSON: " + error.message() +
                          "; it starts with \"" + preview + "\""};
  }
  return value;
}

}  // namespace tailcut::http
