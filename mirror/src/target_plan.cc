#include "target_plan.h"

#include <algorithm>

#include "longhaul/offsets/lane.h"

namespace longhaul::mirror {

std::map<std::string, TargetTopicNeed> PlanTargetTopics(const config::PipelineConfig& pipeline,
                                                        const std::map<SourceTopic, int>& source_topics) {
  std::map<std::string, TargetTopicNeed> targets;
  for (const auto& [st, partitions] : source_topics) {
    TargetTopicNeed& need = targets[pipeline.TargetTopic(st.topic, st.origin)];
    if (need.config_source.empty()) need.config_source = st.topic;
    need.partitions = std::max(need.partitions, partitions);
  }
  return targets;
}

TargetTopicAction DecideTargetTopic(int target_partitions, int needed, bool source_knows_partition_counts) {
  if (target_partitions == 0) return TargetTopicAction::kCreate;
  if (target_partitions < needed) return TargetTopicAction::kGrow;
  if (target_partitions > needed && source_knows_partition_counts) return TargetTopicAction::kTargetHasMore;
  return TargetTopicAction::kKeep;
}

std::vector<MirroredPartition> ReadyPartitions(const config::PipelineConfig& pipeline,
                                               const std::map<SourceTopic, int>& source_topics,
                                               const std::map<std::string, int>& ready_by_target) {
  std::vector<MirroredPartition> ready;
  for (const auto& [st, partitions] : source_topics) {
    std::string target_topic = pipeline.TargetTopic(st.topic, st.origin);
    auto it = ready_by_target.find(target_topic);
    const int n = std::min(partitions, it == ready_by_target.end() ? 0 : it->second);
    for (int p = 0; p < n; ++p) {
      // Edge affinity (docs/architecture.md): one edge's partitions share a
      // lane, so one lane transaction holds all of an edge's progress.
      const int lane = static_cast<int>(st.origin.empty() ? offsets::LaneOf(st.topic, p, pipeline.lanes)
                                                          : offsets::LaneOfEdge(st.origin, pipeline.lanes));
      ready.push_back(MirroredPartition{TopicPartition{st.topic, p, st.origin}, target_topic, lane});
    }
  }
  return ready;
}

}  // namespace longhaul::mirror
