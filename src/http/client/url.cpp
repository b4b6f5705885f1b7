// Parsing and resolving the client's http(s) URLs with Boost.URL.
#include "tailcut/http/url.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <charconv>

#include "../common/text_escape.hpp"
#include "tailcut/http/client_error.hpp"

namespace tailcut::http {

namespace urls = boost::urls;

namespace {

[[noreturn]] void throw_invalid(std::string_view text, std::string_view reason) {
  throw ClientError{ErrorKind::invalid_url,
                    "invalid URL " + detail::quoted_for_log(text) + ": " + std::string{reason}};
}

std::string lower_ascii(std::string_view text) {
  std::string lower{text};
  std::ranges::transform(lower, lower.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::uint16_t port_of(const urls::url_view_base& url, std::string_view text) {
  const bool tls = url.scheme_id() == urls::scheme::https;
  const std::uint16_t default_port = tls ? 443 : 80;
  if (!url.has_port() || url.port().empty()) return default_port;
  const std::string_view digits = url.port();
  unsigned value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535) {
    throw_invalid(text, "port \"" + std::string{digits} + "\" is not in 1-65535");
  }
  return static_cast<std::uint16_t>(value);
}

// Checks an absolute URL and splits it into an HttpUrl.
HttpUrl split(urls::url& url, std::string_view text) {
  if (url.scheme_id() != urls::scheme::http && url.scheme_id() != urls::scheme::https) {
    throw_invalid(text, "the scheme must be http or https");
  }
  if (!url.has_authority() || url.encoded_host().empty()) throw_invalid(text, "the host is empty");
  if (url.has_userinfo()) throw_invalid(text, "user info (user:password@) is not supported");
  if (url.host_type() == urls::host_type::ipvfuture) throw_invalid(text, "unsupported IP literal");
  // Boost.URL 1.81 takes "http://host:abc/x" for host "host", an empty port
  // and the path "abc/x" (found by fuzz/http_url_fuzz.cpp).
  if (!url.encoded_path().empty() && url.encoded_path().front() != '/') {
    throw_invalid(text, "the port is not a number, or the path does not start with /");
  }
  url.remove_fragment();
  url.normalize_scheme();
  url.normalize_authority();
  // A percent-encoded name would be asked of DNS decoded, as raw bytes, and
  // sent encoded in Host (found by fuzz/http_url_fuzz.cpp). Names are
  // written as they are (international ones in punycode); normalising has
  // decoded the unreserved characters already ("ex%61mple" is "example").
  if (url.host_type() == urls::host_type::name &&
      url.encoded_host().find('%') != urls::string_view::npos) {
    throw_invalid(text, "the host is percent-encoded");
  }

  HttpUrl result;
  result.origin.scheme = lower_ascii(url.scheme());
  result.origin.host = lower_ascii(url.host_address());
  result.origin.port = port_of(url, text);
  if (result.origin.host.find_first_of(" \t\r\n/\\") != std::string::npos) {
    throw_invalid(text, "the host contains a space or a slash");
  }
  const bool default_port = result.origin.port == (result.origin.is_tls() ? 443 : 80);
  result.host_header = lower_ascii(url.encoded_host());
  if (!default_port) result.host_header += ":" + std::to_string(result.origin.port);

  result.target = url.encoded_path().empty() ? "/" : std::string{url.encoded_path()};
  if (url.has_query()) result.target += "?" + std::string{url.encoded_query()};
  result.text = std::string{url.buffer()};
  return result;
}

}  // namespace

std::string Origin::authority() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

HttpUrl parse_http_url(std::string_view text, std::span<const QueryParam> extra_query) {
  auto parsed = urls::parse_uri(text);
  if (!parsed) {
    if (text.find("://") == std::string_view::npos) {
      throw_invalid(text, "not an absolute URL (expected http://host/...)");
    }
    throw_invalid(text, parsed.error().message());
  }
  urls::url url{*parsed};
  for (const QueryParam& param : extra_query) {
    url.params().append(urls::param_view{param.name, param.value});
  }
  return split(url, text);
}

HttpUrl resolve_redirect(const HttpUrl& base, std::string_view location) {
  const std::string context =
      "redirect from " + base.text + " to \"" + std::string{location} + "\"";
  auto reference = urls::parse_uri_reference(location);
  if (!reference) throw_invalid(context, reference.error().message());
  urls::url base_url{urls::parse_uri(base.text).value()};
  urls::url target;
  if (auto resolved = urls::resolve(base_url, *reference, target); !resolved) {
    throw_invalid(context, resolved.error().message());
  }
  return split(target, context);
}

}  // namespace tailcut::http
