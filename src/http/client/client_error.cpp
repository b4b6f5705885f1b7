// ErrorKind names, ClientError, and the classification of request failures.
#include "tailcut/http/client_error.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

namespace tailcut::http {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_url:
      return "invalid_url";
    case ErrorKind::invalid_request:
      return "invalid_request";
    case ErrorKind::dns:
      return "dns";
    case ErrorKind::connect_refused:
      return "connect_refused";
    case ErrorKind::connect_failed:
      return "connect_failed";
    case ErrorKind::connect_timeout:
      return "connect_timeout";
    case ErrorKind::tls:
      return "tls";
    case ErrorKind::read_timeout:
      return "read_timeout";
    case ErrorKind::total_timeout:
      return "total_timeout";
    case ErrorKind::connection_closed:
      return "connection_closed";
    case ErrorKind::protocol:
      return "protocol";
    case ErrorKind::body_too_large:
      return "body_too_large";
    case ErrorKind::too_many_redirects:
      return "too_many_redirects";
    case ErrorKind::invalid_json:
      return "invalid_json";
    case ErrorKind::cancelled:
      return "cancelled";
  }
  return "unknown";
}

namespace {

class ClientErrorCategory final : public async::ThrowingErrorCategory {
 public:
  const char* name() const noexcept override { return "tailcut.http.client"; }
  std::string message(int value) const override {
    return std::string{to_string(static_cast<ErrorKind>(value))};
  }
  std::exception_ptr make_exception(const async::Failure& failure) const override {
    return std::make_exception_ptr(
        ClientError{static_cast<ErrorKind>(failure.code().value()), failure.message()});
  }
};

}  // namespace

const boost::system::error_category& client_error_category() noexcept {
  static const ClientErrorCategory category;
  return category;
}

ClientError::ClientError(ErrorKind kind, std::string message)
    : boost::system::system_error{make_error_code(kind)},
      kind_{kind},
      message_{std::move(message)} {}

async::Failure client_failure(ErrorKind kind, std::string message) {
  return async::Failure{make_error_code(kind), std::move(message)};
}

bool ClientError::is_timeout() const noexcept {
  return kind_ == ErrorKind::connect_timeout || kind_ == ErrorKind::read_timeout ||
         kind_ == ErrorKind::total_timeout;
}

std::optional<ErrorKind> error_kind_of(const std::exception_ptr& error) noexcept {
  if (!error) return std::nullopt;
  try {
    std::rethrow_exception(error);
  } catch (const ClientError& client_error) {
    return client_error.kind();
  } catch (const boost::system::system_error& system_error) {
    if (system_error.code() == boost::asio::error::operation_aborted) return ErrorKind::cancelled;
  } catch (...) {
  }
  return std::nullopt;
}

std::optional<ErrorKind> error_kind_of(const async::Failure& failure) noexcept {
  if (!failure) return std::nullopt;
  if (failure.is_cancellation()) return ErrorKind::cancelled;
  if (failure.code().category() == client_error_category()) {
    return static_cast<ErrorKind>(failure.code().value());
  }
  return error_kind_of(failure.exception());
}

}  // namespace tailcut::http
