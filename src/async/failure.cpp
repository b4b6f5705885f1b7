// Failure: building one from an exception, and turning one back into the
// exception the throwing APIs throw.
#include "tailcut/async/failure.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "tailcut/async/error.hpp"

namespace tailcut::async {

Failure Failure::cancelled() noexcept {
  return Failure{make_error_code(boost::asio::error::operation_aborted), {}};
}

Failure Failure::from_exception(const std::exception& error, std::exception_ptr exception) {
  if (const auto* system_error = dynamic_cast<const boost::system::system_error*>(&error)) {
    if (system_error->code() == boost::asio::error::operation_aborted) return cancelled();
    Failure failure{system_error->code(), error.what()};
    failure.exception_ = std::move(exception);
    return failure;
  }
  Failure failure{make_error_code(Error::exception), error.what()};
  failure.exception_ = std::move(exception);
  return failure;
}

Failure Failure::from_exception(const std::exception_ptr& exception) {
  if (!exception) return {};
  if (exception == cancellation_error()) return cancelled();
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& error) {
    return from_exception(error, exception);
  } catch (...) {
    Failure failure{make_error_code(Error::exception), "unknown error"};
    failure.exception_ = exception;
    return failure;
  }
}

bool Failure::is_cancellation() const noexcept {
  return code_ == boost::asio::error::operation_aborted;
}

bool Failure::is_timeout() const noexcept { return code_ == Error::timed_out; }

std::exception_ptr Failure::to_exception_ptr() const {
  if (exception_) return exception_;
  if (is_cancellation()) return cancellation_error();
  if (const auto* own = dynamic_cast<const ThrowingErrorCategory*>(&code_.category())) {
    return own->make_exception(*this);
  }
  if (message_.empty()) return std::make_exception_ptr(boost::system::system_error{code_});
  return std::make_exception_ptr(boost::system::system_error{code_, message_});
}

void Failure::rethrow() const { std::rethrow_exception(to_exception_ptr()); }

}  // namespace tailcut::async
