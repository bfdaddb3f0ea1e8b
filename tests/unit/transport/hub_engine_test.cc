#include "hub_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
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
  o.dead_link_timeout = milliseconds(3000);
  return o;
}

std::string Data(uint64_t id, int64_t first, int64_t last, std::vector<int64_t> offsets = {}, size_t value = 10) {
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
  DataFrame f;
  f.batch_id = id;
  f.topic = kOrders.topic;
  f.partition = kOrders.partition;
  f.first_offset = first;
  f.last_offset = last;
  EXPECT_THAT(EncodeRecords(records, CompressionOptions{Compression::kZstd, 1}, &f), IsOk());
  return EncodeFrame(f);
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
  const uint64_t cost = std::get<DataFrame>(DecodeFrame(frame).value()).uncompressed_size;
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
  const uint64_t cost = std::get<DataFrame>(DecodeFrame(frame).value()).uncompressed_size;
  ASSERT_THAT(engine_.OnMessage(frame, clock_.Now(), 0).error, IsOk());
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
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(PingFrame{3, 777}), clock_.Now(), 1234).error, IsOk());
  std::vector<Frame> out = Drain(engine_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<PongFrame>(out[0]), (PongFrame{3, 777, 1234}));
  clock_.Advance(milliseconds(3001));
  EXPECT_THAT(engine_.OnTick(clock_.Now()),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("nothing from the edge for 3001 ms")));
}

TEST_F(HubEngineTest, NamesAMalformedFrame) {
  std::string bad = Data(1, 0, 0);
  bad[bad.size() - 6] ^= 0x55;
  auto in = engine_.OnMessage(bad, clock_.Now(), 0);
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("data frame: bad checksum")));
  EXPECT_TRUE(in.bad_frame);
}

}  // namespace
}  // namespace longhaul::transport
