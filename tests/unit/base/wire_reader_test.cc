// The bounds-checked reader of every binary format (frames, checkpoints,
// offset syncs): values in range are read, and each error names the value,
// the field and the byte, counted from the start of the whole value.
#include "longhaul/base/wire_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "longhaul/base/status_macros.h"
#include "longhaul/base/varint.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::wire {
namespace {

using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

TEST(WireReader, ReadsEachKindOfFieldInOrder) {
  std::string bytes = "\x07";
  AppendUvarint(300, &bytes);
  AppendZigzag(-1, &bytes);
  AppendUvarint(3, &bytes);
  bytes += "abc";
  Reader r("test value", bytes);
  uint8_t b = 0;
  uint64_t u = 0;
  int64_t z = 0;
  std::string_view s;
  ASSERT_TRUE(r.ReadByte("flags", &b).ok());
  ASSERT_TRUE(r.ReadUint("count", 300, &u).ok());
  ASSERT_TRUE(r.ReadZigzag("time", &z, -1).ok());
  ASSERT_TRUE(r.ReadString("name", 3, &s).ok());
  EXPECT_EQ(b, 7);
  EXPECT_EQ(u, 300u);
  EXPECT_EQ(z, -1);
  EXPECT_EQ(s, "abc");
  EXPECT_TRUE(r.ExpectEnd().ok());
}

TEST(WireReader, ErrorsNameTheValueTheFieldAndTheByteFromTheValuesStart) {
  std::string bytes;
  AppendUvarint(301, &bytes);
  Reader r("data frame", bytes, /*base=*/10);
  uint64_t u = 0;
  EXPECT_THAT(r.ReadUint("count", 300, &u),
              StatusIs(kInvalid, HasSubstr("data frame: count 301 exceeds the maximum 300 at byte 10")));

  Reader short_input("checkpoint value", "\x02" "a");
  std::string_view s;
  EXPECT_THAT(short_input.ReadString(Field("name", 3, "segment"), 9, &s), StatusIs(kInvalid, HasSubstr(
      "checkpoint value: segment 3 name is truncated (2 bytes declared, 1 left) at byte 1")));

  std::string negative;
  AppendZigzag(-2, &negative);
  Reader below("offset-sync value", negative);
  int64_t z = 0;
  EXPECT_THAT(below.ReadZigzag("commit_time_ms", &z, -1),
              StatusIs(kInvalid, HasSubstr("commit_time_ms -2 is negative (the minimum is -1) at byte 0")));

  Reader trailing("ping frame", "xy");
  uint8_t b = 0;
  ASSERT_TRUE(trailing.ReadByte("flags", &b).ok());
  EXPECT_THAT(trailing.ExpectEnd(), StatusIs(kInvalid, HasSubstr("ping frame: 1 trailing bytes after the value at byte 1")));
}

TEST(WireReader, RefusesVarintsThatAreTruncatedOverlongOrNotMinimal) {
  uint64_t u = 0;
  Reader truncated("v", "\x80");
  EXPECT_THAT(truncated.ReadUvarint("n", &u), StatusIs(kInvalid, HasSubstr("n truncated varint (input ends) at byte 0")));
  const std::string eleven_bytes = std::string(10, '\xff') + "\x01";  // the reader keeps a view
  Reader overlong("v", eleven_bytes);
  EXPECT_THAT(overlong.ReadUvarint("n", &u), StatusIs(kInvalid, HasSubstr("overlong")));
  const std::string redundant_zero_group("\x81\x00", 2);
  Reader padded("v", redundant_zero_group);
  EXPECT_THAT(padded.ReadUvarint("n", &u), StatusIs(kInvalid, HasSubstr("not minimally encoded")));
}

absl::Status ReadTwo(Reader& r, uint8_t* a, uint8_t* b) {
  LH_RETURN_IF_ERROR(r.ReadByte("first", a));
  LH_RETURN_IF_ERROR(r.ReadByte("second", b));
  return absl::OkStatus();
}

TEST(WireReader, ReturnIfErrorStopsAtTheFirstFailure) {
  Reader r("v", "x");
  uint8_t a = 0, b = 0;
  EXPECT_THAT(ReadTwo(r, &a, &b), StatusIs(kInvalid, HasSubstr("second truncated (input ends) at byte 1")));
  EXPECT_EQ(a, 'x');
}

}  // namespace
}  // namespace longhaul::wire
