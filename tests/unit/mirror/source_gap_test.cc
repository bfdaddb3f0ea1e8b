// Private to mirror/.
#include "../../../mirror/src/source_gap.h"

#include <gtest/gtest.h>

namespace longhaul::mirror {
namespace {

TEST(JudgeOutOfRange, OffsetBelowTheLogStartLosesEverythingUpToIt) {
  OutOfRangeVerdict v = JudgeOutOfRange(1000, 11000, 12000);
  EXPECT_EQ(v.kind, OutOfRangeKind::kBelowLogStart);
  EXPECT_EQ(v.lost_first, 1000);
  EXPECT_EQ(v.lost_end, 11000);
  EXPECT_EQ(v.lost_records(), 10000);
}

TEST(JudgeOutOfRange, OffsetInsideTheLogIsReadAgainNotCountedAsLost) {
  EXPECT_EQ(JudgeOutOfRange(1000, 1000, 1000).kind, OutOfRangeKind::kWithinLog);  // empty log, at its end
  EXPECT_EQ(JudgeOutOfRange(1500, 1000, 2000).kind, OutOfRangeKind::kWithinLog);
  EXPECT_EQ(JudgeOutOfRange(2000, 1000, 2000).kind, OutOfRangeKind::kWithinLog);
}

TEST(JudgeOutOfRange, OffsetBeyondTheEndIsNeverSkippedOver) {
  OutOfRangeVerdict v = JudgeOutOfRange(2001, 1000, 2000);
  EXPECT_EQ(v.kind, OutOfRangeKind::kBeyondLogEnd);
  EXPECT_EQ(v.lost_records(), 0);
}

TEST(SourceGapLedger, CountsAGapSeenByEverySessionOnce) {
  SourceGapLedger ledger;
  EXPECT_EQ(ledger.Add(1000, 11000), 10000);
  EXPECT_EQ(ledger.Add(1000, 11000), 0);  // a new lane session stopped at the same gap
  EXPECT_EQ(ledger.Add(1000, 11500), 500);  // retention deleted 500 more meanwhile
  EXPECT_EQ(ledger.Add(1000, 11200), 0);
}

TEST(SourceGapLedger, CountsALaterGapInFull) {
  SourceGapLedger ledger;
  EXPECT_EQ(ledger.Add(0, 100), 100);
  EXPECT_EQ(ledger.Add(500, 700), 200);
  EXPECT_EQ(ledger.Add(500, 700), 0);
  EXPECT_EQ(ledger.Add(5, 6), 1);  // a gap before the newest: a partition read again from older checkpoints
}

TEST(SourceGapLedger, IgnoresEmptyRanges) {
  SourceGapLedger ledger;
  EXPECT_EQ(ledger.Add(10, 10), 0);
  EXPECT_EQ(ledger.Add(10, 11), 1);
}

TEST(DescribeSourceGap, NamesThePartitionTheInclusiveRangeAndTheCount) {
  EXPECT_EQ(DescribeSourceGap(TopicPartition{"orders", 3}, 1000, 11000),
            "source offsets 1000..10999 of orders[3] (10000 records) were deleted at the source (retention or "
            "DeleteRecords) before they were copied");
}

}  // namespace
}  // namespace longhaul::mirror

namespace longhaul::mirror {
namespace {

TEST(RetentionFromConfigs, ReadsTimeAndSizeAndIgnoresCompactedTopics) {
  TopicRetention r = RetentionFromConfigs({{"retention.ms", "604800000"}, {"retention.bytes", "-1"},
                                           {"cleanup.policy", "delete"}});
  EXPECT_EQ(r.ms, 604800000);
  EXPECT_EQ(r.bytes, -1);
  r = RetentionFromConfigs({{"retention.ms", "-1"}, {"retention.bytes", "1073741824"}});
  EXPECT_EQ(r.ms, -1);
  EXPECT_EQ(r.bytes, 1073741824);
  r = RetentionFromConfigs({{"retention.ms", "1000"}, {"cleanup.policy", "compact"}});
  EXPECT_EQ(r.ms, -1) << "a compacted topic deletes nothing by age";
  r = RetentionFromConfigs({{"retention.ms", "1000"}, {"cleanup.policy", "compact,delete"}});
  EXPECT_EQ(r.ms, 1000);
}

TEST(RetentionRemainingSeconds, ByTimeIsTheRetentionLessTheBacklogsAge) {
  TopicRetention r{.ms = 3'600'000, .bytes = -1};
  EXPECT_DOUBLE_EQ(RetentionRemainingSeconds(r, 0, 0, 100, 10), 3600);  // nothing behind: the full retention
  EXPECT_DOUBLE_EQ(RetentionRemainingSeconds(r, 500, 600, 100, 10), 3000);
  EXPECT_DOUBLE_EQ(RetentionRemainingSeconds(r, 500, 4000, 100, 10), 0) << "overdue is 0, not negative";
}

TEST(RetentionRemainingSeconds, BySizeIsTheRoomLeftAtTheWriteRate) {
  TopicRetention r{.ms = -1, .bytes = 1'000'000};
  // Room for 10,000 records of 100 bytes; 4,000 behind; 60 written per second.
  EXPECT_DOUBLE_EQ(RetentionRemainingSeconds(r, 4000, 30, 100, 60), 100);
  EXPECT_DOUBLE_EQ(RetentionRemainingSeconds(r, 4000, 30, 100, 0), -1) << "nothing written: no deadline";
  EXPECT_DOUBLE_EQ(RetentionRemainingSeconds(TopicRetention{.ms = 50'000, .bytes = 1'000'000}, 4000, 30, 100, 60), 20)
      << "the sooner of time and size";
  EXPECT_DOUBLE_EQ(RetentionRemainingSeconds(TopicRetention{}, 4000, 30, 100, 60), -1) << "kept forever";
}

}  // namespace
}  // namespace longhaul::mirror
