#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "longhaul/offsets/checkpoint.h"
#include "longhaul/testing/status_matchers.h"
#include "offsets_test_util.h"

namespace longhaul::offsets {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::IsOkAndHolds;
using ::longhaul::testing::StatusIs;
using ::longhaul::offsets::testing_util::RandomCheckpoint;
using ::longhaul::offsets::testing_util::Uvarint;
using ::longhaul::offsets::testing_util::Zigzag;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

std::string Encode(const Checkpoint& c) {
  std::string out;
  EncodeCheckpoint(c, &out);
  return out;
}

Checkpoint Example() {
  return Checkpoint{.next_source_offset = 1000,
                    .next_target_offset = 2005,
                    .commit_time_ms = 1700000000000,
                    .lane = 3,
                    .segments = {{990, 1990, 5}, {997, 1999, 3}}};
}

// Header fields of a checkpoint value, for hand-built malformed input.
std::string Header(uint64_t next_source, int64_t next_target, int64_t time, uint64_t lane) {
  return "\xC1" + Uvarint(next_source) + Zigzag(next_target) + Zigzag(time) + Uvarint(lane);
}

// ---- Key ----

TEST(CheckpointKey, EncodesAsReadableClusterTopicPartition) {
  EXPECT_EQ(EncodeCheckpointKey({"dc1", "orders", 7}), "dc1/orders/7");
  EXPECT_EQ(EncodeCheckpointKey({"ship-42", "telemetry.v2_raw", 0}), "ship-42/telemetry.v2_raw/0");
}

TEST(CheckpointKey, RoundTripsIncludingExtremePartitions) {
  for (const CheckpointKey& key :
       {CheckpointKey{"a", "b", 0}, CheckpointKey{"dc1", "orders", 2147483647},
        CheckpointKey{"x", std::string(kMaxTopicLength, 't'), 12}, CheckpointKey{"dc1", "orders", 3, "ship-1"}}) {
    EXPECT_THAT(DecodeCheckpointKey(EncodeCheckpointKey(key)), IsOkAndHolds(key));
  }
}

TEST(CheckpointKey, RejectsTextWithoutTwoSlashes) {
  EXPECT_THAT(DecodeCheckpointKey(""), StatusIs(kInvalid, HasSubstr("found no '/'")));
  EXPECT_THAT(DecodeCheckpointKey("dc1-orders-7"), StatusIs(kInvalid, HasSubstr("found no '/'")));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders"), StatusIs(kInvalid, HasSubstr("found one '/'")));
}

TEST(CheckpointKey, ReadsAThirdSlashAsAnEdgePartAndRejectsAFourthAtItsPosition) {
  EXPECT_EQ(EncodeCheckpointKey({"dc1", "orders", 7, "ship-1"}), "dc1/ship-1/orders/7");
  EXPECT_THAT(DecodeCheckpointKey("dc1/ship-1/orders/7"), IsOkAndHolds(CheckpointKey{"dc1", "orders", 7, "ship-1"}));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/eu/7/1"),
              StatusIs(kInvalid, AllOf(HasSubstr("fourth '/'"), HasSubstr("at byte 15"))));
  EXPECT_THAT(DecodeCheckpointKey("dc1//orders/7"),
              StatusIs(kInvalid, AllOf(HasSubstr("edge is empty"), HasSubstr("byte 4"))));
  EXPECT_THAT(DecodeCheckpointKey("dc1/ship-1//7"),
              StatusIs(kInvalid, AllOf(HasSubstr("topic is empty"), HasSubstr("byte 11"))));
}

TEST(CheckpointKey, RejectsEmptyParts) {
  EXPECT_THAT(DecodeCheckpointKey("/orders/7"),
              StatusIs(kInvalid, AllOf(HasSubstr("source cluster is empty"), HasSubstr("byte 0"))));
  EXPECT_THAT(DecodeCheckpointKey("dc1//7"),
              StatusIs(kInvalid, AllOf(HasSubstr("topic is empty"), HasSubstr("byte 4"))));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/"),
              StatusIs(kInvalid, AllOf(HasSubstr("partition is empty"), HasSubstr("byte 11"))));
}

TEST(CheckpointKey, RejectsNonCanonicalOrOutOfRangePartitions) {
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/x7"),
              StatusIs(kInvalid, AllOf(HasSubstr("decimal digit"), HasSubstr("byte 11"))));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/7 "),
              StatusIs(kInvalid, AllOf(HasSubstr("decimal digit"), HasSubstr("byte 12"))));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/-1"), StatusIs(kInvalid, HasSubstr("decimal digit")));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/+1"), StatusIs(kInvalid, HasSubstr("decimal digit")));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/007"), StatusIs(kInvalid, HasSubstr("leading zero")));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/2147483648"),
              StatusIs(kInvalid, HasSubstr("exceeds the int32 range")));
  EXPECT_THAT(DecodeCheckpointKey("dc1/orders/99999999999999999999999"),
              StatusIs(kInvalid, HasSubstr("exceeds the int32 range")));
}

TEST(CheckpointKey, RejectsTopicLongerThanKafkaAllows) {
  const std::string key = "dc1/" + std::string(kMaxTopicLength + 1, 't') + "/0";
  EXPECT_THAT(DecodeCheckpointKey(key), StatusIs(kInvalid, HasSubstr("longer than Kafka's 249")));
}

TEST(CheckpointKey, QuotesBinaryKeysEscapedAndTruncated) {
  const std::string key = std::string("\x01\xff/", 3) + std::string(1000, 'z');
  const auto decoded = DecodeCheckpointKey(key);
  ASSERT_THAT(decoded, StatusIs(kInvalid, HasSubstr("\\x01\\xff/zzz")));
  EXPECT_LT(decoded.status().message().size(), 450u);
}

TEST(CheckpointKeyDeathTest, EncodingAnImpossibleKeyIsABug) {
  EXPECT_DEATH(EncodeCheckpointKey({"dc/1", "orders", 0}), "invariant violated");
  EXPECT_DEATH(EncodeCheckpointKey({"dc1", "", 0}), "invariant violated");
  EXPECT_DEATH(EncodeCheckpointKey({"dc1", "orders", -1}), "invariant violated");
}

// ---- Value: format ----

TEST(CheckpointCodec, EncodesTheDocumentedV1Bytes) {
  // offsets/README.md walks through this example byte by byte. A change
  // here is a format change: bump the version instead.
  const std::string expected(
      "\xc1\xe8\x07\xaa\x1f\x80\xa0\xab\xfe\xf9\x62\x03\x02\xde\x07\xc6\x0f\x05\x02\x04\x03", 21);
  EXPECT_EQ(Encode(Example()), expected);
  EXPECT_THAT(DecodeCheckpoint(expected), IsOkAndHolds(Example()));
}

TEST(CheckpointCodec, AppendsToTheCallersBuffer) {
  std::string buffer = "prefix";
  EncodeCheckpoint(Example(), &buffer);
  ASSERT_EQ(buffer.substr(0, 6), "prefix");
  EXPECT_THAT(DecodeCheckpoint(std::string_view(buffer).substr(6)), IsOkAndHolds(Example()));
}

TEST(CheckpointCodec, RoundTripsCheckpointWithoutSegmentsAndUnknownFields) {
  const Checkpoint c{.next_source_offset = 0, .next_target_offset = -1, .commit_time_ms = -1,
                     .lane = 0, .segments = {}};
  EXPECT_EQ(Encode(c), std::string("\xC1\x00\x01\x01\x00\x00", 6));
  EXPECT_THAT(DecodeCheckpoint(Encode(c)), IsOkAndHolds(c));
}

TEST(CheckpointCodec, RoundTripsExtremeValues) {
  const Checkpoint c{.next_source_offset = kInt64Max,
                     .next_target_offset = kInt64Max,
                     .commit_time_ms = kInt64Max,
                     .lane = std::numeric_limits<int32_t>::max(),
                     .segments = {{0, 0, 1}, {kInt64Max - 1, kInt64Max - 1, 1}}};
  EXPECT_THAT(DecodeCheckpoint(Encode(c)), IsOkAndHolds(c));
}

TEST(CheckpointCodec, RoundTripsRandomCheckpoints) {
  std::mt19937_64 rng(1);
  std::string buffer;
  for (int i = 0; i < 5000; ++i) {
    const Checkpoint c = RandomCheckpoint(rng);
    buffer.clear();  // reuse, as the writer does
    EncodeCheckpoint(c, &buffer);
    ASSERT_THAT(DecodeCheckpoint(buffer), IsOkAndHolds(c)) << "round " << i;
  }
}

TEST(CheckpointCodec, DeltaEncodingKeepsTypicalCheckpointsSmall) {
  // A fragmented transaction at offsets around 10^12: absolute offsets are
  // paid once, each further segment costs a few bytes.
  Checkpoint c{.next_source_offset = 0, .next_target_offset = 0, .commit_time_ms = 1700000000000,
               .lane = 5, .segments = {}};
  int64_t source = 1'000'000'000'000;
  int64_t target = 2'000'000'000'000;
  for (int i = 0; i < 100; ++i) {
    c.segments.push_back({source, target, 50});
    source += 50 + 3;
    target += 50;
  }
  c.next_source_offset = source;
  c.next_target_offset = target;
  // 34 bytes of header and first segment, then 3 per further segment.
  EXPECT_EQ(Encode(c).size(), 34 + 99 * 3u);
}

// ---- Value: malformed input ----

TEST(CheckpointCodec, RejectsEmptyValue) {
  EXPECT_THAT(DecodeCheckpoint(""),
              StatusIs(kInvalid, AllOf(HasSubstr("empty value"), HasSubstr("byte 0"))));
}

TEST(CheckpointCodec, RejectsUnknownFormatVersion) {
  std::string value = Encode(Example());
  value[0] = '\xC3';
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("unsupported format version 3"),
                                       HasSubstr("reads version 1 (0xC1) to 2 (0xC2)"), HasSubstr("byte 0"))));
}

// ---- Version 2: lost source ranges ----

TEST(CheckpointCodec, WritesVersion2OnlyWithALostRangeAndPinsItsBytes) {
  Checkpoint c{.next_source_offset = 11000, .next_target_offset = -1, .commit_time_ms = -1, .lane = 1,
               .segments = {}, .lost = {{1000, 11000}}};
  // C2, next 11000, target -1, time -1, lane 1, no segments, 1 range:
  // first 1000, length 10000.
  const std::string expected = "\xC2" + Uvarint(11000) + Zigzag(-1) + Zigzag(-1) + Uvarint(1) + Uvarint(0) +
                               Uvarint(1) + Uvarint(1000) + Uvarint(10000);
  EXPECT_EQ(Encode(c), expected);
  EXPECT_THAT(DecodeCheckpoint(expected), IsOkAndHolds(c));
  EXPECT_EQ(static_cast<uint8_t>(Encode(Example())[0]), 0xC1) << "no lost range: still version 1";
}

TEST(CheckpointCodec, RoundTripsSeveralLostRangesAfterSegments) {
  Checkpoint c = Example();
  c.next_source_offset = 5000;
  c.lost = {{1000, 1200}, {1200, 1300}, {4000, 5000}};
  EXPECT_THAT(DecodeCheckpoint(Encode(c)), IsOkAndHolds(c));
}

TEST(CheckpointCodec, RejectsVersion2WithoutALostRange) {
  const std::string value = "\xC2" + Uvarint(10) + Zigzag(-1) + Zigzag(-1) + Uvarint(0) + Uvarint(0) + Uvarint(0);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("lost range count is 0"), HasSubstr("byte 6"))));
}

TEST(CheckpointCodec, RejectsALostRangeBeyondTheResumePointOrEmpty) {
  const std::string past = "\xC2" + Uvarint(10) + Zigzag(-1) + Zigzag(-1) + Uvarint(0) + Uvarint(0) + Uvarint(1) +
                           Uvarint(5) + Uvarint(6);
  EXPECT_THAT(DecodeCheckpoint(past), StatusIs(kInvalid, HasSubstr("after next_source_offset 10")));
  const std::string empty = "\xC2" + Uvarint(10) + Zigzag(-1) + Zigzag(-1) + Uvarint(0) + Uvarint(0) + Uvarint(1) +
                            Uvarint(5) + Uvarint(0);
  EXPECT_THAT(DecodeCheckpoint(empty), StatusIs(kInvalid, AllOf(HasSubstr("lost range 0 length is 0"), HasSubstr("byte 8"))));
}

TEST(CheckpointCodec, NamesAnOffsetSyncValueGivenInstead) {
  EXPECT_THAT(DecodeCheckpoint(std::string("\xD1\x01x\x00\x00\x00", 6)),
              StatusIs(kInvalid, HasSubstr("0xD1 (an offset-sync value)")));
}

TEST(CheckpointCodec, RejectsTextProducedToTheTopicByMistake) {
  EXPECT_THAT(DecodeCheckpoint(R"({"next_offset": 5})"),
              StatusIs(kInvalid, HasSubstr("format byte 0x7B is not the expected 0xC1")));
}

TEST(CheckpointCodec, RejectsEveryTruncationOfAValidValue) {
  std::mt19937_64 rng(2);
  for (int round = 0; round < 100; ++round) {
    const std::string value = Encode(RandomCheckpoint(rng));
    for (size_t n = 0; n < value.size(); ++n) {
      EXPECT_THAT(DecodeCheckpoint(std::string_view(value).substr(0, n)),
                  StatusIs(kInvalid, AnyOf(HasSubstr("truncated"), HasSubstr("empty value"),
                                           HasSubstr("remaining bytes can hold"))))
          << "prefix of " << n << " of " << value.size() << " bytes";
    }
  }
}

TEST(CheckpointCodec, NamesTheTruncatedFieldAndByte) {
  const std::string value = "\xC1" + Uvarint(1000) + "\xAA";  // next_target_offset cut short
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("next_target_offset truncated varint"),
                                       HasSubstr("at byte 3"))));
}

TEST(CheckpointCodec, RejectsVarintLongerThanTenBytes) {
  const std::string value = "\xC1" + std::string(10, '\x80') + "\x01";
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("next_source_offset varint is overlong"),
                                       HasSubstr("at byte 1"))));
}

TEST(CheckpointCodec, RejectsVarintOverflowingSixtyFourBits) {
  const std::string value = "\xC1" + std::string(9, '\xFF') + "\x02";
  EXPECT_THAT(DecodeCheckpoint(value), StatusIs(kInvalid, HasSubstr("overlong")));
}

TEST(CheckpointCodec, RejectsNonMinimalVarint) {
  // 5 encoded as two bytes: accepted, it would give one checkpoint two
  // encodings.
  const std::string value = std::string("\xC1\x85\x00", 3) + Zigzag(-1) + Zigzag(-1) +
                            Uvarint(0) + Uvarint(0);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("not minimally encoded"), HasSubstr("byte 1"))));
}

TEST(CheckpointCodec, RejectsSourceOffsetThatWouldBeNegative) {
  const std::string value = Header(uint64_t{1} << 63, -1, -1, 0) + Uvarint(0);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("next_source_offset 9223372036854775808 is out "
                                                 "of range (negative as int64)"),
                                       HasSubstr("byte 1"))));
}

TEST(CheckpointCodec, RejectsNegativeTargetOffsetOtherThanUnknown) {
  const std::string value = Header(10, -2, -1, 0) + Uvarint(0);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("next_target_offset -2 is negative"),
                                       HasSubstr("byte 2"))));
}

TEST(CheckpointCodec, RejectsNegativeCommitTime) {
  const std::string value = Header(10, -1, -7, 0) + Uvarint(0);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("commit_time_ms -7 is negative"),
                                       HasSubstr("byte 3"))));
}

TEST(CheckpointCodec, RejectsLaneBeyondInt32) {
  const std::string value = Header(10, -1, -1, uint64_t{1} << 31) + Uvarint(0);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("lane 2147483648 exceeds the maximum"),
                                       HasSubstr("byte 4"))));
}

TEST(CheckpointCodec, RejectsSegmentCountTheInputCannotHold) {
  const std::string value = Header(10, -1, -1, 0) + Uvarint(uint64_t{1} << 40) +
                            std::string("\x00\x00\x01", 3);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("segment count 1099511627776 is more than the 3 "
                                                 "remaining bytes can hold"),
                                       HasSubstr("byte 5"))));
  const std::string max = Header(10, -1, -1, 0) + Uvarint(~uint64_t{0});
  EXPECT_THAT(DecodeCheckpoint(max), StatusIs(kInvalid, HasSubstr("segment count")));
}

TEST(CheckpointCodec, RejectsEmptySegment) {
  const std::string value = Header(10, -1, -1, 0) + Uvarint(1) + Uvarint(2) + Uvarint(3) +
                            Uvarint(0);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("segment 0 length is 0"), HasSubstr("byte 8"))));
}

TEST(CheckpointCodec, RejectsSegmentsRunningPastInt64) {
  const std::string value = Header(kInt64Max, -1, -1, 0) + Uvarint(2) + Uvarint(kInt64Max - 10) +
                            Uvarint(0) + Uvarint(5) + Uvarint(6) + Uvarint(0) + Uvarint(1);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, HasSubstr("segment 1 source gap 6 exceeds the maximum 5 at byte 25")));
  const std::string length = Header(kInt64Max, -1, -1, 0) + Uvarint(1) + Uvarint(kInt64Max - 1) +
                             Uvarint(0) + Uvarint(2);
  EXPECT_THAT(DecodeCheckpoint(length),
              StatusIs(kInvalid, HasSubstr("segment 0 length 2 exceeds the maximum 1")));
}

TEST(CheckpointCodec, RejectsSegmentsEndingAfterTheResumePoint) {
  // Claims records up to source 20 were replicated but resumes at 10:
  // resuming there would write 10..19 twice.
  const std::string value =
      Header(10, -1, -1, 0) + Uvarint(1) + Uvarint(15) + Uvarint(0) + Uvarint(5);
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, HasSubstr("ends at source offset 20, after next_source_offset 10")));
  const std::string target =
      Header(20, 3, -1, 0) + Uvarint(1) + Uvarint(15) + Uvarint(0) + Uvarint(5);
  EXPECT_THAT(DecodeCheckpoint(target),
              StatusIs(kInvalid, HasSubstr("ends at target offset 5, after next_target_offset 3")));
}

TEST(CheckpointCodec, RejectsTrailingBytes) {
  const std::string value = Encode(Example()) + "zz";
  EXPECT_THAT(DecodeCheckpoint(value),
              StatusIs(kInvalid, AllOf(HasSubstr("2 trailing bytes"), HasSubstr("byte 21"))));
}

TEST(CheckpointCodec, SurvivesRandomCorruptionAndReencodesWhateverItAccepts) {
  // A small in-process fuzzer (libFuzzer needs clang, see offsets/fuzz): no
  // input may crash, and anything accepted must be canonical.
  std::mt19937_64 rng(3);
  int accepted = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string value = Encode(RandomCheckpoint(rng));
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % value.size();
      switch (rng() % 4) {
        case 0: value[at] = static_cast<char>(rng()); break;
        case 1: value[at] = static_cast<char>(value[at] ^ (1 << (rng() % 8))); break;
        case 2: value.insert(at, 1, static_cast<char>(rng())); break;
        default: value.erase(at, 1); break;
      }
      if (value.empty()) value = "\xC1";
    }
    const absl::StatusOr<Checkpoint> decoded = DecodeCheckpoint(value);
    if (decoded.ok()) {
      ++accepted;
      EXPECT_EQ(Encode(*decoded), value);
    } else {
      EXPECT_THAT(decoded, StatusIs(kInvalid, HasSubstr("checkpoint value: ")));
    }
  }
  EXPECT_GT(accepted, 0);  // the corruption reached past the checks sometimes
}

TEST(CheckpointCodecDeathTest, EncodingAMalformedCheckpointIsABug) {
  Checkpoint c = Example();
  c.segments = {{10, 10, 5}, {12, 20, 1}};  // overlapping
  std::string out;
  EXPECT_DEATH(EncodeCheckpoint(c, &out), "invariant violated");
  c = Example();
  c.next_source_offset = 999;  // before the last segment's end
  EXPECT_DEATH(EncodeCheckpoint(c, &out), "invariant violated");
}

}  // namespace
}  // namespace longhaul::offsets
