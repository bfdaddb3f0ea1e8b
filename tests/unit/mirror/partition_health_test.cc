// The partition health judge (mirror/src/partition_health.h): the state and
// lag the status page and longhaul_partition_state show for a partition.
#include "../../../mirror/src/partition_health.h"  // private to mirror/

#include <gtest/gtest.h>

namespace longhaul::mirror {
namespace {

using std::chrono::seconds;

constexpr int64_t kNow = 1'700'000'100'000;
const HealthThresholds kThresholds{seconds(30), seconds(60)};

PartitionProgressReading Behind(int64_t lag) {
  PartitionProgressReading p;
  p.source_end_offset = 1000;
  p.replicated_offset = 1000 - lag;
  p.advanced_at_ms = kNow - 1'000;
  p.caught_up_at_ms = kNow - 2'000;
  return p;
}

// Lag and state together, as the runner computes them.
struct Health {
  int64_t lag_records;
  double lag_seconds;
  std::string state;
  std::string error;
};
Health JudgePartitionHealth(const PartitionProgressReading& p, bool running, int64_t now, const HealthThresholds& t) {
  const PartitionLag lag = MeasureLag(p, now);
  const PartitionVerdict v = JudgePartitionState(p, lag, running, now, t);
  return Health{lag.records, lag.seconds, v.state, v.error};
}

TEST(PartitionHealth, IsOkWhenCaughtUp) {
  Health h = JudgePartitionHealth(Behind(0), /*running=*/true, kNow, kThresholds);
  EXPECT_EQ(h.state, "ok");
  EXPECT_EQ(h.lag_records, 0);
  EXPECT_EQ(h.lag_seconds, 0);
}

TEST(PartitionHealth, LagInSecondsIsTheAgeOfTheOldestUncommittedRecord) {
  PartitionProgressReading p = Behind(10);
  p.oldest_pending_timestamp_ms = kNow - 12'500;
  Health h = JudgePartitionHealth(p, true, kNow, kThresholds);
  EXPECT_EQ(h.lag_records, 10);
  EXPECT_DOUBLE_EQ(h.lag_seconds, 12.5);
  EXPECT_EQ(h.state, "ok");
}

TEST(PartitionHealth, WithNothingReadYetLagCountsFromWhenItWasLastCaughtUp) {
  PartitionProgressReading p = Behind(10);
  p.caught_up_at_ms = kNow - 40'000;
  Health h = JudgePartitionHealth(p, true, kNow, kThresholds);
  EXPECT_DOUBLE_EQ(h.lag_seconds, 40);
  EXPECT_EQ(h.state, "lagging");
}

TEST(PartitionHealth, LaggingOnlyPastTheThreshold) {
  PartitionProgressReading p = Behind(10);
  p.oldest_pending_timestamp_ms = kNow - 30'000;
  EXPECT_EQ(JudgePartitionHealth(p, true, kNow, kThresholds).state, "ok");
  p.oldest_pending_timestamp_ms = kNow - 30'001;
  EXPECT_EQ(JudgePartitionHealth(p, true, kNow, kThresholds).state, "lagging");
}

TEST(PartitionHealth, StalledWhenBehindAndNoProgressForStalledAfter) {
  PartitionProgressReading p = Behind(10);
  p.oldest_pending_timestamp_ms = kNow - 100'000;
  p.advanced_at_ms = kNow - 60'001;
  EXPECT_EQ(JudgePartitionHealth(p, true, kNow, kThresholds).state, "stalled");
  // Not behind: an idle partition never stalls.
  PartitionProgressReading idle = Behind(0);
  idle.advanced_at_ms = kNow - 600'000;
  EXPECT_EQ(JudgePartitionHealth(idle, true, kNow, kThresholds).state, "ok");
}

TEST(PartitionHealth, UnknownOffsetsMeanNoLag) {
  PartitionProgressReading p;
  p.replicated_offset = 5;
  Health h = JudgePartitionHealth(p, true, kNow, kThresholds);
  EXPECT_EQ(h.lag_records, 0);
  EXPECT_EQ(h.state, "ok");
}

TEST(PartitionHealth, StoppedWhenNoLaneHereReadsIt) {
  PartitionProgressReading p = Behind(10);
  p.advanced_at_ms = kNow - 600'000;
  Health h = JudgePartitionHealth(p, /*running=*/false, kNow, kThresholds);
  EXPECT_EQ(h.state, "stopped");
  EXPECT_EQ(h.lag_records, 10);  // lag keeps showing while nobody replicates it
}

TEST(PartitionHealth, ErrorNamesTheGapThatStoppedThePartition) {
  PartitionProgressReading p = Behind(10);
  p.gap_stopped = true;
  p.gap_error = "orders[0]: offsets 5-9 deleted at the source before they were copied";
  Health h = JudgePartitionHealth(p, true, kNow, kThresholds);
  EXPECT_EQ(h.state, "error");
  EXPECT_EQ(h.error, p.gap_error);
  // A partition this process does not run is "stopped", whatever stopped it elsewhere.
  EXPECT_EQ(JudgePartitionHealth(p, false, kNow, kThresholds).state, "stopped");
  EXPECT_EQ(JudgePartitionHealth(p, false, kNow, kThresholds).error, "");
}

TEST(PartitionHealth, AFullerLagFromElsewhereDecidesTheState) {
  // A hub adds the backlog its edges report: the partition may be caught up
  // here and still lag end to end.
  PartitionProgressReading p = Behind(0);
  EXPECT_EQ(JudgePartitionState(p, PartitionLag{500, 45}, true, kNow, kThresholds).state, "lagging");
  EXPECT_EQ(JudgePartitionState(p, PartitionLag{0, 0}, true, kNow, kThresholds).state, "ok");
}

}  // namespace
}  // namespace longhaul::mirror
