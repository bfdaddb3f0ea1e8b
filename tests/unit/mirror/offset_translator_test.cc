// OffsetTranslator against an in-memory model of a lane's checkpoint and
// offset-sync partitions (committed transactions with their markers), so
// the translation rules, the backward search and the index bookkeeping are
// checked without brokers. The integration tests drive the same code
// through `longhaul run` and the `offsets` commands.
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <optional>
#include <random>
#include <vector>

// Private to mirror/ (OffsetSyncReader and SourceProbe are its seams for fakes).
#include "../../../mirror/src/offset_translator.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::mirror {
namespace {

using offsets::Checkpoint;
using offsets::OffsetSegment;
using offsets::OffsetSyncRecord;
using testing::IsOk;

// One lane (partition 0 of both internal topics) as readers see it.
struct FakeLane {
  struct Sync {
    int64_t offset;
    OffsetSyncRecord record;
  };
  std::vector<Sync> syncs;                // committed and readable, in offset order
  std::vector<Sync> unreadable;           // committed, commit marker not yet on this partition
  std::vector<std::pair<TopicPartition, Checkpoint>> checkpoints;  // at offsets 0, 1, ...
  int64_t next_sync_offset = 0;
  int64_t sync_low = 0;
  std::map<TopicPartition, int64_t> next_target;
  int64_t backward_reads = 0;   // ReadSyncs calls with an upper bound (the search)
  int64_t sync_records_read = 0;

  // Commits one transaction with `segments` per partition: one offset-sync
  // record each, then a commit marker; and a checkpoint each.
  // `lost`: source ranges the transaction skipped (on_source_gap: skip).
  void Commit(const std::map<TopicPartition, std::vector<OffsetSegment>>& txn, bool sync_readable = true,
              const std::vector<offsets::LostRange>& lost = {}) {
    for (const auto& [tp, segments] : txn) {
      OffsetSyncRecord r{tp.topic, tp.partition, segments, 1, lost};
      (sync_readable ? syncs : unreadable).push_back({next_sync_offset++, r});
      Checkpoint cp;
      cp.next_source_offset = segments.back().source_end();
      cp.next_target_offset = segments.back().target_end();
      cp.segments = segments;
      cp.lost = lost;
      checkpoints.emplace_back(tp, cp);
    }
    ++next_sync_offset;  // the commit marker
  }
  void MakeReadable() {
    syncs.insert(syncs.end(), unreadable.begin(), unreadable.end());
    unreadable.clear();
  }
  int64_t SyncEnd() const { return unreadable.empty() ? next_sync_offset : unreadable.front().offset; }
};

class FakeReader final : public OffsetSyncReader {
 public:
  explicit FakeReader(FakeLane* lane) : lane_(lane) {}
  absl::StatusOr<PartitionBounds> SyncBounds(int) override { return PartitionBounds{lane_->sync_low, lane_->SyncEnd()}; }
  absl::StatusOr<int64_t> ReadCheckpoints(int, int64_t from, const CheckpointFn& fn) override {
    for (size_t i = static_cast<size_t>(from); i < lane_->checkpoints.size(); ++i) {
      fn(lane_->checkpoints[i].first, &lane_->checkpoints[i].second);
    }
    return static_cast<int64_t>(lane_->checkpoints.size());
  }
  absl::StatusOr<int64_t> ReadSyncs(int, int64_t from, int64_t to, const SyncFn& fn) override {
    int64_t end = std::min(to, lane_->SyncEnd());
    if (from == kFromEnd) return lane_->SyncEnd();
    if (to != std::numeric_limits<int64_t>::max()) ++lane_->backward_reads;
    from = std::max(from, lane_->sync_low);
    for (const auto& s : lane_->syncs) {
      if (s.offset >= from && s.offset < end) {
        ++lane_->sync_records_read;
        fn(s.offset, s.record);
      }
    }
    return std::max(from, end);
  }

 private:
  FakeLane* lane_;
};

// The source: which offsets hold committed records, and its end.
class FakeSource final : public SourceProbe {
 public:
  std::map<TopicPartition, std::vector<int64_t>> records;
  std::map<TopicPartition, int64_t> end;
  absl::StatusOr<std::map<TopicPartition, int64_t>> NextRecord(
      const std::vector<std::pair<TopicPartition, int64_t>>& positions) override {
    std::map<TopicPartition, int64_t> out;
    for (const auto& [tp, offset] : positions) {
      const auto& r = records[tp];
      auto it = std::lower_bound(r.begin(), r.end(), offset);
      out[tp] = it != r.end() ? *it : std::max(offset, end[tp]);
    }
    return out;
  }
};

config::PipelineConfig OneLanePipeline() {
  config::PipelineConfig p;
  p.name = "p";
  p.source = "dc1";
  p.target = "hub";
  p.lanes = 1;
  p.rename = "{source}.{topic}";
  return p;
}

class OffsetTranslatorTest : public ::testing::Test {
 protected:
  // A translator over lane_ and source_ (it does not own them).
  std::unique_ptr<OffsetTranslator> Make(OffsetTranslatorOptions options = {}) {
    auto source = std::make_unique<ForwardingProbe>(&source_);
    return std::make_unique<OffsetTranslator>(pipeline_, std::make_unique<FakeReader>(&lane_), std::move(source),
                                              options);
  }
  PartitionTranslation TranslateOne(OffsetTranslator& t, const TopicPartition& tp, int64_t offset) {
    auto r = t.Translate({{tp, offset}});
    EXPECT_THAT(r, IsOk());
    return r.ok() ? (*r)[0] : PartitionTranslation{};
  }

  struct ForwardingProbe final : SourceProbe {
    explicit ForwardingProbe(FakeSource* s) : s_(s) {}
    absl::StatusOr<std::map<TopicPartition, int64_t>> NextRecord(
        const std::vector<std::pair<TopicPartition, int64_t>>& positions) override {
      return s_->NextRecord(positions);
    }
    FakeSource* s_;
  };

  config::PipelineConfig pipeline_ = OneLanePipeline();
  FakeLane lane_;
  FakeSource source_;
  const TopicPartition orders_{"orders", 0};
};

TEST_F(OffsetTranslatorTest, TranslatesIntoSegmentsAndAcrossGapsOnBothSides) {
  // Source 10..14 aborted, target 10..11 a marker and an aborted batch.
  lane_.Commit({{orders_, {{0, 0, 10}, {15, 12, 5}}}});
  lane_.Commit({{orders_, {{22, 19, 3}}}});  // source 20, 21: markers; target 17, 18: markers
  source_.records[orders_] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19, 22, 23, 24};
  source_.end[orders_] = 26;
  const std::map<int64_t, int64_t> expected = {{0, 0},   {5, 5},   {9, 9},   {10, 12}, {14, 12}, {15, 12},
                                               {19, 16}, {20, 19}, {21, 19}, {22, 19}, {24, 21}, {25, 22}};
  for (const auto& [source, target] : expected) {
    auto translator = Make();
    PartitionTranslation t = TranslateOne(*translator, orders_, source);
    EXPECT_EQ(t.status, TranslationStatus::kExact) << source;
    EXPECT_EQ(t.target_offset, target) << "source offset " << source;
    EXPECT_EQ(t.target_topic, "dc1.orders");
    EXPECT_EQ(t.replicated_source_offset, 25);
  }
  // Past the replicated end with nothing in between on the source (a
  // transaction marker at 25): the end of what is replicated, exactly.
  PartitionTranslation t = TranslateOne(*Make(), orders_, 26);
  EXPECT_EQ(t.status, TranslationStatus::kExact);
  EXPECT_EQ(t.target_offset, 22);
}

TEST_F(OffsetTranslatorTest, OffsetInsideARangeLostAtTheSourceGoesOnAfterItAndSaysSo) {
  // 0..999 copied; 1000..10999 deleted at the source before they were
  // copied and skipped; 11000..11499 copied after the gap (target 1001..:
  // 1000 is the first transaction's commit marker).
  lane_.Commit({{orders_, {{0, 0, 1000}}}});
  lane_.Commit({{orders_, {{11000, 1001, 500}}}}, /*sync_readable=*/true, {{1000, 11000}});
  for (int64_t o = 11000; o < 11500; ++o) source_.records[orders_].push_back(o);
  source_.end[orders_] = 11501;
  for (bool fresh : {true, false}) {
    // A fresh translator finds the gap in the history; a long-lived one in
    // what it read since its previous call.
    auto translator = Make();
    if (!fresh) TranslateOne(*translator, orders_, 11499);
    if (!fresh) lane_.Commit({{orders_, {{11500, 1502, 1}}}});
    PartitionTranslation t = TranslateOne(*translator, orders_, 5000);
    EXPECT_EQ(t.status, TranslationStatus::kSourceGap) << fresh;
    EXPECT_EQ(t.target_offset, 1001) << "the first record copied after the gap";
    EXPECT_NE(t.detail.find("source offsets 1000..10999 were deleted"), std::string::npos) << t.detail;
    EXPECT_NE(t.detail.find("never sees source records 5000..10999"), std::string::npos) << t.detail;
    t = TranslateOne(*translator, orders_, 1000);
    EXPECT_EQ(t.status, TranslationStatus::kSourceGap);
    EXPECT_EQ(t.target_offset, 1001);
    // Around the gap, translation stays exact.
    t = TranslateOne(*translator, orders_, 999);
    EXPECT_EQ(t.status, TranslationStatus::kExact);
    EXPECT_EQ(t.target_offset, 999);
    t = TranslateOne(*translator, orders_, 11000);
    EXPECT_EQ(t.status, TranslationStatus::kExact);
    EXPECT_EQ(t.target_offset, 1001);
  }
}

TEST_F(OffsetTranslatorTest, OffsetPastReplicatedRecordsIsTheEndOfReplicationAndSaysSo) {
  lane_.Commit({{orders_, {{0, 0, 10}}}});
  source_.records[orders_] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  PartitionTranslation t = TranslateOne(*Make(), orders_, 12);
  EXPECT_EQ(t.status, TranslationStatus::kReplicationBehind);
  EXPECT_EQ(t.target_offset, 10);
  EXPECT_NE(t.detail.find("record at 10"), std::string::npos) << t.detail;
}

TEST_F(OffsetTranslatorTest, PartitionWithoutCheckpointIsNotReplicated) {
  lane_.Commit({{orders_, {{0, 0, 10}}}});
  PartitionTranslation t = TranslateOne(*Make(), TopicPartition{"payments", 3}, 0);
  EXPECT_EQ(t.status, TranslationStatus::kNotReplicated);
  EXPECT_EQ(t.target_offset, -1);
}

TEST_F(OffsetTranslatorTest, NewestTransactionIsTakenFromItsCheckpointWhileItsOffsetSyncIsNotReadable) {
  lane_.Commit({{orders_, {{0, 0, 10}}}});
  lane_.Commit({{orders_, {{11, 11, 5}}}}, /*sync_readable=*/false);
  auto translator = Make();
  PartitionTranslation t = TranslateOne(*translator, orders_, 12);
  EXPECT_EQ(t.status, TranslationStatus::kExact);
  EXPECT_EQ(t.target_offset, 12);
  t = TranslateOne(*translator, orders_, 10);  // a source gap before it
  EXPECT_EQ(t.target_offset, 11);
  // Once readable, the same record is not indexed twice.
  lane_.MakeReadable();
  lane_.Commit({{orders_, {{16, 17, 2}}}});
  t = TranslateOne(*translator, orders_, 13);
  EXPECT_EQ(t.target_offset, 13);
  t = TranslateOne(*translator, orders_, 17);
  EXPECT_EQ(t.target_offset, 18);
}

// A model of many partitions sharing a lane, with random gaps on both
// sides, and the reference answer from the complete history.
class History {
 public:
  explicit History(uint64_t seed) : rng_(seed) {}
  void CommitRandom(FakeLane* lane, const std::vector<TopicPartition>& tps) {
    std::map<TopicPartition, std::vector<OffsetSegment>> txn;
    for (const auto& tp : tps) {
      if (rng_() % 3 == 0) continue;  // no records of this partition in this transaction
      auto& [src, tgt] = next_[tp];
      std::vector<OffsetSegment> segments;
      for (int n = 1 + rng_() % 3; n > 0; --n) {
        src += rng_() % 3;  // compaction, aborted records, markers
        tgt += rng_() % 2;  // a fenced writer's aborted batch
        OffsetSegment s{src, tgt, static_cast<int64_t>(1 + rng_() % 20)};
        segments.push_back(s);
        all_[tp].push_back(s);
        src = s.source_end();
        tgt = s.target_end();
      }
      txn[tp] = segments;
    }
    if (!txn.empty()) lane->Commit(txn);
    for (auto& [tp, next] : next_) next.second += 1;  // the commit marker on the target
  }
  // The first replicated record at or after `offset`, or the replicated end.
  int64_t Expected(const TopicPartition& tp, int64_t offset) const {
    for (const OffsetSegment& s : all_.at(tp)) {
      if (s.source_end() > offset) return s.target_start + std::max<int64_t>(0, offset - s.source_start);
    }
    return all_.at(tp).back().target_end();
  }
  int64_t End(const TopicPartition& tp) const { return all_.at(tp).back().source_end(); }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  std::map<TopicPartition, std::pair<int64_t, int64_t>> next_;
  std::map<TopicPartition, std::vector<OffsetSegment>> all_;
};

TEST_F(OffsetTranslatorTest, LongLivedTranslatorIsExactForOldAndNewOffsetsWithABoundedIndex) {
  const std::vector<TopicPartition> tps = {{"a", 0}, {"a", 1}, {"b", 0}};
  History history(7);
  for (int i = 0; i < 300; ++i) history.CommitRandom(&lane_, tps);
  OffsetTranslatorOptions options;
  options.max_segments_per_partition = 16;
  options.first_window = 8;
  auto translator = Make(options);
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 5; ++i) history.CommitRandom(&lane_, tps);
    std::vector<std::pair<TopicPartition, int64_t>> requests;
    for (const auto& tp : tps) requests.emplace_back(tp, history.rng()() % history.End(tp));
    auto got = translator->Translate(requests);
    ASSERT_THAT(got, IsOk());
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto& [tp, o] = requests[i];
      EXPECT_EQ((*got)[i].status, TranslationStatus::kExact) << tp.ToString() << " " << o;
      EXPECT_EQ((*got)[i].target_offset, history.Expected(tp, o)) << tp.ToString() << " at " << o;
    }
  }
  EXPECT_EQ(translator->indexed_partitions(), 3u);
}

TEST_F(OffsetTranslatorTest, RecentOffsetsNeedNoSearchOnceIndexedAndOldOnesReadOnlyWhatTheyNeed) {
  const std::vector<TopicPartition> tps = {{"a", 0}, {"a", 1}, {"b", 0}, {"b", 1}};
  History history(11);
  for (int i = 0; i < 2000; ++i) history.CommitRandom(&lane_, tps);
  OffsetTranslatorOptions options;
  options.first_window = 16;
  auto translator = Make(options);
  // A group near the head: the search stops after a window or two.
  const TopicPartition& tp = tps[2];
  PartitionTranslation t = TranslateOne(*translator, tp, history.End(tp) - 3);
  EXPECT_EQ(t.target_offset, history.Expected(tp, history.End(tp) - 3));
  EXPECT_LE(lane_.sync_records_read, 64);
  // New transactions are indexed as they are read: no more searching.
  for (int i = 0; i < 20; ++i) history.CommitRandom(&lane_, tps);
  const int64_t searches = lane_.backward_reads;
  t = TranslateOne(*translator, tp, history.End(tp) - 50);
  EXPECT_EQ(t.target_offset, history.Expected(tp, history.End(tp) - 50));
  EXPECT_EQ(lane_.backward_reads, searches);
  // A group far behind: exact, from the history.
  t = TranslateOne(*translator, tp, 5);
  EXPECT_EQ(t.target_offset, history.Expected(tp, 5));
}

TEST_F(OffsetTranslatorTest, OffsetOlderThanRetainedHistoryIsExactOnlyIfTheSourceHasNothingBefore) {
  lane_.Commit({{orders_, {{0, 0, 10}}}});   // sync offset 0
  lane_.Commit({{orders_, {{20, 11, 10}}}});  // sync offset 2
  lane_.Commit({{orders_, {{30, 22, 10}}}});  // sync offset 4
  lane_.sync_low = 2;  // retention deleted the first transaction's record
  // The source compacted 10..19 away after the first transaction.
  source_.records[orders_] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (int64_t o = 20; o < 40; ++o) source_.records[orders_].push_back(o);
  PartitionTranslation t = TranslateOne(*Make(), orders_, 12);
  EXPECT_EQ(t.status, TranslationStatus::kExact);
  EXPECT_EQ(t.target_offset, 11);
  t = TranslateOne(*Make(), orders_, 5);
  EXPECT_EQ(t.status, TranslationStatus::kHistoryExpired);
  EXPECT_EQ(t.target_offset, -1);
  EXPECT_NE(t.detail.find("offset_syncs.retention"), std::string::npos) << t.detail;
}

TEST_F(OffsetTranslatorTest, HistoryThatExpiredBeforeItWasReadIsNotBridged) {
  lane_.Commit({{orders_, {{0, 0, 10}}}});
  auto translator = Make();
  EXPECT_EQ(TranslateOne(*translator, orders_, 5).target_offset, 5);
  // Nobody asks for a long time; retention deletes records never read.
  lane_.Commit({{orders_, {{10, 11, 10}}}});
  lane_.Commit({{orders_, {{20, 22, 10}}}});
  lane_.sync_low = lane_.next_sync_offset;
  lane_.Commit({{orders_, {{30, 33, 10}}}});
  for (int64_t o = 0; o < 40; ++o) source_.records[orders_].push_back(o);
  // 15 was in a transaction whose record expired: not translatable, and
  // certainly not the start of the next retained segment.
  PartitionTranslation t = TranslateOne(*translator, orders_, 15);
  EXPECT_EQ(t.status, TranslationStatus::kHistoryExpired);
  t = TranslateOne(*translator, orders_, 35);
  EXPECT_EQ(t.status, TranslationStatus::kExact);
  EXPECT_EQ(t.target_offset, 38);
}

TEST_F(OffsetTranslatorTest, RejectsANegativeOffset) {
  lane_.Commit({{orders_, {{0, 0, 10}}}});
  auto r = Make()->Translate({{orders_, -1}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace longhaul::mirror
