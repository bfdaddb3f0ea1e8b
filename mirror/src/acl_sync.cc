#include "acl_sync.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace longhaul::mirror {

std::string_view ToString(AclOperation operation) {
  switch (operation) {
    case AclOperation::kRead:
      return "READ";
    case AclOperation::kDescribe:
      return "DESCRIBE";
    case AclOperation::kDescribeConfigs:
      return "DESCRIBE_CONFIGS";
    case AclOperation::kAll:
      return "ALL";
    case AclOperation::kOther:
      return "OTHER";
  }
  return "OTHER";
}

std::string Describe(const TopicAcl& acl) {
  return absl::StrCat(acl.principal, " ", std::string(ToString(acl.operation)), " on topic '", acl.topic, "' from ",
                      acl.host);
}

std::vector<TopicAcl> TargetTopicAcls(const std::vector<TopicAcl>& source,
                                      const std::map<std::string, std::string>& target_of_source_topic,
                                      const std::map<std::string, std::string>& principal_map) {
  std::vector<TopicAcl> out;
  for (const TopicAcl& acl : source) {
    auto target = target_of_source_topic.find(acl.topic);
    if (target == target_of_source_topic.end()) continue;
    TopicAcl mirrored = acl;
    mirrored.topic = target->second;
    if (auto mapped = principal_map.find(acl.principal); mapped != principal_map.end()) {
      mirrored.principal = mapped->second;
    }
    switch (acl.operation) {
      case AclOperation::kRead:
      case AclOperation::kDescribe:
      case AclOperation::kDescribeConfigs:
        break;
      case AclOperation::kAll:  // includes WRITE, which the target must not grant
        mirrored.operation = AclOperation::kRead;
        break;
      case AclOperation::kOther:  // WRITE, CREATE, DELETE, ALTER...: the target's own business
        continue;
    }
    out.push_back(std::move(mirrored));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace longhaul::mirror
