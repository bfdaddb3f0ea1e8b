// The partition health judge: from a partition's progress as its lane last
// wrote it, the lag in records and seconds and the state the status, the
// live page and longhaul_partition_state show (in the spirit of Burrow,
// with the pipeline's lag_thresholds). Pure: given `now`, no clock, no
// Kafka; tests/unit/mirror/partition_health_test.cc. Private to mirror/.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace longhaul::mirror {

// One partition's progress (PartitionProgress, read once).
struct PartitionProgressReading {
  int64_t source_end_offset = -1;  // read_committed end, -1 unknown
  int64_t replicated_offset = -1;  // next source offset committed on the target, -1 unknown
  // Create time of the oldest record read and not yet committed, -1 none.
  int64_t oldest_pending_timestamp_ms = -1;
  int64_t caught_up_at_ms = -1;  // wall time replicated last reached the end, -1 never
  int64_t advanced_at_ms = -1;   // wall time replicated last moved forward, -1 never
  // A source gap stopped the partition (on_source_gap: stop, or a source
  // log behind what was copied); `gap_error` says why.
  bool gap_stopped = false;
  std::string gap_error;
};

struct HealthThresholds {
  std::chrono::milliseconds lagging_after{0};
  std::chrono::milliseconds stalled_after{0};
};

struct PartitionHealth {
  int64_t lag_records = 0;
  double lag_seconds = 0;
  // ok, lagging, stalled, stopped or error (PartitionStatus::state).
  std::string state = "ok";
  std::string error;
};

// `running`: a lane of this process reads the partition now. The states, by
// precedence: error (stopped by a gap, while running), stopped (nobody here
// replicates it), stalled (behind and no progress for stalled_after),
// lagging (the oldest uncopied record is older than lagging_after), ok.
PartitionHealth JudgePartitionHealth(const PartitionProgressReading& progress, bool running, int64_t now_ms,
                                     const HealthThresholds& thresholds);

}  // namespace longhaul::mirror
