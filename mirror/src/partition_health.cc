#include "partition_health.h"

#include <algorithm>

namespace longhaul::mirror {

PartitionLag MeasureLag(const PartitionProgressReading& p, int64_t now_ms) {
  PartitionLag lag;
  if (p.source_end_offset >= 0 && p.replicated_offset >= 0) {
    lag.records = std::max<int64_t>(0, p.source_end_offset - p.replicated_offset);
  }
  if (lag.records > 0) {
    int64_t since = p.oldest_pending_timestamp_ms;
    if (since <= 0) since = p.caught_up_at_ms;
    if (since > 0) lag.seconds = std::max<double>(0, static_cast<double>(now_ms - since) / 1000.0);
  }
  return lag;
}

PartitionVerdict JudgePartitionState(const PartitionProgressReading& p, const PartitionLag& lag, bool running,
                                     int64_t now_ms, const HealthThresholds& thresholds) {
  PartitionVerdict v;
  if (lag.records > 0) {
    if (p.advanced_at_ms > 0 && now_ms - p.advanced_at_ms > thresholds.stalled_after.count()) {
      v.state = "stalled";
    } else if (lag.seconds * 1000 > static_cast<double>(thresholds.lagging_after.count())) {
      v.state = "lagging";
    }
  }
  // Burrow's "stopped": nobody is replicating the partition right now.
  if (!running) v.state = "stopped";
  if (p.gap_stopped && running) {
    v.state = "error";
    v.error = p.gap_error;
  }
  return v;
}

}  // namespace longhaul::mirror
