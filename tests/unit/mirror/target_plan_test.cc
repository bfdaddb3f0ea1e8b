// The target-topic plan of discovery (mirror/src/target_plan.h): which
// target topics to create or grow, and which partitions are ready, on
// which lane.
#include "../../../mirror/src/target_plan.h"  // private to mirror/

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/offsets/lane.h"

namespace longhaul::mirror {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::Pair;

config::PipelineConfig Pipeline(std::string rename, int lanes = 4) {
  config::PipelineConfig p;
  p.name = "p";
  p.source = "site";
  p.target = "backbone";
  p.rename = std::move(rename);
  p.lanes = lanes;
  return p;
}

TEST(TargetPlan, EachSourceTopicNeedsItsRenamedTopicWithItsPartitions) {
  auto plan = PlanTargetTopics(Pipeline("{source}.{topic}"), {{{"orders", ""}, 3}, {{"payments", ""}, 1}});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan["site.orders"].partitions, 3);
  EXPECT_EQ(plan["site.orders"].config_source, "orders");
  EXPECT_EQ(plan["site.payments"].partitions, 1);
}

TEST(TargetPlan, TopicsOfManyEdgesSharingATargetNeedTheMostPartitionsAnyHas) {
  auto plan = PlanTargetTopics(Pipeline("{topic}"), {{{"orders", "ship-1"}, 2}, {{"orders", "ship-2"}, 6},
                                                     {{"orders", "ship-3"}, 4}});
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan["orders"].partitions, 6);
  EXPECT_EQ(plan["orders"].config_source, "orders");
}

TEST(TargetPlan, EdgeInRenameKeepsEdgesApart) {
  auto plan = PlanTargetTopics(Pipeline("{edge}.{topic}"), {{{"orders", "ship-1"}, 2}, {{"orders", "ship-2"}, 6}});
  EXPECT_THAT(plan, ElementsAre(Pair("ship-1.orders", Field(&TargetTopicNeed::partitions, 2)),
                                Pair("ship-2.orders", Field(&TargetTopicNeed::partitions, 6))));
}

TEST(TargetPlan, DecidesCreateGrowKeep) {
  EXPECT_EQ(DecideTargetTopic(0, 3, true), TargetTopicAction::kCreate);
  EXPECT_EQ(DecideTargetTopic(2, 3, true), TargetTopicAction::kGrow);
  EXPECT_EQ(DecideTargetTopic(3, 3, true), TargetTopicAction::kKeep);
  EXPECT_EQ(DecideTargetTopic(5, 3, true), TargetTopicAction::kTargetHasMore);
  // A hub learns only the partitions edges ship: more on the target is normal there.
  EXPECT_EQ(DecideTargetTopic(5, 3, false), TargetTopicAction::kKeep);
  EXPECT_EQ(DecideTargetTopic(2, 3, false), TargetTopicAction::kGrow);
}

TEST(TargetPlan, OnlyPartitionsThatExistOnTheTargetAreReady) {
  config::PipelineConfig p = Pipeline("{topic}");
  auto ready = ReadyPartitions(p, {{{"orders", ""}, 4}, {{"payments", ""}, 2}}, {{"orders", 2}});
  ASSERT_EQ(ready.size(), 2u);  // payments is not on the target yet
  EXPECT_EQ(ready[0].source, (TopicPartition{"orders", 0}));
  EXPECT_EQ(ready[1].source, (TopicPartition{"orders", 1}));
  EXPECT_EQ(ready[0].target_topic, "orders");
}

TEST(TargetPlan, PartitionsSpreadOverLanesByTheFrozenHash) {
  config::PipelineConfig p = Pipeline("{topic}", 8);
  auto ready = ReadyPartitions(p, {{{"orders", ""}, 8}}, {{"orders", 8}});
  ASSERT_EQ(ready.size(), 8u);
  for (const MirroredPartition& mp : ready) {
    EXPECT_EQ(mp.lane, static_cast<int>(offsets::LaneOf("orders", mp.source.partition, 8)));
  }
}

TEST(TargetPlan, AllOfOneEdgesPartitionsShareThatEdgesLane) {
  config::PipelineConfig p = Pipeline("{topic}", 8);
  auto ready = ReadyPartitions(p, {{{"orders", "ship-1"}, 3}, {{"payments", "ship-1"}, 2}},
                               {{"orders", 3}, {"payments", 2}});
  ASSERT_EQ(ready.size(), 5u);
  const int lane = static_cast<int>(offsets::LaneOfEdge("ship-1", 8));
  for (const MirroredPartition& mp : ready) {
    EXPECT_EQ(mp.lane, lane);
    EXPECT_EQ(mp.source.origin, "ship-1");
  }
}

}  // namespace
}  // namespace longhaul::mirror
