// HttpUrl: an absolute http/https URL split into what the client needs
// (origin to connect to, Host header, request target), parsed with Boost.URL.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tailcut::http {

// A query parameter appended to a request's URL; both parts are
// percent-encoded by the client.
struct QueryParam {
  std::string name{};
  std::string value{};
};

// Where a connection goes: the connection pool's key.
struct Origin {
  std::string scheme{};  // "http" or "https", lower case
  std::string host{};    // lower case; an IPv6 literal without brackets
  std::uint16_t port = 0;

  [[nodiscard]] bool is_tls() const noexcept { return scheme == "https"; }
  // "host:port", with brackets around an IPv6 literal: for messages.
  [[nodiscard]] std::string authority() const;
  friend bool operator==(const Origin&, const Origin&) = default;
};

struct HttpUrl {
  std::string text{};  // the normalised absolute URL, without fragment
  Origin origin{};
  std::string host_header{};  // the Host header: host, plus ":port" when not the default
  std::string target{};       // origin-form request target: "/path?query"
};

// Parses an absolute http or https URL and appends `extra_query` to its
// query. Throws ClientError(invalid_url) naming the text and the reason
// (not a URL, other scheme, empty host, user info, bad port).
[[nodiscard]] HttpUrl parse_http_url(std::string_view text,
                                     std::span<const QueryParam> extra_query = {});

// The URL a redirect's `location` (absolute or relative) points to, resolved
// against `base`. Throws ClientError(invalid_url) when it is not a usable
// http(s) URL.
[[nodiscard]] HttpUrl resolve_redirect(const HttpUrl& base, std::string_view location);

}  // namespace tailcut::http
