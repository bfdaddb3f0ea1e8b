#include "longhaul/transport/frame.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>

#include "longhaul/testing/status_matchers.h"
#include "longhaul/transport/crc32c.h"

namespace longhaul::transport {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

HelloFrame ExampleHello() {
  HelloFrame h;
  h.pipeline = "dc1-to-cloud";
  h.lane = 3;
  h.generation = (uint64_t{0x5eed} << 32) | 17;
  h.link_id = 0xDEADBEEFCAFEF00DULL;
  h.connection_index = 1;
  h.connection_count = 4;
  h.edge_name = "ship-7";
  return h;
}

DataFrame ExampleData() {
  DataFrame d;
  d.batch_id = 42;
  d.topic = "orders";
  d.partition = 7;
  d.first_offset = 1000;
  d.last_offset = 1009;
  d.record_count = 3;
  d.compression = Compression::kNone;
  d.records = "0123456789abcdef";
  d.uncompressed_size = d.records.size();
  return d;
}

ReportFrame ExampleReport() {
  ReportFrame r;
  r.wall_ms = 1'700'000'000'456;
  r.buffered_bytes = 12 << 20;
  r.buffer_budget_bytes = 256 << 20;
  r.partitions = {
      {{"orders", 7}, 5000, 4000, 1'699'999'990'000, 100, 0},
      {{"audit", 0}, -1, -1, -1, -1, 0},  // nothing known yet
      {{"orders", 2}, 10, 10, -1, 3, 42},
  };
  return r;
}

std::vector<Frame> OneOfEach() {
  return {
      ExampleHello(),
      ResumeFrame{(uint64_t{0x5eed} << 32) | 3, {{{"orders", 7}, 1000}, {{"orders", 2}, 0}, {{"audit", 0}, 55}}},
      ExampleData(),
      AckFrame{{9, 3, 1000000}, {{{"orders", 7}, 1010}}, 250000},
      CreditFrame{64 << 20},
      PingFrame{17, 123456789},
      PongFrame{17, 123456789, 1'700'000'000'000},
      ErrorFrame{absl::StatusCode::kPermissionDenied, "edge 'x' may not feed pipeline 'y'"},
      CloseFrame{"draining"},
      ExampleReport(),
  };
}

using namespace std::string_literals;

// Recomputes the trailer after the test edited header or payload bytes.
void FixChecksum(std::string* frame) {
  const uint32_t crc = Crc32c(0, frame->data(), frame->size() - 4);
  for (int i = 0; i < 4; ++i) (*frame)[frame->size() - 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
}

// A frame of `type` around `payload` with a correct checksum.
std::string FrameWithPayload(uint8_t type, const std::string& payload) {
  std::string frame = "LH\x02"s;
  frame.push_back(static_cast<char>(type));
  frame += "\0\0\0"s;
  frame.push_back(static_cast<char>(payload.size()));
  frame += payload + "0000";
  FixChecksum(&frame);
  return frame;
}

TEST(FrameCodec, RoundTripsEveryFrameType) {
  for (const Frame& frame : OneOfEach()) {
    const std::string bytes = EncodeFrame(frame);
    absl::StatusOr<Frame> decoded = DecodeFrame(bytes);
    ASSERT_THAT(decoded, IsOk()) << FrameTypeName(TypeOf(frame));
    Frame expected = frame;
    // Lists come back in canonical (sorted) order.
    if (auto* r = std::get_if<ResumeFrame>(&expected)) {
      r->next_offsets = {{{"audit", 0}, 55}, {{"orders", 2}, 0}, {{"orders", 7}, 1000}};
    }
    if (auto* a = std::get_if<AckFrame>(&expected)) a->batch_ids = {3, 9, 1000000};
    if (auto* r = std::get_if<ReportFrame>(&expected)) {
      std::sort(r->partitions.begin(), r->partitions.end(),
                [](const PartitionReport& x, const PartitionReport& y) { return x.partition < y.partition; });
    }
    EXPECT_EQ(*decoded, expected) << FrameTypeName(TypeOf(frame));
    EXPECT_EQ(EncodeFrame(*decoded), bytes);
  }
}

TEST(FrameCodec, WritesTheDocumentedHeaderAndTrailer) {
  const std::string bytes = EncodeFrame(CreditFrame{300});
  // 'L' 'H' version 2, type 5 (credit), payload length 2 (varint 300 = AC 02).
  ASSERT_EQ(bytes.size(), 8u + 2u + 4u);
  EXPECT_EQ(bytes.substr(0, 10), std::string("LH\x02\x05\x00\x00\x00\x02\xAC\x02", 10));
  const uint32_t crc = Crc32c(bytes.substr(0, 10));
  EXPECT_EQ(static_cast<uint8_t>(bytes[10]), crc >> 24);
  EXPECT_EQ(static_cast<uint8_t>(bytes[13]), crc & 0xFF);
}

TEST(FrameCodec, KeepsEmptyListsAndEmptyStrings) {
  for (const Frame& frame : std::vector<Frame>{ResumeFrame{}, AckFrame{}, CloseFrame{""}}) {
    absl::StatusOr<Frame> decoded = DecodeFrame(EncodeFrame(frame));
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(*decoded, frame);
  }
  DataFrame empty = ExampleData();
  empty.record_count = 0;
  empty.records.clear();
  empty.uncompressed_size = 0;
  EXPECT_EQ(DecodeFrame(EncodeFrame(empty)).value(), Frame(empty));
}

TEST(FrameCodec, RejectsTruncatedFramesNamingTheType) {
  const std::string bytes = EncodeFrame(ExampleData());
  EXPECT_THAT(DecodeFrame(bytes.substr(0, 3)), StatusIs(kInvalid, HasSubstr("frame truncated: 3 bytes")));
  EXPECT_THAT(DecodeFrame(bytes.substr(0, 6)),
              StatusIs(kInvalid, HasSubstr("data frame truncated: 6 bytes, the header needs 8")));
  for (size_t cut = 8; cut < bytes.size(); ++cut) {
    EXPECT_THAT(DecodeFrame(bytes.substr(0, cut)),
                StatusIs(kInvalid, AllOf(HasSubstr("data frame truncated"), HasSubstr("got " + std::to_string(cut)))));
  }
  EXPECT_THAT(DecodeFrame(""), StatusIs(kInvalid, HasSubstr("truncated")));
}

TEST(FrameCodec, RejectsTrailingBytes) {
  EXPECT_THAT(DecodeFrame(EncodeFrame(PingFrame{1, 2}) + "x"),
              StatusIs(kInvalid, HasSubstr("ping frame: 1 trailing bytes")));
}

TEST(FrameCodec, RejectsOversizedFramesFromTheHeaderAlone) {
  std::string bytes = EncodeFrame(ExampleData());
  EXPECT_THAT(DecodeFrame(bytes, FrameLimits{bytes.size() - 1}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("data frame of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                                 std::to_string(bytes.size() - 1))));
  // A header announcing 4 GiB is refused before anything else arrives.
  const std::string header("LH\x02\x03\xFF\xFF\xFF\xF0", 8);
  EXPECT_THAT(DecodeFrameHeader(header), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("data frame of")));
  EXPECT_THAT(DecodeFrame(bytes, FrameLimits{bytes.size()}), IsOk());
}

TEST(FrameCodec, RejectsUnknownTypes) {
  for (uint8_t type : {0, 11, 200}) {
    std::string bytes = EncodeFrame(CloseFrame{"x"});
    bytes[3] = static_cast<char>(type);
    FixChecksum(&bytes);
    EXPECT_THAT(DecodeFrame(bytes),
                StatusIs(kInvalid, HasSubstr("frame of unknown type " + std::to_string(type) + " (known types are 1..10)")));
  }
}

TEST(FrameCodec, RejectsOtherProtocolVersions) {
  std::string bytes = EncodeFrame(ExampleHello());
  bytes[2] = 1;  // a version-1 edge (before hub-issued generations)
  FixChecksum(&bytes);
  EXPECT_THAT(DecodeFrame(bytes), StatusIs(absl::StatusCode::kFailedPrecondition,
                                           HasSubstr("hello frame: unsupported protocol version 1 (this side speaks "
                                                     "version 2)")));
}

TEST(FrameCodec, RejectsBytesThatAreNotALonghaulFrame) {
  EXPECT_THAT(DecodeFrame("GET / HTTP/1.1\r\n\r\n"),
              StatusIs(kInvalid, HasSubstr("not a longhaul frame: magic is 0x4745")));
}

TEST(FrameCodec, RejectsABadChecksumNamingTheFrame) {
  const std::string good = EncodeFrame(ExampleData());
  for (size_t i = 0; i < good.size(); ++i) {
    if (i < 8) continue;  // header bytes fail earlier checks
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_THAT(DecodeFrame(bad), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("data frame: bad checksum")))
        << "byte " << i;
  }
}

TEST(FrameCodec, NamesTheBadFieldAndItsByte) {
  // A hello whose pipeline is empty: version at byte 8, pipeline at byte 9.
  EXPECT_THAT(DecodeFrame(FrameWithPayload(1, "\x01\x00\x01\x00\x00\x00\x01\x00"s)),
              StatusIs(kInvalid, HasSubstr("hello frame: pipeline is empty at byte 9")));
  // A data frame whose topic length runs past the end.
  EXPECT_THAT(DecodeFrame(FrameWithPayload(3, "\x01\x09" "ab"s)),
              StatusIs(kInvalid, HasSubstr("data frame: topic is truncated (9 bytes declared, 2 left) at byte 10")));
}

TEST(FrameCodec, RejectsNonCanonicalAndInconsistentPayloads) {
  // Credit as an overlong varint (0x80 0x00 for 0).
  EXPECT_THAT(DecodeFrame(FrameWithPayload(5, "\x80\x00"s)),
              StatusIs(kInvalid, HasSubstr("credit frame: total bytes varint is not minimally encoded at byte 8")));
  // Resume listing topics out of order: "b" then "a".
  EXPECT_THAT(DecodeFrame(FrameWithPayload(2, "\x00\x02\x01" "b\x01\x00\x00\x01" "a\x01\x00\x00"s)),
              StatusIs(kInvalid, HasSubstr("resume frame: topic is out of order")));
  // Resume with a partition twice.
  EXPECT_THAT(DecodeFrame(FrameWithPayload(2, "\x00\x01\x01" "a\x02\x03\x00\x03\x05"s)),
              StatusIs(kInvalid, HasSubstr("partition 3 is out of order")));
  // Error frame with code 0 (OK).
  EXPECT_THAT(DecodeFrame(FrameWithPayload(8, "\x00\x00"s)),
              StatusIs(kInvalid, HasSubstr("error frame: code is 0 (OK)")));
  // Data: more records than offsets in the range (range 5..5, 2 records).
  EXPECT_THAT(DecodeFrame(FrameWithPayload(3, "\x01\x01t\x00\x05\x00\x02\x00\x00"s)),
              StatusIs(kInvalid, HasSubstr("data frame: record count 2 exceeds the 1 offsets of the range 5..5")));
  // Data: unknown compression code.
  EXPECT_THAT(DecodeFrame(FrameWithPayload(3, "\x01\x01t\x00\x05\x00\x01\x07\x00"s)),
              StatusIs(kInvalid, HasSubstr("data frame: compression code 7 is unknown")));
  // Data: uncompressed size disagrees with the raw record bytes.
  EXPECT_THAT(DecodeFrame(FrameWithPayload(3, "\x01\x01t\x00\x05\x00\x01\x00\x09xx"s)),
              StatusIs(kInvalid, HasSubstr("uncompressed size 9 differs from the 2 uncompressed record bytes")));
  // Hello whose connection index is not below the count.
  EXPECT_THAT(DecodeFrame(FrameWithPayload(1, "\x01\x01p\x01\x00\x00\x02\x02\x00"s)),
              StatusIs(kInvalid, HasSubstr("connection index 2 is not below the connection count 2")));
}

TEST(FrameCodec, ParsesCompressionNames) {
  EXPECT_EQ(ParseCompression("zstd").value(), Compression::kZstd);
  EXPECT_EQ(ParseCompression("lz4").value(), Compression::kLz4);
  EXPECT_EQ(ParseCompression("none").value(), Compression::kNone);
  EXPECT_THAT(ParseCompression("gzip"), StatusIs(kInvalid, HasSubstr("expected none, zstd or lz4")));
}

TEST(FrameCodecDeathTest, EncodingInvalidValuesIsABug) {
  DataFrame d = ExampleData();
  d.last_offset = d.first_offset - 1;
  EXPECT_DEATH(EncodeFrame(d), "invariant violated");
  EXPECT_DEATH(EncodeFrame(ResumeFrame{0, {{{"a", 1}, 5}, {{"a", 1}, 6}}}), "invariant violated");
  EXPECT_DEATH(EncodeFrame(ErrorFrame{absl::StatusCode::kOk, ""}), "invariant violated");
  d = ExampleData();
  d.last_offset = std::numeric_limits<int64_t>::max();  // last_offset + 1 would overflow
  EXPECT_DEATH(EncodeFrame(d), "invariant violated");
}

TEST(FrameCodec, RejectsABatchWhoseNextOffsetWouldOverflow) {
  // A data frame ending at INT64_MAX: the partition would continue at
  // INT64_MAX + 1. first = INT64_MAX - 5 (varint), span 5.
  DataFrame d = ExampleData();
  d.first_offset = std::numeric_limits<int64_t>::max() - 6;
  d.last_offset = d.first_offset + 5;
  std::string bytes = EncodeFrame(d);  // ends at INT64_MAX - 1: fine
  ASSERT_THAT(DecodeFrame(bytes), IsOk());
  // Ending at INT64_MAX cannot be encoded by us (CHECKed): write the bytes by hand.
  std::string payload;
  payload += "\x2a\x06orders\x07"s;
  // first offset INT64_MAX - 5 as a varint, span 5, 3 records, no compression, 16 bytes.
  uint64_t v = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - 5;
  while (v >= 0x80) {
    payload.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  payload.push_back(static_cast<char>(v));
  payload += "\x05\x03\x00\x10" "0123456789abcdef"s;
  EXPECT_THAT(DecodeFrame(FrameWithPayload(3, payload)),
              StatusIs(kInvalid, HasSubstr("data frame: offset span")));
}

TEST(FrameCodec, RejectsReportValuesBelowMinusOneAndUnsortedPartitions) {
  // wall 0, buffered 0, budget 0, one partition "a"[0] with end offset -2 (zig-zag 3).
  EXPECT_THAT(DecodeFrame(FrameWithPayload(10, "\x00\x00\x00\x01\x01" "a\x00\x03\x01\x01\x01\x00"s)),
              StatusIs(kInvalid, HasSubstr("report frame: end offset -2 is below -1 (unknown)")));
  // "b"[0] then "a"[0].
  EXPECT_THAT(DecodeFrame(FrameWithPayload(10, "\x00\x00\x00\x02\x01" "b\x00\x01\x01\x01\x01\x00"
                                               "\x01" "a\x00\x01\x01\x01\x01\x00"s)),
              StatusIs(kInvalid, HasSubstr("report frame: partition a[0] is out of order")));
}

}  // namespace
}  // namespace longhaul::transport
