// The hub side of a long-haul link: the HubRouter takes the edge sessions of
// one link (it is the link's transport::HubSessionHandler) and hands each to
// the HubPipeline of its pipeline. A HubPipeline is the SourceSide of that
// pipeline's lane runner: it authorises every batch, queues it for the lane
// that owns its partition, learns partitions from batches and checkpoints,
// and decides when an edge may stream and from where (the resume points).
//
// An "edge" here is what one EdgeLink instance feeds: in an edges: one
// pipeline the single edge of the pipeline (its partitions over every
// lane); in an edges: many pipeline each edge by name, its partitions kept
// apart (TopicPartition::origin) and all on lane LaneOfEdge(name).
//
// Exactly-once rule (docs/architecture.md): a hello of edge E is answered
// once the lanes E feeds run a session in this process that fenced its
// predecessor and read its checkpoints, and nothing E sent earlier is still
// taken by a lane and uncommitted; the resume points are then the
// committed next offsets, exact. When a session of E ends, every other
// session of E is closed, E's batches still queued are dropped, and E's
// next hello waits for the batches a lane already took to commit (or for
// that lane's session to end). Lanes keep running. Private to mirror/.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "edge_backlog.h"
#include "edge_generations.h"
#include "link_record_source.h"
#include "longhaul/base/clock.h"
#include "longhaul/config/config.h"
#include "longhaul/transport/hub_server.h"
#include "source_side.h"

namespace longhaul::mirror {

class HubRouter;

// The edge's name as the hub uses it (topic names, checkpoint keys):
// EdgeInfo::name (from its certificate). Empty when it is missing or not
// 1 to 64 of [A-Za-z0-9._-].
std::string EdgeNameOf(const transport::EdgeInfo& edge);

class HubPipeline : public std::enable_shared_from_this<HubPipeline> {
 public:
  // How a hello with a generation this hub never issued is answered.
  enum class UnknownGeneration {
    // Refused with Aborted "unknown generation": a protocol v2 edge resets
    // to 0 and says hello again.
    kRefuse,
    // Answered as a hello with 0 (the same outcome, one round trip
    // sooner), for edges that send a generation they never got from a hub
    // (edges before they kept hub-issued generations sent their start-time
    // epoch there).
    kTreatAsNew,
  };
  HubPipeline(const config::PipelineConfig& pipeline, HubRouter* router,
              uint32_t generation_nonce = EdgeGenerations::RandomNonce(),
              UnknownGeneration unknown_generation = UnknownGeneration::kRefuse,
              std::chrono::milliseconds forget_edges_after = EdgeBacklogLimits{}.forget_after,
              const Clock* clock = &SystemClock::Instance());

  const std::string& name() const { return config_.name; }
  // edges: many only: the header that carries the edge's name, or empty.
  const std::string& edge_header() const { return config_.edge_header; }

  // ---- from the router, on the link's I/O threads (never block) ----
  void OnHello(std::shared_ptr<transport::HubSession> session);
  void OnData(transport::HubSession& session, transport::ReceivedBatch batch);
  void OnClosed(transport::HubSession& session, const absl::Status& why);
  // The edge's report of its backlog (EdgeBacklog). One that is not sane
  // closes the edge's sessions (refusal reason "report").
  void OnReport(transport::HubSession& session, const transport::ReportFrame& report);

  // ---- from lane sessions, on lane threads ----
  // A new lane session's inbox.
  std::shared_ptr<LaneInbox> Attach(int lane);
  // The session read its checkpoints and assigned its partitions.
  void LaneReady(const std::shared_ptr<LaneInbox>& inbox, const std::map<TopicPartition, int64_t>& checkpointed);
  // Offsets committed (by a transaction, or gaps acknowledged).
  void Committed(const std::map<TopicPartition, int64_t>& next_offsets);
  // The lane session ended (its transaction already committed or aborted).
  void Detach(const std::shared_ptr<LaneInbox>& inbox);

  // ---- for the runner (SourceSide) ----
  std::map<SourceTopic, int> Topics() const;
  // Config reload: the topic filter and the caps (max_partitions,
  // max_topics) of `fresh` apply to the batches that follow.
  void ApplyLive(const config::PipelineConfig& fresh);
  void SetDiscoveryTrigger(std::function<void()> trigger);
  void Stopping();
  // Sessions streaming for this pipeline.
  int StreamingSessions() const;
  // The pipeline's edges: connected or since when not, and their backlog
  // as last reported (edges away longer than forget_edges_after are gone).
  std::vector<EdgeStatus> Edges();
  // Sessions and hellos refused, by reason (longhaul_link_refused_total).
  std::map<std::string, uint64_t> Refusals() const;

 private:
  struct SessionEntry {
    std::shared_ptr<transport::HubSession> session;
    std::string edge;  // the edge key: its name (edges: many) or "" (edges: one)
    std::string name;  // its name for people (EdgeNameOf, else the identity), in either mode
    uint64_t generation = 0;
    bool accepted = false;
  };
  struct EdgeState {
    // A session ended: hellos wait until what lanes took is committed.
    bool draining = false;
    std::set<std::string> topics;  // seen, for max_topics
  };

  bool many() const { return config_.edges == config::Edges::kMany; }
  // The lanes edge `edge` feeds: LaneOfEdge (edges: many) or all.
  std::vector<int> LanesOf(const std::string& edge) const;
  bool LanesReadyLocked(const std::string& edge) const;
  bool HoldsTakenLocked(const std::string& edge) const;
  void TryAcceptLocked(const std::string& edge);
  void TryAcceptWaitingLocked();
  // Ends edge `edge`'s streaming: closes its accepted sessions (with
  // `status`), drops its queued batches, and makes its next hello wait.
  void EndEdgeLocked(const std::string& edge, const absl::Status& status);
  // Refuses a batch: closes its session (and so the edge's others).
  void RefuseLocked(const SessionEntry& entry, const std::string& reason, const std::string& why);
  // Whether an edge may send topic `topic`, else the refusal reason and message.
  bool TopicAllowed(const std::string& topic, std::string* reason, std::string* why) const;
  // Whether `tp` may be written, else the refusal reason and message.
  bool AuthoriseLocked(const std::string& edge, const transport::ReceivedBatch& batch, std::string* reason,
                       std::string* why);
  // Records that `tp` exists; true if a target topic must grow.
  bool LearnLocked(const TopicPartition& tp);
  void RaiseCommittedLocked(const TopicPartition& tp, int64_t next);
  // Tells backlog_ whether edge `name` (key `edge`) still has a session.
  void NoteConnectedLocked(const std::string& name, const std::string& edge);

  // Live keys (topics, max_partitions, max_topics) change under mu_ on a
  // reload; the others are fixed.
  config::PipelineConfig config_;
  HubRouter* const router_;
  const UnknownGeneration unknown_generation_;
  const Clock* const clock_;

  mutable std::mutex mu_;
  bool stopping_ = false;
  EdgeGenerations generations_;
  std::vector<std::shared_ptr<LaneInbox>> lanes_;
  std::map<uint64_t, SessionEntry> sessions_;
  std::map<std::string, EdgeState> edges_;
  std::set<std::string> waiting_;  // edges with hellos not yet answered
  std::map<SourceTopic, int> known_;  // partitions seen (max + 1)
  std::map<TopicPartition, int64_t> committed_;
  // Per (edge, topic, partition): where the next batch must start, across
  // every session of the edge.
  std::map<TopicPartition, int64_t> expected_;
  std::map<std::string, uint64_t> refused_;
  std::function<void()> trigger_;
  EdgeBacklog backlog_;
};

class HubRouter final : public transport::HubSessionHandler {
 public:
  explicit HubRouter(std::string link,
                     std::chrono::milliseconds forget_edges_after = EdgeBacklogLimits{}.forget_after)
      : link_(std::move(link)), forget_edges_after_(forget_edges_after) {}

  const std::string& link() const { return link_; }
  // Registers a pipeline's hub half. Before the server starts.
  std::shared_ptr<HubPipeline> AddPipeline(const config::PipelineConfig& pipeline);
  // The server, for metrics (set after it started; null before and after).
  void SetServer(transport::HubServer* server);
  std::optional<transport::HubMetrics> Metrics() const;
  // Hellos refused and sessions closed by the pipelines of this link, by
  // (pipeline, reason): a batch it may not write, a stale or unknown
  // generation, an edge whose lane runs elsewhere (HubPipeline::Refusals
  // and CountRefusal). The server's own refusals are in Metrics().
  std::map<std::pair<std::string, std::string>, uint64_t> Refusals() const;
  void CountRefusal(const std::string& pipeline, const std::string& reason);
  std::string address() const;

  void OnHello(std::shared_ptr<transport::HubSession> session) override;
  void OnData(transport::HubSession& session, transport::ReceivedBatch batch) override;
  void OnClosed(transport::HubSession& session, const absl::Status& why) override;
  void OnReport(transport::HubSession& session, transport::ReportFrame report) override;

 private:
  std::shared_ptr<HubPipeline> Find(const std::string& pipeline) const;

  const std::string link_;
  const std::chrono::milliseconds forget_edges_after_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<HubPipeline>> pipelines_;
  transport::HubServer* server_ = nullptr;
  std::map<std::pair<std::string, std::string>, uint64_t> refusals_;
};

// The SourceSide of a hub half over `pipeline`.
std::unique_ptr<SourceSide> MakeHubSourceSide(std::shared_ptr<HubPipeline> pipeline, HubRouter* router);

}  // namespace longhaul::mirror
