#include "longhaul/soak/compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/soak/record_factory.h"

namespace longhaul::soak {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000'000;

// Committed source records of one partition, as the generator writes them.
std::vector<Record> Generated(int32_t partition, int n, uint32_t run_id = 0x5eed) {
  RecordFactory factory(RecordMix{}, 7 + partition, run_id);
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(factory.Make(partition, i, 0, kNow + i));
    out.back().offset = i;
  }
  return out;
}

// Records not from the generator: compared by content only.
std::vector<Record> Arbitrary(int n) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.offset = i;
    r.timestamp_ms = kNow + i;
    r.key = "key-" + std::to_string(i % 7);
    r.value = "value-" + std::to_string(i);
    r.headers = {{"h", "x"}, {"h", std::nullopt}};
    out.push_back(std::move(r));
  }
  return out;
}

// Target offsets are the mirror's own, dense from 100.
std::vector<Record> Renumbered(std::vector<Record> records) {
  for (size_t i = 0; i < records.size(); ++i) records[i].offset = 100 + static_cast<int64_t>(i);
  return records;
}

auto AFinding(Finding::Kind kind, int64_t source_offset, const std::string& detail = "") {
  return AllOf(Field(&Finding::kind, kind), Field(&Finding::source_offset, source_offset),
               Field(&Finding::detail, HasSubstr(detail)));
}

void ExpectCounts(const PartitionReport& r, int64_t ok, int64_t missing, int64_t duplicated, int64_t out_of_order,
                  int64_t corrupted, int64_t extra) {
  EXPECT_EQ(r.ok, ok);
  EXPECT_EQ(r.missing, missing);
  EXPECT_EQ(r.duplicated, duplicated);
  EXPECT_EQ(r.out_of_order, out_of_order);
  EXPECT_EQ(r.corrupted, corrupted);
  EXPECT_EQ(r.extra, extra);
  EXPECT_EQ(r.found, r.ok + r.duplicated + r.corrupted + r.extra);
}

TEST(CompareStreams, IdenticalCopyPasses) {
  std::vector<Record> source = Generated(0, 100);
  PartitionReport r = CompareStreams(source, Renumbered(source), CheckMode::kExactlyOnce);
  EXPECT_EQ(r.expected, 100);
  EXPECT_EQ(r.found, 100);
  ExpectCounts(r, 100, 0, 0, 0, 0, 0);
  EXPECT_TRUE(r.Passed());
  EXPECT_TRUE(r.examples.empty());
}

TEST(CompareStreams, EmptyStreamsPass) {
  EXPECT_TRUE(CompareStreams(std::vector<Record>{}, std::vector<Record>{}, CheckMode::kExactlyOnce).Passed());
}

TEST(CompareStreams, ReportsLostRecordsWithTheirSourceOffsets) {
  std::vector<Record> source = Generated(0, 50);
  std::vector<Record> target = source;
  target.erase(target.begin() + 30);
  target.erase(target.begin() + 10);
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 48, 2, 0, 0, 0, 0);
  EXPECT_FALSE(r.Passed());
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kMissing, 10, "seq 10")));
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kMissing, 30, "seq 30")));
}

TEST(CompareStreams, EmptyTargetMissesEverything) {
  PartitionReport r = CompareStreams(Generated(0, 20), {}, CheckMode::kAtLeastOnce);
  ExpectCounts(r, 0, 20, 0, 0, 0, 0);
  EXPECT_FALSE(r.Passed());
}

TEST(CompareStreams, DuplicateFailsExactlyOnceButNotAtLeastOnce) {
  std::vector<Record> source = Generated(0, 20);
  std::vector<Record> target = source;
  target.insert(target.begin() + 6, source[5]);
  PartitionReport exactly = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(exactly, 20, 0, 1, 0, 0, 0);
  EXPECT_FALSE(exactly.Passed());
  EXPECT_THAT(exactly.examples, Contains(AFinding(Finding::Kind::kDuplicated, 5)));
  EXPECT_TRUE(CompareStreams(source, Renumbered(target), CheckMode::kAtLeastOnce).Passed());
}

TEST(CompareStreams, ReplayAfterACrashIsDuplicationNotReordering) {
  std::vector<Record> source = Generated(0, 10);
  std::vector<Record> target(source.begin(), source.begin() + 7);
  target.insert(target.end(), source.begin() + 4, source.end());  // 4..6 written twice
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kAtLeastOnce);
  ExpectCounts(r, 10, 0, 3, 0, 0, 0);
  EXPECT_TRUE(r.Passed());
}

TEST(CompareStreams, SwappedNeighboursAreOneOutOfOrder) {
  std::vector<Record> source = Generated(0, 20);
  std::vector<Record> target = source;
  std::swap(target[8], target[9]);
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kAtLeastOnce);
  ExpectCounts(r, 20, 0, 0, 1, 0, 0);
  EXPECT_FALSE(r.Passed());
  EXPECT_THAT(r.examples, Contains(Field(&Finding::kind, Finding::Kind::kOutOfOrder)));
}

TEST(CompareStreams, OneRecordMovedFarCountsOnceNotForEveryRecordItPassed) {
  std::vector<Record> source = Generated(0, 100);
  std::vector<Record> target = source;
  std::rotate(target.begin(), target.end() - 1, target.end());  // last record first
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 100, 0, 0, 1, 0, 0);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kOutOfOrder, 99)));
}

TEST(CompareStreams, FlippedValueByteIsCorruptionNotLoss) {
  std::vector<Record> source = Generated(0, 20);
  std::vector<Record> target = source;
  (*target[12].value)[target[12].value->size() - 1] ^= 0x40;
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kAtLeastOnce);
  ExpectCounts(r, 19, 0, 0, 0, 1, 0);
  EXPECT_FALSE(r.Passed());
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kCorrupted, 12, "generator checksum fails")));
}

TEST(CompareStreams, ChangedHeaderIsCorruption) {
  std::vector<Record> source = Generated(0, 20);
  std::vector<Record> target = source;
  target[3].headers.push_back({"added", "by the mirror"});
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 19, 0, 0, 0, 1, 0);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kCorrupted, 3, "headers differ")));
}

TEST(CompareStreams, HeaderOrderAndNullVersusEmptyMatter) {
  std::vector<Record> source = Arbitrary(3);
  source[0].headers = {{"a", "1"}, {"b", "2"}};
  source[1].headers = {{"a", std::nullopt}};
  std::vector<Record> target = source;
  target[0].headers = {{"b", "2"}, {"a", "1"}};
  target[1].headers = {{"a", ""}};
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 1, 0, 0, 0, 2, 0);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kCorrupted, 0, "headers differ")));
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kCorrupted, 1, "headers differ")));
}

TEST(CompareStreams, ChangedTimestampIsCorruption) {
  std::vector<Record> source = Generated(0, 20);
  std::vector<Record> target = source;
  target[7].timestamp_ms += 1;
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 19, 0, 0, 0, 1, 0);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kCorrupted, 7, "timestamp")));
}

TEST(CompareStreams, NullKeyTurnedEmptyIsCorruption) {
  std::vector<Record> source = Generated(0, 20);
  source[4].key.reset();
  std::vector<Record> target = source;
  target[4].key = "";
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 19, 0, 0, 0, 1, 0);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kCorrupted, 4, "key null -> empty")));
}

TEST(CompareStreams, RecordOfAnAbortedTransactionIsExtra) {
  std::vector<Record> source = Generated(0, 10);
  RecordFactory factory(RecordMix{}, 99, 0x5eed);
  std::vector<Record> target = source;
  target.insert(target.begin() + 5, factory.Make(0, 5, kPayloadFromAbortedTransaction, kNow));
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kAtLeastOnce);
  ExpectCounts(r, 10, 0, 0, 0, 0, 1);
  EXPECT_FALSE(r.Passed());
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kExtra, -1, "aborted transaction")));
}

TEST(CompareStreams, RecordOfAnotherPartitionIsExtra) {
  std::vector<Record> source = Generated(0, 10);
  std::vector<Record> target = source;
  target.push_back(Generated(1, 3)[2]);
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 10, 0, 0, 0, 0, 1);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kExtra, -1, "partition 1 seq 2")));
}

TEST(CompareStreams, ArbitraryRecordsAreMatchedByContent) {
  std::vector<Record> source = Arbitrary(30);
  std::vector<Record> target = source;
  target.erase(target.begin() + 20);            // lost
  target.insert(target.begin() + 3, source[2]);  // duplicated
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 29, 1, 1, 0, 0, 0);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kMissing, 20)));
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kDuplicated, 2)));
}

TEST(CompareStreams, ArbitraryRecordChangedInPlaceIsCorruptionAtThatPosition) {
  std::vector<Record> source = Arbitrary(10);
  std::vector<Record> target = source;
  target[6].value = "value-six";
  target[8].key.reset();
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 8, 0, 0, 0, 2, 0);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kCorrupted, 6, "value 7 bytes -> 9 bytes")));
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kCorrupted, 8, "key 5 bytes -> null")));
}

TEST(CompareStreams, IdenticalSourceRecordsNeedAsManyCopies) {
  std::vector<Record> source = Arbitrary(4);
  source[2] = source[1];
  source[2].offset = 2;
  std::vector<Record> target = source;
  EXPECT_TRUE(CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce).Passed());
  target.erase(target.begin() + 2);
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  ExpectCounts(r, 3, 1, 0, 0, 0, 0);
}

TEST(CompareStreams, UnknownArbitraryRecordIsExtra) {
  std::vector<Record> source = Arbitrary(5);
  std::vector<Record> target = source;
  Record stranger = source[0];
  stranger.value = "never in the source";
  target.push_back(stranger);
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kAtLeastOnce);
  ExpectCounts(r, 5, 0, 0, 0, 0, 1);
}

TEST(CompareStreams, TombstonesAreComparedByContent) {
  RecordMix mix;
  mix.tombstone_ratio = 0.5;
  RecordFactory factory(mix, 1, 1);
  std::vector<Record> source;
  for (int i = 0; i < 20; ++i) source.push_back(factory.Make(0, i, 0, kNow));
  std::vector<Record> target = source;
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce);
  EXPECT_TRUE(r.Passed());
  for (size_t i = 0; i < target.size(); ++i) {
    if (!target[i].value) {
      target[i].value = "";  // a tombstone must stay null
      break;
    }
  }
  EXPECT_EQ(CompareStreams(source, Renumbered(target), CheckMode::kExactlyOnce).corrupted, 1);
}

TEST(CompareStreams, FaithfulCopyOfAnInvalidSourceRecordPassesWithAWarning) {
  std::vector<Record> source = Generated(0, 5);
  (*source[2].value).back() ^= 1;
  PartitionReport r = CompareStreams(source, Renumbered(source), CheckMode::kExactlyOnce);
  EXPECT_TRUE(r.Passed());
  EXPECT_EQ(r.source_invalid, 1);
  EXPECT_THAT(r.examples, Contains(AFinding(Finding::Kind::kSourceInvalid, 2)));
}

TEST(CompareStreams, CorruptedExtraCopyIsCorruptionEvenInAtLeastOnce) {
  std::vector<Record> source = Generated(0, 5);
  std::vector<Record> target = source;
  target.push_back(source[1]);
  target.back().timestamp_ms = 0;
  PartitionReport r = CompareStreams(source, Renumbered(target), CheckMode::kAtLeastOnce);
  ExpectCounts(r, 5, 0, 0, 0, 1, 0);
  EXPECT_FALSE(r.Passed());
}

TEST(CompareStreams, ExamplesAreCappedPerKind) {
  std::vector<Record> source = Generated(0, 100);
  PartitionReport r = CompareStreams(source, {}, CheckMode::kExactlyOnce, CompareOptions{3});
  EXPECT_EQ(r.missing, 100);
  EXPECT_EQ(r.examples.size(), 3u);
}

TEST(TopicComparison, ReportsEachViolationUnderItsPartition) {
  TopicComparison topic;
  topic.DeclarePartitions(3);
  for (int32_t p = 0; p < 3; ++p) {
    std::vector<Record> source = Generated(p, 40);
    std::vector<Record> target = source;
    if (p == 1) target.erase(target.begin() + 7);
    if (p == 2) target.push_back(source[39]);
    for (const Record& r : source) topic.AddSource(p, Summarize(r));
    for (const Record& r : Renumbered(target)) topic.AddTarget(p, Summarize(r));
  }
  std::vector<PartitionReport> reports = topic.Compare(CheckMode::kExactlyOnce);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].partition, 0);
  EXPECT_TRUE(reports[0].Passed());
  EXPECT_EQ(reports[1].partition, 1);
  ExpectCounts(reports[1], 39, 1, 0, 0, 0, 0);
  EXPECT_EQ(reports[2].partition, 2);
  ExpectCounts(reports[2], 40, 0, 1, 0, 0, 0);
}

TEST(TopicComparison, TargetOnlyPartitionShowsItsRecordsAsExtra) {
  TopicComparison topic;
  topic.DeclarePartitions(1);
  for (const Record& r : Generated(0, 5)) topic.AddSource(0, Summarize(r));
  for (const Record& r : Generated(0, 5)) topic.AddTarget(0, Summarize(r));
  for (const Record& r : Generated(1, 2)) topic.AddTarget(1, Summarize(r));
  std::vector<PartitionReport> reports = topic.Compare(CheckMode::kExactlyOnce);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_TRUE(reports[0].Passed());
  EXPECT_EQ(reports[1].partition, 1);
  EXPECT_EQ(reports[1].expected, 0);
  EXPECT_EQ(reports[1].extra, 2);
}

TEST(RecordSummary, IsSmallWhateverTheRecordSize) {
  EXPECT_LE(sizeof(RecordSummary), 64u);
}

}  // namespace
}  // namespace longhaul::soak
