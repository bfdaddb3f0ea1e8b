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

struct PartitionLag {
  int64_t records = 0;
  double seconds = 0;
};

// Records behind (source end - replicated) and the age of the oldest
// record not yet committed (or, with none read yet, the time since the
// partition was last caught up).
PartitionLag MeasureLag(const PartitionProgressReading& progress, int64_t now_ms);

struct PartitionVerdict {
  // ok, lagging, stalled, stopped or error (PartitionStatus::state).
  std::string state = "ok";
  std::string error;
};

// The state for a partition `lag` behind (MeasureLag's, or a fuller one: a
// hub adds the backlog its edges report). `running`: a lane of this process
// reads the partition now. By precedence: error (stopped by a gap, while
// running), stopped (nobody here replicates it), stalled (behind and no
// progress for stalled_after), lagging (the oldest uncopied record is older
// than lagging_after), ok.
PartitionVerdict JudgePartitionState(const PartitionProgressReading& progress, const PartitionLag& lag, bool running,
                                     int64_t now_ms, const HealthThresholds& thresholds);

}  // namespace longhaul::mirror
