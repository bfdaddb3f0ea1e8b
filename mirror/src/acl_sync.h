// Topic-ACL sync (pipelines.<p>.sync_topic_acls): which ACLs of the source
// cluster's mirrored topics are granted on their target topics. The rule is
// MirrorMaker 2's, stricter: only ALLOW bindings on a LITERAL topic name, and
// only the reading side of it (READ, DESCRIBE, DESCRIBE_CONFIGS; ALL becomes
// READ). WRITE is never granted on a target topic: only the mirror writes
// there. Principals are mapped (acl_principals) or kept. ACLs removed at the
// source are not removed at the target. Pure; private to mirror/.
#pragma once

#include <compare>
#include <map>
#include <string>
#include <vector>

namespace longhaul::mirror {

enum class AclOperation { kRead, kDescribe, kDescribeConfigs, kAll, kOther };

// One ALLOW binding on a topic, spelled as Kafka's tools spell its parts.
struct TopicAcl {
  std::string topic;      // a LITERAL resource name
  std::string principal;  // "User:alice"
  std::string host;       // "*" or an address
  AclOperation operation = AclOperation::kOther;
  friend auto operator<=>(const TopicAcl&, const TopicAcl&) = default;
  friend bool operator==(const TopicAcl&, const TopicAcl&) = default;
};

std::string_view ToString(AclOperation operation);
// "User:alice READ on topic 'copy.orders' from *".
std::string Describe(const TopicAcl& acl);

// The target bindings for `source` ACLs: those on topics in
// `target_of_source_topic` (source topic -> target topic), by the rule above,
// deduplicated and sorted.
std::vector<TopicAcl> TargetTopicAcls(const std::vector<TopicAcl>& source,
                                      const std::map<std::string, std::string>& target_of_source_topic,
                                      const std::map<std::string, std::string>& principal_map);

}  // namespace longhaul::mirror
