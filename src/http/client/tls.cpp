// The TLS client context: TLS 1.2+, peer verification against the system
// store or a CA file unless explicitly skipped.
#include "tailcut/http/tls.hpp"

#include <boost/asio/ssl/context.hpp>

#include "tailcut/http/client_error.hpp"

namespace tailcut::http {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_client_tls_context(const SessionOptions& options) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  if (options.insecure_skip_verify) {
    context->set_verify_mode(ssl::verify_none);
    return context;
  }
  context->set_verify_mode(ssl::verify_peer);
  boost::system::error_code error;
  if (options.ca_file) {
    context->load_verify_file(options.ca_file->string(), error);
    if (error) {
      throw ClientError{
          ErrorKind::tls,
          "cannot load the CA file " + options.ca_file->string() +
              " (SessionOptions::ca_file; --ca-file on the command line): " + error.message()};
    }
  } else {
    context->set_default_verify_paths(error);
    if (error) {
      throw ClientError{ErrorKind::tls,
                        "cannot load the system CA store: " + error.message() +
                            "; install ca-certificates, or give a CA file "
                            "(SessionOptions::ca_file; --ca-file on the command line)"};
    }
  }
  return context;
}

}  // namespace tailcut::http
