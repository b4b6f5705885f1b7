// ClientError and ErrorKind: how the HTTP client (Session) reports a failed
// request, in a form a program can switch on and a user can act on.
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tailcut::http {

// What went wrong with a request. The names (to_string) are stable: tools
// print them and scripts match on them.
enum class ErrorKind {
  invalid_url,         // not an absolute http(s) URL, or an unusable redirect Location
  invalid_request,     // a header name/value or method the client refuses to send
  dns,                 // the host name did not resolve
  connect_refused,     // the TCP connection was refused (nothing listens there)
  connect_failed,      // another TCP connect error (unreachable, reset...)
  connect_timeout,     // Timeouts::connect passed: pool wait + DNS + TCP + TLS
  tls,                 // TLS handshake failed (certificate, hostname, protocol) or bad CA file
  read_timeout,        // Timeouts::sock_read passed without a byte from the server
  total_timeout,       // Timeouts::total passed
  connection_closed,   // the server closed or reset the connection before the response was complete
  protocol,            // the response is not valid HTTP/1.x
  body_too_large,      // the response body exceeds RequestOptions::max_body_bytes
  too_many_redirects,  // more than RequestOptions::max_redirects redirects
  invalid_json,        // ClientResponse::json() on a body that is not JSON
  cancelled,           // never thrown by Session (see error_kind_of)
};

// The snake_case name of `kind`, e.g. "connect_refused".
[[nodiscard]] std::string_view to_string(ErrorKind kind) noexcept;

// The one exception type of the HTTP client. what() says what happened and
// names the URL or host, e.g. "connect to 127.0.0.1:9 refused
// (http://127.0.0.1:9/)".
class ClientError : public std::runtime_error {
 public:
  ClientError(ErrorKind kind, const std::string& message);

  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  // connect_timeout, read_timeout or total_timeout.
  [[nodiscard]] bool is_timeout() const noexcept;

 private:
  ErrorKind kind_;
};

// Classifies a request's failure: a ClientError's kind, ErrorKind::cancelled
// for system_error(operation_aborted) (how a cancelled request ends), and
// nullopt for anything else (e.g. async::Error::timed_out from wait_for).
[[nodiscard]] std::optional<ErrorKind> error_kind_of(const std::exception_ptr& error) noexcept;

}  // namespace tailcut::http
