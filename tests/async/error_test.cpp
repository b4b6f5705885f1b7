// Recognising cancellations and timeouts inside exception_ptrs.
#include "tailcut/async/error.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <stdexcept>
#include <thread>

namespace tailcut::async {
namespace {

std::exception_ptr caught_from(void (*thrower)()) {
  try {
    thrower();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

TEST(AsyncError, TheSharedCancellationIsACancellationAndTheSameObjectPerThread) {
  const auto shared = cancellation_error();
  EXPECT_TRUE(is_cancellation(shared));
  EXPECT_EQ(shared, cancellation_error());
  // throw_cancelled() throws that very object: what a catch captures is it.
  EXPECT_EQ(caught_from(+[] { throw_cancelled(); }), shared);
  EXPECT_FALSE(is_timeout(shared));
}

TEST(AsyncError, AnyOperationAbortedIsACancellationAndNothingElseIs) {
  EXPECT_TRUE(is_cancellation(std::make_exception_ptr(
      boost::system::system_error{make_error_code(boost::asio::error::operation_aborted)})));
  EXPECT_FALSE(is_cancellation(std::make_exception_ptr(
      boost::system::system_error{make_error_code(boost::asio::error::connection_reset)})));
  EXPECT_FALSE(is_cancellation(std::make_exception_ptr(std::runtime_error{"aborted"})));
  EXPECT_FALSE(is_cancellation(timeout_error()));
  EXPECT_TRUE(is_timeout(timeout_error()));
  EXPECT_FALSE(is_cancellation(nullptr));
}

TEST(AsyncError, AnotherThreadsSharedCancellationIsRecognisedToo) {
  std::exception_ptr other;
  std::thread{[&other] { other = cancellation_error(); }}.join();
  EXPECT_NE(other, cancellation_error());
  EXPECT_TRUE(is_cancellation(other));
}

}  // namespace
}  // namespace tailcut::async
