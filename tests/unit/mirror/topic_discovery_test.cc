// Which topic configs travel to the target, and what a target topic is
// altered to so that it follows its source: pure functions of topic
// discovery (mirror/src/topic_discovery.h).
#include "../../../mirror/src/topic_discovery.h"  // private to mirror/

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace longhaul::mirror {
namespace {

using ::testing::Optional;

config::TopicFilter Keys(std::vector<std::string> include, std::vector<std::string> exclude = {}) {
  auto f = config::TopicFilter::Create(std::move(include), std::move(exclude));
  EXPECT_TRUE(f.ok()) << f.status();
  return *f;
}

TEST(SyncedTopicConfigs, LeavesOutBrokerSpecificKeysByDefault) {
  Properties source = {{"retention.ms", "1000"},
                       {"cleanup.policy", "compact"},
                       {"min.insync.replicas", "2"},
                       {"message.timestamp.type", "LogAppendTime"},
                       {"leader.replication.throttled.replicas", "*"},
                       {"max.message.bytes", "2000000"}};
  EXPECT_EQ(SyncedTopicConfigs(source, config::DefaultTopicConfigFilter()),
            (Properties{{"cleanup.policy", "compact"}, {"max.message.bytes", "2000000"}, {"retention.ms", "1000"}}));
}

TEST(SyncedTopicConfigs, KeepsOnlyTheIncludedKeys) {
  Properties source = {{"retention.ms", "1000"}, {"retention.bytes", "5"}, {"cleanup.policy", "compact"}};
  EXPECT_EQ(SyncedTopicConfigs(source, Keys({"retention\\..*"}, {"retention\\.bytes"})),
            (Properties{{"retention.ms", "1000"}}));
}

TEST(ReconciledTopicConfigs, IsNothingWhenTheTargetAlreadyAgrees) {
  Properties synced = {{"retention.ms", "1000"}};
  Properties target = {{"retention.ms", "1000"}, {"min.insync.replicas", "2"}};
  EXPECT_EQ(ReconciledTopicConfigs(synced, target, config::DefaultTopicConfigFilter()), std::nullopt);
}

TEST(ReconciledTopicConfigs, TakesChangedAndNewValuesAndKeepsTheTargetsOwnOverrides) {
  Properties synced = {{"retention.ms", "2000"}, {"cleanup.policy", "compact"}};
  Properties target = {{"retention.ms", "1000"}, {"min.insync.replicas", "2"}};
  EXPECT_THAT(ReconciledTopicConfigs(synced, target, config::DefaultTopicConfigFilter()),
              Optional(Properties{{"cleanup.policy", "compact"}, {"min.insync.replicas", "2"}, {"retention.ms", "2000"}}));
}

TEST(ReconciledTopicConfigs, DropsSyncedKeysTheSourceNoLongerSets) {
  Properties synced = {{"retention.ms", "2000"}};
  Properties target = {{"retention.ms", "2000"}, {"cleanup.policy", "compact"}, {"min.insync.replicas", "2"}};
  EXPECT_THAT(ReconciledTopicConfigs(synced, target, config::DefaultTopicConfigFilter()),
              Optional(Properties{{"min.insync.replicas", "2"}, {"retention.ms", "2000"}}));
}

TEST(ReconciledTopicConfigs, NeverTouchesKeysOutsideTheSelection) {
  // Only retention travels: the target's cleanup.policy is its own, even
  // though the source sets another one.
  config::TopicFilter keys = Keys({"retention\\.ms"});
  Properties synced = SyncedTopicConfigs({{"retention.ms", "5"}, {"cleanup.policy", "compact"}}, keys);
  Properties target = {{"retention.ms", "5"}, {"cleanup.policy", "delete"}};
  EXPECT_EQ(ReconciledTopicConfigs(synced, target, keys), std::nullopt);
}

}  // namespace
}  // namespace longhaul::mirror
