// `longhaul status -c FILE [--pipeline P] [--json]`: every lane of a
// pipeline as Kafka holds it (owner, last checkpoint, lag per partition),
// read without asking any worker. See mirror/lane_status.h.
#pragma once

#include <string>
#include <vector>

#include "longhaul/mirror/lane_status.h"

namespace longhaul::gateway {

// `args` follow the word "status". Exit status: 0 shown, 1 error, 2 usage.
int StatusCommand(const std::vector<std::string>& args);

// The --json document for `reports` ({"pipelines": [...]}); `now_ms` gives
// each checkpoint's age.
std::string LaneReportsJson(const std::vector<mirror::PipelineLaneReport>& reports, int64_t now_ms);
// The tables printed without --json.
std::string LaneReportsText(const std::vector<mirror::PipelineLaneReport>& reports, int64_t now_ms);

}  // namespace longhaul::gateway
