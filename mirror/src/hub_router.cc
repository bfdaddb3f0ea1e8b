#include "hub_router.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"
#include "longhaul/base/logging.h"
#include "longhaul/offsets/lane.h"
#include "topic_discovery.h"

namespace longhaul::mirror {

namespace {

constexpr int64_t kMaxOffset = INT64_MAX / 2;

// The resume points of one edge, as the link speaks them (no origin).
TopicPartition OnTheWire(TopicPartition tp) {
  tp.origin.clear();
  return tp;
}


bool IsEdgeNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

}  // namespace

std::string EdgeNameOf(const transport::EdgeInfo& edge) {
  // The transport derives and checks it; checked again here because it
  // becomes part of topic names and checkpoint keys.
  const std::string& name = edge.name;
  if (name.empty() || name.size() > 64) return "";
  for (char c : name) {
    if (!IsEdgeNameChar(c)) return "";
  }
  return name;
}

HubPipeline::HubPipeline(const config::PipelineConfig& pipeline, HubRouter* router, uint32_t generation_nonce,
                         UnknownGeneration unknown_generation, std::chrono::milliseconds forget_edges_after,
                         const Clock* clock)
    : config_(pipeline),
      router_(router),
      unknown_generation_(unknown_generation),
      clock_(clock),
      generations_(generation_nonce),
      lanes_(pipeline.lanes),
      backlog_(EdgeBacklogLimits{pipeline.max_topics, pipeline.max_partitions, forget_edges_after}) {}

void HubPipeline::NoteConnectedLocked(const std::string& name, const std::string& edge) {
  const bool connected =
      std::any_of(sessions_.begin(), sessions_.end(), [&](const auto& s) { return s.second.name == name; });
  backlog_.SetConnected(name, edge, connected, clock_->WallMillis());
}

std::vector<int> HubPipeline::LanesOf(const std::string& edge) const {
  if (many()) return {static_cast<int>(offsets::LaneOfEdge(edge, config_.lanes))};
  std::vector<int> all(config_.lanes);
  for (int i = 0; i < config_.lanes; ++i) all[i] = i;
  return all;
}

bool HubPipeline::LanesReadyLocked(const std::string& edge) const {
  for (int lane : LanesOf(edge)) {
    if (!lanes_[lane] || !lanes_[lane]->ready) return false;
  }
  return true;
}

bool HubPipeline::HoldsTakenLocked(const std::string& edge) const {
  for (int lane : LanesOf(edge)) {
    if (lanes_[lane] && lanes_[lane]->HoldsTaken(edge)) return true;
  }
  return false;
}

void HubPipeline::OnHello(std::shared_ptr<transport::HubSession> session) {
  const transport::EdgeInfo& info = session->edge();
  const transport::HelloFrame& hello = info.hello;
  std::lock_guard<std::mutex> lock(mu_);
  auto refuse = [&](const std::string& reason, absl::Status why) {
    ++refused_[reason];
    LogWarn("hub: edge refused", {{"pipeline", name()},
                                  {"session", std::to_string(session->id())},
                                  {"identity", info.identity},
                                  {"reason", reason},
                                  {"error", std::string(why.message())}});
    session->Reject(std::move(why));
  };
  if (hello.lane != -1) {
    refuse("protocol", absl::InvalidArgumentError(absl::StrCat(
                           "pipeline '", name(), "': this hub takes edges that feed every lane (lane -1), not lane ",
                           hello.lane)));
    return;
  }
  if (stopping_) {
    session->Reject(absl::UnavailableError(absl::StrCat("pipeline '", name(), "': the hub is stopping")));
    return;
  }
  std::string edge;
  if (many()) {
    edge = EdgeNameOf(info);
    if (edge.empty()) {
      refuse("identity", absl::PermissionDeniedError(absl::StrCat(
                             "pipeline '", name(), "' (edges: many) names each edge by its certificate, and '",
                             info.name, "' is not 1 to 64 of letters, digits, '.', '_' and '-'")));
      return;
    }
  }
  EdgeGenerations::Answer answer = generations_.OnHello(edge, hello.generation, hello.link_id);
  if (answer.status.code() == absl::StatusCode::kAborted && unknown_generation_ == UnknownGeneration::kTreatAsNew) {
    answer = generations_.OnHello(edge, 0, hello.link_id);
  }
  if (!answer.status.ok()) {
    refuse(answer.status.code() == absl::StatusCode::kFailedPrecondition ? "stale_generation" : "unknown_generation",
           answer.status);
    return;
  }
  // Its name for people and per-edge metrics, also with edges: one.
  std::string display = EdgeNameOf(info);
  if (display.empty()) display = info.identity.substr(0, 64);
  std::set<std::string> fenced_names;
  if (answer.supersedes) {
    // A new instance of the edge: every session of an older one is fenced.
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.edge != edge || it->second.generation == answer.generation || it->second.accepted) {
        ++it;
        continue;
      }
      it->second.session->Close(absl::FailedPreconditionError(absl::StrCat(
          "stale generation ", it->second.generation, ": a newer instance of edge '", edge, "' took over")));
      fenced_names.insert(it->second.name);
      it = sessions_.erase(it);
    }
    const bool streaming = std::any_of(sessions_.begin(), sessions_.end(),
                                       [&](const auto& s) { return s.second.edge == edge && s.second.accepted; });
    if (streaming) EndEdgeLocked(edge, absl::FailedPreconditionError(absl::StrCat(
                            "stale generation: a newer instance of edge '", edge, "' took over pipeline '", name(),
                            "'")));
    for (const std::string& n : fenced_names) NoteConnectedLocked(n, edge);
  }
  if (many()) {
    const int lane = static_cast<int>(offsets::LaneOfEdge(edge, config_.lanes));
    if (!lanes_[lane]) {
      ++refused_["not_served"];
      session->Reject(absl::UnavailableError(absl::StrCat("lane ", lane, " of pipeline '", name(),
                                                          "' is not served by this hub (edge '", edge,
                                                          "' feeds it); try another hub")));
      return;
    }
  }
  sessions_[session->id()] = SessionEntry{session, edge, display, answer.generation, false};
  NoteConnectedLocked(display, edge);
  waiting_.insert(edge);
  TryAcceptLocked(edge);
  if (!sessions_[session->id()].accepted) {
    LogInfo("hub: edge waits for its lanes and for its earlier batches to commit",
            {{"pipeline", name()}, {"session", std::to_string(session->id())}, {"edge", edge},
             {"identity", info.identity}});
  }
}

void HubPipeline::TryAcceptLocked(const std::string& edge) {
  if (stopping_ || !waiting_.count(edge)) return;
  if (!LanesReadyLocked(edge)) return;
  EdgeState& state = edges_[edge];
  if (state.draining) {
    if (HoldsTakenLocked(edge)) return;
    // Everything the lanes took of this edge is committed (or its lane
    // session ended and the new one read the checkpoints): the committed
    // offsets are exact, and batches continue from them.
    state.draining = false;
    for (auto it = expected_.begin(); it != expected_.end();) {
      it = it->first.origin == edge ? expected_.erase(it) : std::next(it);
    }
    for (const auto& [tp, next] : committed_) {
      if (tp.origin == edge) expected_[tp] = next;
    }
  }
  const uint64_t generation = generations_.Current(edge);
  std::vector<transport::PartitionOffset> resume;
  for (const auto& [tp, offset] : committed_) {
    if (tp.origin == edge) resume.push_back(transport::PartitionOffset{OnTheWire(tp), offset});
  }
  for (auto& [id, entry] : sessions_) {
    if (entry.accepted || entry.edge != edge || entry.generation != generation) continue;
    entry.accepted = true;
    entry.session->Accept(resume, generation);
    LogInfo("hub: edge session accepted", {{"pipeline", name()},
                                           {"session", std::to_string(id)},
                                           {"edge", edge},
                                           {"identity", entry.session->edge().identity},
                                           {"generation", std::to_string(generation)},
                                           {"resume_partitions", static_cast<unsigned long>(resume.size())}});
  }
  waiting_.erase(edge);
}

void HubPipeline::TryAcceptWaitingLocked() {
  const std::vector<std::string> waiting(waiting_.begin(), waiting_.end());
  for (const std::string& edge : waiting) TryAcceptLocked(edge);
}

void HubPipeline::EndEdgeLocked(const std::string& edge, const absl::Status& status) {
  int closed = 0;
  std::set<std::string> names;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.edge != edge || !it->second.accepted) {
      ++it;
      continue;
    }
    it->second.session->Close(status);
    names.insert(it->second.name);
    it = sessions_.erase(it);
    ++closed;
  }
  for (const std::string& n : names) NoteConnectedLocked(n, edge);
  EdgeState& state = edges_[edge];
  state.draining = true;
  for (int lane : LanesOf(edge)) {
    if (lanes_[lane]) lanes_[lane]->DropQueued(edge);
  }
  LogInfo("hub: edge stopped streaming; its next hello resumes after what the lanes took is committed",
          {{"pipeline", name()}, {"edge", edge}, {"sessions_closed", closed},
           {"reason", std::string(status.message())}});
}

void HubPipeline::RefuseLocked(const SessionEntry& entry, const std::string& reason, const std::string& why) {
  ++refused_[reason];
  LogWarn("hub: batch refused; closing the edge's sessions", {{"pipeline", name()},
                                                              {"edge", entry.edge},
                                                              {"identity", entry.session->edge().identity},
                                                              {"session", std::to_string(entry.session->id())},
                                                              {"reason", reason},
                                                              {"error", why}});
  const std::string edge = entry.edge;  // `entry` is erased below
  EndEdgeLocked(edge, absl::PermissionDeniedError(absl::StrCat("pipeline '", name(), "': ", why)));
}

bool HubPipeline::TopicAllowed(const std::string& topic, std::string* reason, std::string* why) const {
  if (!IsLegalTopicName(topic)) {
    *reason = "topic";
    *why = absl::StrCat("topic '", topic, "' is not a legal Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -)");
    return false;
  }
  if (IsInternalTopic(topic)) {
    *reason = "internal_topic";
    *why = absl::StrCat("topic '", topic, "' is internal ('__'); no edge may write it");
    return false;
  }
  if (!MirrorsTopic(config_, topic)) {
    *reason = "topic";
    *why = absl::StrCat("topic '", topic, "' is not selected by the pipeline's topics include/exclude");
    return false;
  }
  return true;
}

bool HubPipeline::AuthoriseLocked(const std::string& edge, const transport::ReceivedBatch& b, std::string* reason,
                                  std::string* why) {
  const TopicPartition& tp = b.partition;
  if (!TopicAllowed(tp.topic, reason, why)) return false;
  if (tp.partition < 0 || tp.partition >= config_.max_partitions) {
    *reason = "partition_cap";
    *why = absl::StrCat(tp.ToString(), ": partition outside 0 to ", config_.max_partitions - 1,
                        " (pipelines.", name(), ".max_partitions)");
    return false;
  }
  if (b.first_offset < 0 || b.last_offset < b.first_offset || b.last_offset >= kMaxOffset ||
      (!b.records.empty() && (b.records.front().offset < b.first_offset || b.records.back().offset > b.last_offset))) {
    *reason = "offsets";
    *why = absl::StrCat(tp.ToString(), ": batch offsets ", b.first_offset, " to ", b.last_offset,
                        " are not a sane range (0 <= first <= last < 2^62, records inside)");
    return false;
  }
  const EdgeState& state = edges_[edge];
  if (!state.topics.count(tp.topic) && static_cast<int>(state.topics.size()) >= config_.max_topics) {
    *reason = "topic_cap";
    *why = absl::StrCat("topic '", tp.topic, "' would be topic ", state.topics.size() + 1, " of edge '", edge,
                        "', above pipelines.", name(), ".max_topics (", config_.max_topics, ")");
    return false;
  }
  return true;
}

void HubPipeline::ApplyLive(const config::PipelineConfig& fresh) {
  std::lock_guard<std::mutex> lock(mu_);
  config_.topics = fresh.topics;
  config_.max_partitions = fresh.max_partitions;
  config_.max_topics = fresh.max_topics;
}

bool HubPipeline::LearnLocked(const TopicPartition& tp) {
  edges_[tp.origin].topics.insert(tp.topic);
  int& n = known_[SourceTopic{tp.topic, tp.origin}];
  if (tp.partition + 1 <= n) return false;
  n = tp.partition + 1;
  return true;
}

void HubPipeline::RaiseCommittedLocked(const TopicPartition& tp, int64_t next) {
  // Within a process committed offsets only grow; a gap acknowledged past
  // the last record may be ahead of the checkpoint.
  auto [it, inserted] = committed_.try_emplace(tp, next);
  if (!inserted) it->second = std::max(it->second, next);
}

void HubPipeline::OnData(transport::HubSession& session, transport::ReceivedBatch batch) {
  std::function<void()> trigger;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(session.id());
    // From a session we closed (fenced, refused, or its edge stopped
    // streaming): dropped; the edge sends it again after it resumed.
    if (it == sessions_.end() || !it->second.accepted) return;
    const SessionEntry& entry = it->second;
    batch.partition.origin = entry.edge;
    const TopicPartition& tp = batch.partition;
    std::string reason, why;
    if (!AuthoriseLocked(entry.edge, batch, &reason, &why)) {
      RefuseLocked(entry, reason, why);
      return;
    }
    // One stream per (edge, topic, partition) across every session of the
    // edge: a batch continues exactly where the last one ended.
    int64_t expected = -1;
    if (auto e = expected_.find(tp); e != expected_.end()) {
      expected = e->second;
    } else if (auto c = committed_.find(tp); c != committed_.end()) {
      expected = c->second;
    }
    if (expected >= 0 && batch.first_offset != expected) {
      auto c = committed_.find(tp);
      if (batch.last_offset < expected && c != committed_.end() && batch.last_offset < c->second) {
        // Wholly committed already: a duplicate, acknowledged and dropped.
        session.Ack({batch.batch_id}, {transport::PartitionOffset{OnTheWire(tp), c->second}});
        return;
      }
      RefuseLocked(entry, batch.first_offset < expected ? "overlap" : "gap",
                   absl::StrCat(tp.ToString(), ": batch starts at offset ", batch.first_offset, " but the partition ",
                                "continues at ", expected, batch.first_offset < expected
                                                              ? " (overlapping batch: never written twice)"
                                                              : " (a gap: offsets would be skipped)"));
      return;
    }
    const int lane = static_cast<int>(many() ? offsets::LaneOfEdge(entry.edge, config_.lanes)
                                             : offsets::LaneOf(tp.topic, tp.partition, config_.lanes));
    const std::shared_ptr<LaneInbox>& inbox = lanes_[lane];
    if (!inbox) {
      // Cannot happen while the edge streams (a lane that ends stops its
      // edges first); kept safe anyway.
      EndEdgeLocked(entry.edge, absl::UnavailableError(absl::StrCat("lane ", lane, " of pipeline '", name(),
                                                                     "' has no session; resume again")));
      return;
    }
    expected_[tp] = batch.last_offset + 1;
    if (LearnLocked(tp)) trigger = trigger_;
    inbox->Push(std::move(batch), entry.session);
  }
  if (trigger) trigger();
}

void HubPipeline::OnClosed(transport::HubSession& session, const absl::Status& why) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(session.id());
  if (it == sessions_.end()) return;
  const SessionEntry entry = std::move(it->second);
  sessions_.erase(it);
  NoteConnectedLocked(entry.name, entry.edge);
  if (stopping_) return;
  if (entry.accepted) {
    EndEdgeLocked(entry.edge, absl::UnavailableError(absl::StrCat("another connection of edge '", entry.edge,
                                                                  "' ended (", why.message(), "); resume again")));
  }
  TryAcceptLocked(entry.edge);
}

void HubPipeline::OnReport(transport::HubSession& session, const transport::ReportFrame& report) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(session.id());
  // Reports count from a streaming session only (the edge sends one right
  // after its resume).
  if (it == sessions_.end() || !it->second.accepted) return;
  const SessionEntry& entry = it->second;
  const int64_t now_ms = clock_->WallMillis();
  backlog_.Forget(now_ms);
  absl::Status accepted = backlog_.Accept(entry.name, entry.edge, report, now_ms, [&](const std::string& topic) {
    std::string reason, why;
    return TopicAllowed(topic, &reason, &why) ? std::string() : why;
  });
  if (!accepted.ok()) RefuseLocked(entry, "report", std::string(accepted.message()));
}

std::vector<EdgeStatus> HubPipeline::Edges() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now_ms = clock_->WallMillis();
  backlog_.Forget(now_ms);
  return backlog_.Views(now_ms, [&](const TopicPartition& tp) {
    auto c = committed_.find(tp);
    return c == committed_.end() ? int64_t{-1} : c->second;
  });
}

std::shared_ptr<LaneInbox> HubPipeline::Attach(int lane) {
  LH_CHECK(lane >= 0 && lane < config_.lanes);
  std::lock_guard<std::mutex> lock(mu_);
  if (std::shared_ptr<LaneInbox> previous = lanes_[lane]) {
    // The previous session of the lane did not detach: it ends now.
    previous->RequestRestart("superseded by a new session of the lane");
  }
  auto inbox = std::make_shared<LaneInbox>(lane);
  lanes_[lane] = inbox;
  return inbox;
}

void HubPipeline::LaneReady(const std::shared_ptr<LaneInbox>& inbox,
                            const std::map<TopicPartition, int64_t>& checkpointed) {
  std::function<void()> trigger;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [tp, next] : checkpointed) {
      RaiseCommittedLocked(tp, next);
      if (LearnLocked(tp)) trigger = trigger_;
    }
    if (lanes_[inbox->lane] != inbox) return;
    inbox->ready = true;
    TryAcceptWaitingLocked();
  }
  if (trigger) trigger();
}

void HubPipeline::Committed(const std::map<TopicPartition, int64_t>& next_offsets) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [tp, next] : next_offsets) RaiseCommittedLocked(tp, next);
  TryAcceptWaitingLocked();
}

void HubPipeline::Detach(const std::shared_ptr<LaneInbox>& inbox) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lanes_[inbox->lane] != inbox) return;
  lanes_[inbox->lane] = nullptr;
  if (stopping_) return;
  // The lane's open transaction is gone (committed or aborted): the edges
  // it served resume from what is committed, once a new session of the
  // lane has read its checkpoints.
  std::set<std::string> affected;
  for (const auto& [id, entry] : sessions_) {
    if (!entry.accepted) continue;
    const std::vector<int> lanes = LanesOf(entry.edge);
    if (std::find(lanes.begin(), lanes.end(), inbox->lane) != lanes.end()) affected.insert(entry.edge);
  }
  for (const std::string& edge : affected) {
    EndEdgeLocked(edge, absl::UnavailableError(absl::StrCat("the session of lane ", inbox->lane, " of pipeline '",
                                                            name(), "' ended; resume again")));
  }
}

std::map<SourceTopic, int> HubPipeline::Topics() const {
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
  for (const auto& [id, entry] : sessions_) n += entry.accepted;
  return n;
}

std::map<std::string, uint64_t> HubPipeline::Refusals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

// ---- HubRouter ----

std::shared_ptr<HubPipeline> HubRouter::AddPipeline(const config::PipelineConfig& pipeline) {
  auto p = std::make_shared<HubPipeline>(pipeline, this, EdgeGenerations::RandomNonce(),
                                         HubPipeline::UnknownGeneration::kRefuse, forget_edges_after_);
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
  std::map<std::pair<std::string, std::string>, uint64_t> out;
  std::map<std::string, std::shared_ptr<HubPipeline>> pipelines;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = refusals_;
    pipelines = pipelines_;
  }
  for (const auto& [name, p] : pipelines) {
    for (const auto& [reason, n] : p->Refusals()) out[{name, reason}] += n;
  }
  return out;
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

void HubRouter::OnReport(transport::HubSession& session, transport::ReportFrame report) {
  if (auto p = Find(session.edge().hello.pipeline)) p->OnReport(session, report);
}

// ---- the hub half's SourceSide ----

namespace {

class HubSourceSide final : public SourceSide {
 public:
  HubSourceSide(std::shared_ptr<HubPipeline> pipeline, HubRouter* router)
      : pipeline_(std::move(pipeline)), router_(router) {}

  absl::StatusOr<std::map<SourceTopic, int>> Topics(std::chrono::milliseconds) override { return pipeline_->Topics(); }
  void ApplyLive(const config::PipelineConfig& live) override { pipeline_->ApplyLive(live); }
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
    status->edges = pipeline_->Edges();
  }

  void Collect(metrics::CollectorSink& sink) const override {
    const std::string& link = router_->link();
    const std::string& p = pipeline_->name();
    sink.AddGauge("longhaul_link_up", "1 while the link streams (edge: every connection resumed; hub: an edge "
                  "session of the pipeline is accepted).", {{"link", link}, {"pipeline", p}, {"role", "hub"}},
                  pipeline_->StreamingSessions() > 0 ? 1 : 0);
    sink.AddGauge("longhaul_link_sessions", "Edge sessions streaming into this hub for the pipeline.",
                  {{"link", link}, {"pipeline", p}, {"role", "hub"}}, pipeline_->StreamingSessions());
    // Each edge as the hub knows it (its sessions and its last report).
    for (const EdgeStatus& e : pipeline_->Edges()) {
      const std::initializer_list<metrics::Label> labels = {
          {"link", link}, {"pipeline", p}, {"role", "hub"}, {"edge", e.name}};
      sink.AddGauge("longhaul_link_edge_connected", "1 while the edge has a session with this hub, else 0.", labels,
                    e.connected ? 1 : 0);
      if (!e.connected) {
        sink.AddGauge("longhaul_link_edge_disconnected_since_timestamp_seconds",
                      "When the edge's last session with this hub ended (Unix time); only while it has none.",
                      labels, static_cast<double>(e.since_ms) / 1000.0);
      }
      if (e.last_report_ms < 0) continue;
      sink.AddGauge("longhaul_link_edge_last_report_timestamp_seconds",
                    "When the edge's last report of its backlog arrived (Unix time).", labels,
                    static_cast<double>(e.last_report_ms) / 1000.0);
      sink.AddGauge("longhaul_link_edge_backlog_records",
                    "Source records at the edge not yet committed on the target, from its last report and the "
                    "hub's commits (kept while the edge is away).",
                    labels, static_cast<double>(e.backlog_records));
      sink.AddGauge("longhaul_link_edge_lag_seconds",
                    "Age of the edge's oldest source record not yet committed on the target; keeps growing while "
                    "the edge is away.",
                    labels, e.lag_seconds);
      // The same families as the edge's own (role="edge"), here as the
      // edge last reported them.
      sink.AddGauge("longhaul_link_buffered_bytes", "Bytes the edge holds until the hub acknowledges them.", labels,
                    static_cast<double>(e.buffered_bytes));
      sink.AddGauge("longhaul_link_buffer_budget_bytes", "links.<l>.edge.buffer_bytes.", labels,
                    static_cast<double>(e.buffer_budget_bytes));
    }
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
