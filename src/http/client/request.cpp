// Building and serializing requests, and the redirect rules.
#include "request.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

#include "../common/head_parser.hpp"

namespace tailcut::http {

namespace {

bool is_line_break_or_nul(char c) noexcept { return c == '\r' || c == '\n' || c == '\0'; }

}  // namespace

std::optional<std::string> request_header_problem(const HeaderField& field) {
  if (!detail::is_token(field.name)) {
    return "invalid header name \"" + field.name +
           "\": a name is letters, digits and !#$%&'*+-.^_`|~ only";
  }
  if (std::ranges::any_of(field.value, is_line_break_or_nul)) {
    return "the value of header " + field.name + " contains CR, LF or NUL";
  }
  if (boost::beast::iequals(field.name, "Transfer-Encoding")) {
    return std::string{"Transfer-Encoding is set by the client, not the caller"};
  }
  return std::nullopt;
}

}  // namespace tailcut::http

namespace tailcut::http::detail {

namespace http = boost::beast::http;
using namespace std::string_view_literals;

namespace {

// Header names are ASCII: compared without the C locale's tolower().
bool same_name(std::string_view left, std::string_view right) noexcept {
  return boost::beast::iequals(left, right);
}

void remove_header(HeaderFields& headers, std::string_view name) {
  std::erase_if(headers, [&](const HeaderField& field) { return same_name(field.name, name); });
}

void check_header(const HeaderField& field, const std::string& url) {
  if (auto problem = request_header_problem(field)) {
    throw ClientError{ErrorKind::invalid_request, *problem + " (request to " + url + ")"};
  }
}

bool method_allowed(http::verb method) noexcept {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::post:
    case http::verb::put:
    case http::verb::patch:
    case http::verb::delete_:
    case http::verb::options:
      return true;
    default:
      return false;
  }
}

bool method_expects_body(http::verb method) noexcept {
  return method == http::verb::post || method == http::verb::put || method == http::verb::patch;
}

using Layers = std::initializer_list<std::span<const HeaderField>>;

// Appends each field of `layers` that no later field of the same name
// replaces (so the last one of a name wins, where it stands). Host and
// Content-Length are skipped: the client sets those.
void append_fields(std::string& wire, Layers layers) {
  const auto replaced_later = [&](std::size_t layer_index, std::size_t field_index) {
    const std::string& name = layers.begin()[layer_index][field_index].name;
    for (std::size_t later_layer = layer_index; later_layer < layers.size(); ++later_layer) {
      const auto layer = layers.begin()[later_layer];
      const std::size_t from = later_layer == layer_index ? field_index + 1 : 0;
      for (std::size_t later = from; later < layer.size(); ++later) {
        if (same_name(layer[later].name, name)) return true;
      }
    }
    return false;
  };
  for (std::size_t layer_index = 0; layer_index < layers.size(); ++layer_index) {
    const auto layer = layers.begin()[layer_index];
    for (std::size_t field_index = 0; field_index < layer.size(); ++field_index) {
      const HeaderField& field = layer[field_index];
      if (same_name(field.name, "Host") || same_name(field.name, "Content-Length")) continue;
      if (replaced_later(layer_index, field_index)) continue;
      wire.append(field.name).append(": "sv).append(field.value).append("\r\n"sv);
    }
  }
}

std::size_t wire_size(Layers layers) {
  std::size_t size = 0;
  for (const auto layer : layers) {
    for (const HeaderField& field : layer) size += field.name.size() + field.value.size() + 4;
  }
  return size;
}

// Writes the request line, Host, `fields` (see append_fields, or given
// already serialized by `base`), Content-Length, and the body.
void serialize(PreparedRequest& request, std::string_view base, Layers layers) {
  std::string& wire = request.wire;
  wire.clear();
  wire.reserve(64 + request.url->target.size() + request.url->host_header.size() +
               request.body.size() + base.size() + wire_size(layers));
  wire.append(http::to_string(request.method)).append(" "sv).append(request.url->target);
  wire.append(" HTTP/1.1\r\nHost: "sv).append(request.url->host_header).append("\r\n"sv);
  wire.append(base);
  append_fields(wire, layers);
  if (!request.body.empty() || method_expects_body(request.method)) {
    wire.append("Content-Length: "sv).append(std::to_string(request.body.size())).append("\r\n"sv);
  }
  wire.append("\r\n"sv).append(request.body);
}

void serialize(PreparedRequest& request, Layers layers) { serialize(request, {}, layers); }

// The client's own fields, which the session's and the request's replace
// (Content-Type is added when there is a body). No `Accept: */*`: a request
// without Accept accepts any media type (RFC 9110, 12.5.1), and every field
// costs the upstream a parse.
std::array<HeaderField, 2> own_fields(const SessionOptions& session) {
  return {HeaderField{"User-Agent", session.user_agent},
          // The client does not decompress: ask for the body as is.
          HeaderField{"Accept-Encoding", "identity"}};
}

// Whether a field of `fields` has one of `names`.
bool replaces_any(const HeaderFields& fields, const std::vector<std::string>& names) {
  for (const HeaderField& field : fields) {
    for (const std::string& name : names) {
      if (same_name(field.name, name)) return true;
    }
  }
  return false;
}

// The header fields of a serialized request (Host and Content-Length
// included; serialize() sets those itself).
HeaderFields headers_in(std::string_view wire) {
  HeaderFields headers;
  std::size_t at = wire.find("\r\n") + 2;  // after the request line
  for (;;) {
    const std::size_t end = wire.find("\r\n", at);
    if (end == std::string_view::npos || end == at) break;
    const std::string_view line = wire.substr(at, end - at);
    const std::size_t colon = line.find(": ");
    headers.push_back(
        HeaderField{std::string{line.substr(0, colon)}, std::string{line.substr(colon + 2)}});
    at = end + 2;
  }
  return headers;
}

}  // namespace

bool PreparedRequest::idempotent() const noexcept {
  return method == http::verb::get || method == http::verb::head || method == http::verb::put ||
         method == http::verb::delete_ || method == http::verb::options;
}

BaseHeaders base_headers(const SessionOptions& session) {
  BaseHeaders base;
  const auto own = own_fields(session);
  try {
    for (const HeaderField& field : session.default_headers) check_header(field, "");
  } catch (const ClientError&) {
    return base;  // not usable: each request checks them, and fails
  }
  base.usable = true;
  append_fields(base.wire, {own, session.default_headers});
  for (const auto& layer :
       {std::span<const HeaderField>{own}, std::span<const HeaderField>{session.default_headers}}) {
    for (const HeaderField& field : layer) base.names.push_back(field.name);
  }
  return base;
}

std::shared_ptr<const HttpUrl> LastUrl::parse(const std::string& text,
                                              std::span<const QueryParam> query) {
  if (!query.empty()) return std::make_shared<const HttpUrl>(parse_http_url(text, query));
  if (!url_ || text_ != text) {
    auto parsed = std::make_shared<const HttpUrl>(parse_http_url(text));
    std::string parsed_text = text;
    // Committed together: a throw above leaves the previous pair intact.
    url_ = std::move(parsed);
    text_ = std::move(parsed_text);
  }
  return url_;
}

PreparedRequest prepare_request(const SessionOptions& session, const RequestOptions& options,
                                const BaseHeaders* base, LastUrl* last_url) {
  PreparedRequest request;
  request.url = last_url
                    ? last_url->parse(options.url, options.query)
                    : std::make_shared<const HttpUrl>(parse_http_url(options.url, options.query));
  if (!method_allowed(options.method)) {
    throw ClientError{ErrorKind::invalid_request,
                      "method " + std::string{http::to_string(options.method)} +
                          " is not supported (request to " + request.url->text + ")"};
  }
  request.method = options.method;
  if (options.json && !options.body.empty()) {
    throw ClientError{ErrorKind::invalid_request,
                      "set either body or json, not both (request to " + request.url->text + ")"};
  }

  // Most requests have no body and replace none of the session's fields:
  // those are then serialized once for all (BaseHeaders).
  const bool has_body = options.json || !options.body.empty();
  if (base && base->usable && !has_body && !replaces_any(options.headers, base->names)) {
    for (const HeaderField& field : options.headers) check_header(field, request.url->text);
    serialize(request, base->wire, {options.headers});
    return request;
  }
  const auto fixed = own_fields(session);
  std::array<HeaderField, 3> own{fixed[0], fixed[1], HeaderField{}};
  std::size_t own_count = fixed.size();
  if (options.json) {
    request.body = boost::json::serialize(*options.json);
    own[own_count++] = HeaderField{"Content-Type", "application/json"};
  } else if (!options.body.empty()) {
    request.body = options.body;
    own[own_count++] = HeaderField{"Content-Type", "application/octet-stream"};
  }
  for (const HeaderField& field : session.default_headers) check_header(field, request.url->text);
  for (const HeaderField& field : options.headers) check_header(field, request.url->text);
  serialize(request, {std::span<const HeaderField>{own.data(), own_count}, session.default_headers,
                      options.headers});
  return request;
}

std::optional<PreparedRequest> follow_redirect(const PreparedRequest& current,
                                               const RawResponse& response) {
  const int status = response.status;
  if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
    return std::nullopt;
  }
  const auto location = find_header(response.headers, "Location");
  if (!location) return std::nullopt;

  PreparedRequest next = current;
  HeaderFields headers = headers_in(current.wire);
  next.url = std::make_shared<const HttpUrl>(resolve_redirect(*current.url, *location));
  const bool becomes_get = (status == 303 && current.method != http::verb::head) ||
                           ((status == 301 || status == 302) && current.method == http::verb::post);
  if (becomes_get) {
    next.method = http::verb::get;
    next.body.clear();
    remove_header(headers, "Content-Type");
  }
  if (next.url->origin != current.url->origin) {
    for (std::string_view secret : {"Authorization", "Proxy-Authorization", "Cookie"}) {
      remove_header(headers, secret);
    }
  }
  serialize(next, {headers});
  return next;
}

}  // namespace tailcut::http::detail
