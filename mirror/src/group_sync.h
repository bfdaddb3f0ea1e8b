// Consumer-group offset sync of one pipeline: reads groups' committed
// offsets on the source cluster, translates them exactly (OffsetTranslator)
// and commits them on the target cluster while the group has no active
// member there, never backwards unless asked. GroupSyncer does one group
// once (the `offsets` commands); GroupSyncLoop runs it for every group that
// matches `pipelines.<p>.groups` every `groups.interval` inside `longhaul
// run`. Private to mirror/.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "group_sync_admin.h"
#include "mirror_metrics.h"
#include "longhaul/config/config.h"
#include "longhaul/mirror/offset_translation.h"
#include "offset_translator.h"

namespace longhaul::mirror {

// Not thread-safe: one owner. The configs must outlive it.
class GroupSyncer {
 public:
  // `stop` (may be null) cancels long Kafka reads.
  static absl::StatusOr<std::unique_ptr<GroupSyncer>> Create(const config::PipelineConfig& pipeline,
                                                             const config::ClusterConfig& source,
                                                             const config::ClusterConfig& target,
                                                             const std::atomic<bool>* stop);

  // Groups on the source cluster selected by the pipeline's groups filter;
  // Longhaul's own groups (`__longhaul.*`) never are.
  absl::StatusOr<std::vector<std::string>> MatchingGroups();

  // The group's committed source offsets, for the topics the pipeline
  // mirrors, translated.
  absl::StatusOr<GroupTranslation> Translate(const std::string& group);

  // Translates and commits on the target (see SyncGroupOffsets).
  absl::StatusOr<GroupSyncReport> Sync(const std::string& group, const SyncOptions& options);

 private:
  GroupSyncer(const config::PipelineConfig& pipeline, std::unique_ptr<RdKafkaGroupAdmin> source,
              std::unique_ptr<RdKafkaGroupAdmin> target, std::unique_ptr<OffsetTranslator> translator)
      : pipeline_(pipeline),
        source_(std::move(source)),
        target_(std::move(target)),
        translator_(std::move(translator)) {}

  const config::PipelineConfig& pipeline_;
  std::unique_ptr<RdKafkaGroupAdmin> source_;
  std::unique_ptr<RdKafkaGroupAdmin> target_;
  std::unique_ptr<OffsetTranslator> translator_;
};

// The periodic sync inside `longhaul run`: its own thread, started by the
// constructor and stopped (promptly: Kafka reads are cancelled) by the
// destructor. Errors are logged and retried at the next interval.
class GroupSyncLoop {
 public:
  // `metrics` (may be null) counts the rounds; it must outlive the loop.
  GroupSyncLoop(const config::PipelineConfig& pipeline, const config::ClusterConfig& source,
                const config::ClusterConfig& target, const PipelineMetrics* metrics = nullptr);
  ~GroupSyncLoop();
  GroupSyncLoop(const GroupSyncLoop&) = delete;
  GroupSyncLoop& operator=(const GroupSyncLoop&) = delete;

 private:
  void Run();
  // True when every matching group was synced.
  bool RunOnce();

  const config::PipelineConfig& pipeline_;
  const config::ClusterConfig& source_;
  const config::ClusterConfig& target_;
  const PipelineMetrics* const metrics_;
  std::unique_ptr<GroupSyncer> syncer_;
  std::set<std::string> synced_groups_;  // logged at info once each
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace longhaul::mirror
