// async::Failure: built from codes and exceptions without losing what they
// say, and turned back into the exception the throwing APIs throw.
#include "tailcut/async/failure.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <stdexcept>

#include "tailcut/async/error.hpp"
#include "tailcut/async/outcome.hpp"

namespace tailcut::async {
namespace {

// The exception `failure` rethrows, caught.
std::exception_ptr rethrown(const Failure& failure) {
  try {
    failure.rethrow();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

TEST(Failure, ADefaultOneIsNoFailure) {
  const Failure none;
  EXPECT_FALSE(none);
  EXPECT_FALSE(none.is_cancellation());
  EXPECT_TRUE(none.message().empty());
}

TEST(Failure, ACancellationIsRecognisedByItsCodeAndRethrownAsTheSharedOne) {
  const Failure cancelled = Failure::cancelled();
  EXPECT_TRUE(cancelled);
  EXPECT_TRUE(cancelled.is_cancellation());
  EXPECT_FALSE(cancelled.exception());
  EXPECT_EQ(cancelled.to_exception_ptr(), cancellation_error());
  EXPECT_TRUE(is_cancellation(rethrown(cancelled)));
  // Handed over as the shared exception, it is known without a rethrow.
  EXPECT_TRUE(Failure::from_exception(cancellation_error()).is_cancellation());
}

TEST(Failure, ASystemErrorKeepsItsCodeMessageAndException) {
  const auto error = std::make_exception_ptr(
      boost::system::system_error{make_error_code(boost::asio::error::connection_refused), "dial"});
  const Failure failure = Failure::from_exception(error);
  EXPECT_EQ(failure.code(), boost::asio::error::connection_refused);
  EXPECT_NE(failure.message().find("dial"), std::string::npos) << failure.message();
  EXPECT_EQ(failure.exception(), error);
  EXPECT_EQ(rethrown(failure), error);
}

TEST(Failure, AnArbitraryExceptionIsKeptAndRethrownAsIs) {
  const auto error = std::make_exception_ptr(std::out_of_range{"index 9"});
  const Failure failure = Failure::from_exception(error);
  EXPECT_EQ(failure.code(), Error::exception);
  EXPECT_EQ(failure.message(), "index 9");
  EXPECT_EQ(rethrown(failure), error);
  EXPECT_THROW(failure.rethrow(), std::out_of_range);
}

TEST(Failure, AFailureOfItsOwnIsRethrownWithItsMessage) {
  const Failure failure{Error::failed, "HTTP 503"};
  EXPECT_FALSE(failure.exception());
  try {
    failure.rethrow();
    ADD_FAILURE() << "rethrow() returned";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "HTTP 503");
  }
}

TEST(Failure, ATimeoutIsRecognisedAndRethrownAsOne) {
  const Failure failure{Error::timed_out, {}};
  EXPECT_TRUE(failure.is_timeout());
  EXPECT_TRUE(is_timeout(rethrown(failure)));
}

TEST(Failure, AnOutcomeHoldsItsFailureAndThrowsItForItsValue) {
  auto outcome = Outcome<int>::failure(Failure{Error::failed, "no"});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.failure().message(), "no");
  EXPECT_THROW((void)outcome.value(), std::runtime_error);
  EXPECT_TRUE(outcome.error());
  const auto done = Outcome<void>::success();
  EXPECT_TRUE(done);
  EXPECT_FALSE(done.error());
  EXPECT_TRUE(Outcome<void>::failure(Failure::cancelled()).failure().is_cancellation());
}

}  // namespace
}  // namespace tailcut::async
