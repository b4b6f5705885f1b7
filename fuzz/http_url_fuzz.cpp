// The client's URL parser on arbitrary text. Properties: it never crashes;
// it fails only with ClientError(invalid_url); a URL it accepts has an
// http(s) scheme, a host, a port, an origin-form target, a Host header
// that names the host, and its normalised text parses to itself again.
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "tailcut/http/client_error.hpp"
#include "tailcut/http/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tailcut::http;
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  HttpUrl url;
  try {
    url = parse_http_url(text);
  } catch (const ClientError& error) {
    FUZZ_CHECK(error.kind() == ErrorKind::invalid_url);
    return 0;
  }
  FUZZ_CHECK(url.origin.scheme == "http" || url.origin.scheme == "https");
  FUZZ_CHECK(!url.origin.host.empty());
  FUZZ_CHECK(url.origin.port != 0);
  FUZZ_CHECK(!url.target.empty() && url.target.front() == '/');
  FUZZ_CHECK(url.host_header.find(url.origin.host) != std::string::npos ||
             url.origin.host.find(':') != std::string::npos);  // IPv6: bracketed
  HttpUrl again;
  try {
    again = parse_http_url(url.text);
  } catch (const ClientError&) {
    FUZZ_CHECK(!"a normalised URL must parse again");
  }
  FUZZ_CHECK(again.text == url.text);
  FUZZ_CHECK(again.origin == url.origin);
  FUZZ_CHECK(again.target == url.target);
  return 0;
}
