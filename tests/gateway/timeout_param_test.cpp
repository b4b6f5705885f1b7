// The strict validation of ?timeout=MS.
#include "gateway/timeout_param.hpp"

#include <gtest/gtest.h>

namespace tailcut::gateway {
namespace {

using namespace std::chrono_literals;

bool rejected(std::string_view target) {
  return std::holds_alternative<TimeoutParamError>(parse_timeout_param(target, 60'000ms));
}

std::optional<std::chrono::milliseconds> accepted(std::string_view target) {
  return std::get<0>(parse_timeout_param(target, 60'000ms));
}

TEST(TimeoutParam, AbsentMeansNoTimeout) {
  EXPECT_EQ(accepted("/api/smart"), std::nullopt);
  EXPECT_EQ(accepted("/api/smart?other=1"), std::nullopt);
}

TEST(TimeoutParam, DigitsWithinRangeAreAccepted) {
  EXPECT_EQ(accepted("/api/smart?timeout=1"), 1ms);
  EXPECT_EQ(accepted("/api/smart?timeout=500"), 500ms);
  EXPECT_EQ(accepted("/api/smart?timeout=60000"), 60'000ms);
  EXPECT_EQ(accepted("/api/smart?timeout=0500"), 500ms);
}

TEST(TimeoutParam, EveryMalformedValueIsRejected) {
  for (const auto* target :
       {"/api/smart?timeout=", "/api/smart?timeout", "/api/smart?timeout=0",
        "/api/smart?timeout=-1", "/api/smart?timeout=+5", "/api/smart?timeout=1.5",
        "/api/smart?timeout=1e3", "/api/smart?timeout=%205", "/api/smart?timeout=5%20",
        "/api/smart?timeout=abc", "/api/smart?timeout=99999999999999999999",
        "/api/smart?timeout=5&timeout=6", "/api/smart?timeout=60001", "/api/smart?timeout=0x10"}) {
    EXPECT_TRUE(rejected(target)) << target;
  }
}

// Plain `?timeout=DIGITS` skips the URL parser; everything else goes through
// it, and both ways must give the same answers.
TEST(TimeoutParam, EncodedAndUnusualFormsAreReadLikePlainOnes) {
  EXPECT_EQ(accepted("/api/smart?timeout=%35%30%30"), 500ms);
  EXPECT_EQ(accepted("/api/sm%61rt?timeout=7"), 7ms);
  EXPECT_EQ(accepted("/api/smart?timeout=000000000000000000500"), 500ms);
  EXPECT_EQ(accepted("/api/smart?other=1&timeout=42"), 42ms);
  EXPECT_TRUE(rejected("/api/smart?timeout=500#fragment"));
  EXPECT_TRUE(rejected("/api/smart?timeout=500&timeout=500"));
  EXPECT_TRUE(rejected("/api/smart?timeout=0000"));
}

TEST(TimeoutParam, TheErrorSaysWhatWasWrong) {
  const auto result = parse_timeout_param("/api/smart?timeout=abc", 60'000ms);
  const auto& error = std::get<TimeoutParamError>(result);
  EXPECT_NE(error.message.find("'abc'"), std::string::npos);
  EXPECT_NE(error.message.find("from 1 to 60000"), std::string::npos);
}

}  // namespace
}  // namespace tailcut::gateway
