// EdgeBatcher (mirror/src/edge_batcher.h): the edge's per-partition batch
// cursors. Records, resume seeks and acks in; batches to the link, pause and
// reassign requests out. A fake link with a byte budget; time is a ManualClock.
#include "../../../mirror/src/edge_batcher.h"  // private to mirror/

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace longhaul::mirror {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FakeLink final : public EdgeBatchSink {
 public:
  uint64_t budget = 1 << 20;
  uint64_t buffered = 0;
  std::vector<absl::Status> answers;  // SendBatch answers, in turn; then OK
  std::vector<transport::OutgoingBatch> sent;

  bool CanSend(uint64_t bytes) override { return buffered + bytes <= budget; }
  absl::StatusOr<uint64_t> SendBatch(transport::OutgoingBatch batch) override {
    if (!answers.empty()) {
      absl::Status s = answers.front();
      answers.erase(answers.begin());
      if (!s.ok()) return s;
    }
    buffered += 1000;  // what a test's small batch costs the buffer
    sent.push_back(std::move(batch));
    return sent.size();
  }
  // (first, last) offsets of each batch sent.
  std::vector<std::pair<int64_t, int64_t>> Ranges() const {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const auto& b : sent) out.emplace_back(b.first_offset, b.last_offset);
    return out;
  }
};

const TopicPartition kTp{"orders", 0};

class EdgeBatcherTest : public ::testing::Test {
 protected:
  EdgeBatcherTest() {
    options_.max_batch_bytes = 1 << 20;
    options_.max_batch_delay = 50ms;
    options_.buffer_budget_bytes = link_.budget;
    options_.resync_grace = 2s;
    batcher_ = std::make_unique<EdgeBatcher>(&link_, &clock_, options_);
  }

  // The partition as the hub names it at a resume: committed up to `offset`, read from there.
  void Resume(int64_t offset) {
    transport::ResumeEvent e;
    e.committed.push_back({kTp, offset});
    e.seek.push_back({kTp, offset});
    batcher_->OnResume(e);
  }
  void StartAt(int64_t offset) {
    batcher_->SetDiscovered({kTp});
    Resume(offset);
    batcher_->StartDiscovered(nullptr);
    ASSERT_TRUE(batcher_->TakeReassign());
  }
  absl::Status Read(int64_t offset, size_t value_bytes = 10) {
    std::string value(value_bytes, 'v');
    SourceRecordView r;
    r.partition_handle = &kTp;
    r.topic = kTp.topic.c_str();
    r.partition = kTp.partition;
    r.offset = offset;
    r.timestamp_ms = 1'700'000'000'000 + offset;
    r.value = value.data();
    r.value_len = value.size();
    r.headers = RecordHeaders::Of({{"h", std::nullopt}});
    return batcher_->OnRecord(r);
  }
  void Ack(int64_t offset) {
    transport::AckEvent e;
    e.committed.push_back({kTp, offset});
    batcher_->OnAck(e);
  }

  ManualClock clock_;
  FakeLink link_;
  EdgeBatcherOptions options_;
  std::unique_ptr<EdgeBatcher> batcher_;
};

TEST_F(EdgeBatcherTest, ABatchGoesAfterMaxDelayWithRecordsUnchanged) {
  StartAt(0);
  ASSERT_TRUE(Read(0).ok());
  ASSERT_TRUE(Read(1).ok());
  clock_.Advance(49ms);
  ASSERT_TRUE(batcher_->Tick().ok());
  EXPECT_TRUE(link_.sent.empty());
  EXPECT_TRUE(batcher_->has_open());
  clock_.Advance(1ms);
  ASSERT_TRUE(batcher_->Tick().ok());
  ASSERT_EQ(link_.sent.size(), 1u);
  const transport::OutgoingBatch& b = link_.sent[0];
  EXPECT_EQ(b.partition, kTp);
  EXPECT_EQ(b.first_offset, 0);
  EXPECT_EQ(b.last_offset, 1);
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(b.records[1].offset, 1);
  EXPECT_EQ(b.records[1].key, std::nullopt);
  EXPECT_EQ(b.records[1].value, std::string(10, 'v'));
  EXPECT_EQ(b.records[1].timestamp_ms, 1'700'000'000'001);
  EXPECT_EQ(b.records[1].headers, (std::vector<RecordHeader>{{"h", std::nullopt}}));
  EXPECT_EQ(batcher_->Find(kTp)->sent_next, 2);
  EXPECT_EQ(batcher_->Find(kTp)->records_sent, 2);
}

TEST_F(EdgeBatcherTest, ABatchGoesAtOnceWhenItReachesMaxBytes) {
  options_.max_batch_bytes = 1000;
  batcher_ = std::make_unique<EdgeBatcher>(&link_, &clock_, options_);
  StartAt(0);
  ASSERT_TRUE(Read(0, 400).ok());
  EXPECT_TRUE(link_.sent.empty());
  ASSERT_TRUE(Read(1, 700).ok());
  EXPECT_THAT(link_.Ranges(), ElementsAre(std::pair<int64_t, int64_t>{0, 1}));
}

TEST_F(EdgeBatcherTest, ABatchCoversTheGapBeforeItsFirstRecord) {
  StartAt(10);
  // Compaction left 10 and 11 out.
  ASSERT_TRUE(Read(12).ok());
  ASSERT_TRUE(batcher_->Tick(/*all=*/true).ok());
  ASSERT_TRUE(Read(15).ok());
  ASSERT_TRUE(batcher_->Tick(true).ok());
  EXPECT_THAT(link_.Ranges(), ElementsAre(std::pair<int64_t, int64_t>{10, 12}, std::pair<int64_t, int64_t>{13, 15}));
}

TEST_F(EdgeBatcherTest, AcksOutOfOrderNeverMoveTheCommittedOffsetBack) {
  StartAt(0);
  for (int64_t end : {10, 20, 30}) {
    for (int64_t o = end - 10; o < end; ++o) ASSERT_TRUE(Read(o).ok());
    ASSERT_TRUE(batcher_->Tick(true).ok());
  }
  ASSERT_EQ(batcher_->Find(kTp)->unacked.size(), 3u);
  Ack(20);
  EXPECT_EQ(batcher_->Find(kTp)->acked, 20);
  EXPECT_EQ(batcher_->Find(kTp)->unacked.size(), 1u);  // the batch ending at 30
  Ack(10);  // late
  EXPECT_EQ(batcher_->Find(kTp)->acked, 20);
  EXPECT_EQ(batcher_->Find(kTp)->unacked.size(), 1u);
  Ack(30);
  EXPECT_EQ(batcher_->Find(kTp)->acked, 30);
  EXPECT_TRUE(batcher_->Find(kTp)->unacked.empty());
  EXPECT_TRUE(batcher_->Find(kTp)->idle());
}

TEST_F(EdgeBatcherTest, ASeekAfterAReconnectRereadsFromTheHubsPositionAndDropsOlderRecords) {
  StartAt(0);
  for (int64_t o = 0; o < 30; ++o) ASSERT_TRUE(Read(o).ok());
  ASSERT_TRUE(batcher_->Tick(true).ok());
  ASSERT_TRUE(Read(30).ok());  // open, not yet sent
  // The link reconnected; the hub committed up to 20 and wants 20 next.
  Resume(20);
  EXPECT_TRUE(batcher_->TakeReassign());
  EXPECT_FALSE(batcher_->TakeReassign());  // once per request
  auto assignment = batcher_->Assignment();
  ASSERT_EQ(assignment.size(), 1u);
  EXPECT_EQ(assignment[0].start_offset, 20);
  const EdgePartition* p = batcher_->Find(kTp);
  EXPECT_TRUE(p->open.empty());
  EXPECT_EQ(p->acked, 20);
  // Records still arriving from before the seek are dropped; the batch
  // starts where the hub stands.
  ASSERT_TRUE(Read(19).ok());
  ASSERT_TRUE(Read(20).ok());
  ASSERT_TRUE(Read(21).ok());
  ASSERT_TRUE(batcher_->Tick(true).ok());
  EXPECT_EQ(link_.Ranges().back(), (std::pair<int64_t, int64_t>{20, 21}));
  EXPECT_EQ(link_.sent.back().records.size(), 2u);
}

TEST_F(EdgeBatcherTest, ASeekToWhereTheLinkAlreadyTookABatchKeepsReading) {
  StartAt(0);
  for (int64_t o = 0; o < 5; ++o) ASSERT_TRUE(Read(o).ok());
  ASSERT_TRUE(batcher_->Tick(true).ok());
  // The link applied a seek to 0 and then took the batch 0-4 before we saw the seek.
  Resume(0);
  EXPECT_FALSE(batcher_->TakeReassign());
  EXPECT_EQ(batcher_->Find(kTp)->pos, 5);
}

TEST_F(EdgeBatcherTest, ReachingTheLinkBudgetPausesTheSourceUntilTheLinkIsWritable) {
  // A batch costs its records plus the frame slack; the fake link charges
  // 1000 bytes for each batch it took: room for one batch, not two.
  link_.budget = 1000 + kEdgeFrameSlackBytes;
  StartAt(0);
  for (int64_t o = 0; o < 3; ++o) {
    ASSERT_TRUE(Read(o).ok());
    ASSERT_TRUE(batcher_->Tick(true).ok());
  }
  EXPECT_EQ(link_.sent.size(), 1u);
  EXPECT_TRUE(batcher_->blocked());
  EXPECT_EQ(batcher_->pauses(), 1u);
  EXPECT_EQ(batcher_->Find(kTp)->sealed.size(), 2u);  // kept, in order
  // Still full: sending waits.
  ASSERT_TRUE(batcher_->SendPending().ok());
  EXPECT_EQ(link_.sent.size(), 1u);
  // The hub acknowledged; the link has room again.
  link_.buffered = 0;
  link_.budget = 1 << 20;
  batcher_->OnWritable();
  EXPECT_FALSE(batcher_->blocked());
  ASSERT_TRUE(batcher_->SendPending().ok());
  EXPECT_THAT(link_.Ranges(), ElementsAre(std::pair<int64_t, int64_t>{0, 0}, std::pair<int64_t, int64_t>{1, 1},
                                          std::pair<int64_t, int64_t>{2, 2}));
  EXPECT_EQ(batcher_->pauses(), 1u);
}

TEST_F(EdgeBatcherTest, ABatchLargerThanTheWholeBudgetGoesOnceTheBufferIsEmpty) {
  link_.budget = 5000;
  options_.buffer_budget_bytes = 5000;
  options_.max_batch_bytes = 1 << 20;
  batcher_ = std::make_unique<EdgeBatcher>(&link_, &clock_, options_);
  StartAt(0);
  ASSERT_TRUE(Read(0, 20'000).ok());
  ASSERT_TRUE(batcher_->Tick(true).ok());
  EXPECT_EQ(link_.sent.size(), 1u);
  EXPECT_FALSE(batcher_->blocked());
}

TEST_F(EdgeBatcherTest, ARefusedBatchThatNoSeekExplainsEndsTheReaderAfterTheGrace) {
  StartAt(0);
  link_.answers = {absl::FailedPreconditionError("batch of orders[0] out of order")};
  ASSERT_TRUE(Read(0).ok());
  ASSERT_TRUE(batcher_->Tick(true).ok());
  EXPECT_TRUE(link_.sent.empty());
  clock_.Advance(2s);
  EXPECT_TRUE(batcher_->Tick().ok());
  clock_.Advance(1ms);
  absl::Status s = batcher_->Tick();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("orders[0]"));
}

TEST_F(EdgeBatcherTest, ARefusedBatchThenASeekGoesOnFromTheSeek) {
  StartAt(0);
  link_.answers = {absl::FailedPreconditionError("out of order")};
  ASSERT_TRUE(Read(0).ok());
  ASSERT_TRUE(batcher_->Tick(true).ok());
  Resume(0);
  EXPECT_TRUE(batcher_->TakeReassign());
  clock_.Advance(10s);
  EXPECT_TRUE(batcher_->Tick().ok());
  ASSERT_TRUE(Read(0).ok());
  ASSERT_TRUE(batcher_->Tick(true).ok());
  EXPECT_THAT(link_.Ranges(), ElementsAre(std::pair<int64_t, int64_t>{0, 0}));
}

TEST_F(EdgeBatcherTest, PartitionsTheHubDoesNotKnowStartAtTheLatestOffsetOnceItResolves) {
  const TopicPartition other{"orders", 1};
  batcher_->SetDiscovered({kTp, other});
  Resume(7);  // the hub knows orders[0]
  int asked = 0;
  auto latest = [&](const TopicPartition& tp) -> absl::StatusOr<int64_t> {
    EXPECT_EQ(tp, other);
    if (++asked == 1) return absl::UnavailableError("source not reachable");
    return 100;
  };
  auto unresolved = batcher_->StartDiscovered(latest);
  ASSERT_EQ(unresolved.size(), 1u);
  EXPECT_EQ(unresolved[0].first, other);
  EXPECT_EQ(batcher_->Assignment().size(), 1u);
  EXPECT_TRUE(batcher_->StartDiscovered(latest).empty());
  auto assignment = batcher_->Assignment();
  ASSERT_EQ(assignment.size(), 2u);
  EXPECT_EQ(assignment[0].start_offset, 7);
  EXPECT_EQ(assignment[1].start_offset, 100);
}

TEST_F(EdgeBatcherTest, AStoppedPartitionIsNotReadAndRecordsOfUnassignedPartitionsAreDropped) {
  StartAt(0);
  batcher_->Stop(kTp);
  EXPECT_TRUE(batcher_->Assignment().empty());
  EXPECT_THAT(batcher_->Assigned(), ElementsAre(kTp));  // still covered by a pause
  SourceRecordView stray;
  const TopicPartition unknown{"payments", 0};
  stray.partition_handle = &unknown;
  stray.topic = unknown.topic.c_str();
  stray.offset = 3;
  ASSERT_TRUE(batcher_->OnRecord(stray).ok());
  EXPECT_FALSE(batcher_->has_open());
}

}  // namespace
}  // namespace longhaul::mirror
