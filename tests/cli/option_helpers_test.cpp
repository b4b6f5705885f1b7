// The shared option helpers: environment names, the number checks and their
// messages, and durations (units, bounds, overflow).
#include "cli/option_helpers.hpp"

#include <gtest/gtest.h>

namespace tailcut::cli {
namespace {

using namespace std::chrono_literals;

// What the check says of `text` ("" when it passes), and the text it passes on.
struct Checked {
  std::string error;
  std::string text;
};

Checked check(CLI::Validator validator, std::string text) {
  auto error = validator(text);
  return {std::move(error), std::move(text)};
}

std::string duration_error(std::string_view text) {
  try {
    static_cast<void>(parse_duration(text, "--max-wait"));
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(EnvironmentName, IsThePrefixAndTheFlagInUpperCase) {
  EXPECT_EQ(environment_name("TAILCUT_", "--hedge-delay"), "TAILCUT_HEDGE_DELAY");
  EXPECT_EQ(environment_name("TAILCUT_UPSTREAM_", "--listen"), "TAILCUT_UPSTREAM_LISTEN");
}

TEST(WholeNumber, SaysWhatIsExpectedOfTextNegativesAndValuesOutOfRange) {
  const auto threads = whole_number(1, 1024);
  EXPECT_EQ(check(threads, "abc").error, "expected a whole number from 1 to 1024, got 'abc'");
  EXPECT_EQ(check(threads, "0").error, "must be 1 or more, got '0'");
  EXPECT_EQ(check(threads, "1025").error, "must be at most 1024, got '1025'");
  EXPECT_EQ(check(threads, "4x").error, "expected a whole number from 1 to 1024, got '4x'");
  EXPECT_EQ(check(threads, "").error, "expected a whole number from 1 to 1024, got ''");

  const auto milliseconds = whole_number(0, 5000, "milliseconds");
  EXPECT_EQ(check(milliseconds, "-1").error, "must be 0 or more (milliseconds), got '-1'");
  EXPECT_EQ(check(milliseconds, "99999999999999999999").error,
            "must be at most 5000 (milliseconds), got '99999999999999999999'");

  EXPECT_EQ(check(whole_number(1), "x").error, "expected a whole number, 1 or more, got 'x'");
}

TEST(WholeNumber, PassesValuesOnInPlainDecimal) {
  // CLI11 would read "010" as octal 8.
  EXPECT_EQ(check(whole_number(1, 1024), "010").error, "");
  EXPECT_EQ(check(whole_number(1, 1024), "010").text, "10");
  EXPECT_EQ(check(whole_number(1, 1024), "1024").text, "1024");
}

TEST(RealNumber, SaysWhatIsExpected) {
  const auto share = real_number(0.0, 1.0);
  EXPECT_EQ(check(share, "0.25").error, "");
  EXPECT_EQ(check(share, "2").error, "must be from 0 to 1, got '2'");
  EXPECT_EQ(check(share, "nan").error, "expected a number from 0 to 1, got 'nan'");
  EXPECT_EQ(check(real_number(std::numeric_limits<double>::lowest(),
                              std::numeric_limits<double>::max(), "percent"),
                  "abc")
                .error,
            "expected a number (percent), got 'abc'");
}

TEST(ParseDuration, TakesUnitsAndBareMilliseconds) {
  EXPECT_EQ(parse_duration("300ms", "--x"), 300ms);
  EXPECT_EQ(parse_duration("2s", "--x"), 2s);
  EXPECT_EQ(parse_duration("1m", "--x"), 1min);
  EXPECT_EQ(parse_duration("250", "--x"), 250ms);
  EXPECT_EQ(parse_duration("0", "--x"), 0ms);
}

TEST(ParseDuration, TakesTheLongestDurationInEveryUnit) {
  EXPECT_EQ(parse_duration("52560000m", "--x"), longest_duration);
  EXPECT_EQ(parse_duration("3153600000s", "--x"), longest_duration);
  EXPECT_EQ(parse_duration("3153600000000", "--x"), longest_duration);
}

TEST(ParseDuration, RejectsWhatOverflowsSayingItIsTooLargeAndTheLongest) {
  // These overflowed the milliseconds and were taken for negative, or
  // wrapped around to a small value.
  EXPECT_EQ(duration_error("153722867280913m"),
            "--max-wait: '153722867280913m' is too large; the longest duration is 52560000m "
            "(100 years)");
  EXPECT_EQ(duration_error("999999999999999m"),
            "--max-wait: '999999999999999m' is too large; the longest duration is 52560000m "
            "(100 years)");
  EXPECT_EQ(duration_error("52560001m"),
            "--max-wait: '52560001m' is too large; the longest duration is 52560000m (100 years)");
  EXPECT_EQ(duration_error("3153600001s"),
            "--max-wait: '3153600001s' is too large; the longest duration is 3153600000s "
            "(100 years)");
  EXPECT_EQ(duration_error("99999999999999999999999"),
            "--max-wait: '99999999999999999999999' is too large; the longest duration is "
            "3153600000000ms (100 years)");
}

TEST(ParseDuration, RejectsNegativesAndWhatIsNotADuration) {
  EXPECT_EQ(duration_error("-5ms"), "--max-wait: '-5ms' is negative; a duration is 0 or more");
  for (const auto* text : {"", "5h", "ms", "1.5s", "+5s", "5 s"}) {
    EXPECT_NE(duration_error(text).find("is not a duration; use e.g. 300ms, 2s, 1m"),
              std::string::npos)
        << text;
  }
}

TEST(DurationText, IsTheLargestWholeUnitAndReadsBackAsTheSameDuration) {
  EXPECT_EQ(duration_text(0ms), "0ms");
  EXPECT_EQ(duration_text(300ms), "300ms");
  EXPECT_EQ(duration_text(1500ms), "1500ms");
  EXPECT_EQ(duration_text(30s), "30s");
  EXPECT_EQ(duration_text(60s), "1m");
  for (const auto duration : {0ms, 3ms, 2500ms, 30'000ms, 3'600'000ms}) {
    EXPECT_EQ(parse_duration(duration_text(duration), "--x"), duration);
  }
}

}  // namespace
}  // namespace tailcut::cli
