// Timeouts, SessionOptions and RequestOptions: how a Session and each of its
// requests are configured (like aiohttp's ClientTimeout and ClientSession
// arguments).
#pragma once

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "tailcut/http/body_budget.hpp"
#include "tailcut/http/client_headers.hpp"
#include "tailcut/http/url.hpp"

namespace tailcut::http {

// Time limits of one request; nullopt = no limit. Which one fired is the
// ClientError's kind.
struct Timeouts {
  // The whole request: pool wait, connect, send, every redirect and the
  // retry, until the last body byte. -> ErrorKind::total_timeout
  std::optional<std::chrono::milliseconds> total{};
  // Getting a connection, per redirect hop: the wait for a free pool slot
  // plus DNS + TCP + TLS handshake. -> ErrorKind::connect_timeout
  std::optional<std::chrono::milliseconds> connect{};
  // The longest gap between two reads of the response (also from the end
  // of sending to the first byte). -> ErrorKind::read_timeout
  std::optional<std::chrono::milliseconds> sock_read{};
};

// The session defaults: total 5 min (aiohttp's), connect 30 s, no sock_read.
inline constexpr Timeouts default_timeouts{
    .total = std::chrono::minutes{5}, .connect = std::chrono::seconds{30}, .sock_read = {}};

struct SessionOptions {
  // Used by every request that does not set RequestOptions::timeouts.
  Timeouts timeouts = default_timeouts;

  // Connections open at once over all hosts (in use + idle); 0 = no limit.
  std::size_t connection_limit = 100;
  // Connections open at once to one (scheme, host, port); 0 = no limit.
  std::size_t per_host_connection_limit = 0;
  // An idle keep-alive connection older than this is closed, not reused.
  std::chrono::milliseconds keepalive_timeout = std::chrono::seconds{15};

  // PEM file of the CAs to trust for https, instead of the system store.
  std::optional<std::filesystem::path> ca_file{};
  // FOR TESTS ONLY: accept any server certificate and host name. Anyone on
  // the path can then read and change the traffic.
  bool insecure_skip_verify = false;

  // Sent with every request unless the request sets the same header.
  std::string user_agent = "tailcut/0.1";
  HeaderFields default_headers{};
};

inline constexpr std::size_t default_max_body_bytes = 8 * 1024 * 1024;

struct RequestOptions {
  // GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS.
  boost::beast::http::verb method = boost::beast::http::verb::get;
  // Absolute http:// or https:// URL.
  std::string url{};
  // Added after the session's default headers, replacing same-named ones.
  // Host, Content-Length and Transfer-Encoding are set by the client.
  HeaderFields headers{};
  // Appended to the URL's query, percent-encoded.
  std::vector<QueryParam> query{};

  // The request body, sent as is (Content-Type application/octet-stream
  // unless `headers` says otherwise)...
  std::string body{};
  // ...or a JSON body (Content-Type application/json). Setting both body
  // and json is an ErrorKind::invalid_request.
  std::optional<boost::json::value> json{};

  // Replaces the session's Timeouts as a whole when set.
  std::optional<Timeouts> timeouts{};

  // When false, a 3xx response is returned as is.
  bool follow_redirects = true;
  std::size_t max_redirects = 10;
  // A larger response body fails with ErrorKind::body_too_large.
  std::size_t max_body_bytes = default_max_body_bytes;
  // When set, the response body's bytes are charged to it as they arrive
  // (a redirect's or a failed exchange's body given back as it is dropped);
  // a body its budget has no room for fails as ErrorKind::body_too_large,
  // with refused() set. The caller keeps it alive over the request, and
  // releases it when it frees the body.
  BodyCharge* body_charge = nullptr;

  // Stops the request from outside: after request_stop() on its source (on
  // the session's thread), the request ends at once as cancelled (the
  // connection it was using is closed, even under a response just read),
  // without cancelling the coroutine that awaits it. How policy::hedge
  // stops its attempts: pass it AttemptContext::stop.
  std::stop_token stop{};
};

}  // namespace tailcut::http
