// Small helpers of the HTTP client tests: run a request and get its
// ClientError, measure how long something took.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "support/client_test_server.hpp"
#include "tailcut/http/session.hpp"

namespace tailcut::test {

// Runs `request` on `io`; the ClientError it threw, or nullopt (and a test
// failure) when it succeeded.
inline std::optional<http::ClientError> failure_of(
    boost::asio::io_context& io, boost::asio::awaitable<http::ClientResponse> request) {
  try {
    const http::ClientResponse response = run_to_completion(io, std::move(request));
    ADD_FAILURE() << "expected a ClientError, got status " << response.status;
  } catch (const http::ClientError& error) {
    return error;
  }
  return std::nullopt;
}

// The kind of failure_of(), for EXPECT_EQ.
inline std::optional<http::ErrorKind> kind_of_failure(
    boost::asio::io_context& io, boost::asio::awaitable<http::ClientResponse> request) {
  const auto error = failure_of(io, std::move(request));
  if (!error) return std::nullopt;
  return error->kind();
}

class Stopwatch {
 public:
  [[nodiscard]] std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start_);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

inline http::Timeouts timeouts(std::optional<std::chrono::milliseconds> total,
                               std::optional<std::chrono::milliseconds> connect,
                               std::optional<std::chrono::milliseconds> sock_read) {
  return http::Timeouts{.total = total, .connect = connect, .sock_read = sock_read};
}

}  // namespace tailcut::test
