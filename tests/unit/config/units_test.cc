// Durations and byte sizes as written in the config file and on the CLI.
#include "longhaul/config/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <limits>

#include "longhaul/testing/status_matchers.h"

namespace longhaul::config {
namespace {

using ::longhaul::testing::IsOkAndHolds;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_THAT(ParseDuration("500ms"), IsOkAndHolds(500ms));
  EXPECT_THAT(ParseDuration("1s"), IsOkAndHolds(1s));
  EXPECT_THAT(ParseDuration("2m"), IsOkAndHolds(2min));
  EXPECT_THAT(ParseDuration("1h"), IsOkAndHolds(1h));
  EXPECT_THAT(ParseDuration("7d"), IsOkAndHolds(7 * 24h));
  EXPECT_THAT(ParseDuration("0s"), IsOkAndHolds(0ms));
  EXPECT_THAT(ParseDuration("007s"), IsOkAndHolds(7s));
}

TEST(ParseDuration, RejectsMalformedInputWithAReasonThatDoesNotRepeatIt) {
  const auto invalid = [](std::string_view reason) {
    return StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(reason));
  };
  EXPECT_THAT(ParseDuration(""), invalid("empty duration"));
  EXPECT_THAT(ParseDuration("10"), invalid("missing unit; use ms, s, m, h or d"));
  EXPECT_THAT(ParseDuration("1.5s"), invalid("fractions are not supported"));
  EXPECT_THAT(ParseDuration("-1s"), invalid("cannot be negative"));
  EXPECT_THAT(ParseDuration("+1s"), invalid("must start with a whole number"));
  EXPECT_THAT(ParseDuration(" 1s"), invalid("must start with a whole number"));
  EXPECT_THAT(ParseDuration("1 s"), invalid("unknown unit"));
  EXPECT_THAT(ParseDuration("1S"), invalid("unknown unit"));
  EXPECT_THAT(ParseDuration("1sec"), invalid("unknown unit"));
  EXPECT_THAT(ParseDuration("1m30s"), invalid("unknown unit"));
  EXPECT_THAT(ParseDuration("s"), invalid("must start with a whole number"));
  const absl::Status unit = ParseDuration("12xyz").status();
  EXPECT_THAT(std::string(unit.message()), ::testing::Not(HasSubstr("xyz")));
}

TEST(ParseDuration, RejectsOverflowInsteadOfWrapping) {
  EXPECT_THAT(ParseDuration("9223372036854775807ms"),
              IsOkAndHolds(std::chrono::milliseconds(std::numeric_limits<int64_t>::max())));
  EXPECT_THAT(ParseDuration("106751991167d"), IsOkAndHolds(106751991167 * 24h));
  EXPECT_THAT(ParseDuration("9223372036854775808ms"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too large")));
  EXPECT_THAT(ParseDuration("106751991168d"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too large")));
  EXPECT_THAT(ParseDuration("99999999999999999999999s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too large")));
}

TEST(ParseByteSize, AcceptsPlainBytesAndBinaryUnits) {
  EXPECT_THAT(ParseByteSize("1048576"), IsOkAndHolds(1048576));
  EXPECT_THAT(ParseByteSize("512B"), IsOkAndHolds(512));
  EXPECT_THAT(ParseByteSize("64KiB"), IsOkAndHolds(64 * 1024));
  EXPECT_THAT(ParseByteSize("16MiB"), IsOkAndHolds(16 << 20));
  EXPECT_THAT(ParseByteSize("1GiB"), IsOkAndHolds(int64_t{1} << 30));
  EXPECT_THAT(ParseByteSize("2TiB"), IsOkAndHolds(int64_t{2} << 40));
  EXPECT_THAT(ParseByteSize("0"), IsOkAndHolds(0));
}

TEST(ParseByteSize, RejectsDecimalUnitsFractionsAndOverflow) {
  const auto invalid = [](std::string_view reason) {
    return StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(reason));
  };
  EXPECT_THAT(ParseByteSize("16MB"), invalid("unknown unit; use B, KiB, MiB, GiB or TiB"));
  EXPECT_THAT(ParseByteSize("64k"), invalid("unknown unit"));
  EXPECT_THAT(ParseByteSize("1.5GiB"), invalid("fractions are not supported"));
  EXPECT_THAT(ParseByteSize("-1"), invalid("cannot be negative"));
  EXPECT_THAT(ParseByteSize(""), invalid("empty size"));
  EXPECT_THAT(ParseByteSize("MiB"), invalid("must start with a whole number"));
  EXPECT_THAT(ParseByteSize("8388608TiB"), invalid("too large"));
}

TEST(FormatUnits, WritesTheLargestExactUnitAndRoundTrips) {
  EXPECT_EQ(FormatDuration(10ms), "10ms");
  EXPECT_EQ(FormatDuration(1500ms), "1500ms");
  EXPECT_EQ(FormatDuration(90s), "90s");
  EXPECT_EQ(FormatDuration(10min), "10m");
  EXPECT_EQ(FormatDuration(48h), "2d");
  EXPECT_EQ(FormatDuration(0ms), "0ms");
  EXPECT_EQ(FormatDuration(-2s), "-2s");
  EXPECT_EQ(FormatByteSize(0), "0");
  EXPECT_EQ(FormatByteSize(1000), "1000");
  EXPECT_EQ(FormatByteSize(16 << 20), "16MiB");
  EXPECT_EQ(FormatByteSize(1536), "1536");
  for (auto d : {1ms, 999ms, 1000ms, 61000ms, 3600000ms, 86400000ms * 3}) {
    EXPECT_THAT(ParseDuration(FormatDuration(d)), IsOkAndHolds(d));
  }
  for (int64_t b : {int64_t{1}, int64_t{1024}, int64_t{1025}, int64_t{3} << 30}) {
    EXPECT_THAT(ParseByteSize(FormatByteSize(b)), IsOkAndHolds(b));
  }
}

TEST(ParseBitRate, TakesDecimalUnitsWithOrWithoutPerSecond) {
  EXPECT_EQ(ParseBitRate("2Mbit").value(), 2'000'000);
  EXPECT_EQ(ParseBitRate("1500kbit/s").value(), 1'500'000);
  EXPECT_EQ(ParseBitRate("10Gbit").value(), 10'000'000'000);
  EXPECT_EQ(ParseBitRate("9600bit").value(), 9'600);
  EXPECT_FALSE(ParseBitRate("2").ok());       // a rate needs its unit
  EXPECT_FALSE(ParseBitRate("2MB").ok());     // bytes are not guessed
  EXPECT_FALSE(ParseBitRate("1.5Mbit").ok());
  EXPECT_EQ(FormatBitRate(2'000'000), "2Mbit/s");
  EXPECT_EQ(FormatBitRate(1'500'000), "1500kbit/s");
}

}  // namespace
}  // namespace longhaul::config
