// LaneTransaction (mirror/src/lane_transaction.h): the lane's records, the
// source-to-target segments from delivery reports, the checkpoint and
// offset sync written in the same transaction, and what is durable after a
// commit, an abort, a failed delivery or a fenced writer. A fake writer
// keeps a target log per partition and serves delivery reports on Poll and
// Flush; time is a ManualClock the fake advances when it "waits".
#include "../../../mirror/src/lane_transaction.h"  // private to mirror/

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "../../../mirror/src/kafka_status.h"
#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/offset_sync.h"

namespace longhaul::mirror {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using offsets::LostRange;
using offsets::OffsetSegment;

// A message as the target stores it.
struct Written {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  std::optional<std::string> key, value;
  int64_t timestamp_ms = 0;
  std::vector<RecordHeader> headers;
};

class FakeWriter final : public TransactionalWriter {
 public:
  explicit FakeWriter(ManualClock* clock) : clock_(clock) {}

  // ---- what a test sets ----
  // Source offsets whose delivery fails (the record's target write failed).
  std::set<std::pair<std::string, int64_t>> fail_delivery;  // (topic, value) of the record
  int queue_full_answers = 0;           // Produce says kQueueFull this many times first
  int unknown_partition_answers = 0;    // then kUnknownPartition this many times
  std::vector<absl::Status> commit_answers;  // CommitTransaction answers, in turn; then OK
  bool deliveries_stuck = false;        // Flush/Poll serve nothing (a target that does not answer)

  // ---- what a test reads ----
  std::map<std::pair<std::string, int32_t>, std::vector<Written>> committed;  // the target's visible log
  int begins = 0, commits = 0, aborts = 0, polls = 0, metadata_refreshes = 0;
  bool open = false;

  void SetDeliveryHandler(DeliveryHandler handler) override { handler_ = std::move(handler); }
  int TopicId(const std::string& topic) override {
    for (size_t i = 0; i < topics_.size(); ++i) {
      if (topics_[i] == topic) return static_cast<int>(i);
    }
    topics_.push_back(topic);
    return static_cast<int>(topics_.size() - 1);
  }
  absl::Status InitTransactions(std::chrono::milliseconds, const std::string&) override { return absl::OkStatus(); }
  absl::Status BeginTransaction(const std::string& what) override {
    if (open) return absl::FailedPreconditionError(what + ": a transaction is already open");
    open = true;
    ++begins;
    return absl::OkStatus();
  }
  ProduceResult Produce(Message& m, absl::Status* error) override {
    if (queue_full_answers > 0) {
      --queue_full_answers;
      return ProduceResult::kQueueFull;
    }
    if (unknown_partition_answers > 0) {
      --unknown_partition_answers;
      return ProduceResult::kUnknownPartition;
    }
    Written w;
    w.topic = topics_.at(static_cast<size_t>(m.topic));
    w.partition = m.partition;
    if (m.key) w.key.emplace(static_cast<const char*>(m.key), m.key_len);
    if (m.value) w.value.emplace(static_cast<const char*>(m.value), m.value_len);
    w.timestamp_ms = m.timestamp_ms;
    if (m.headers) {
      w.headers = m.headers->ToVector();
      *m.headers = RecordHeaders();  // taken
    }
    pending_.push_back(Pending{std::move(w), m.tag});
    return ProduceResult::kQueued;
  }
  void Poll(std::chrono::milliseconds wait) override {
    ++polls;
    clock_->Advance(wait);
    Serve();
  }
  size_t Outstanding() override { return pending_.size(); }
  void Flush(std::chrono::milliseconds wait) override {
    clock_->Advance(wait);
    Serve();
  }
  absl::Status RefreshMetadata(int, std::chrono::milliseconds) override {
    ++metadata_refreshes;
    return absl::OkStatus();
  }
  absl::Status CommitTransaction(std::chrono::milliseconds timeout, const std::string& what) override {
    ++commits;
    if (!commit_answers.empty()) {
      absl::Status s = commit_answers.front();
      commit_answers.erase(commit_answers.begin());
      if (!s.ok()) {
        clock_->Advance(timeout);  // a commit that fails takes its time
        return WithContext(s, what);
      }
    }
    EndTransaction(/*commit=*/true);
    return absl::OkStatus();
  }
  absl::Status AbortTransaction(std::chrono::milliseconds, const std::string&) override {
    ++aborts;
    EndTransaction(/*commit=*/false);
    return absl::OkStatus();
  }
  void Purge() override { pending_.clear(); }

  // Records of the target topic partition, as a read_committed consumer sees them.
  const std::vector<Written>& Log(const std::string& topic, int32_t partition) {
    return committed[{topic, partition}];
  }
  // The next offset the target gives in a partition; a test moves it to
  // make gaps (another producer's records, commit markers).
  int64_t& NextOffset(const std::string& topic, int32_t partition) { return next_offset_[{topic, partition}]; }

 private:
  struct Pending {
    Written w;
    const void* tag;
  };
  void Serve() {
    if (deliveries_stuck) return;
    while (!pending_.empty()) {
      Pending p = std::move(pending_.front());
      pending_.erase(pending_.begin());
      Delivery d;
      d.tag = p.tag;
      bool fail = false;
      for (const auto& [topic, value] : fail_delivery) {
        fail = fail || (p.w.topic == topic && p.w.value == std::to_string(value));
      }
      if (fail) {
        d.status = absl::UnavailableError("delivery to the target failed: Kafka error _MSG_TIMED_OUT");
      } else {
        p.w.offset = NextOffset(p.w.topic, p.w.partition)++;
        d.offset = p.w.offset;
        if (open) {
          in_txn_.push_back(p.w);
        } else {
          committed[{p.w.topic, p.w.partition}].push_back(p.w);  // no transaction: visible at once
        }
      }
      if (handler_) handler_(d);
    }
  }
  void EndTransaction(bool commit) {
    Serve();
    // The transaction marker takes an offset in every partition it touched.
    std::set<std::pair<std::string, int32_t>> touched;
    for (const Written& w : in_txn_) touched.insert({w.topic, w.partition});
    for (const auto& tp : touched) ++NextOffset(tp.first, tp.second);
    if (commit) {
      for (Written& w : in_txn_) committed[{w.topic, w.partition}].push_back(std::move(w));
    }
    in_txn_.clear();
    open = false;
  }

  ManualClock* clock_;
  DeliveryHandler handler_;
  std::vector<std::string> topics_;
  std::vector<Pending> pending_;
  std::vector<Written> in_txn_;
  std::map<std::pair<std::string, int32_t>, int64_t> next_offset_;
};

const TopicPartition kOrders0{"orders", 0};
const TopicPartition kOrders1{"orders", 1};

class LaneTransactionTest : public ::testing::Test {
 protected:
  LaneTransactionTest() : writer_(&clock_) {}

  // A lane of pipeline "p" from cluster "site" with the given partitions,
  // each starting at its entry in `starts` (default: the beginning).
  void Start(std::vector<TopicPartition> partitions, std::map<TopicPartition, int64_t> starts = {},
             bool transactional = true) {
    LaneTransactionOptions o;
    o.lane = 3;
    o.source_cluster = "site";
    o.checkpoint_topic = "__longhaul.p.checkpoints";
    o.offset_sync_topic = "__longhaul.p.offset-syncs";
    o.transactional = transactional;
    o.commit_interval = 1s;
    o.min_commit_interval = 100ms;
    o.max_transaction_bytes = 1 << 20;
    o.provenance = provenance_;
    txn_ = std::make_unique<LaneTransaction>(&writer_, &clock_, nullptr, o, [this] { return stop_; });
    std::vector<MirroredPartition> wanted;
    for (const auto& tp : partitions) wanted.push_back(MirroredPartition{tp, "site." + tp.topic, 3});
    ASSERT_TRUE(txn_
                    ->SetPartitions(
                        wanted, [this](const TopicPartition& tp) { return &progress_[tp]; },
                        [&](const MirroredPartition& mp) -> absl::StatusOr<LaneTransaction::PartitionStart> {
                          LaneTransaction::PartitionStart s;
                          if (auto it = starts.find(mp.source); it != starts.end()) s.committed_next = it->second;
                          return s;
                        })
                    .ok());
  }

  // A record whose value is its source offset, with a header (and a
  // provenance header when `provenance` is set).
  absl::Status Add(const TopicPartition& tp, int64_t offset, std::optional<std::string> provenance = std::nullopt) {
    SourceRecordView r;
    r.partition_handle = &tp;
    r.topic = tp.topic.c_str();
    r.partition = tp.partition;
    r.offset = offset;
    r.timestamp_ms = 1'700'000'000'000 + offset;
    std::string key = "k" + std::to_string(offset);
    std::string value = std::to_string(offset);
    r.key = key.data();
    r.key_len = key.size();
    r.value = value.data();
    r.value_len = value.size();
    r.headers = RecordHeaders::Of({{"trace", std::string("t") + value}, {"null", std::nullopt}});
    if (provenance) r.headers.Add("longhaul-provenance", *provenance);
    return txn_->Add(r, clock_.Now());
  }

  // The checkpoints and offset syncs the target holds for a partition, in order.
  std::vector<offsets::Checkpoint> Checkpoints(const TopicPartition& tp) {
    std::vector<offsets::Checkpoint> out;
    for (const Written& w : writer_.Log("__longhaul.p.checkpoints", 3)) {
      auto key = offsets::DecodeCheckpointKey(*w.key);
      EXPECT_TRUE(key.ok()) << key.status();
      if (key->topic != tp.topic || key->partition != tp.partition) continue;
      EXPECT_EQ(key->source_cluster, "site");
      auto cp = offsets::DecodeCheckpoint(*w.value);
      EXPECT_TRUE(cp.ok()) << cp.status();
      out.push_back(*cp);
    }
    return out;
  }
  std::vector<offsets::OffsetSyncRecord> Syncs(const TopicPartition& tp) {
    std::vector<offsets::OffsetSyncRecord> out;
    for (const Written& w : writer_.Log("__longhaul.p.offset-syncs", 3)) {
      auto sync = offsets::DecodeOffsetSync(*w.value);
      EXPECT_TRUE(sync.ok()) << sync.status();
      if (sync->topic == tp.topic && sync->partition == tp.partition) out.push_back(*sync);
    }
    return out;
  }
  std::vector<int64_t> TargetValues(const TopicPartition& tp) {
    std::vector<int64_t> out;
    for (const Written& w : writer_.Log("site." + tp.topic, tp.partition)) out.push_back(std::stoll(*w.value));
    return out;
  }

  ManualClock clock_;
  FakeWriter writer_;
  std::map<TopicPartition, PartitionProgress> progress_;
  std::optional<SteadyTime> stop_;
  ProvenanceRule provenance_;
  std::unique_ptr<LaneTransaction> txn_;
};

// Active/active: pipeline p from site to backbone, stamping provenance.
ProvenanceRule SiteToBackbone() {
  config::PipelineConfig p;
  p.name = "p";
  p.source = "site";
  p.target = "backbone";
  p.stamps_provenance = true;
  return ProvenanceRule(p);
}

TEST_F(LaneTransactionTest, RecordsThatVisitedTheTargetAreNotWrittenAndTheCheckpointMovesPastThem) {
  provenance_ = SiteToBackbone();
  Start({kOrders0});
  const std::string from_backbone = "backbone,back=site";
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  ASSERT_TRUE(Add(kOrders0, 1).ok());
  ASSERT_TRUE(Add(kOrders0, 2, from_backbone).ok());
  ASSERT_TRUE(Add(kOrders0, 3, from_backbone).ok());
  ASSERT_TRUE(Add(kOrders0, 4).ok());
  ASSERT_TRUE(Add(kOrders0, 5, from_backbone).ok());  // the last offset read is one not written
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->next_offsets, (std::map<TopicPartition, int64_t>{{kOrders0, 6}}));
  EXPECT_THAT(TargetValues(kOrders0), ElementsAre(0, 1, 4));
  EXPECT_EQ(writer_.Log("site.orders", 0)[0].headers,
            (std::vector<RecordHeader>{{"trace", std::string("t0")}, {"null", std::nullopt},
                                       {"longhaul-provenance", std::string("site,p=backbone")}}));
  auto cps = Checkpoints(kOrders0);
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].next_source_offset, 6);
  EXPECT_EQ(cps[0].next_target_offset, 3);
  // Filtered offsets are gaps on the source side, as compacted ones are.
  EXPECT_THAT(cps[0].segments, ElementsAre(OffsetSegment{0, 0, 2}, OffsetSegment{4, 2, 1}));
  EXPECT_EQ(progress_[kOrders0].records_filtered_total.load(), 3);

  // A transaction of only such records still moves the checkpoint, and
  // keeps where the replicated part of the target ends.
  ASSERT_TRUE(Add(kOrders0, 6, from_backbone).ok());
  ASSERT_TRUE(Add(kOrders0, 7, from_backbone).ok());
  EXPECT_TRUE(txn_->HasWork());
  committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->next_offsets, (std::map<TopicPartition, int64_t>{{kOrders0, 8}}));
  cps = Checkpoints(kOrders0);
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps[1].next_source_offset, 8);
  EXPECT_EQ(cps[1].next_target_offset, 3);
  EXPECT_TRUE(cps[1].segments.empty());
  EXPECT_THAT(TargetValues(kOrders0), ElementsAre(0, 1, 4));
  EXPECT_EQ(progress_[kOrders0].records_filtered_total.load(), 5);
}

TEST_F(LaneTransactionTest, AnAbortForgetsFilteredRecordsSoTheyAreReadAndCountedAgainOnce) {
  provenance_ = SiteToBackbone();
  Start({kOrders0});
  ASSERT_TRUE(Add(kOrders0, 0, "backbone,back=site").ok());
  txn_->Abort(1s);
  EXPECT_FALSE(txn_->HasWork());
  // Read again from the committed position.
  ASSERT_TRUE(Add(kOrders0, 0, "backbone,back=site").ok());
  ASSERT_TRUE(Add(kOrders0, 1).ok());
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->next_offsets, (std::map<TopicPartition, int64_t>{{kOrders0, 2}}));
  EXPECT_THAT(TargetValues(kOrders0), ElementsAre(1));
  EXPECT_EQ(progress_[kOrders0].records_filtered_total.load(), 1);
}

TEST_F(LaneTransactionTest, CommitsRecordsUnchangedWithOneCheckpointAndOffsetSyncPerPartition) {
  Start({kOrders0, kOrders1});
  for (int64_t o = 0; o < 3; ++o) ASSERT_TRUE(Add(kOrders0, o).ok());
  ASSERT_TRUE(Add(kOrders1, 7).ok());
  EXPECT_TRUE(txn_->HasWork());
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->next_offsets, (std::map<TopicPartition, int64_t>{{kOrders0, 3}, {kOrders1, 8}}));
  EXPECT_EQ(writer_.begins, 1);
  EXPECT_EQ(writer_.commits, 1);

  // Same partition number, key, value, headers (order and null kept) and create time.
  const std::vector<Written>& log = writer_.Log("site.orders", 0);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(*log[1].key, "k1");
  EXPECT_EQ(log[1].timestamp_ms, 1'700'000'000'001);
  EXPECT_EQ(log[1].headers, (std::vector<RecordHeader>{{"trace", std::string("t1")}, {"null", std::nullopt}}));
  EXPECT_THAT(TargetValues(kOrders1), ElementsAre(7));

  auto cps = Checkpoints(kOrders0);
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].next_source_offset, 3);
  EXPECT_EQ(cps[0].next_target_offset, 3);
  EXPECT_EQ(cps[0].lane, 3);
  EXPECT_THAT(cps[0].segments, ElementsAre(OffsetSegment{0, 0, 3}));
  auto syncs = Syncs(kOrders1);
  ASSERT_EQ(syncs.size(), 1u);
  EXPECT_THAT(syncs[0].segments, ElementsAre(OffsetSegment{7, 0, 1}));

  EXPECT_FALSE(txn_->HasWork());
  EXPECT_EQ(txn_->Find(kOrders0)->committed_next, 3);
  EXPECT_EQ(progress_[kOrders0].replicated_offset.load(), 3);
  EXPECT_EQ(progress_[kOrders0].records_total.load(), 3);
}

TEST_F(LaneTransactionTest, SegmentsFollowSourceGapsAndTargetCommitMarkers) {
  Start({kOrders0}, {{kOrders0, 10}});
  writer_.NextOffset("site.orders", 0) = 100;
  // Compaction left 13 and 14 out; aborted source transactions 16-19.
  for (int64_t o : {10, 11, 12, 15, 20, 21}) ASSERT_TRUE(Add(kOrders0, o).ok());
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());
  // The commit marker took target offset 106; another producer wrote 107-109.
  writer_.NextOffset("site.orders", 0) += 3;
  for (int64_t o : {22, 23}) ASSERT_TRUE(Add(kOrders0, o).ok());
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());

  auto cps = Checkpoints(kOrders0);
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_THAT(cps[0].segments, ElementsAre(OffsetSegment{10, 100, 3}, OffsetSegment{15, 103, 1},
                                           OffsetSegment{20, 104, 2}));
  EXPECT_EQ(cps[0].next_source_offset, 22);
  EXPECT_EQ(cps[0].next_target_offset, 106);
  // Each transaction's own segments only.
  EXPECT_THAT(cps[1].segments, ElementsAre(OffsetSegment{22, 110, 2}));
  EXPECT_EQ(cps[1].next_target_offset, 112);
  ASSERT_EQ(Syncs(kOrders0).size(), 2u);
  EXPECT_EQ(Syncs(kOrders0)[1].segments, cps[1].segments);
}

TEST_F(LaneTransactionTest, ASkippedLostRangeIsCheckpointedAsLostAndMovesTheResumePointPastIt) {
  Start({kOrders0}, {{kOrders0, 5}});
  ASSERT_TRUE(Add(kOrders0, 5).ok());
  // The source deleted 6-49 before they were read (on_source_gap: skip).
  txn_->SkipLostRange(kOrders0, 6, 40);
  txn_->SkipLostRange(kOrders0, 30, 50);  // met again, further: one range
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->next_offsets.at(kOrders0), 50);
  auto cps = Checkpoints(kOrders0);
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].next_source_offset, 50);
  EXPECT_THAT(cps[0].lost, ElementsAre(LostRange{6, 50}));
  EXPECT_THAT(cps[0].segments, ElementsAre(OffsetSegment{5, 0, 1}));
  EXPECT_THAT(Syncs(kOrders0)[0].lost, ElementsAre(LostRange{6, 50}));

  // A gap with no record around it still gets its checkpoint and sync.
  txn_->SkipLostRange(kOrders0, 50, 60);
  EXPECT_TRUE(txn_->HasWork());
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());
  cps = Checkpoints(kOrders0);
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps[1].next_source_offset, 60);
  EXPECT_TRUE(cps[1].segments.empty());
  EXPECT_THAT(cps[1].lost, ElementsAre(LostRange{50, 60}));
  EXPECT_EQ(Syncs(kOrders0).size(), 2u);
  // Once durable, the range is not written again.
  ASSERT_TRUE(Add(kOrders0, 60).ok());
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());
  EXPECT_TRUE(Checkpoints(kOrders0).back().lost.empty());
}

TEST_F(LaneTransactionTest, AnEmptyTransactionTouchesNeitherTheWriterNorThePositions) {
  Start({kOrders0}, {{kOrders0, 42}});
  EXPECT_FALSE(txn_->HasWork());
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_TRUE(committed.ok());
  EXPECT_TRUE(committed->next_offsets.empty());
  EXPECT_EQ(writer_.begins, 0);
  EXPECT_EQ(writer_.commits, 0);
  EXPECT_TRUE(writer_.committed.empty());
  EXPECT_EQ(txn_->Find(kOrders0)->committed_next, 42);
}

TEST_F(LaneTransactionTest, AResolvedStartIsCheckpointedEvenWithoutRecords) {
  Start({});
  ASSERT_TRUE(txn_
                  ->SetPartitions({MirroredPartition{kOrders0, "site.orders", 3}},
                                  [this](const TopicPartition& tp) { return &progress_[tp]; },
                                  [](const MirroredPartition&) -> absl::StatusOr<LaneTransaction::PartitionStart> {
                                    return LaneTransaction::PartitionStart{1234, /*pending_checkpoint=*/true};
                                  })
                  .ok());
  EXPECT_TRUE(txn_->HasWork());
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());
  auto cps = Checkpoints(kOrders0);
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].next_source_offset, 1234);
  EXPECT_EQ(cps[0].next_target_offset, -1);
  EXPECT_TRUE(Syncs(kOrders0).empty());  // nothing to translate
}

TEST_F(LaneTransactionTest, AFailedDeliveryFailsTheCommitAndNothingOfTheTransactionBecomesVisible) {
  Start({kOrders0}, {{kOrders0, 0}});
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());
  writer_.fail_delivery.insert({"site.orders", 2});
  for (int64_t o = 1; o < 4; ++o) ASSERT_TRUE(Add(kOrders0, o).ok());
  absl::Status served = txn_->ServeDeliveries();
  EXPECT_FALSE(served.ok());
  EXPECT_THAT(served.message(), HasSubstr("lane 3: orders[0]: delivery to the target failed"));
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status(), served);
  EXPECT_EQ(writer_.commits, 1);  // the first transaction only
  txn_->Abort(1s);
  EXPECT_EQ(writer_.aborts, 1);
  EXPECT_THAT(TargetValues(kOrders0), ElementsAre(0));
  EXPECT_EQ(Checkpoints(kOrders0).size(), 1u);
  EXPECT_EQ(txn_->Find(kOrders0)->committed_next, 1);
  EXPECT_EQ(txn_->Find(kOrders0)->NextOffset(), 1);
}

TEST_F(LaneTransactionTest, AnAbortForgetsTheOpenTransactionAndKeepsTheCommittedPositions) {
  Start({kOrders0, kOrders1}, {{kOrders0, 0}, {kOrders1, 0}});
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());
  ASSERT_TRUE(Add(kOrders0, 1).ok());
  ASSERT_TRUE(Add(kOrders1, 0).ok());
  txn_->SkipLostRange(kOrders1, 1, 10);
  ASSERT_TRUE(txn_->ServeDeliveries().ok());
  txn_->Abort(1s);
  EXPECT_FALSE(txn_->HasWork());
  EXPECT_FALSE(txn_->open());
  EXPECT_EQ(txn_->Find(kOrders0)->NextOffset(), 1);
  EXPECT_EQ(txn_->Find(kOrders1)->NextOffset(), 0);
  EXPECT_TRUE(txn_->Find(kOrders1)->skipped.empty());
  EXPECT_EQ(progress_[kOrders1].oldest_pending_timestamp_ms.load(), -1);
  // The next transaction starts clean: its segments are its own.
  ASSERT_TRUE(Add(kOrders0, 1).ok());
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());
  EXPECT_THAT(TargetValues(kOrders0), ElementsAre(0, 1));
  EXPECT_THAT(TargetValues(kOrders1), ElementsAre());
  auto cps = Checkpoints(kOrders0);
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps[1].segments.size(), 1u);
  EXPECT_EQ(cps[1].segments[0].source_start, 1);
  EXPECT_EQ(cps[1].segments[0].length, 1);
  EXPECT_TRUE(Checkpoints(kOrders1).empty());
}

TEST_F(LaneTransactionTest, AFencedWriterEndsTheCommitAtOnceWithAFencedError) {
  Start({kOrders0}, {{kOrders0, 0}});
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  writer_.commit_answers = {KafkaStatus(RD_KAFKA_RESP_ERR__FENCED, "commit_transaction")};
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_FALSE(committed.ok());
  EXPECT_TRUE(IsFenced(committed.status())) << committed.status();
  EXPECT_THAT(committed.status().message(), HasSubstr("lane 3: committing"));
  EXPECT_EQ(writer_.commits, 1);  // a fenced writer is never retried
  EXPECT_EQ(txn_->Find(kOrders0)->committed_next, 0);
  EXPECT_EQ(progress_[kOrders0].replicated_offset.load(), 0);
  EXPECT_TRUE(writer_.Log("site.orders", 0).empty());
}

TEST_F(LaneTransactionTest, ARetriableCommitErrorIsRetriedUntilTheDeadline) {
  Start({kOrders0}, {{kOrders0, 0}});
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  const absl::Status timed_out = KafkaStatus(RD_KAFKA_RESP_ERR__TIMED_OUT, "commit_transaction");
  ASSERT_TRUE(IsRetriable(timed_out));
  writer_.commit_answers = {timed_out, timed_out};
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(writer_.commits, 3);
  EXPECT_THAT(TargetValues(kOrders0), ElementsAre(0));

  ASSERT_TRUE(Add(kOrders0, 1).ok());
  writer_.commit_answers.assign(100, timed_out);
  committed = txn_->Commit(clock_.Now() + 25s);  // each failed attempt takes its 10 s
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(writer_.commits, 3 + 3);
}

TEST_F(LaneTransactionTest, AStopRequestCutsTheWaitForDeliveriesShort) {
  Start({kOrders0}, {{kOrders0, 0}});
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  writer_.deliveries_stuck = true;
  const SteadyTime asked = clock_.Now();
  stop_ = asked + 2s;
  auto committed = txn_->Commit(asked + 60s);
  ASSERT_FALSE(committed.ok());
  EXPECT_THAT(committed.status().message(), HasSubstr("records not delivered to the target in time"));
  EXPECT_LE(clock_.Now() - asked, 3s);
  EXPECT_EQ(writer_.commits, 0);
}

TEST_F(LaneTransactionTest, AFullWriterQueueIsWaitedOutAndTheRecordWrittenOnce) {
  Start({kOrders0}, {{kOrders0, 0}});
  writer_.queue_full_answers = 3;
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  EXPECT_EQ(writer_.polls, 3);
  ASSERT_TRUE(txn_->Commit(clock_.Now() + 60s).ok());
  EXPECT_THAT(TargetValues(kOrders0), ElementsAre(0));
  // Stopping: a full queue is not waited out.
  writer_.queue_full_answers = 1;
  stop_ = clock_.Now();
  EXPECT_FALSE(Add(kOrders0, 1).ok());
}

TEST_F(LaneTransactionTest, APartitionNewOnTheTargetIsRetriedUntilTheWriterKnowsIt) {
  Start({kOrders0}, {{kOrders0, 0}});
  writer_.unknown_partition_answers = 5;
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  EXPECT_EQ(writer_.metadata_refreshes, 5);
  // One that never appears fails the record after new_partition_wait (30 s).
  writer_.unknown_partition_answers = 1'000'000;
  absl::Status s = Add(kOrders0, 1);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("lane 3: producing to site.orders[0]"));
  EXPECT_LT(writer_.metadata_refreshes, 5 + 400);
}

TEST_F(LaneTransactionTest, RecordsOfPartitionsTheLaneDoesNotHaveAreDropped) {
  Start({kOrders0}, {{kOrders0, 0}});
  ASSERT_TRUE(Add(kOrders1, 0).ok());
  EXPECT_FALSE(txn_->HasWork());
  EXPECT_EQ(writer_.begins, 0);
}

TEST_F(LaneTransactionTest, AStoppedPartitionLeavesTheAssignment) {
  Start({kOrders0, kOrders1}, {{kOrders0, 5}, {kOrders1, 9}});
  txn_->StopPartition(kOrders1);
  auto assignment = txn_->Assignment();
  ASSERT_EQ(assignment.size(), 1u);
  EXPECT_EQ(assignment[0].partition, kOrders0);
  EXPECT_EQ(assignment[0].start_offset, 5);
}

TEST_F(LaneTransactionTest, AtLeastOnceWritesCheckpointsAfterTheRecordsWithoutATransaction) {
  Start({kOrders0}, {{kOrders0, 0}}, /*transactional=*/false);
  ASSERT_TRUE(Add(kOrders0, 0).ok());
  ASSERT_TRUE(Add(kOrders0, 1).ok());
  // Without transactions the fake keeps writes in its open batch; the lane
  // must not begin or commit one.
  auto committed = txn_->Commit(clock_.Now() + 60s);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(writer_.begins, 0);
  EXPECT_EQ(writer_.commits, 0);
  EXPECT_EQ(committed->next_offsets.at(kOrders0), 2);
  EXPECT_EQ(writer_.Outstanding(), 0u);
}

}  // namespace
}  // namespace longhaul::mirror
