// ClientError and ErrorKind: how the HTTP client (Session) reports a failed
// request, in a form a program can switch on and a user can act on.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "tailcut/async/failure.hpp"

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

// ErrorKind as error codes ("tailcut.http.client"), so that a request's
// failure is an async::Failure whose code names its kind. A Failure of this
// category rethrows as ClientError.
[[nodiscard]] const boost::system::error_category& client_error_category() noexcept;
[[nodiscard]] inline boost::system::error_code make_error_code(ErrorKind kind) noexcept {
  return {static_cast<int>(kind), client_error_category()};
}

// The snake_case name of `kind`, e.g. "connect_refused".
[[nodiscard]] std::string_view to_string(ErrorKind kind) noexcept;

// The one exception type of the HTTP client. what() says what happened and
// names the URL or host, e.g. "connect to 127.0.0.1:9 refused
// (http://127.0.0.1:9/)". A system_error whose code() is the kind's.
class ClientError : public boost::system::system_error {
 public:
  ClientError(ErrorKind kind, std::string message);

  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  // connect_timeout, read_timeout or total_timeout.
  [[nodiscard]] bool is_timeout() const noexcept;
  // The message alone (system_error's would append the code's).
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  ErrorKind kind_;
  std::string message_;
};

// A request's failure as a value: code make_error_code(kind), `message`.
[[nodiscard]] async::Failure client_failure(ErrorKind kind, std::string message);

// Classifies a request's failure: a ClientError's kind, ErrorKind::cancelled
// for system_error(operation_aborted) (how a cancelled request ends), and
// nullopt for anything else (e.g. async::Error::timed_out from wait_for).
[[nodiscard]] std::optional<ErrorKind> error_kind_of(const std::exception_ptr& error) noexcept;
// The same for a failure, read from its code (or its exception) without
// rethrowing it when the code tells.
[[nodiscard]] std::optional<ErrorKind> error_kind_of(const async::Failure& failure) noexcept;

}  // namespace tailcut::http

template <>
struct boost::system::is_error_code_enum<tailcut::http::ErrorKind> : std::true_type {};
