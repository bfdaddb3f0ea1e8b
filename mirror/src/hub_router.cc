#include "hub_router.h"

#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"
#include "longhaul/base/logging.h"
#include "longhaul/offsets/lane.h"

namespace longhaul::mirror {

HubPipeline::HubPipeline(const config::PipelineConfig& pipeline, HubRouter* router)
    : name_(pipeline.name), lanes_count_(pipeline.lanes), router_(router), lanes_(pipeline.lanes) {}

void HubPipeline::OnHello(std::shared_ptr<transport::HubSession> session) {
  const transport::HelloFrame& hello = session->edge().hello;
  if (hello.lane != -1) {
    session->Reject(absl::InvalidArgumentError(absl::StrCat(
        "pipeline '", name_, "': this hub takes edges that feed every lane (lane -1), not lane ", hello.lane)));
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    session->Reject(absl::UnavailableError(absl::StrCat("pipeline '", name_, "': the hub is stopping")));
    return;
  }
  sessions_[session->id()] = SessionEntry{session, false, 0};
  TryAcceptLocked();
  if (!sessions_[session->id()].accepted) {
    LogInfo("hub: edge waits until every lane is ready",
            {{"pipeline", name_}, {"session", std::to_string(session->id())}, {"identity", session->edge().identity}});
  }
}

void HubPipeline::TryAcceptLocked() {
  if (stopping_) return;
  for (const auto& inbox : lanes_) {
    if (!inbox || inbox->generation != generation_ || !inbox->ready) return;
  }
  std::vector<transport::PartitionOffset> resume;
  resume.reserve(committed_.size());
  for (const auto& [tp, offset] : committed_) resume.push_back(transport::PartitionOffset{tp, offset});
  for (auto& [id, entry] : sessions_) {
    if (entry.accepted) continue;
    entry.accepted = true;
    entry.generation = generation_;
    entry.session->Accept(resume, /*generation=*/0);
    LogInfo("hub: edge session accepted", {{"pipeline", name_},
                                           {"session", std::to_string(id)},
                                           {"identity", entry.session->edge().identity},
                                           {"edge", entry.session->edge().hello.edge_name},
                                           {"generation", std::to_string(generation_)},
                                           {"resume_partitions", static_cast<unsigned long>(resume.size())}});
  }
}

bool HubPipeline::LearnLocked(const TopicPartition& tp) {
  int& n = known_[tp.topic];
  if (tp.partition + 1 <= n) return false;
  n = tp.partition + 1;
  return true;
}

void HubPipeline::OnData(transport::HubSession& session, transport::ReceivedBatch batch) {
  std::function<void()> trigger;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(session.id());
    // From a session of an earlier generation that we closed: drop it; the
    // edge sends it again after it resumed.
    if (it == sessions_.end() || !it->second.accepted || it->second.generation != generation_) return;
    const int lane = static_cast<int>(offsets::LaneOf(batch.partition.topic, batch.partition.partition, lanes_count_));
    const std::shared_ptr<LaneInbox>& inbox = lanes_[lane];
    if (!inbox || inbox->generation != generation_) {
      FaultLocked(absl::StrCat("a batch of ", batch.partition.ToString(), " arrived while lane ", lane,
                               " has no session"));
      return;
    }
    data_in_generation_ = true;
    if (LearnLocked(batch.partition)) trigger = trigger_;
    inbox->Push(std::move(batch), it->second.session);
  }
  if (trigger) trigger();
}

void HubPipeline::OnClosed(transport::HubSession& session, const absl::Status& why) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(session.id());
  if (it == sessions_.end()) return;
  const SessionEntry entry = std::move(it->second);
  sessions_.erase(it);
  if (stopping_ || !entry.accepted || entry.generation != generation_) return;
  if (!data_in_generation_) return;  // nothing delivered: nothing to discard
  FaultLocked(absl::StrCat("edge session ", session.id(), " ended: ", why.message()));
}

void HubPipeline::FaultLocked(const std::string& why) {
  if (stopping_) return;
  ++generation_;
  data_in_generation_ = false;
  int restarted = 0;
  for (auto& inbox : lanes_) {
    if (!inbox) continue;
    if (inbox->Rebase(generation_)) continue;  // held nothing uncommitted: keeps its session
    inbox->RequestRestart(absl::StrCat("records delivered by an edge may not be committed any more (", why, ")"));
    ++restarted;
  }
  int closed = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.accepted) {
      it->second.session->Close(absl::UnavailableError(
          absl::StrCat("the hub restarts pipeline '", name_, "' from its checkpoints (", why, "); resume again")));
      it = sessions_.erase(it);
      ++closed;
    } else {
      ++it;
    }
  }
  LogWarn("hub: dropping uncommitted edge data; edges resume from the committed offsets",
          {{"pipeline", name_},
           {"reason", why},
           {"generation", std::to_string(generation_)},
           {"lanes_restarting", restarted},
           {"sessions_closed", closed}});
}

std::shared_ptr<LaneInbox> HubPipeline::Attach(int lane) {
  LH_CHECK(lane >= 0 && lane < lanes_count_);
  std::lock_guard<std::mutex> lock(mu_);
  auto inbox = std::make_shared<LaneInbox>(lane, generation_);
  if (lanes_[lane]) {
    // The previous session of the lane did not detach (it cannot have
    // records of this generation: it would have been restarted).
    lanes_[lane]->RequestRestart("superseded by a new session of the lane");
  }
  lanes_[lane] = inbox;
  return inbox;
}

void HubPipeline::LaneReady(const std::shared_ptr<LaneInbox>& inbox,
                            const std::map<TopicPartition, int64_t>& checkpointed) {
  std::function<void()> trigger;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [tp, next] : checkpointed) {
      // Within a process committed offsets only grow; a gap acknowledged
      // past the last record may be ahead of the checkpoint.
      auto [it, inserted] = committed_.try_emplace(tp, next);
      if (!inserted) it->second = std::max(it->second, next);
      if (LearnLocked(tp)) trigger = trigger_;
    }
    if (lanes_[inbox->lane] != inbox) return;
    inbox->ready = true;
    TryAcceptLocked();
  }
  if (trigger) trigger();
}

void HubPipeline::Committed(const std::map<TopicPartition, int64_t>& next_offsets) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [tp, next] : next_offsets) {
    auto [it, inserted] = committed_.try_emplace(tp, next);
    if (!inserted) it->second = std::max(it->second, next);
  }
}

void HubPipeline::Detach(const std::shared_ptr<LaneInbox>& inbox) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lanes_[inbox->lane] != inbox) return;
  lanes_[inbox->lane] = nullptr;
  if (stopping_ || inbox->generation != generation_ || !data_in_generation_) return;
  FaultLocked(absl::StrCat("the session of lane ", inbox->lane, " ended"));
}

std::map<std::string, int> HubPipeline::Topics() const {
  std::lock_guard<std::mutex> lock(mu_);
  return known_;
}

void HubPipeline::SetDiscoveryTrigger(std::function<void()> trigger) {
  std::lock_guard<std::mutex> lock(mu_);
  trigger_ = std::move(trigger);
}

void HubPipeline::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
}

int HubPipeline::StreamingSessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [id, entry] : sessions_) n += entry.accepted && entry.generation == generation_;
  return n;
}

// ---- HubRouter ----

std::shared_ptr<HubPipeline> HubRouter::AddPipeline(const config::PipelineConfig& pipeline) {
  auto p = std::make_shared<HubPipeline>(pipeline, this);
  std::lock_guard<std::mutex> lock(mu_);
  pipelines_[pipeline.name] = p;
  return p;
}

void HubRouter::SetServer(transport::HubServer* server) {
  std::lock_guard<std::mutex> lock(mu_);
  server_ = server;
}

std::optional<transport::HubMetrics> HubRouter::Metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (server_ == nullptr) return std::nullopt;
  return server_->Metrics();
}

std::map<std::pair<std::string, std::string>, uint64_t> HubRouter::Refusals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refusals_;
}

void HubRouter::CountRefusal(const std::string& pipeline, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++refusals_[{pipeline, reason}];
}

std::string HubRouter::address() const {
  std::lock_guard<std::mutex> lock(mu_);
  return server_ ? server_->address() : std::string();
}

std::shared_ptr<HubPipeline> HubRouter::Find(const std::string& pipeline) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pipelines_.find(pipeline);
  return it == pipelines_.end() ? nullptr : it->second;
}

void HubRouter::OnHello(std::shared_ptr<transport::HubSession> session) {
  const std::string& pipeline = session->edge().hello.pipeline;
  auto p = Find(pipeline);
  if (!p) {
    LogWarn("hub: an edge asked for a pipeline this hub does not run",
            {{"link", link_}, {"pipeline", pipeline}, {"identity", session->edge().identity}});
    session->Reject(absl::NotFoundError(
        absl::StrCat("this hub runs no pipeline '", pipeline, "' via link '", link_, "' (check --role and via)")));
    return;
  }
  p->OnHello(std::move(session));
}

void HubRouter::OnData(transport::HubSession& session, transport::ReceivedBatch batch) {
  if (auto p = Find(session.edge().hello.pipeline)) p->OnData(session, std::move(batch));
}

void HubRouter::OnClosed(transport::HubSession& session, const absl::Status& why) {
  if (auto p = Find(session.edge().hello.pipeline)) p->OnClosed(session, why);
}

// ---- the hub half's SourceSide ----

namespace {

class HubSourceSide final : public SourceSide {
 public:
  HubSourceSide(std::shared_ptr<HubPipeline> pipeline, HubRouter* router)
      : pipeline_(std::move(pipeline)), router_(router) {}

  absl::StatusOr<std::map<std::string, int>> Topics(std::chrono::milliseconds) override { return pipeline_->Topics(); }
  // Topic configs are not synced in link mode: the hub cannot see the source.
  absl::StatusOr<Properties> TopicConfigs(const std::string&, std::chrono::milliseconds) override {
    return Properties{};
  }
  absl::StatusOr<std::unique_ptr<RecordSource>> MakeRecordSource(int lane) override {
    return std::unique_ptr<RecordSource>(new LinkRecordSource(pipeline_, pipeline_->Attach(lane)));
  }
  absl::StatusOr<std::map<TopicPartition, int64_t>> EndOffsets(const std::vector<TopicPartition>&,
                                                               std::chrono::milliseconds) override {
    return absl::UnavailableError("the hub cannot read source end offsets (the edge reports them)");
  }
  bool CanSyncGroups() const override { return false; }
  bool KnowsPartitionCounts() const override { return false; }
  void SetDiscoveryTrigger(std::function<void()> trigger) override { pipeline_->SetDiscoveryTrigger(std::move(trigger)); }
  void OnStopping() override { pipeline_->Stopping(); }

  void AddStatus(PipelineStatus* status) const override {
    status->role = "hub";
    LinkStatus link;
    link.name = router_->link();
    link.role = "hub";
    link.sessions = pipeline_->StreamingSessions();
    link.state = link.sessions > 0 ? "serving" : "waiting";
    link.peer = router_->address();
    if (auto m = router_->Metrics()) {
      for (const auto& s : m->sessions) {
        if (s.pipeline != pipeline_->name()) continue;
        link.bytes_in += s.wire_bytes_received;
        link.bytes_out += s.bytes_uncompressed;
      }
      // Session counters restart with each session; the server's totals do
      // not (they cover every pipeline of the link).
      link.bytes_in = std::max<uint64_t>(link.bytes_in, m->wire_bytes_received);
      link.bytes_out = std::max<uint64_t>(link.bytes_out, m->bytes_uncompressed);
    }
    link.compression_ratio = link.bytes_in == 0 ? 1.0 : static_cast<double>(link.bytes_out) / link.bytes_in;
    status->link = std::move(link);
  }

  void Collect(metrics::CollectorSink& sink) const override {
    const std::string& link = router_->link();
    const std::string& p = pipeline_->name();
    sink.AddGauge("longhaul_link_up", "1 while the link streams (edge: every connection resumed; hub: an edge "
                  "session of the pipeline is accepted).", {{"link", link}, {"pipeline", p}, {"role", "hub"}},
                  pipeline_->StreamingSessions() > 0 ? 1 : 0);
    sink.AddGauge("longhaul_link_sessions", "Edge sessions streaming into this hub for the pipeline.",
                  {{"link", link}, {"pipeline", p}}, pipeline_->StreamingSessions());
  }

 private:
  std::shared_ptr<HubPipeline> pipeline_;
  HubRouter* router_;
};

}  // namespace

std::unique_ptr<SourceSide> MakeHubSourceSide(std::shared_ptr<HubPipeline> pipeline, HubRouter* router) {
  return std::make_unique<HubSourceSide>(std::move(pipeline), router);
}

}  // namespace longhaul::mirror
