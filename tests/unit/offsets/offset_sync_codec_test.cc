#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "longhaul/offsets/offset_sync.h"
#include "longhaul/testing/status_matchers.h"
#include "offsets_test_util.h"

namespace longhaul::offsets {
namespace {

using ::longhaul::testing::IsOkAndHolds;
using ::longhaul::testing::StatusIs;
using ::longhaul::offsets::testing_util::RandomOffsetSync;
using ::longhaul::offsets::testing_util::Uvarint;
using ::longhaul::offsets::testing_util::Zigzag;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

std::string Encode(const OffsetSyncRecord& r) {
  std::string out;
  EncodeOffsetSync(r, &out);
  return out;
}

OffsetSyncRecord Example() {
  return OffsetSyncRecord{.topic = "orders", .partition = 7, .segments = {{10, 20, 300}},
                          .commit_time_ms = -1};
}

TEST(OffsetSyncCodec, EncodesTheDocumentedV1Bytes) {
  const std::string expected("\xd1\x06orders\x07\x01\x01\x0a\x14\xac\x02", 15);
  EXPECT_EQ(Encode(Example()), expected);
  EXPECT_THAT(DecodeOffsetSync(expected), IsOkAndHolds(Example()));
}

TEST(OffsetSyncCodec, CarriesLostRangesInVersion2) {
  OffsetSyncRecord r = Example();
  r.segments = {{11000, 1001, 500}};
  r.lost = {{1000, 11000}};
  const std::string value = Encode(r);
  EXPECT_EQ(static_cast<uint8_t>(value[0]), 0xD2);
  EXPECT_THAT(DecodeOffsetSync(value), IsOkAndHolds(r));
  EXPECT_EQ(static_cast<uint8_t>(Encode(Example())[0]), 0xD1);
  // Version 2 with no range is not canonical.
  std::string no_range = Encode(Example()) + Uvarint(0);
  no_range[0] = '\xD2';
  EXPECT_THAT(DecodeOffsetSync(no_range), StatusIs(kInvalid, HasSubstr("lost range count is 0")));
}

TEST(OffsetSyncCodec, SharesTheCheckpointKeyText) {
  const OffsetSyncRecord r = Example();
  EXPECT_EQ(EncodeCheckpointKey({"dc1", r.topic, r.partition}), "dc1/orders/7");
}

TEST(OffsetSyncCodec, AppendsToTheCallersBuffer) {
  std::string buffer = "xyz";
  EncodeOffsetSync(Example(), &buffer);
  EXPECT_THAT(DecodeOffsetSync(std::string_view(buffer).substr(3)), IsOkAndHolds(Example()));
}

TEST(OffsetSyncCodec, RoundTripsRandomRecords) {
  std::mt19937_64 rng(11);
  std::string buffer;
  for (int i = 0; i < 5000; ++i) {
    const OffsetSyncRecord r = RandomOffsetSync(rng);
    buffer.clear();
    EncodeOffsetSync(r, &buffer);
    ASSERT_THAT(DecodeOffsetSync(buffer), IsOkAndHolds(r)) << "round " << i;
  }
}

TEST(OffsetSyncCodec, RoundTripsLongestTopicAndExtremeNumbers) {
  const OffsetSyncRecord r{.topic = std::string(kMaxTopicLength, 'q'),
                           .partition = std::numeric_limits<int32_t>::max(),
                           .segments = {{std::numeric_limits<int64_t>::max() - 1, 0, 1}},
                           .commit_time_ms = std::numeric_limits<int64_t>::max()};
  EXPECT_THAT(DecodeOffsetSync(Encode(r)), IsOkAndHolds(r));
}

TEST(OffsetSyncCodec, RejectsEmptyValueAndOtherKinds) {
  EXPECT_THAT(DecodeOffsetSync(""), StatusIs(kInvalid, HasSubstr("offset-sync value: empty value")));
  EXPECT_THAT(DecodeOffsetSync(std::string("\xC1\x00\x01\x01\x00\x00", 6)),
              StatusIs(kInvalid, HasSubstr("0xC1 (a checkpoint value)")));
  EXPECT_THAT(DecodeOffsetSync("\xD7"),
              StatusIs(kInvalid, HasSubstr("unsupported format version 7")));
}

TEST(OffsetSyncCodec, RejectsEveryTruncationOfAValidValue) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 100; ++round) {
    const std::string value = Encode(RandomOffsetSync(rng));
    for (size_t n = 0; n < value.size(); ++n) {
      EXPECT_THAT(DecodeOffsetSync(std::string_view(value).substr(0, n)),
                  StatusIs(kInvalid, AnyOf(HasSubstr("truncated"), HasSubstr("empty value"),
                                           HasSubstr("remaining bytes can hold"))))
          << "prefix of " << n << " of " << value.size() << " bytes";
    }
  }
}

TEST(OffsetSyncCodec, RejectsTopicLengthBeyondInputOrKafkaLimit) {
  EXPECT_THAT(DecodeOffsetSync("\xD1\x09ord"),
              StatusIs(kInvalid, AllOf(HasSubstr("topic is truncated (9 bytes declared, 3 left)"),
                                       HasSubstr("byte 2"))));
  EXPECT_THAT(DecodeOffsetSync("\xD1" + Uvarint(250) + std::string(250, 't')),
              StatusIs(kInvalid, HasSubstr("topic length 250 exceeds the maximum 249")));
  EXPECT_THAT(DecodeOffsetSync(std::string("\xD1\x00", 2)),
              StatusIs(kInvalid, AllOf(HasSubstr("topic length is 0"), HasSubstr("byte 1"))));
}

TEST(OffsetSyncCodec, RejectsTopicContainingSlash) {
  const std::string value = "\xD1" + Uvarint(5) + "ab/cd" + Uvarint(0) + Zigzag(-1) + Uvarint(0);
  EXPECT_THAT(DecodeOffsetSync(value),
              StatusIs(kInvalid, AllOf(HasSubstr("topic contains '/'"), HasSubstr("byte 4"))));
}

TEST(OffsetSyncCodec, RejectsOutOfRangePartitionAndNegativeTime) {
  const std::string partition = "\xD1" + Uvarint(1) + "t" + Uvarint(uint64_t{1} << 31);
  EXPECT_THAT(DecodeOffsetSync(partition),
              StatusIs(kInvalid, AllOf(HasSubstr("partition 2147483648 exceeds the maximum"),
                                       HasSubstr("byte 3"))));
  const std::string time = "\xD1" + Uvarint(1) + "t" + Uvarint(0) + Zigzag(-3) + Uvarint(0);
  EXPECT_THAT(DecodeOffsetSync(time), StatusIs(kInvalid, HasSubstr("commit_time_ms -3 is negative")));
}

TEST(OffsetSyncCodec, RejectsAbsurdSegmentCountAndBadSegments) {
  const std::string head = "\xD1" + Uvarint(1) + "t" + Uvarint(0) + Zigzag(-1);
  EXPECT_THAT(DecodeOffsetSync(head + Uvarint(uint64_t{1} << 62)),
              StatusIs(kInvalid, HasSubstr("segment count 4611686018427387904 is more than")));
  EXPECT_THAT(DecodeOffsetSync(head + Uvarint(1) + Uvarint(1) + Uvarint(1) + Uvarint(0)),
              StatusIs(kInvalid, HasSubstr("segment 0 length is 0")));
  EXPECT_THAT(DecodeOffsetSync(head + Uvarint(1) + Uvarint(uint64_t{1} << 63) + Uvarint(1) +
                               Uvarint(1)),
              StatusIs(kInvalid, HasSubstr("segment 0 source_start 9223372036854775808 is out of "
                                           "range (negative as int64)")));
  EXPECT_THAT(DecodeOffsetSync(head + Uvarint(1) + std::string(11, '\xFF')),
              StatusIs(kInvalid, HasSubstr("segment 0 source_start varint is overlong")));
}

TEST(OffsetSyncCodec, RejectsTrailingBytes) {
  EXPECT_THAT(DecodeOffsetSync(Encode(Example()) + '\0'),
              StatusIs(kInvalid, HasSubstr("1 trailing bytes after the value at byte 15")));
}

TEST(OffsetSyncCodec, SurvivesRandomCorruptionAndReencodesWhateverItAccepts) {
  std::mt19937_64 rng(13);
  int accepted = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string value = Encode(RandomOffsetSync(rng));
    const size_t at = rng() % value.size();
    switch (rng() % 4) {
      case 0: value[at] = static_cast<char>(rng()); break;
      case 1: value[at] = static_cast<char>(value[at] ^ (1 << (rng() % 8))); break;
      case 2: value.insert(at, 1, static_cast<char>(rng())); break;
      default: value.erase(at, 1); break;
    }
    const absl::StatusOr<OffsetSyncRecord> decoded = DecodeOffsetSync(value);
    if (decoded.ok()) {
      ++accepted;
      EXPECT_EQ(Encode(*decoded), value);
    } else {
      EXPECT_THAT(decoded, StatusIs(kInvalid, HasSubstr("offset-sync value: ")));
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(OffsetSyncCodecDeathTest, EncodingAMalformedRecordIsABug) {
  std::string out;
  OffsetSyncRecord r = Example();
  r.topic = "a/b";
  EXPECT_DEATH(EncodeOffsetSync(r, &out), "invariant violated");
  r = Example();
  r.segments = {{5, 5, 0}};
  EXPECT_DEATH(EncodeOffsetSync(r, &out), "invariant violated");
}

}  // namespace
}  // namespace longhaul::offsets
