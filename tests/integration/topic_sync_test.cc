// Target topics kept in step with their source while mirroring: partitions
// added to a live source topic are mirrored exactly once into the grown
// target topic, and topic config changes at the source (retention, cleanup
// policy, a key removed) reach the target, while the target's own
// broker-specific overrides stay. Shared clusters, own topics.
#include <signal.h>

#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/testing/unique_name.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

using ::testing::HasSubstr;

// Records stamped now: the test shortens retention, and records days old
// would then be deleted at the source and compared against a target that
// has not deleted them yet.
std::vector<Record> RecentRecords(int count, uint64_t seed) {
  std::vector<Record> records = VariedRecords(count, seed, 0, /*keyed_only=*/true);
  const int64_t now_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < records.size(); ++i) records[i].timestamp_ms = now_ms + static_cast<int64_t>(i);
  return records;
}

class TopicSync : public ::testing::Test {
 protected:
  void SetUp() override {
    source_bootstrap_ = KafkaClusters::SharedSourceBootstrap();
    target_bootstrap_ = KafkaClusters::SharedTargetBootstrap();
    ASSERT_FALSE(source_bootstrap_.empty());
    ASSERT_FALSE(target_bootstrap_.empty());
    source_ = std::make_unique<KafkaTestClient>(source_bootstrap_);
    target_ = std::make_unique<KafkaTestClient>(target_bootstrap_);
  }
  std::string source_bootstrap_, target_bootstrap_;
  std::unique_ptr<KafkaTestClient> source_, target_;
};

TEST_F(TopicSync, PartitionsAddedToALiveSourceTopicAreMirroredExactlyOnceIntoTheGrownTarget) {
  const std::string topic = UniqueName("grow");
  ASSERT_THAT(source_->CreateTopic(topic, 2), IsOk());
  for (int p = 0; p < 2; ++p) ASSERT_THAT(source_->Produce(topic, p, VariedRecords(2000, 60 + p)), IsOk());
  PipelineSpec spec;
  spec.include = {topic};
  spec.rename = "g.{topic}";
  spec.discovery_interval = "2s";
  auto worker = StartLonghaul(WriteConfig(source_bootstrap_, target_bootstrap_, spec));
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(*source_, *target_, topic, "g." + topic, 2, seconds(60), worker.get());

  {
    // Writers keep going on the old partitions while the topic grows.
    BackgroundProducer producer(source_bootstrap_, topic, 2, 100, milliseconds(50), 70);
    ASSERT_THAT(source_->GrowPartitions(topic, 5), IsOk());
    for (int p = 2; p < 5; ++p) ASSERT_THAT(source_->Produce(topic, p, VariedRecords(1500, 80 + p)), IsOk());
    std::this_thread::sleep_for(seconds(3));
    producer.Stop();
    EXPECT_EQ(producer.errors(), 0);
  }
  ExpectExactlyOnce(*source_, *target_, topic, "g." + topic, 5, seconds(90), worker.get());
  EXPECT_THAT(target_->PartitionCount("g." + topic), IsOkAndHolds(5));
  EXPECT_THAT(worker->Output(), HasSubstr("added partitions to target topic"));
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

TEST_F(TopicSync, TargetFollowsRetentionAndCleanupPolicyChangesAndKeepsItsOwnOverrides) {
  const std::string topic = UniqueName("cfg");
  ASSERT_THAT(source_->CreateTopic(topic, 1, {{"retention.ms", "86400000"}, {"cleanup.policy", "delete"},
                                               {"segment.bytes", "10485760"}}),
              IsOk());
  ASSERT_THAT(source_->Produce(topic, 0, RecentRecords(200, 5)), IsOk());
  PipelineSpec spec;
  spec.include = {topic};
  spec.rename = "c.{topic}";
  spec.discovery_interval = "2s";
  auto worker = StartLonghaul(WriteConfig(source_bootstrap_, target_bootstrap_, spec));
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(*source_, *target_, topic, "c." + topic, 1, seconds(60), worker.get());
  const std::string target_topic = "c." + topic;
  auto created = target_->TopicConfig(target_topic);
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ((*created)["retention.ms"], "86400000");
  EXPECT_EQ((*created)["cleanup.policy"], "delete");

  // The target's operator sets a broker-specific override; it is the target
  // cluster's business and must survive every sync.
  std::map<std::string, std::string> target_own = *created;
  target_own["min.insync.replicas"] = "1";
  ASSERT_THAT(target_->SetTopicConfig(target_topic, target_own), IsOk());

  // At the source: retention shortened, compaction added, segment.bytes
  // no longer set.
  ASSERT_THAT(source_->SetTopicConfig(topic, {{"retention.ms", "3600000"}, {"cleanup.policy", "compact,delete"}}),
              IsOk());
  std::map<std::string, std::string> seen;
  // Bounded by a few discovery intervals (2 s each), not timed to it.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto now = target_->TopicConfig(target_topic);
        if (!now.ok()) return false;
        seen = *now;
        return seen["retention.ms"] == "3600000" && seen["cleanup.policy"] == "compact,delete" &&
               !seen.count("segment.bytes");
      },
      seconds(30), milliseconds(250)))
      << "target configs: " << ::testing::PrintToString(seen) << "; " << worker->Describe();
  EXPECT_EQ(seen["min.insync.replicas"], "1");
  EXPECT_THAT(worker->Output(), HasSubstr("target topic configs follow the source"));

  // Records still flow after the change.
  ASSERT_THAT(source_->Produce(topic, 0, RecentRecords(200, 6)), IsOk());
  ExpectExactlyOnce(*source_, *target_, topic, target_topic, 1, seconds(60), worker.get());
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

}  // namespace
}  // namespace longhaul::testing
