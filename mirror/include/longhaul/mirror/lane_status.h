// A pipeline's state as Kafka holds it, for `longhaul status`: who owns each
// lane (the members of the lane group and their assignments), each source
// partition's newest checkpoint, and the lag to the source's end. Read-only:
// it joins no group and writes nothing, so it can run beside the workers
// from anywhere that reaches both clusters.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/config/config.h"
#include "longhaul/offsets/checkpoint.h"

namespace longhaul::mirror {

// One member of the lane group, as the group coordinator describes it.
struct LaneGroupMember {
  std::string member_id;  // unique per worker process and join
  std::string client_id;  // "longhaul-<pipeline>-lanes"
  std::string host;       // the worker's address as the broker sees it
  std::vector<int> lanes; // its assigned partitions of the checkpoint topic
};

struct LaneGroupState {
  std::string state;  // "Stable", "Empty", "Dead" (no such group), "PreparingRebalance", ...
  std::vector<LaneGroupMember> members;
};

struct PartitionLaneStatus {
  TopicPartition source;
  int lane = 0;                    // LaneOf(topic, partition, lanes)
  bool checkpointed = false;       // a checkpoint exists
  int64_t next_source_offset = -1; // from the checkpoint
  int64_t commit_time_ms = -1;     // the checkpoint's commit time, -1 unknown
  int64_t source_end_offset = -1;  // read_committed end on the source, -1 unknown
  // source_end_offset - next_source_offset; without a checkpoint, the whole
  // partition from its first retained offset; -1 when the end is unknown.
  int64_t lag_records = -1;
};

struct LaneStatus {
  int lane = 0;
  bool owned = false;
  LaneGroupMember owner;            // when owned (its `lanes` left empty)
  int64_t last_checkpoint_ms = -1;  // newest commit time of its checkpoints
  int64_t lag_records = 0;          // sum of its partitions' known lags
  std::vector<PartitionLaneStatus> partitions;
};

struct PipelineLaneReport {
  std::string pipeline;
  std::string source_cluster;
  std::string target_cluster;
  std::string via;  // the link, for a pipeline via one
  std::string lane_group;
  std::string checkpoint_topic;
  std::string group_state;
  int lanes = 0;
  int members = 0;
  std::vector<LaneStatus> lane_status;  // one per lane, in order
  // Things that were read only in part (named, never silently dropped).
  std::vector<std::string> warnings;
};

// What the report is made of, as read from Kafka.
struct LaneStatusInputs {
  LaneGroupState group;
  // Newest checkpoint per source partition (tombstones removed).
  std::map<TopicPartition, offsets::Checkpoint> checkpoints;
  // Source partitions the pipeline mirrors now, with their first retained
  // and read_committed end offsets (either -1 when unknown).
  std::map<TopicPartition, std::pair<int64_t, int64_t>> source_bounds;
};

// Pure: assembles the report. Partitions with a checkpoint but no longer on
// the source (topic deleted) are kept, with an unknown end.
PipelineLaneReport BuildLaneReport(const config::PipelineConfig& pipeline, const LaneStatusInputs& inputs);

// Reads the inputs from both clusters and builds the report. Blocks up to
// tens of seconds; errors name the cluster, topic or group. NotFound for an
// unknown pipeline.
absl::StatusOr<PipelineLaneReport> ReadPipelineLaneStatus(const config::Config& config, const std::string& pipeline);

}  // namespace longhaul::mirror
