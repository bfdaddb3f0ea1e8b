// The hub side of a long-haul link: the HubRouter takes the edge sessions of
// one link (it is the link's transport::HubSessionHandler) and hands each to
// the HubPipeline of its pipeline. A HubPipeline is the SourceSide of that
// pipeline's lane runner: it queues the edges' batches for the lane that
// owns their partition, learns partitions from batches and checkpoints, and
// decides when an edge may stream and from where (the resume points).
//
// Exactly-once rule: an edge session is accepted only once every lane of
// the pipeline runs a session in this process that fenced its predecessor
// and read its checkpoints, in the current *generation*; the resume points
// are the committed next offsets. When an accepted session ends, or a lane
// session ends, while records were delivered in the generation, the
// generation moves on: lanes holding uncommitted records restart their
// sessions (aborting those records) and every edge session is closed, so
// the edges reconnect and resend from exact resume points. Private to
// mirror/.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "link_record_source.h"
#include "longhaul/config/config.h"
#include "longhaul/transport/hub_server.h"
#include "source_side.h"

namespace longhaul::mirror {

class HubRouter;

class HubPipeline : public std::enable_shared_from_this<HubPipeline> {
 public:
  HubPipeline(const config::PipelineConfig& pipeline, HubRouter* router);

  const std::string& name() const { return name_; }

  // ---- from the router, on the link's I/O threads (never block) ----
  void OnHello(std::shared_ptr<transport::HubSession> session);
  void OnData(transport::HubSession& session, transport::ReceivedBatch batch);
  void OnClosed(transport::HubSession& session, const absl::Status& why);

  // ---- from lane sessions, on lane threads ----
  // A new lane session's inbox, in the current generation.
  std::shared_ptr<LaneInbox> Attach(int lane);
  // The session read its checkpoints and assigned its partitions.
  void LaneReady(const std::shared_ptr<LaneInbox>& inbox, const std::map<TopicPartition, int64_t>& checkpointed);
  // Offsets committed (by a transaction, or gaps acknowledged).
  void Committed(const std::map<TopicPartition, int64_t>& next_offsets);
  // The lane session ended (its transaction already committed or aborted).
  void Detach(const std::shared_ptr<LaneInbox>& inbox);

  // ---- for the runner (SourceSide) ----
  std::map<std::string, int> Topics() const;
  void SetDiscoveryTrigger(std::function<void()> trigger);
  void Stopping();
  // Sessions streaming for this pipeline.
  int StreamingSessions() const;

 private:
  struct SessionEntry {
    std::shared_ptr<transport::HubSession> session;
    bool accepted = false;
    uint64_t generation = 0;
  };
  void TryAcceptLocked();
  void FaultLocked(const std::string& why);
  // Records that `tp` exists; true if a target topic must grow.
  bool LearnLocked(const TopicPartition& tp);

  const std::string name_;
  const int lanes_count_;
  HubRouter* const router_;

  mutable std::mutex mu_;
  uint64_t generation_ = 1;
  bool data_in_generation_ = false;
  bool stopping_ = false;
  std::vector<std::shared_ptr<LaneInbox>> lanes_;
  std::map<uint64_t, SessionEntry> sessions_;
  std::map<std::string, int> known_;  // topic -> partitions seen (max + 1)
  std::map<TopicPartition, int64_t> committed_;
  std::function<void()> trigger_;
};

class HubRouter final : public transport::HubSessionHandler {
 public:
  explicit HubRouter(std::string link) : link_(std::move(link)) {}

  const std::string& link() const { return link_; }
  // Registers a pipeline's hub half. Before the server starts.
  std::shared_ptr<HubPipeline> AddPipeline(const config::PipelineConfig& pipeline);
  // The server, for metrics (set after it started; null before and after).
  void SetServer(transport::HubServer* server);
  std::optional<transport::HubMetrics> Metrics() const;
  // Sessions closed by a pipeline of this link, by (pipeline, reason): a
  // batch it may not write, a stale or unknown generation.
  std::map<std::pair<std::string, std::string>, uint64_t> Refusals() const;
  void CountRefusal(const std::string& pipeline, const std::string& reason);
  std::string address() const;

  void OnHello(std::shared_ptr<transport::HubSession> session) override;
  void OnData(transport::HubSession& session, transport::ReceivedBatch batch) override;
  void OnClosed(transport::HubSession& session, const absl::Status& why) override;

 private:
  std::shared_ptr<HubPipeline> Find(const std::string& pipeline) const;

  const std::string link_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<HubPipeline>> pipelines_;
  transport::HubServer* server_ = nullptr;
  std::map<std::pair<std::string, std::string>, uint64_t> refusals_;
};

// The SourceSide of a hub half over `pipeline`.
std::unique_ptr<SourceSide> MakeHubSourceSide(std::shared_ptr<HubPipeline> pipeline, HubRouter* router);

}  // namespace longhaul::mirror
