#include "partition_health.h"

#include <algorithm>

namespace longhaul::mirror {

PartitionHealth JudgePartitionHealth(const PartitionProgressReading& p, bool running, int64_t now_ms,
                                     const HealthThresholds& thresholds) {
  PartitionHealth h;
  if (p.source_end_offset >= 0 && p.replicated_offset >= 0) {
    h.lag_records = std::max<int64_t>(0, p.source_end_offset - p.replicated_offset);
  }
  if (h.lag_records > 0) {
    // Age of the oldest record not yet committed; with none read yet, the
    // partition has been behind since it was last caught up.
    int64_t since = p.oldest_pending_timestamp_ms;
    if (since <= 0) since = p.caught_up_at_ms;
    if (since > 0) h.lag_seconds = std::max<double>(0, static_cast<double>(now_ms - since) / 1000.0);
    if (p.advanced_at_ms > 0 && now_ms - p.advanced_at_ms > thresholds.stalled_after.count()) {
      h.state = "stalled";
    } else if (h.lag_seconds * 1000 > static_cast<double>(thresholds.lagging_after.count())) {
      h.state = "lagging";
    }
  }
  // Burrow's "stopped": nobody is replicating the partition right now.
  if (!running) h.state = "stopped";
  if (p.gap_stopped && running) {
    h.state = "error";
    h.error = p.gap_error;
  }
  return h;
}

}  // namespace longhaul::mirror
