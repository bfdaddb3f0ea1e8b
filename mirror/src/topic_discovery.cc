#include "topic_discovery.h"

#include <set>

namespace longhaul::mirror {

bool IsInternalTopic(const std::string& topic) { return topic.rfind("__", 0) == 0; }

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

Properties SyncedTopicConfigs(const Properties& explicit_configs) {
  static const std::set<std::string> keys = {
      "cleanup.policy",        "retention.ms",          "retention.bytes",           "delete.retention.ms",
      "min.compaction.lag.ms", "max.compaction.lag.ms", "min.cleanable.dirty.ratio", "segment.bytes",
      "segment.ms",            "max.message.bytes",     "compression.type",
  };
  Properties out;
  for (const auto& [k, v] : explicit_configs) {
    if (keys.count(k)) out[k] = v;
  }
  return out;
}

}  // namespace longhaul::mirror
