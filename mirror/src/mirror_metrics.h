// The metrics a pipeline records on its hot paths (histograms and error
// counters). Values that are state rather than events (offsets, lag, lanes
// owned) are computed at scrape time from the pipeline's status instead, by
// the collector in pipeline_runner.cc. Private to mirror/.
#pragma once

#include <array>
#include <string>

#include "longhaul/metrics/registry.h"

namespace longhaul::mirror {

// The closed set of error reasons exported as longhaul_errors_total{reason}.
enum class ErrorReason { kSourceRead, kTargetWrite, kTransactionAbort, kFenced, kCheckpointRead, kDiscovery, kLaneGroup };
inline constexpr int kErrorReasonCount = 7;
const char* ErrorReasonName(ErrorReason r);

struct PipelineMetrics {
  metrics::Histogram* replication_latency = nullptr;  // source create time -> target commit
  metrics::Histogram* commit_latency = nullptr;       // flush + checkpoints + commit
  metrics::Counter* backpressure_seconds = nullptr;   // time the lanes waited for the target
  metrics::Counter* transactions = nullptr;
  // Records not written because their provenance header names the target
  // cluster: longhaul_records_filtered_total{reason="visited"}.
  metrics::Counter* records_filtered_visited = nullptr;
  // Changes discovery made on the target: longhaul_topic_sync_total{action}.
  metrics::Counter* topics_created = nullptr;
  metrics::Counter* partitions_added = nullptr;
  metrics::Counter* topic_configs_altered = nullptr;
  metrics::Counter* topic_acls_created = nullptr;  // topic-ACL bindings granted on the target
  // Lane workers started on taking a lane: a lane's restart shows here
  // (longhaul_lane_starts_total), e.g. when a config reload restarts its
  // pipeline, or does not.
  metrics::Counter* lane_starts = nullptr;
  std::array<metrics::Counter*, kErrorReasonCount> errors{};
  // Rounds of consumer group offset sync: every group synced, or not
  // (longhaul_group_sync_rounds_total{result}).
  metrics::Counter* group_sync_ok = nullptr;
  metrics::Counter* group_sync_failed = nullptr;

  void Error(ErrorReason r) const { errors[static_cast<int>(r)]->Increment(); }
  static PipelineMetrics Register(metrics::Registry* registry, const std::string& pipeline);
};

}  // namespace longhaul::mirror
