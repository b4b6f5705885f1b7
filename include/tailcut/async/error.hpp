// Errors of the async combinators, as boost::system error codes so that they
// sit beside Asio's own (cancellation is asio::error::operation_aborted).
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <exception>
#include <type_traits>

namespace tailcut::async {

enum class Error {
  // A timeout (wait_for, a deadline scope, as_completed's group timeout)
  // passed before the operation finished; the operation was cancelled.
  timed_out = 1,
  // The operation ended with an exception of no error code of its own
  // (Failure::from_exception); the Failure keeps the exception.
  exception = 2,
  // The operation reported a failure of its own, which its message
  // describes: for failures that need no category of their own (an
  // upstream's unusable answer). Rethrown as std::runtime_error(message).
  failed = 3,
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(Error error) noexcept {
  return {static_cast<int>(error), error_category()};
}

// True when `error` holds a system_error for a timeout from this library.
bool is_timeout(const std::exception_ptr& error) noexcept;

// True when `error` holds a system_error for asio::error::operation_aborted,
// which is how a cancelled operation completes. Without rethrowing it when
// it is cancellation_error()'s.
bool is_cancellation(const std::exception_ptr& error) noexcept;

// The error a cancelled operation completes with, as an exception_ptr: one
// object per thread, shared (it is never modified), which is_cancellation()
// recognises by address. Telling a cancellation from another failure by
// rethrowing it costs an unwind; a hedge asks for every loser.
std::exception_ptr cancellation_error();

// The error a timed-out operation completes with, as an exception_ptr.
std::exception_ptr timeout_error();

// The exception a timed-out operation completes with.
[[noreturn]] void throw_timeout();

// The exception a cancelled operation completes with (cancellation_error()'s).
[[noreturn]] void throw_cancelled();

}  // namespace tailcut::async

template <>
struct boost::system::is_error_code_enum<tailcut::async::Error> : std::true_type {};
