// The TLS client context of a Session: certificate and host name
// verification on by default, OpenSSL underneath.
#pragma once

#include <memory>

#include "tailcut/http/session_options.hpp"

namespace boost::asio::ssl {
class context;
}

namespace tailcut::http {

// A TLS client context for `options`: TLS 1.2 or newer; peers verified
// against options.ca_file when set, else against the system CA store
// (OpenSSL's default paths), unless options.insecure_skip_verify. Host
// names are checked per connection, by the Session. Throws
// ClientError(tls) when the CA file cannot be loaded.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(
    const SessionOptions& options);

}  // namespace tailcut::http
