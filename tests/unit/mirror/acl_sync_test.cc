// Topic-ACL sync's rule (MirrorMaker 2's, stricter): the reading side of
// the source topics' ALLOW ACLs is granted on their target topics, never WRITE.
#include "../../../mirror/src/acl_sync.h"

#include <gtest/gtest.h>

namespace longhaul::mirror {
namespace {

TEST(AclSync, GrantsTheReadingSideOnTheRenamedTopicAndNeverWrite) {
  const std::vector<TopicAcl> source = {
      {"orders", "User:reader", "*", AclOperation::kRead},
      {"orders", "User:reader", "*", AclOperation::kDescribe},
      {"orders", "User:ops", "10.0.0.1", AclOperation::kDescribeConfigs},
      {"orders", "User:writer", "*", AclOperation::kOther},  // WRITE at the source
      {"orders", "User:owner", "*", AclOperation::kAll},
      {"other", "User:reader", "*", AclOperation::kRead},  // not mirrored
  };
  const std::vector<TopicAcl> expected = {
      {"east.orders", "User:ops", "10.0.0.1", AclOperation::kDescribeConfigs},
      {"east.orders", "User:owner", "*", AclOperation::kRead},  // ALL becomes READ
      {"east.orders", "User:reader-dr", "*", AclOperation::kRead},
      {"east.orders", "User:reader-dr", "*", AclOperation::kDescribe},
  };
  EXPECT_EQ(TargetTopicAcls(source, {{"orders", "east.orders"}}, {{"User:reader", "User:reader-dr"}}), expected);
}

TEST(AclSync, SameGrantFromTwoSourceBindingsIsCreatedOnce) {
  const std::vector<TopicAcl> source = {
      {"orders", "User:owner", "*", AclOperation::kAll},
      {"orders", "User:owner", "*", AclOperation::kRead},
  };
  EXPECT_EQ(TargetTopicAcls(source, {{"orders", "orders"}}, {}).size(), 1u);
}

TEST(AclSync, DescribesAGrantAsKafkaToolsSpellIt) {
  EXPECT_EQ(Describe({"copy.orders", "User:alice", "*", AclOperation::kRead}),
            "User:alice READ on topic 'copy.orders' from *");
}

}  // namespace
}  // namespace longhaul::mirror
