// BuildLaneReport (the pure half of `longhaul status`): owners from the lane
// group's assignments, partitions placed on their frozen lane, lag from
// checkpoints and source ends, and the odd answers a broker can give named
// rather than dropped.
#include "longhaul/mirror/lane_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/offsets/lane.h"

namespace longhaul::mirror {
namespace {

using ::testing::HasSubstr;

config::PipelineConfig Pipeline(int lanes) {
  config::PipelineConfig p;
  p.name = "p";
  p.source = "src";
  p.target = "dst";
  p.lanes = lanes;
  return p;
}

offsets::Checkpoint Cp(int64_t next, int64_t time_ms) {
  offsets::Checkpoint c;
  c.next_source_offset = next;
  c.commit_time_ms = time_ms;
  return c;
}

TEST(LaneReport, OwnersComeFromAssignmentsAndUnassignedLanesHaveNone) {
  LaneStatusInputs in;
  in.group.state = "Stable";
  in.group.members = {{"m-1", "longhaul-p-lanes", "/10.0.0.1", {0, 2}}, {"m-2", "longhaul-p-lanes", "/10.0.0.2", {1}}};
  PipelineLaneReport r = BuildLaneReport(Pipeline(4), in);
  ASSERT_EQ(r.lane_status.size(), 4u);
  EXPECT_EQ(r.lane_group, "__longhaul.p.lanes");
  EXPECT_EQ(r.checkpoint_topic, "__longhaul.p.checkpoints");
  EXPECT_EQ(r.members, 2);
  EXPECT_TRUE(r.lane_status[0].owned);
  EXPECT_EQ(r.lane_status[0].owner.member_id, "m-1");
  EXPECT_EQ(r.lane_status[1].owner.host, "/10.0.0.2");
  EXPECT_EQ(r.lane_status[2].owner.member_id, "m-1");
  EXPECT_FALSE(r.lane_status[3].owned);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(LaneReport, PartitionsLandOnTheirLaneWithLagFromCheckpointAndEnd) {
  LaneStatusInputs in;
  TopicPartition a{"orders", 0}, b{"orders", 1}, fresh{"orders", 2};
  in.checkpoints[a] = Cp(90, 1'000);
  in.checkpoints[b] = Cp(50, 2'000);
  in.source_bounds[a] = {0, 100};
  in.source_bounds[b] = {0, 40};     // end read before the checkpoint landed: 0, not -10
  in.source_bounds[fresh] = {5, 25};  // never checkpointed: everything retained is behind
  PipelineLaneReport r = BuildLaneReport(Pipeline(3), in);
  int64_t total = 0;
  for (const auto& lane : r.lane_status) {
    for (const auto& p : lane.partitions) {
      EXPECT_EQ(p.lane, static_cast<int>(offsets::LaneOf(p.source.topic, p.source.partition, 3))) << p.source.ToString();
      EXPECT_EQ(p.lane, lane.lane);
      if (p.source == a) {
        EXPECT_EQ(p.lag_records, 10);
      }
      if (p.source == b) {
        EXPECT_EQ(p.lag_records, 0);
      }
      if (p.source == fresh) {
        EXPECT_FALSE(p.checkpointed);
        EXPECT_EQ(p.lag_records, 20);
      }
      ++total;
    }
    int64_t lag = 0, newest = -1;
    for (const auto& p : lane.partitions) {
      lag += std::max<int64_t>(0, p.lag_records);
      newest = std::max(newest, p.commit_time_ms);
    }
    EXPECT_EQ(lane.lag_records, lag);
    EXPECT_EQ(lane.last_checkpoint_ms, newest);
  }
  EXPECT_EQ(total, 3);
}

TEST(LaneReport, CheckpointOfADeletedTopicIsKeptWithUnknownLag) {
  LaneStatusInputs in;
  in.checkpoints[TopicPartition{"gone", 0}] = Cp(7, 3'000);
  PipelineLaneReport r = BuildLaneReport(Pipeline(1), in);
  ASSERT_EQ(r.lane_status[0].partitions.size(), 1u);
  EXPECT_EQ(r.lane_status[0].partitions[0].lag_records, -1);
  EXPECT_EQ(r.lane_status[0].partitions[0].source_end_offset, -1);
  EXPECT_EQ(r.lane_status[0].last_checkpoint_ms, 3'000);
}

TEST(LaneReport, AssignmentsOutsideTheLanesOrTwiceAreNamed) {
  LaneStatusInputs in;
  in.group.members = {{"m-1", "c", "h", {0, 7}}, {"m-2", "c", "h", {0}}};
  PipelineLaneReport r = BuildLaneReport(Pipeline(2), in);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_THAT(r.warnings[0], HasSubstr("partition 7"));
  EXPECT_THAT(r.warnings[1], HasSubstr("lane 0 is assigned to two members: m-1 and m-2"));
  EXPECT_EQ(r.lane_status[0].owner.member_id, "m-1");
}

}  // namespace
}  // namespace longhaul::mirror
