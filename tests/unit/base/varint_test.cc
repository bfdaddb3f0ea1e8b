// The varint encoding shared by the checkpoint, offset-sync and frame
// formats: round trips at the edges of each byte length, and every way a
// hostile or damaged input can be wrong.
#include "longhaul/base/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace longhaul {
namespace {

TEST(Varint, RoundTripsAtEveryLengthBoundary) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383}, uint64_t{16384},
                     (uint64_t{1} << 63) - 1, uint64_t{1} << 63, std::numeric_limits<uint64_t>::max()}) {
    std::string bytes;
    AppendUvarint(v, &bytes);
    size_t pos = 0;
    uint64_t out = 0;
    ASSERT_EQ(DecodeUvarint(bytes, &pos, &out), VarintError::kNone) << v;
    EXPECT_EQ(out, v);
    EXPECT_EQ(pos, bytes.size());
    EXPECT_LE(bytes.size(), kMaxVarintBytes);
  }
  std::string one_byte, two_bytes, ten_bytes;
  AppendUvarint(127, &one_byte);
  AppendUvarint(128, &two_bytes);
  AppendUvarint(std::numeric_limits<uint64_t>::max(), &ten_bytes);
  EXPECT_EQ(one_byte.size(), 1u);
  EXPECT_EQ(two_bytes, std::string("\x80\x01", 2));
  EXPECT_EQ(ten_bytes.size(), 10u);
}

TEST(Varint, ZigzagKeepsSmallNegativesShort) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{63},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    std::string bytes;
    AppendZigzag(v, &bytes);
    size_t pos = 0;
    uint64_t raw = 0;
    ASSERT_EQ(DecodeUvarint(bytes, &pos, &raw), VarintError::kNone);
    EXPECT_EQ(ZigzagDecode(raw), v);
  }
  std::string minus_one;
  AppendZigzag(-1, &minus_one);
  EXPECT_EQ(minus_one, "\x01");
}

TEST(Varint, RejectsTruncatedOverlongAndNonMinimalInput) {
  uint64_t out = 77;
  size_t pos = 0;
  EXPECT_EQ(DecodeUvarint(std::string("\x80\x80", 2), &pos, &out), VarintError::kTruncated);
  pos = 0;
  EXPECT_EQ(DecodeUvarint("", &pos, &out), VarintError::kTruncated);
  pos = 0;
  // 10th byte carrying more than bit 63.
  EXPECT_EQ(DecodeUvarint(std::string(9, '\xff') + "\x02", &pos, &out), VarintError::kOverlong);
  pos = 0;
  EXPECT_EQ(DecodeUvarint(std::string(11, '\x80'), &pos, &out), VarintError::kOverlong);
  pos = 0;
  // 0 written in two bytes.
  EXPECT_EQ(DecodeUvarint(std::string("\x80\x00", 2), &pos, &out), VarintError::kNotMinimal);
  EXPECT_EQ(out, 77u);  // untouched on every error
  // A varint in the middle of a buffer: pos moves past it only.
  std::string buffer = "xy";
  AppendUvarint(300, &buffer);
  buffer += "z";
  pos = 2;
  ASSERT_EQ(DecodeUvarint(buffer, &pos, &out), VarintError::kNone);
  EXPECT_EQ(out, 300u);
  EXPECT_EQ(buffer[pos], 'z');
}

}  // namespace
}  // namespace longhaul
