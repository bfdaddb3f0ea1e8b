// One lane of a pipeline: a transactional producer on the target (its
// transactional.id is the lane's, so a new owner fences the old one) and a
// read_committed consumer on the source for the lane's partitions. Records
// and per-partition checkpoints are committed in one transaction. Runs on its
// own thread; private to mirror/.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "longhaul/base/clock.h"
#include "longhaul/config/config.h"
#include <functional>

#include "absl/status/statusor.h"
#include "mirror_metrics.h"
#include "record_source.h"
#include "pipeline_state.h"

namespace longhaul::mirror {

struct LaneContext {
  const config::PipelineConfig* pipeline = nullptr;
  const config::ClusterConfig* source = nullptr;
  const config::ClusterConfig* target = nullptr;
  const PipelineNames* names = nullptr;
  PartitionDirectory* directory = nullptr;
  Clock* clock = nullptr;
  const PipelineMetrics* metrics = nullptr;
  // Makes the lane's record source (a source-cluster consumer in direct
  // mode, the link in hub mode). Called on the lane thread per session.
  std::function<absl::StatusOr<std::unique_ptr<RecordSource>>(int lane)> make_source;
};

class LaneWorker {
 public:
  LaneWorker(LaneContext ctx, int lane);
  ~LaneWorker();  // stops immediately (abort) if still running

  void Start();
  // Asks the lane to finish: commit the open transaction if it can before
  // `deadline`, else abort; then release its clients. Non-blocking.
  void RequestStop(SteadyTime deadline);
  // Waits for the lane thread to end.
  void Join();
  int lane() const { return lane_; }
  // Last error of the lane, empty when healthy.
  std::string LastError() const;
  // Wall time of the lane's last commit, -1 before the first.
  int64_t LastCommitMillis() const { return last_commit_ms_.load(); }

 private:
  class Session;
  void Run();
  void SetError(const absl::Status& s);

  LaneContext ctx_;
  int lane_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> stop_deadline_ns_{0};
  std::atomic<int64_t> last_commit_ms_{-1};
  mutable std::mutex error_mu_;
  std::string last_error_;
};

}  // namespace longhaul::mirror
