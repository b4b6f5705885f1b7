// Failure: why an operation failed, as a value. The one failure type of the
// library: what a failed Outcome, a failed task and a hedge's failed attempt
// hold, and what the HTTP client hands back from try_request.
//
// A failure is an error code (what a program switches on), a message (what
// a person reads) and, only when it came from an arbitrary exception, that
// exception (so that it is rethrown as is). It is built without throwing:
// where operations fail or are cancelled by the thousand (a hedging
// gateway), each exception would cost ~20 k instructions per coroutine
// frame it crossed.
//
//   if (!outcome) log(outcome.failure().message());
//   if (failure.is_cancellation()) ...;
//   failure.rethrow();  // ClientError, system_error(operation_aborted), ...
#pragma once

#include <boost/system/error_code.hpp>
#include <exception>
#include <string>

namespace tailcut::async {

class Failure {
 public:
  // No failure (a value's, or a slot to fill).
  Failure() = default;
  // A failure with `code` and its description for people.
  Failure(boost::system::error_code code, std::string message) noexcept
      : code_{code}, message_{std::move(message)} {}

  // A cancelled operation's failure (asio::error::operation_aborted), with
  // no message: cancelled attempts come by the thousand.
  [[nodiscard]] static Failure cancelled() noexcept;
  // The failure `exception` (being handled, or caught as `error`) stands
  // for: a system_error's code (a ClientError's is its ErrorKind) and
  // what(); Error::exception for any other. Keeps the exception, to rethrow
  // it as is; a cancellation keeps none.
  [[nodiscard]] static Failure from_exception(const std::exception& error,
                                              std::exception_ptr exception);
  // The same from an exception_ptr alone (rethrows it once to read it;
  // not for hot paths). Null: no failure.
  [[nodiscard]] static Failure from_exception(const std::exception_ptr& exception);

  explicit operator bool() const noexcept { return static_cast<bool>(code_); }
  [[nodiscard]] const boost::system::error_code& code() const noexcept { return code_; }
  // What went wrong, for people; empty for a cancellation.
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  // The exception it came from, when it came from an arbitrary one.
  [[nodiscard]] const std::exception_ptr& exception() const noexcept { return exception_; }

  [[nodiscard]] bool is_cancellation() const noexcept;
  // async::Error::timed_out (wait_for, DeadlineScope, as_completed).
  [[nodiscard]] bool is_timeout() const noexcept;

  // The failure as the exception the throwing APIs throw: the stored
  // exception; else the code's category's own type (ThrowingErrorCategory:
  // ClientError for an http::ErrorKind); else system_error(code), the
  // shared cancellation_error() for a cancellation. Precondition: a failure.
  [[nodiscard]] std::exception_ptr to_exception_ptr() const;
  [[noreturn]] void rethrow() const;

 private:
  boost::system::error_code code_;
  std::string message_;
  std::exception_ptr exception_;
};

// An error category whose failures have an exception type of their own,
// which Failure::rethrow() throws (http::ErrorKind's: ClientError).
class ThrowingErrorCategory : public boost::system::error_category {
 public:
  [[nodiscard]] virtual std::exception_ptr make_exception(const Failure& failure) const = 0;

 protected:
  ThrowingErrorCategory() = default;
  ~ThrowingErrorCategory() = default;
};

}  // namespace tailcut::async
