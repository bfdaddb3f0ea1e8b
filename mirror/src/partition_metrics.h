// Scrape-time metrics of each partition's health that every role exports
// the same way (direct lanes, the hub's lanes, the edge): its state, the
// records lost to source gaps and the time left before source retention
// deletes its oldest uncopied record. One family per quantity, with a
// `role` label. Private to mirror/.
#pragma once

#include <string>
#include <vector>

#include "longhaul/metrics/registry.h"
#include "longhaul/mirror/pipeline_runner.h"

namespace longhaul::mirror {

// The states of PartitionStatus::state, each exported as
// longhaul_partition_state{state=...} 1 for the current one, 0 otherwise.
inline constexpr const char* kPartitionStates[] = {"ok", "lagging", "stalled", "stopped", "error"};

// Adds the families for `status`'s partitions. `per_partition`: one series
// per partition, else per topic (worst state, summed records, least time).
void AddPartitionHealthMetrics(metrics::CollectorSink& sink, const PipelineStatus& status, bool per_partition);

}  // namespace longhaul::mirror
