// What a lane pipeline runner needs from the side its records come from,
// so that one runner (discovery on the target, lane group, lane workers,
// status) serves both modes: the source cluster itself in direct mode
// (KafkaSourceSide), or the edges of a long-haul link in hub mode (the
// HubPipeline of hub_router.h). Private to mirror/.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "acl_sync.h"
#include "kafka_client.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/metrics/registry.h"
#include "longhaul/mirror/pipeline_runner.h"
#include "record_source.h"
#include "source_gap.h"
#include "target_plan.h"

namespace longhaul::mirror {

class SourceSide {
 public:
  virtual ~SourceSide() = default;

  // The source topics to mirror (the pipeline's filter applied) and how many
  // partitions each needs on the target. Called on the discovery thread;
  // may block up to `timeout`.
  virtual absl::StatusOr<std::map<SourceTopic, int>> Topics(std::chrono::milliseconds timeout) = 0;
  // Topic configs to create the target topic with (empty: broker defaults).
  virtual absl::StatusOr<Properties> TopicConfigs(const std::string& topic, std::chrono::milliseconds timeout) = 0;
  // The source topic's retention in effect (for the time left before it
  // deletes uncopied records). Called on the discovery thread. A side that
  // cannot see the source (the hub) says Unimplemented.
  virtual absl::StatusOr<TopicRetention> Retention(const std::string& topic, std::chrono::milliseconds timeout) {
    return absl::UnimplementedError("the source topic's retention is not known here");
  }
  // ALLOW ACLs on LITERAL topic names of the source cluster, for
  // topic-ACL sync. A side that cannot see the source says Unimplemented.
  virtual absl::StatusOr<std::vector<TopicAcl>> TopicAcls(std::chrono::milliseconds timeout) {
    return absl::UnimplementedError("the source cluster's ACLs are not known here");
  }
  // Whether TopicConfigs gives the source's real configs, so that existing
  // target topics may be altered to follow them (a hub sees no source: its
  // empty answer must not strip the target's configs).
  virtual bool KnowsTopicConfigs() const { return false; }
  // A record source for one session of `lane`. Called on the lane's thread.
  virtual absl::StatusOr<std::unique_ptr<RecordSource>> MakeRecordSource(int lane) = 0;
  // Source end offsets of partitions no lane of this process reads right now
  // (lanes orphaned by a target outage), for lag. An error when this side
  // cannot tell.
  virtual absl::StatusOr<std::map<TopicPartition, int64_t>> EndOffsets(const std::vector<TopicPartition>& partitions,
                                                                       std::chrono::milliseconds timeout) = 0;
  // Whether consumer-group offset sync can run (it reads the source cluster).
  virtual bool CanSyncGroups() const = 0;
  // Whether Topics() gives each topic's whole partition count (the source
  // cluster's metadata), or only the partitions seen so far (a hub learns
  // them from the batches edges ship), so that a target topic with more
  // partitions is expected rather than worth a warning.
  virtual bool KnowsPartitionCounts() const { return true; }

  // `trigger` wakes the runner's discovery early (the hub calls it when a
  // batch of a partition it did not know arrives). Set once, before Start.
  virtual void SetDiscoveryTrigger(std::function<void()> trigger) {}
  // Config reload: the pipeline's live settings (config::WithLiveSettings)
  // for the calls that follow. Called from the runner's control thread
  // while the discovery thread may be in Topics().
  virtual void ApplyLive(const config::PipelineConfig& live) {}
  // The runner starts draining (its lanes will stop next).
  virtual void OnStopping() {}
  // Adds what this side knows to the runner's status snapshot (role, link).
  virtual void AddStatus(PipelineStatus* status) const {}
  // Scrape-time metrics of this side.
  virtual void Collect(metrics::CollectorSink& sink) const {}
};

// Direct mode: topics, configs and end offsets from the source cluster's
// admin client; a read_committed consumer per lane session.
std::unique_ptr<SourceSide> MakeKafkaSourceSide(const config::Config& config, const config::PipelineConfig& pipeline);

// The lane-group runner over `side`. `config` is copied; the runner uses
// config.pipelines.at(pipeline) (the hub passes a copy adjusted to its role).
std::unique_ptr<PipelineRunner> MakeLanePipelineRunner(const config::Config& config, const std::string& pipeline,
                                                       metrics::Registry* registry, std::unique_ptr<SourceSide> side);

}  // namespace longhaul::mirror
