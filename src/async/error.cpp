// The async error category and the helpers that recognise timeouts and
// cancellations inside exception_ptrs.
#include "tailcut/async/error.hpp"

#include <boost/asio/error.hpp>
#include <stdexcept>
#include <string>

#include "tailcut/async/failure.hpp"

namespace tailcut::async {
namespace {

class ErrorCategory final : public ThrowingErrorCategory {
 public:
  const char* name() const noexcept override { return "tailcut.async"; }
  std::string message(int value) const override {
    switch (static_cast<Error>(value)) {
      case Error::timed_out:
        return "operation timed out";
      case Error::exception:
        return "operation failed with an exception";
      case Error::failed:
        return "operation failed";
    }
    return "unknown tailcut.async error";
  }
  std::exception_ptr make_exception(const Failure& failure) const override {
    if (failure.code() == Error::timed_out) return timeout_error();
    if (failure.message().empty()) {
      return std::make_exception_ptr(boost::system::system_error{failure.code()});
    }
    return std::make_exception_ptr(std::runtime_error{failure.message()});
  }
};

// This thread's cancellation_error(); null until first asked for.
thread_local std::exception_ptr thread_cancellation;

bool holds_error(const std::exception_ptr& error, const boost::system::error_code& wanted) {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& system_error) {
    return system_error.code() == wanted;
  } catch (...) {
    return false;
  }
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const ErrorCategory category;
  return category;
}

bool is_timeout(const std::exception_ptr& error) noexcept {
  return holds_error(error, make_error_code(Error::timed_out));
}

bool is_cancellation(const std::exception_ptr& error) noexcept {
  if (error && error == thread_cancellation) return true;
  return holds_error(error, boost::asio::error::operation_aborted);
}

std::exception_ptr cancellation_error() {
  if (!thread_cancellation) {
    thread_cancellation = std::make_exception_ptr(
        boost::system::system_error{make_error_code(boost::asio::error::operation_aborted)});
  }
  return thread_cancellation;
}

std::exception_ptr timeout_error() {
  return std::make_exception_ptr(boost::system::system_error{make_error_code(Error::timed_out)});
}

void throw_timeout() { throw boost::system::system_error{make_error_code(Error::timed_out)}; }

void throw_cancelled() { std::rethrow_exception(cancellation_error()); }

}  // namespace tailcut::async
