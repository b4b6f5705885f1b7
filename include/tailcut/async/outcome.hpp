// Outcome<T>: the result of an operation that has finished, either a value
// or the exception it ended with. What gather(return_exceptions, ...),
// as_completed and Task::outcome() hand back.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <variant>

namespace tailcut::async {

template <typename T>
class Outcome {
 public:
  static Outcome success(T value) { return Outcome{std::in_place_index<0>, std::move(value)}; }
  static Outcome failure(std::exception_ptr error) {
    return Outcome{std::in_place_index<1>, Failure{std::move(error), {}}};
  }
  // A failure with its description (the error's what()) as known where it
  // was made: whoever reports it (a hedge's 502) then needs no rethrow,
  // ~12 k instructions, to read it. Empty: none (a cancellation has none).
  static Outcome failure(std::exception_ptr error, std::string description) {
    return Outcome{std::in_place_index<1>, Failure{std::move(error), std::move(description)}};
  }

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // The value; rethrows the error when there is none.
  T& value() & {
    rethrow_if_error();
    return std::get<0>(state_);
  }
  const T& value() const& {
    rethrow_if_error();
    return std::get<0>(state_);
  }
  T&& value() && {
    rethrow_if_error();
    return std::get<0>(std::move(state_));
  }

  // The error, or null when there is a value.
  [[nodiscard]] std::exception_ptr error() const noexcept {
    return has_value() ? nullptr : std::get<1>(state_).error;
  }
  // The failure's description when it was given (see above), else empty.
  [[nodiscard]] const std::string& failure_description() const noexcept {
    static const std::string none;
    return has_value() ? none : std::get<1>(state_).description;
  }

 private:
  // Apart from the value, so that a success carries no string along.
  struct Failure {
    std::exception_ptr error;
    std::string description;
  };

  template <std::size_t Index, typename Alternative>
  Outcome(std::in_place_index_t<Index> index, Alternative alternative)
      : state_{index, std::move(alternative)} {}

  void rethrow_if_error() const {
    if (!has_value()) std::rethrow_exception(std::get<1>(state_).error);
  }

  std::variant<T, Failure> state_;
};

template <>
class Outcome<void> {
 public:
  static Outcome success() { return Outcome{nullptr}; }
  static Outcome failure(std::exception_ptr error) { return Outcome{std::move(error)}; }
  static Outcome failure(std::exception_ptr error, std::string description) {
    Outcome outcome{std::move(error)};
    outcome.description_ = std::move(description);
    return outcome;
  }

  [[nodiscard]] bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (error_) std::rethrow_exception(error_);
  }
  [[nodiscard]] std::exception_ptr error() const noexcept { return error_; }
  [[nodiscard]] const std::string& failure_description() const noexcept { return description_; }

 private:
  explicit Outcome(std::exception_ptr error) : error_{std::move(error)} {}
  std::exception_ptr error_;
  std::string description_;
};

// The value type that stands for T in tuples and vectors: void becomes
// std::monostate.
template <typename T>
using ValueOf = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

}  // namespace tailcut::async
