#include "topic_discovery.h"

#include <set>

namespace longhaul::mirror {

bool IsInternalTopic(const std::string& topic) { return topic.rfind("__", 0) == 0; }

bool IsLegalTopicName(const std::string& topic) {
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  for (char c : topic) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool MirrorsTopic(const config::PipelineConfig& pipeline, const std::string& topic) {
  return !IsInternalTopic(topic) && pipeline.topics.Matches(topic);
}

std::map<std::string, int> SelectTopics(const config::PipelineConfig& pipeline, const std::map<std::string, int>& all) {
  std::map<std::string, int> out;
  for (const auto& [topic, partitions] : all) {
    if (!MirrorsTopic(pipeline, topic)) continue;
    out.emplace(topic, partitions);
  }
  return out;
}

Properties SyncedTopicConfigs(const Properties& explicit_configs, const config::TopicFilter& keys) {
  Properties out;
  for (const auto& [k, v] : explicit_configs) {
    if (keys.Matches(k)) out[k] = v;
  }
  return out;
}

std::optional<Properties> ReconciledTopicConfigs(const Properties& source_synced, const Properties& target_explicit,
                                                 const config::TopicFilter& keys) {
  Properties wanted;
  for (const auto& [k, v] : target_explicit) {
    if (!keys.Matches(k)) wanted[k] = v;  // the target's own business
  }
  for (const auto& [k, v] : source_synced) {
    if (keys.Matches(k)) wanted[k] = v;
  }
  if (wanted == target_explicit) return std::nullopt;
  return wanted;
}

}  // namespace longhaul::mirror
