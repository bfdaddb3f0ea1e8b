// The target-topic plan of a lane pipeline's discovery: which target topics
// the mirrored source topics need and with how many partitions, what to do
// about each (create, grow, leave), and which partitions are ready to
// mirror, each on its lane. Pure (no Kafka): the runner does the admin calls
// the plan asks for; tests/unit/mirror/target_plan_test.cc. Private to mirror/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "longhaul/config/config.h"
#include "pipeline_state.h"

namespace longhaul::mirror {

// A source topic as the runner mirrors it: in a hub pipeline fed by many
// edges, one edge's topic (`origin` is the edge's name, as in
// TopicPartition::origin); elsewhere `origin` is empty.
struct SourceTopic {
  std::string topic;
  std::string origin;
  friend bool operator==(const SourceTopic&, const SourceTopic&) = default;
  friend auto operator<=>(const SourceTopic&, const SourceTopic&) = default;
};

// What one target topic needs. Several source topics can map onto one
// target topic (the topics of many edges without {edge} in rename): it
// needs the most partitions any of them has.
struct TargetTopicNeed {
  std::string config_source;  // the first source topic mapped onto it: where its configs come from
  int partitions = 0;
};

// Target topic name -> need, for the source topics (with their partition
// counts) the pipeline mirrors.
std::map<std::string, TargetTopicNeed> PlanTargetTopics(const config::PipelineConfig& pipeline,
                                                        const std::map<SourceTopic, int>& source_topics);

enum class TargetTopicAction {
  kCreate,          // missing on the target (0 partitions)
  kGrow,            // fewer partitions than needed: add partitions
  kKeep,            // as many as needed
  kTargetHasMore,   // more than the source has: extra partitions stay empty (worth a warning)
};

// `source_knows_partition_counts`: the source side tells the real partition
// counts (a hub only learns the partitions edges ship, so "more on the
// target" is normal there, not worth a warning).
TargetTopicAction DecideTargetTopic(int target_partitions, int needed, bool source_knows_partition_counts);

// The partitions to mirror: of each source topic, those below the partition
// count ready on its target topic (`ready_by_target`, target topic ->
// partitions that exist there), each on its lane: every partition of one
// edge on that edge's lane (edge affinity), otherwise spread by topic and
// partition with the frozen lane hash.
std::vector<MirroredPartition> ReadyPartitions(const config::PipelineConfig& pipeline,
                                               const std::map<SourceTopic, int>& source_topics,
                                               const std::map<std::string, int>& ready_by_target);

}  // namespace longhaul::mirror
