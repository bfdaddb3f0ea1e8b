#include "longhaul/transport/record_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::transport {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;

// Null and empty in every position, duplicate header names, negative and
// decreasing timestamps, gaps between offsets.
std::vector<Record> TrickyRecords() {
  std::vector<Record> records;
  Record a;
  a.offset = 100;
  a.timestamp_ms = 1'700'000'000'000;
  a.key = std::nullopt;
  a.value = std::nullopt;  // tombstone with a null key
  records.push_back(a);
  Record b;
  b.offset = 101;
  b.timestamp_ms = 1'600'000'000'000;  // earlier than a: negative delta
  b.key = "";
  b.value = "";
  b.headers = {{"h", std::nullopt}, {"h", ""}, {"", "x"}, {"h", "second h"}};
  records.push_back(b);
  Record c;
  c.offset = 250;  // a gap (compaction)
  c.timestamp_ms = -1;
  c.key = std::string("k\0ey", 4);
  c.value = std::string(3000, 'v');
  records.push_back(c);
  return records;
}

DataFrame FrameFor(int64_t first, int64_t last) {
  DataFrame f;
  f.batch_id = 1;
  f.topic = "orders";
  f.partition = 3;
  f.first_offset = first;
  f.last_offset = last;
  return f;
}

std::string JsonLike(int i) {
  return absl::StrCat(R"({"order_id":)", 100000 + i, R"(,"customer":"customer-)", i % 97,
                      R"(","status":"SHIPPED","items":[{"sku":"SKU-)", i % 13, R"(","qty":)", i % 5 + 1,
                      R"(,"price":19.99}],"currency":"EUR","warehouse":"north-)", i % 3, R"("})");
}

class RecordCodecRoundTrip : public ::testing::TestWithParam<Compression> {};

TEST_P(RecordCodecRoundTrip, KeepsNullApartFromEmptyAndEverythingElse) {
  const std::vector<Record> records = TrickyRecords();
  DataFrame frame = FrameFor(90, 260);
  ASSERT_THAT(EncodeRecords(records, CompressionOptions{GetParam(), 3}, &frame), IsOk());
  EXPECT_EQ(frame.record_count, 3u);
  absl::StatusOr<std::vector<Record>> decoded = DecodeRecords(frame, 1 << 20);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, records);
  EXPECT_FALSE((*decoded)[0].key.has_value());
  EXPECT_TRUE((*decoded)[1].key.has_value() && (*decoded)[1].key->empty());
}

TEST_P(RecordCodecRoundTrip, CompressesJsonLikePayloadsAndReportsTheRatio) {
  std::vector<Record> records;
  for (int i = 0; i < 500; ++i) {
    Record r;
    r.offset = 1000 + i;
    r.timestamp_ms = 1'700'000'000'000 + i * 3;
    r.key = absl::StrCat("order-", i);
    r.value = JsonLike(i);
    r.headers = {{"content-type", "application/json"}};
    records.push_back(std::move(r));
  }
  DataFrame frame = FrameFor(1000, 1499);
  ASSERT_THAT(EncodeRecords(records, CompressionOptions{GetParam(), 3}, &frame), IsOk());
  const double ratio = static_cast<double>(frame.uncompressed_size) / frame.records.size();
  if (GetParam() == Compression::kNone) {
    EXPECT_EQ(frame.compression, Compression::kNone);
    EXPECT_EQ(ratio, 1.0);
  } else {
    EXPECT_EQ(frame.compression, GetParam());
    EXPECT_GT(ratio, 4.0) << CompressionName(GetParam());
  }
  EXPECT_EQ(DecodeRecords(frame, 1 << 20).value(), records);
}

INSTANTIATE_TEST_SUITE_P(Codecs, RecordCodecRoundTrip,
                         ::testing::Values(Compression::kNone, Compression::kZstd, Compression::kLz4),
                         [](const auto& info) { return std::string(CompressionName(info.param)); });

TEST(RecordCodec, DeltaEncodingKeepsSmallRecordsSmall) {
  std::vector<Record> records;
  for (int i = 0; i < 100; ++i) {
    Record r;
    r.offset = 1'000'000'000 + i;
    r.timestamp_ms = 1'700'000'000'000 + i;
    r.value = "v";
    records.push_back(r);
  }
  DataFrame frame = FrameFor(1'000'000'000, 1'000'000'099);
  ASSERT_THAT(EncodeRecords(records, CompressionOptions{Compression::kNone, 0}, &frame), IsOk());
  // Offset delta 0, timestamp delta 1 (after the first), null key, value, no headers.
  EXPECT_LE(frame.uncompressed_size, 100u * 6 + 8);
}

TEST(RecordCodec, FallsBackToNoCompressionWhenItDoesNotHelp) {
  std::mt19937_64 rng(1);
  Record r;
  r.offset = 0;
  r.value = std::string(4096, '\0');
  for (char& c : *r.value) c = static_cast<char>(rng());
  DataFrame frame = FrameFor(0, 0);
  ASSERT_THAT(EncodeRecords(std::vector<Record>{r}, CompressionOptions{Compression::kZstd, 3}, &frame), IsOk());
  EXPECT_EQ(frame.compression, Compression::kNone);
  EXPECT_EQ(DecodeRecords(frame, 1 << 20).value(), std::vector<Record>{r});
}

TEST(RecordCodec, RefusesRecordsOutsideTheRangeOrOutOfOrder) {
  std::vector<Record> records(2);
  records[0].offset = 5;
  records[1].offset = 5;
  DataFrame frame = FrameFor(0, 10);
  EXPECT_THAT(EncodeRecords(records, {}, &frame),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch for orders[3]: record 1 has offset 5")));
  records[1].offset = 11;
  EXPECT_THAT(EncodeRecords(records, {}, &frame), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most the batch's last offset 10")));
  records[0].offset = -1;
  EXPECT_THAT(EncodeRecords(records, {}, &frame), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record 0")));
}

TEST(RecordCodec, RefusesADecompressionBomb) {
  DataFrame frame = FrameFor(0, 10);
  std::vector<Record> records(1);
  records[0].offset = 0;
  records[0].value = std::string(100000, 'a');
  ASSERT_THAT(EncodeRecords(records, CompressionOptions{Compression::kZstd, 3}, &frame), IsOk());
  EXPECT_THAT(DecodeRecords(frame, 50000),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("data frame (batch 1, orders[3]): uncompressed size 100")));
  // Lying about the size: zstd knows the real content size.
  frame.uncompressed_size = 50;
  EXPECT_THAT(DecodeRecords(frame, 1 << 20),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("differs from the uncompressed size 50")));
}

TEST(RecordCodec, RefusesCorruptCompressedData) {
  for (Compression codec : {Compression::kZstd, Compression::kLz4}) {
    std::vector<Record> records(1);
    records[0].offset = 0;
    records[0].value = JsonLike(1) + JsonLike(2) + JsonLike(3);
    DataFrame frame = FrameFor(0, 0);
    ASSERT_THAT(EncodeRecords(records, CompressionOptions{codec, 3}, &frame), IsOk());
    ASSERT_EQ(frame.compression, codec);
    frame.records.resize(frame.records.size() / 2);
    EXPECT_THAT(DecodeRecords(frame, 1 << 20), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("data frame")))
        << CompressionName(codec);
  }
}

TEST(RecordCodec, NamesTheRecordWhoseEncodingIsBroken) {
  std::vector<Record> records = TrickyRecords();
  DataFrame frame = FrameFor(90, 260);
  ASSERT_THAT(EncodeRecords(records, CompressionOptions{Compression::kNone, 0}, &frame), IsOk());
  frame.records.resize(frame.records.size() - 10);
  frame.uncompressed_size = frame.records.size();
  EXPECT_THAT(DecodeRecords(frame, 1 << 20),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("orders[3]): record 2 value")));
  // Claiming more records than encoded.
  ASSERT_THAT(EncodeRecords(records, CompressionOptions{Compression::kNone, 0}, &frame), IsOk());
  frame.record_count = 4;
  EXPECT_THAT(DecodeRecords(frame, 1 << 20), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record 3")));
  // Or fewer.
  frame.record_count = 2;
  EXPECT_THAT(DecodeRecords(frame, 1 << 20),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("trailing bytes after the value")));
}

}  // namespace
}  // namespace longhaul::transport
