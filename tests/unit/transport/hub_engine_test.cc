#include "hub_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "longhaul/base/clock.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/transport/record_codec.h"

namespace longhaul::transport {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using std::chrono::milliseconds;

const TopicPartition kOrders{"orders", 0};

HubEngineOptions Options() {
  HubEngineOptions o;
  o.receive_window_bytes = 100000;
  o.max_batch_bytes = 50000;
  o.max_hello_frame_bytes = 2048;
  o.dead_link_timeout = milliseconds(3000);
  return o;
}

std::string Encode(uint64_t id, const TopicPartition& tp, int64_t first, int64_t last,
                   const std::vector<Record>& records) {
  DataFrame f;
  f.batch_id = id;
  f.topic = tp.topic;
  f.partition = tp.partition;
  f.first_offset = first;
  f.last_offset = last;
  EXPECT_THAT(EncodeRecords(records, CompressionOptions{Compression::kZstd, 1}, &f), IsOk());
  return EncodeFrame(f);
}

std::vector<Record> Records(int64_t first, int64_t last, std::vector<int64_t> offsets = {}, size_t value = 10) {
  if (offsets.empty()) {
    for (int64_t o = first; o <= last; ++o) offsets.push_back(o);
  }
  std::vector<Record> records;
  for (int64_t o : offsets) {
    Record r;
    r.offset = o;
    r.key = "k" + std::to_string(o);
    r.value = std::string(value, 'v');
    records.push_back(r);
  }
  return records;
}

std::string Data(uint64_t id, int64_t first, int64_t last, std::vector<int64_t> offsets = {}, size_t value = 10) {
  return Encode(id, kOrders, first, last, Records(first, last, std::move(offsets), value));
}

// What the edge charges for the batch Data() makes with the same arguments.
uint64_t Cost(int64_t first, int64_t last, std::vector<int64_t> offsets = {}, size_t value = 10) {
  return BatchCreditCost(Records(first, last, std::move(offsets), value));
}

std::vector<Frame> Drain(HubSessionEngine& e) {
  std::vector<Frame> out;
  while (auto f = e.NextFrame()) out.push_back(DecodeFrame(*f).value());
  return out;
}

class HubEngineTest : public ::testing::Test {
 protected:
  void HelloAndAccept(std::vector<PartitionOffset> resume) {
    HelloFrame hello;
    hello.pipeline = "p";
    auto in = engine_.OnMessage(EncodeFrame(hello), clock_.Now(), 0);
    ASSERT_THAT(in.error, IsOk());
    ASSERT_TRUE(in.hello.has_value());
    engine_.Accept(resume, 0);
    std::vector<Frame> out = Drain(engine_);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(std::get<ResumeFrame>(out[0]).next_offsets, resume);
    EXPECT_EQ(std::get<CreditFrame>(out[1]).total_bytes, 100000u);
  }

  ManualClock clock_;
  HubSessionEngine engine_{Options(), clock_.Now()};
};

TEST_F(HubEngineTest, RefusesDataBeforeTheHelloWasAccepted) {
  HelloFrame hello;
  hello.pipeline = "p";
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(hello), clock_.Now(), 0).error, IsOk());
  EXPECT_THAT(engine_.OnMessage(Data(1, 0, 0), clock_.Now(), 0).error,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unexpected data frame from the edge: data before the hub sent resume")));
}

TEST_F(HubEngineTest, DeliversBatchesInOrderWithRecordsIntact) {
  HelloAndAccept({{kOrders, 10}});
  auto in = engine_.OnMessage(Data(1, 10, 14, {10, 12, 14}), clock_.Now(), 0);
  ASSERT_THAT(in.error, IsOk());
  ASSERT_TRUE(in.batch.has_value());
  EXPECT_EQ(in.batch->partition, kOrders);
  ASSERT_EQ(in.batch->records.size(), 3u);
  EXPECT_EQ(in.batch->records[1].offset, 12);
  EXPECT_EQ(in.batch->records[1].key, "k12");
  EXPECT_EQ(in.batch->last_offset, 14);
  EXPECT_THAT(engine_.OnMessage(Data(2, 15, 16), clock_.Now(), 0).error, IsOk());
}

TEST_F(HubEngineTest, DropsAndAcknowledgesABatchItAlreadyCommitted) {
  HelloAndAccept({{kOrders, 20}});
  const std::string frame = Data(7, 10, 19);
  const uint64_t cost = Cost(10, 19);
  auto in = engine_.OnMessage(frame, clock_.Now(), 0);
  ASSERT_THAT(in.error, IsOk());
  EXPECT_TRUE(in.duplicate);
  EXPECT_FALSE(in.batch.has_value());
  std::vector<Frame> out = Drain(engine_);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(std::get<AckFrame>(out[0]).batch_ids, ElementsAre(7));
  // Its credit comes straight back.
  EXPECT_EQ(std::get<CreditFrame>(out[1]).total_bytes, 100000u + cost);
  HubSessionMetrics m;
  engine_.FillMetrics(&m);
  EXPECT_EQ(m.duplicate_batches, 1u);
  EXPECT_EQ(m.credit_outstanding_bytes, 0u);
}

TEST_F(HubEngineTest, TrimsTheCommittedHeadOfAnOverlappingBatch) {
  HelloAndAccept({{kOrders, 15}});
  auto in = engine_.OnMessage(Data(1, 10, 19), clock_.Now(), 0);
  ASSERT_THAT(in.error, IsOk());
  ASSERT_TRUE(in.batch.has_value());
  EXPECT_EQ(in.batch->first_offset, 15);
  ASSERT_EQ(in.batch->records.size(), 5u);
  EXPECT_EQ(in.batch->records.front().offset, 15);
}

TEST_F(HubEngineTest, RefusesABatchThatWouldSkipOffsets) {
  HelloAndAccept({{kOrders, 10}});
  EXPECT_THAT(engine_.OnMessage(Data(1, 12, 19), clock_.Now(), 0).error,
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("data frame (batch 1, orders[0] offsets 12..19) starts after the next expected offset "
                                 "10: offsets 10..11 would be lost")));
}

TEST_F(HubEngineTest, RefusesOffsetsRepeatedWithinTheConnection) {
  HelloAndAccept({});
  ASSERT_THAT(engine_.OnMessage(Data(1, 0, 9), clock_.Now(), 0).error, IsOk());
  EXPECT_THAT(engine_.OnMessage(Data(2, 0, 9), clock_.Now(), 0).error,
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("repeats offsets already received")));
}

TEST_F(HubEngineTest, AcceptsAnyStartForAPartitionItDoesNotKnow) {
  HelloAndAccept({});
  auto in = engine_.OnMessage(Data(1, 12345, 12345), clock_.Now(), 0);
  ASSERT_THAT(in.error, IsOk());
  EXPECT_TRUE(in.batch.has_value());
}

TEST_F(HubEngineTest, AcknowledgesCommitsWithTheHoldTimeAndReturnsCredit) {
  HelloAndAccept({});
  const std::string frame = Data(1, 0, 9);
  const uint64_t cost = Cost(0, 9);
  auto in = engine_.OnMessage(frame, clock_.Now(), 0);
  ASSERT_THAT(in.error, IsOk());
  ASSERT_TRUE(in.batch.has_value());
  EXPECT_EQ(in.batch->decoded_bytes, cost);
  clock_.Advance(milliseconds(120));
  engine_.Ack({1, 99}, {{kOrders, 10}}, clock_.Now());  // 99 is not ours: ignored
  std::vector<Frame> out = Drain(engine_);
  ASSERT_EQ(out.size(), 2u);
  const auto& ack = std::get<AckFrame>(out[0]);
  EXPECT_THAT(ack.batch_ids, ElementsAre(1));
  EXPECT_THAT(ack.committed, ElementsAre(PartitionOffset{kOrders, 10}));
  EXPECT_EQ(ack.hold_us, 120000u);
  EXPECT_EQ(std::get<CreditFrame>(out[1]).total_bytes, 100000u + cost);
}

TEST_F(HubEngineTest, RefusesDataBeyondTheCreditItGranted) {
  HelloAndAccept({});
  // Batches of ~30 KB against 100 KB of credit: the fourth is over.
  int64_t next = 0;
  for (uint64_t id = 1; id <= 3; ++id) {
    ASSERT_THAT(engine_.OnMessage(Data(id, next, next + 2, {}, 10000), clock_.Now(), 0).error, IsOk());
    next += 3;
  }
  EXPECT_THAT(engine_.OnMessage(Data(4, next, next + 2, {}, 10000), clock_.Now(), 0).error,
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("exceeds the credit granted")));
}

TEST_F(HubEngineTest, RefusesABatchLargerThanTheLimit) {
  HelloAndAccept({});
  auto in = engine_.OnMessage(Data(1, 0, 5, {}, 10000), clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("exceed max_batch_bytes 50000")));
  EXPECT_TRUE(in.bad_frame);
}

TEST_F(HubEngineTest, AnswersPingsAndNoticesADeadLink) {
  HelloAndAccept({});
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(PingFrame{3, 777}), clock_.Now(), 1234).error, IsOk());
  std::vector<Frame> out = Drain(engine_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<PongFrame>(out[0]), (PongFrame{3, 777, 1234}));
  clock_.Advance(milliseconds(3001));
  EXPECT_THAT(engine_.OnTick(clock_.Now()),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("nothing from the edge for 3001 ms")));
}

TEST_F(HubEngineTest, NamesAMalformedFrame) {
  HelloAndAccept({});
  std::string bad = Data(1, 0, 0);
  bad[bad.size() - 6] ^= 0x55;
  auto in = engine_.OnMessage(bad, clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("data frame: bad checksum")));
  EXPECT_TRUE(in.bad_frame);
  EXPECT_EQ(in.refusal, RefusalReason::kBadFrame);
}

// ---- hostile input: every case ends this session with its reason, nothing more

TEST_F(HubEngineTest, RefusesAnyFrameButHelloFirst) {
  auto in = engine_.OnMessage(EncodeFrame(PingFrame{1, 2}), clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("unexpected ping frame from the edge: the first frame must be hello")));
  EXPECT_EQ(in.refusal, RefusalReason::kProtocol);
  EXPECT_EQ(engine_.NextFrame(), nullptr);  // no pong for it
}

TEST_F(HubEngineTest, ReadsOnlySmallFramesUntilAHelloArrives) {
  EXPECT_EQ(engine_.max_message_bytes(), 2048u);
  // A valid data frame of ~10 KB before hello: refused on its header's size.
  DataFrame big;
  big.topic = "t";
  big.first_offset = big.last_offset = 0;
  std::vector<Record> one(1);
  one[0].offset = 0;
  one[0].value = std::string(10000, 'v');
  ASSERT_THAT(EncodeRecords(one, CompressionOptions{Compression::kNone, 0}, &big), IsOk());
  auto in = engine_.OnMessage(EncodeFrame(big), clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kResourceExhausted,
                                 HasSubstr("before the hello frames are limited to 2048 bytes")));
  EXPECT_EQ(in.refusal, RefusalReason::kBadFrame);

  HubSessionEngine accepted(Options(), clock_.Now());
  HelloFrame hello;
  hello.pipeline = "p";
  ASSERT_THAT(accepted.OnMessage(EncodeFrame(hello), clock_.Now(), 0).error, IsOk());
  // Hello seen (the shell checks its identity before reading again): the
  // next read may bring data as soon as the handler accepts.
  EXPECT_EQ(accepted.max_message_bytes(), kDefaultMaxFrameBytes);
  accepted.Accept({}, 5);
  EXPECT_THAT(accepted.OnMessage(Data(1, 0, 9, {}, 1000), clock_.Now(), 0).error, IsOk());
}

TEST_F(HubEngineTest, ChargesCreditForDecodedRecordsNotCompressedBytes) {
  HelloAndAccept({});
  // 9,000 empty records: ~45 KB raw, a few hundred bytes of zstd, but
  // 9,000 record objects decoded (over 1 MB) against 100 KB of credit.
  std::vector<Record> empty(9000);
  for (int i = 0; i < 9000; ++i) empty[i].offset = i;
  const std::string frame = Encode(1, kOrders, 0, 8999, empty);
  ASSERT_LT(frame.size(), 2000u);
  auto in = engine_.OnMessage(frame, clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("exceeds the credit granted")));
  EXPECT_EQ(in.refusal, RefusalReason::kCredit);
  EXPECT_FALSE(in.batch.has_value());
}

TEST_F(HubEngineTest, RefusesAHeaderBombBeforeAllocatingIt) {
  HelloAndAccept({});
  // One record with 20,000 empty headers: 40 KB raw, 1.6 MB of header
  // objects. The decoder refuses at the header count, before reserving.
  std::vector<Record> bomb(1);
  bomb[0].offset = 0;
  bomb[0].headers.resize(20000);
  auto in = engine_.OnMessage(Encode(1, kOrders, 0, 0, bomb), clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("header count")));
  EXPECT_EQ(in.refusal, RefusalReason::kCredit);
}

TEST_F(HubEngineTest, CapsTheRecordsInOneBatch) {
  HubEngineOptions o = Options();
  o.max_records_per_batch = 100;
  HubSessionEngine engine(o, clock_.Now());
  HelloFrame hello;
  hello.pipeline = "p";
  ASSERT_THAT(engine.OnMessage(EncodeFrame(hello), clock_.Now(), 0).error, IsOk());
  engine.Accept({}, 1);
  ASSERT_THAT(engine.OnMessage(Data(1, 0, 99, {}, 1), clock_.Now(), 0).error, IsOk());
  auto in = engine.OnMessage(Data(2, 100, 200, {}, 1), clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kResourceExhausted,
                                 HasSubstr("101 records exceed max_records_per_batch 100")));
  EXPECT_EQ(in.refusal, RefusalReason::kRecords);
}

TEST_F(HubEngineTest, ChargesAMinimumForEmptyBatchesAndGivesExactlyThatBack) {
  HelloAndAccept({});
  // Empty batches that only move over gaps: each costs kMinBatchCreditBytes.
  const uint64_t fit = 100000 / kMinBatchCreditBytes;
  int64_t next = 0;
  for (uint64_t id = 1; id <= fit; ++id, next += 10) {
    auto in = engine_.OnMessage(Encode(id, kOrders, next, next + 9, {}), clock_.Now(), 0);
    ASSERT_THAT(in.error, IsOk()) << id;
    ASSERT_TRUE(in.batch.has_value());
    EXPECT_TRUE(in.batch->records.empty());
  }
  auto over = engine_.OnMessage(Encode(fit + 1, kOrders, next, next + 9, {}), clock_.Now(), 0);
  EXPECT_EQ(over.refusal, RefusalReason::kCredit);

  HubSessionEngine again(Options(), clock_.Now());
  HelloFrame hello;
  hello.pipeline = "p";
  ASSERT_THAT(again.OnMessage(EncodeFrame(hello), clock_.Now(), 0).error, IsOk());
  again.Accept({}, 1);
  Drain(again);
  ASSERT_THAT(again.OnMessage(Encode(1, kOrders, 0, 9, {}), clock_.Now(), 0).error, IsOk());
  again.Ack({1}, {{kOrders, 10}}, clock_.Now());
  std::vector<Frame> out = Drain(again);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<CreditFrame>(out[1]).total_bytes, 100000u + kMinBatchCreditBytes);
}

TEST_F(HubEngineTest, ClosesASessionWhoseEdgeSendsPingsButNeverReads) {
  HubEngineOptions o = Options();
  o.max_outbound_bytes = 4096;
  HubSessionEngine engine(o, clock_.Now());
  HelloFrame hello;
  hello.pipeline = "p";
  ASSERT_THAT(engine.OnMessage(EncodeFrame(hello), clock_.Now(), 0).error, IsOk());
  HubSessionEngine::Inbound in;
  int pings = 0;
  while (in.error.ok() && pings < 10000) in = engine.OnMessage(EncodeFrame(PingFrame{uint64_t(++pings), 1}), clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kResourceExhausted,
                                 HasSubstr("the edge does not read: ")));
  EXPECT_EQ(in.refusal, RefusalReason::kOutboundQueue);
  EXPECT_LT(pings, 400);  // ~20-byte pongs: refused just past 4 KiB
  EXPECT_LE(engine.queued_bytes(), 4096u + 64);
}

TEST_F(HubEngineTest, NoticesOnTickAcksPilingUpForAnEdgeThatDoesNotRead) {
  HubEngineOptions o = Options();
  o.max_outbound_bytes = 1024;
  HubSessionEngine engine(o, clock_.Now());
  HelloFrame hello;
  hello.pipeline = "p";
  ASSERT_THAT(engine.OnMessage(EncodeFrame(hello), clock_.Now(), 0).error, IsOk());
  engine.Accept({}, 1);
  for (int i = 0; i < 60; ++i) engine.Ack({}, {{TopicPartition{"t", i}, 10}}, clock_.Now());
  EXPECT_THAT(engine.OnTick(clock_.Now()), StatusIs(absl::StatusCode::kResourceExhausted,
                                                    HasSubstr("max_outbound_bytes 1024")));
}

TEST_F(HubEngineTest, CapsThePartitionsOfOneSession) {
  HubEngineOptions o = Options();
  o.max_partitions = 2;
  HubSessionEngine engine(o, clock_.Now());
  HelloFrame hello;
  hello.pipeline = "p";
  ASSERT_THAT(engine.OnMessage(EncodeFrame(hello), clock_.Now(), 0).error, IsOk());
  engine.Accept({}, 1);
  ASSERT_THAT(engine.OnMessage(Encode(1, {"a", 0}, 0, 0, Records(0, 0)), clock_.Now(), 0).error, IsOk());
  ASSERT_THAT(engine.OnMessage(Encode(2, {"a", 1}, 0, 0, Records(0, 0)), clock_.Now(), 0).error, IsOk());
  ASSERT_THAT(engine.OnMessage(Encode(3, {"a", 0}, 1, 1, Records(1, 1)), clock_.Now(), 0).error, IsOk());
  auto in = engine.OnMessage(Encode(4, {"a", 2147483647}, 0, 0, Records(0, 0)), clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kResourceExhausted,
                                 HasSubstr("data frame (batch 4, a[2147483647] offsets 0..0): more than "
                                           "max_partitions_per_session 2")));
  EXPECT_EQ(in.refusal, RefusalReason::kPartitions);
}

TEST_F(HubEngineTest, RefusesABatchIdThatIsStillOutstanding) {
  HelloAndAccept({});
  ASSERT_THAT(engine_.OnMessage(Data(1, 0, 0), clock_.Now(), 0).error, IsOk());
  auto in = engine_.OnMessage(Data(1, 1, 1), clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch id is already outstanding")));
  EXPECT_EQ(in.refusal, RefusalReason::kProtocol);
}

TEST_F(HubEngineTest, TakesABatchEndingJustBelowTheLargestOffsetWithoutOverflow) {
  constexpr int64_t kLast = std::numeric_limits<int64_t>::max() - 1;
  HelloAndAccept({{kOrders, kLast - 1}});
  auto in = engine_.OnMessage(Data(1, kLast - 1, kLast, {kLast}), clock_.Now(), 0);
  ASSERT_THAT(in.error, IsOk());
  ASSERT_TRUE(in.batch.has_value());
  EXPECT_EQ(in.batch->last_offset, kLast);
  engine_.Ack({1}, {{kOrders, kLast + 1}}, clock_.Now());
  // A repeat of it is now a committed duplicate, not an overflow.
  auto again = engine_.OnMessage(Data(2, kLast - 1, kLast, {kLast}), clock_.Now(), 0);
  ASSERT_THAT(again.error, IsOk());
  EXPECT_TRUE(again.duplicate);
}

TEST_F(HubEngineTest, GapsAndRepeatsAreRefusedAsOffsets) {
  HelloAndAccept({{kOrders, 10}});
  auto gap = engine_.OnMessage(Data(1, 12, 19), clock_.Now(), 0);
  EXPECT_EQ(gap.refusal, RefusalReason::kOffsets);
  HubSessionEngine other(Options(), clock_.Now());
  HelloFrame hello;
  hello.pipeline = "p";
  ASSERT_THAT(other.OnMessage(EncodeFrame(hello), clock_.Now(), 0).error, IsOk());
  other.Accept({}, 1);
  ASSERT_THAT(other.OnMessage(Data(1, 0, 9), clock_.Now(), 0).error, IsOk());
  EXPECT_EQ(other.OnMessage(Data(2, 5, 9), clock_.Now(), 0).refusal, RefusalReason::kOffsets);
}

}  // namespace
}  // namespace longhaul::transport
