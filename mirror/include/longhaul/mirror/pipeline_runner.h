// One pipeline of the direct mirror: discovers matching source topics,
// creates them on the target, takes lanes through a Kafka consumer group and
// runs one transactional lane worker per owned lane. All state lives in
// Kafka (checkpoints on the target), so runners in several processes share
// the work and any of them can die.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/base/clock.h"
#include "longhaul/config/config.h"
#include "longhaul/metrics/registry.h"

namespace longhaul::mirror {

struct PartitionStatus {
  std::string topic;
  std::string target_topic;
  int32_t partition = 0;
  int lane = 0;
  int64_t source_end_offset = -1;  // read_committed end (LSO) last seen by the reader
  int64_t replicated_offset = -1;  // next source offset committed on the target
  int64_t lag_records = 0;
  double lag_seconds = 0;
  int64_t records_total = 0;  // replicated by this process
  int64_t bytes_total = 0;
  // ok, lagging (behind by more than the lagging threshold and not closing
  // in), stalled (behind and no progress within the stall window).
  std::string state = "ok";
};

struct PipelineStatus {
  std::string name;
  std::string delivery;
  int lanes_total = 0;
  std::vector<int> lanes_owned;
  bool checkpoint_topic_ready = false;
  bool target_reachable = false;
  bool lane_group_joined = false;  // in the lane group: assigned (maybe nothing) and not lost since
  std::string last_error;  // most recent error, empty if none
  // Seconds since each owned lane last committed (-1 before its first commit).
  std::vector<std::pair<int, double>> checkpoint_age_seconds;
  std::vector<PartitionStatus> partitions;
};

class PipelineRunner {
 public:
  virtual ~PipelineRunner() = default;
  // Starts the pipeline's threads. Connection problems never fail this call:
  // they are logged, retried with backoff and visible in Status().
  virtual void Start() = 0;
  // Graceful drain: each lane commits (or aborts) its open transaction, the
  // worker leaves the lane group. Returns by `deadline` at the latest.
  virtual void Stop(SteadyTime deadline) = 0;
  // Thread-safe snapshot.
  virtual PipelineStatus Status() const = 0;
};

// `registry` must outlive the runner; the runner records its metrics there
// (histograms and error counters on the hot path, offsets and lag through a
// scrape-time collector).
absl::StatusOr<std::unique_ptr<PipelineRunner>> CreatePipelineRunner(const config::Config& config,
                                                                     const std::string& pipeline_name,
                                                                     metrics::Registry* registry);

}  // namespace longhaul::mirror
