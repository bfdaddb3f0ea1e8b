#include "longhaul/offsets/offset_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/segment.h"
#include "longhaul/testing/status_matchers.h"
#include "offsets_test_util.h"

namespace longhaul::offsets {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::IsOkAndHolds;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

TranslateResult At(int64_t target) { return {.target_offset = target}; }
TranslateResult Beyond(int64_t target) { return {.target_offset = target, .beyond_replicated = true}; }
TranslateResult Before() { return {.before_index = true}; }

// Source 100..104 -> target 1000..1004, source 105..109 compacted away,
// source 110..111 -> target 1006..1007 (1005 is a commit marker).
OffsetIndex TwoTransactions(size_t max_segments = 100) {
  OffsetIndex index(max_segments);
  EXPECT_THAT(index.Add({{100, 1000, 5}}), IsOk());
  EXPECT_THAT(index.Add({{110, 1006, 2}}), IsOk());
  return index;
}

TEST(OffsetIndex, TranslatesOffsetInsideSegmentToItsImage) {
  const OffsetIndex index = TwoTransactions();
  EXPECT_THAT(index.Translate(102), IsOkAndHolds(At(1002)));
  EXPECT_THAT(index.Translate(111), IsOkAndHolds(At(1007)));
}

TEST(OffsetIndex, TranslatesSegmentBoundariesExactly) {
  const OffsetIndex index = TwoTransactions();
  EXPECT_THAT(index.Translate(100), IsOkAndHolds(At(1000)));  // first record
  EXPECT_THAT(index.Translate(104), IsOkAndHolds(At(1004)));  // last of segment
  EXPECT_THAT(index.Translate(110), IsOkAndHolds(At(1006)));  // first after gap
}

TEST(OffsetIndex, TranslatesOffsetInsideCompactedGapToNextRecord) {
  const OffsetIndex index = TwoTransactions();
  // A consumer committed 105..110 has read everything up to 104; the next
  // record it must see is source 110, written at target 1006.
  for (int64_t o = 105; o <= 110; ++o) {
    EXPECT_THAT(index.Translate(o), IsOkAndHolds(At(1006))) << o;
  }
}

TEST(OffsetIndex, FlagsOffsetBeforeTheFirstSegmentAsBeforeIndex) {
  const OffsetIndex index = TwoTransactions();
  EXPECT_THAT(index.Translate(99), IsOkAndHolds(Before()));
  EXPECT_THAT(index.Translate(0), IsOkAndHolds(Before()));
  EXPECT_THAT(index.lowest_indexed_source_offset(), Optional(100));
}

TEST(OffsetIndex, FlagsOffsetAfterEverythingReplicatedAsBeyondReplicated) {
  const OffsetIndex index = TwoTransactions();
  // 112 is the resume point: a consumer there has read every record.
  EXPECT_THAT(index.Translate(112), IsOkAndHolds(Beyond(1008)));
  EXPECT_THAT(index.Translate(5000), IsOkAndHolds(Beyond(1008)));
  EXPECT_THAT(index.end_source_offset(), Optional(112));
}

TEST(OffsetIndex, EmptyIndexAnswersBeforeIndex) {
  const OffsetIndex index(10);
  EXPECT_THAT(index.Translate(0), IsOkAndHolds(Before()));
  EXPECT_EQ(index.lowest_indexed_source_offset(), std::nullopt);
  EXPECT_EQ(index.end_source_offset(), std::nullopt);
}

TEST(OffsetIndex, RejectsNegativeOffset) {
  const OffsetIndex index = TwoTransactions();
  EXPECT_THAT(index.Translate(-1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("negative source offset -1")));
}

TEST(OffsetIndex, MergesTransactionsContiguousOnBothSides) {
  // At-least-once mode writes no commit markers, so transactions abut.
  OffsetIndex index(10);
  ASSERT_THAT(index.Add({{0, 0, 10}}), IsOk());
  ASSERT_THAT(index.Add({{10, 10, 10}, {25, 20, 5}}), IsOk());
  EXPECT_EQ(index.size(), 2u);
  EXPECT_THAT(index.Translate(15), IsOkAndHolds(At(15)));
  EXPECT_THAT(index.Translate(22), IsOkAndHolds(At(20)));
}

TEST(OffsetIndex, RejectsSegmentsOverlappingTheIndexedRangeAndStaysUnchanged) {
  OffsetIndex index = TwoTransactions();
  EXPECT_THAT(index.Add({{111, 2000, 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlaps the indexed range")));
  EXPECT_THAT(index.Add({{200, 1007, 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ends at source 112, target 1008")));
  EXPECT_THAT(index.Add({{200, 2000, 5}, {202, 2010, 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("segment 1")));
  EXPECT_THAT(index.Add({{200, 2000, 0}}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_EQ(index.size(), 2u);
  EXPECT_THAT(index.Translate(112), IsOkAndHolds(Beyond(1008)));
}

TEST(OffsetIndex, EvictsOldestSegmentsBeyondTheBound) {
  OffsetIndex index(2);
  ASSERT_THAT(index.Add({{0, 0, 10}}), IsOk());
  ASSERT_THAT(index.Add({{20, 11, 10}}), IsOk());
  ASSERT_THAT(index.Add({{40, 22, 10}}), IsOk());
  EXPECT_EQ(index.size(), 2u);
  // The first segment is gone, but its end is remembered: 10..19 held no
  // replicated record, so they still translate exactly.
  EXPECT_THAT(index.lowest_indexed_source_offset(), Optional(10));
  EXPECT_THAT(index.Translate(9), IsOkAndHolds(Before()));
  EXPECT_THAT(index.Translate(10), IsOkAndHolds(At(11)));
  EXPECT_THAT(index.Translate(19), IsOkAndHolds(At(11)));
  EXPECT_THAT(index.Translate(45), IsOkAndHolds(At(27)));
}

TEST(OffsetIndex, OneAddLargerThanTheBoundKeepsItsNewestSegments) {
  OffsetIndex index(3);
  std::vector<OffsetSegment> segments;
  for (int64_t i = 0; i < 10; ++i) segments.push_back({i * 10, i * 5, 2});
  ASSERT_THAT(index.Add(segments), IsOk());
  EXPECT_EQ(index.size(), 3u);
  EXPECT_THAT(index.lowest_indexed_source_offset(), Optional(62));
  EXPECT_THAT(index.Translate(71), IsOkAndHolds(At(36)));
}

TEST(OffsetIndex, LoadOlderPrependsSegmentsReadBackFromTheTopic) {
  OffsetIndex index = TwoTransactions();
  ASSERT_THAT(index.Translate(50), IsOkAndHolds(Before()));
  ASSERT_THAT(index.LoadOlder({{40, 900, 10}, {60, 950, 20}}), IsOk());
  EXPECT_THAT(index.lowest_indexed_source_offset(), Optional(40));
  EXPECT_THAT(index.Translate(45), IsOkAndHolds(At(905)));
  EXPECT_THAT(index.Translate(50), IsOkAndHolds(At(950)));  // gap 50..59
  EXPECT_THAT(index.Translate(85), IsOkAndHolds(At(1000)));  // gap 80..99
  EXPECT_THAT(index.Translate(39), IsOkAndHolds(Before()));
}

TEST(OffsetIndex, LoadOlderRestoresEvictedHistory) {
  OffsetIndex index(2);
  ASSERT_THAT(index.Add({{0, 0, 10}}), IsOk());
  ASSERT_THAT(index.Add({{20, 11, 10}}), IsOk());
  ASSERT_THAT(index.Add({{40, 22, 10}}), IsOk());
  OffsetIndex scratch(10);  // the documented way to look further back
  ASSERT_THAT(scratch.Add({{20, 11, 10}, {40, 22, 10}}), IsOk());
  ASSERT_THAT(scratch.LoadOlder({{0, 0, 10}}), IsOk());
  EXPECT_THAT(scratch.Translate(5), IsOkAndHolds(At(5)));
  EXPECT_THAT(scratch.Translate(12), IsOkAndHolds(At(11)));
}

TEST(OffsetIndex, LoadOlderKeepsTheNewestThatFitWithinTheBound) {
  OffsetIndex index(3);
  ASSERT_THAT(index.Add({{100, 100, 10}}), IsOk());
  ASSERT_THAT(index.LoadOlder({{10, 10, 10}, {40, 40, 10}, {70, 70, 10}}), IsOk());
  EXPECT_EQ(index.size(), 3u);
  // {10..19} did not fit; the gap after it is still known to be empty.
  EXPECT_THAT(index.lowest_indexed_source_offset(), Optional(20));
  EXPECT_THAT(index.Translate(19), IsOkAndHolds(Before()));
  EXPECT_THAT(index.Translate(20), IsOkAndHolds(At(40)));
  EXPECT_THAT(index.Translate(75), IsOkAndHolds(At(75)));
}

TEST(OffsetIndex, LoadOlderIntoAFullIndexIsResourceExhausted) {
  OffsetIndex index(1);
  ASSERT_THAT(index.Add({{100, 100, 10}}), IsOk());
  EXPECT_THAT(index.LoadOlder({{10, 10, 10}}),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("full (1 segments)")));
  EXPECT_THAT(index.lowest_indexed_source_offset(), Optional(100));
}

TEST(OffsetIndex, LoadOlderMergesSegmentContiguousWithTheFirst) {
  OffsetIndex index(1);
  ASSERT_THAT(index.Add({{100, 100, 10}}), IsOk());
  ASSERT_THAT(index.LoadOlder({{90, 90, 10}}), IsOk());
  EXPECT_EQ(index.size(), 1u);
  EXPECT_THAT(index.Translate(95), IsOkAndHolds(At(95)));
}

TEST(OffsetIndex, LoadOlderRejectsSegmentsOverlappingTheIndexedRange) {
  OffsetIndex index = TwoTransactions();
  EXPECT_THAT(index.LoadOlder({{90, 900, 11}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlaps the indexed range")));
  EXPECT_THAT(index.LoadOlder({{90, 995, 6}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlaps the indexed range")));
  EXPECT_THAT(index.lowest_indexed_source_offset(), Optional(100));
}

TEST(OffsetIndex, LoadOlderIntoAnEmptyIndexActsAsAdd) {
  OffsetIndex index(4);
  ASSERT_THAT(index.LoadOlder({{5, 50, 5}}), IsOk());
  EXPECT_THAT(index.Translate(7), IsOkAndHolds(At(52)));
}

// The property consumers rely on when they fail over: a group committed at
// source offset o has consumed exactly the replicated records below o, so
// on the target, from the translated offset on, it must find exactly the
// replicated records at or above o: none twice, none missing. Exercised on
// random histories that went through the real writer path (SegmentBuilder
// -> checkpoint bytes -> decode -> index), with and without eviction.
TEST(OffsetIndex, ConsumerSwitchingAtTranslatedOffsetSeesEveryRecordOnce) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 60; ++round) {
    struct Replicated {
      int64_t source;
      int64_t target;
    };
    std::vector<Replicated> records;
    const size_t max_segments = round % 3 == 0 ? 4 : 10000;
    OffsetIndex index(max_segments);
    SegmentBuilder builder;
    int64_t source = static_cast<int64_t>(rng() % 50);
    int64_t target = static_cast<int64_t>(rng() % 50);
    std::string bytes;
    for (int txn = 0; txn < 20; ++txn) {
      builder.Clear();
      const int n = static_cast<int>(rng() % 30);
      for (int i = 0; i < n; ++i) {
        builder.Add(source, target);
        records.push_back({source, target});
        source += rng() % 5 == 0 ? 2 + static_cast<int64_t>(rng() % 20) : 1;  // compaction
        target += rng() % 10 == 0 ? 2 : 1;  // aborted zombie batch
      }
      source += static_cast<int64_t>(rng() % 3);  // source transaction marker(s)
      target += 1;                                // our commit marker
      Checkpoint checkpoint{.next_source_offset = source, .next_target_offset = target,
                            .commit_time_ms = txn, .lane = 0,
                            .segments = {builder.segments().begin(), builder.segments().end()}};
      bytes.clear();
      EncodeCheckpoint(checkpoint, &bytes);
      const absl::StatusOr<Checkpoint> read_back = DecodeCheckpoint(bytes);
      ASSERT_THAT(read_back, IsOk());
      ASSERT_THAT(index.Add(read_back->segments), IsOk());
    }
    ASSERT_LE(index.size(), max_segments);
    if (records.empty()) continue;
    const int64_t lowest = *index.lowest_indexed_source_offset();
    for (int64_t o = 0; o <= source + 2; ++o) {
      const absl::StatusOr<TranslateResult> result = index.Translate(o);
      ASSERT_THAT(result, IsOk());
      if (o < lowest) {
        EXPECT_TRUE(result->before_index) << "o=" << o;
        continue;
      }
      ASSERT_FALSE(result->before_index) << "o=" << o;
      std::vector<int64_t> expected;  // replicated source offsets >= o
      std::vector<int64_t> seen;      // what a consumer at the target offset reads
      for (const Replicated& r : records) {
        if (r.source >= o) expected.push_back(r.source);
        if (r.target >= result->target_offset) seen.push_back(r.source);
      }
      ASSERT_EQ(seen, expected) << "round " << round << ", o=" << o;
      EXPECT_EQ(result->beyond_replicated, expected.empty()) << "o=" << o;
    }
  }
}

TEST(OffsetIndexDeathTest, ZeroSegmentBoundIsABug) {
  EXPECT_DEATH(OffsetIndex(0), "invariant violated");
}

}  // namespace
}  // namespace longhaul::offsets
