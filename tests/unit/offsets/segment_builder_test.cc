#include "longhaul/offsets/segment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "offsets_test_util.h"

namespace longhaul::offsets {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Delivery {
  int64_t source;
  int64_t target;
};

std::vector<OffsetSegment> Build(const std::vector<Delivery>& deliveries) {
  SegmentBuilder builder;
  for (const Delivery& d : deliveries) builder.Add(d.source, d.target);
  return {builder.segments().begin(), builder.segments().end()};
}

TEST(SegmentBuilder, StartsEmptyWithUnknownNextOffsets) {
  SegmentBuilder builder;
  EXPECT_TRUE(builder.empty());
  EXPECT_THAT(builder.segments(), IsEmpty());
  EXPECT_EQ(builder.next_source_offset(), -1);
  EXPECT_EQ(builder.next_target_offset(), -1);
}

TEST(SegmentBuilder, ContiguousRecordsFormOneSegment) {
  EXPECT_THAT(Build({{100, 5000}, {101, 5001}, {102, 5002}, {103, 5003}}),
              ElementsAre(OffsetSegment{100, 5000, 4}));
}

TEST(SegmentBuilder, SingleRecordIsASegmentOfLengthOne) {
  EXPECT_THAT(Build({{7, 0}}), ElementsAre(OffsetSegment{7, 0, 1}));
}

TEST(SegmentBuilder, CompactedSourceGapStartsNewSegment) {
  // Source 102..104 compacted away; the target is written densely.
  EXPECT_THAT(Build({{100, 50}, {101, 51}, {105, 52}, {106, 53}}),
              ElementsAre(OffsetSegment{100, 50, 2}, OffsetSegment{105, 52, 2}));
}

TEST(SegmentBuilder, SourceTransactionMarkerGapStartsNewSegment) {
  // Offset 3 on the source is a commit marker of an upstream transaction.
  EXPECT_THAT(Build({{0, 10}, {1, 11}, {2, 12}, {4, 13}}),
              ElementsAre(OffsetSegment{0, 10, 3}, OffsetSegment{4, 13, 1}));
}

TEST(SegmentBuilder, TargetGapStartsNewSegment) {
  EXPECT_THAT(Build({{10, 100}, {11, 101}, {12, 103}, {13, 104}}),
              ElementsAre(OffsetSegment{10, 100, 2}, OffsetSegment{12, 103, 2}));
}

TEST(SegmentBuilder, GapsOnBothSidesAtOnceStartOneNewSegment) {
  EXPECT_THAT(Build({{10, 100}, {20, 200}, {21, 201}}),
              ElementsAre(OffsetSegment{10, 100, 1}, OffsetSegment{20, 200, 2}));
}

TEST(SegmentBuilder, AlternatingGapsYieldOneSegmentPerRun) {
  EXPECT_THAT(Build({{0, 0}, {2, 1}, {3, 2}, {4, 4}, {6, 6}, {7, 7}}),
              ElementsAre(OffsetSegment{0, 0, 1}, OffsetSegment{2, 1, 2}, OffsetSegment{4, 4, 1},
                          OffsetSegment{6, 6, 2}));
}

TEST(SegmentBuilder, ReportsOffsetsOnePastTheLastRecord) {
  SegmentBuilder builder;
  builder.Add(41, 9);
  builder.Add(45, 10);
  EXPECT_EQ(builder.next_source_offset(), 46);
  EXPECT_EQ(builder.next_target_offset(), 11);
}

TEST(SegmentBuilder, ClearStartsTheNextTransactionFromScratch) {
  SegmentBuilder builder;
  builder.Add(0, 0);
  builder.Add(5, 1);
  builder.Clear();
  EXPECT_TRUE(builder.empty());
  // Lower offsets are fine after Clear: it is a new transaction (or a
  // rewound partition).
  builder.Add(3, 7);
  EXPECT_THAT(builder.segments(), ElementsAre(OffsetSegment{3, 7, 1}));
}

TEST(SegmentBuilder, SegmentsReproduceEveryDeliveryAndNothingElse) {
  std::mt19937_64 rng(20261128);
  for (int round = 0; round < 200; ++round) {
    std::vector<Delivery> deliveries;
    int64_t source = static_cast<int64_t>(rng() % 1000);
    int64_t target = static_cast<int64_t>(rng() % 1000);
    const int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      deliveries.push_back({source, target});
      source += rng() % 4 == 0 ? 1 + static_cast<int64_t>(rng() % 10) : 1;
      target += rng() % 6 == 0 ? 2 : 1;
    }
    const std::vector<OffsetSegment> segments = Build(deliveries);
    std::vector<Delivery> expanded;
    for (size_t i = 0; i < segments.size(); ++i) {
      const OffsetSegment& s = segments[i];
      ASSERT_GE(s.length, 1);
      if (i > 0) {
        // Minimal: neighbours are never contiguous on both sides.
        const OffsetSegment& p = segments[i - 1];
        EXPECT_FALSE(s.source_start == p.source_end() && s.target_start == p.target_end());
      }
      for (int64_t k = 0; k < s.length; ++k) expanded.push_back({s.source_start + k, s.target_start + k});
    }
    ASSERT_EQ(expanded.size(), deliveries.size());
    for (size_t i = 0; i < deliveries.size(); ++i) {
      EXPECT_EQ(expanded[i].source, deliveries[i].source);
      EXPECT_EQ(expanded[i].target, deliveries[i].target);
    }
  }
}

TEST(SegmentBuilderDeathTest, RepeatedSourceOffsetIsABug) {
  SegmentBuilder builder;
  builder.Add(10, 10);
  EXPECT_DEATH(builder.Add(10, 11), "invariant violated");
}

TEST(SegmentBuilderDeathTest, DecreasingSourceOffsetIsABug) {
  SegmentBuilder builder;
  builder.Add(10, 10);
  EXPECT_DEATH(builder.Add(9, 11), "invariant violated");
}

TEST(SegmentBuilderDeathTest, NonIncreasingTargetOffsetIsABug) {
  SegmentBuilder builder;
  builder.Add(10, 10);
  EXPECT_DEATH(builder.Add(11, 10), "invariant violated");
  EXPECT_DEATH(builder.Add(12, 3), "invariant violated");
}

TEST(SegmentBuilderDeathTest, NegativeOffsetIsABug) {
  SegmentBuilder builder;
  EXPECT_DEATH(builder.Add(-1, 0), "invariant violated");
  EXPECT_DEATH(builder.Add(0, -1), "invariant violated");
}

}  // namespace
}  // namespace longhaul::offsets
