// Outcome<T>: the result of an operation that has finished, either a value
// or its Failure. What gather(return_exceptions, ...), as_completed,
// Task::outcome() and Session::try_request hand back.
#pragma once

#include <cstddef>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "tailcut/async/failure.hpp"

namespace tailcut::async {

template <typename T>
class Outcome {
 public:
  static Outcome success(T value) { return Outcome{std::in_place_index<0>, std::move(value)}; }
  // Precondition: `failure` is one (not Failure{}).
  static Outcome failure(Failure failure) {
    return Outcome{std::in_place_index<1>, std::move(failure)};
  }
  // The failure `error` stands for (Failure::from_exception: rethrows it
  // once to read it, unless it is cancellation_error()).
  static Outcome failure(const std::exception_ptr& error) {
    return failure(Failure::from_exception(error));
  }

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // The value; throws the failure (Failure::rethrow) when there is none.
  T& value() & {
    rethrow_if_failed();
    return std::get<0>(state_);
  }
  const T& value() const& {
    rethrow_if_failed();
    return std::get<0>(state_);
  }
  T&& value() && {
    rethrow_if_failed();
    return std::get<0>(std::move(state_));
  }

  // The failure. Precondition: !has_value().
  [[nodiscard]] const Failure& failure() const noexcept { return *std::get_if<1>(&state_); }
  [[nodiscard]] Failure& failure() noexcept { return *std::get_if<1>(&state_); }
  // The failure as an exception (Failure::to_exception_ptr), or null when
  // there is a value.
  [[nodiscard]] std::exception_ptr error() const {
    return has_value() ? nullptr : failure().to_exception_ptr();
  }

 private:
  template <std::size_t Index, typename Alternative>
  Outcome(std::in_place_index_t<Index> index, Alternative alternative)
      : state_{index, std::move(alternative)} {}

  void rethrow_if_failed() const {
    if (!has_value()) failure().rethrow();
  }

  std::variant<T, Failure> state_;
};

template <>
class Outcome<void> {
 public:
  static Outcome success() { return Outcome{Failure{}}; }
  static Outcome failure(Failure failure) { return Outcome{std::move(failure)}; }
  static Outcome failure(const std::exception_ptr& error) {
    return Outcome{Failure::from_exception(error)};
  }

  [[nodiscard]] bool has_value() const noexcept { return !failure_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (failure_) failure_.rethrow();
  }
  [[nodiscard]] const Failure& failure() const noexcept { return failure_; }
  [[nodiscard]] Failure& failure() noexcept { return failure_; }
  [[nodiscard]] std::exception_ptr error() const {
    return has_value() ? nullptr : failure_.to_exception_ptr();
  }

 private:
  explicit Outcome(Failure failure) : failure_{std::move(failure)} {}
  Failure failure_;
};

// The value type that stands for T in tuples and vectors: void becomes
// std::monostate.
template <typename T>
using ValueOf = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

}  // namespace tailcut::async
