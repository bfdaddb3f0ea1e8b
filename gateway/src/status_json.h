// The admin API's view of the process: /api/v1/status as JSON and the
// readiness rule of /readyz, computed from the pipelines' status snapshots.
#pragma once

#include <string>
#include <vector>

#include "longhaul/mirror/pipeline_runner.h"

namespace longhaul::gateway {

// The body of /api/v1/status (schema in docs/observability.md).
std::string StatusJson(const std::vector<mirror::PipelineStatus>& pipelines, const std::string& worker_id,
                       double seconds_since_last, const std::vector<int64_t>& records_then,
                       const std::vector<int64_t>& bytes_then);

// Ready means: every pipeline has its internal topics, has joined its lane
// group, and its target cluster answers. `reason` says which one is not.
bool PipelinesReady(const std::vector<mirror::PipelineStatus>& pipelines, std::string* reason);

// The pipeline's state: the worst of its partitions, or "error" when it has
// an error and no lane, "stopped" when it owns no lane.
std::string PipelineState(const mirror::PipelineStatus& st);

}  // namespace longhaul::gateway
