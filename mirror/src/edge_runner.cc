#include "edge_runner.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "edge_batcher.h"
#include "kafka_admin.h"
#include "kafka_record_source.h"
#include "longhaul/base/backoff.h"
#include "longhaul/base/logging.h"
#include "longhaul/config/config_diff.h"
#include "longhaul/mirror/pipeline_runner.h"
#include "longhaul/offsets/lane.h"
#include "longhaul/transport/edge_link.h"
#include "longhaul/transport/record_codec.h"
#include "partition_metrics.h"
#include "pipeline_state.h"
#include "priority_classes.h"
#include "source_gap.h"
#include "topic_discovery.h"

namespace longhaul::mirror {
namespace {

// "host:port" or "[v6]:port" (the config loader checked the form; this
// keeps the edge safe with a hand-made Config). Errors start with `key`.
absl::StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& text, const std::string& key) {
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat(key, ": '", text, "' is not [v6-address]:port"));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": '", text, "' is not host:port"));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  int port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number <= 0 || port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": '", text, "' has a bad port"));
  }
  return std::make_pair(host, static_cast<uint16_t>(port_number));
}

}  // namespace

absl::StatusOr<transport::EdgeLinkOptions> EdgeLinkOptionsFor(const config::LinkConfig& link,
                                                              const config::PipelineConfig& pipeline,
                                                              const std::string& edge_name) {
  if (!link.edge) {
    return absl::InvalidArgumentError(
        absl::StrCat("links.", link.name, ": no edge section, so pipeline '", pipeline.name, "' has no edge here"));
  }
  const config::LinkEdgeConfig& e = *link.edge;
  transport::EdgeLinkOptions o;
  for (const std::string& address : e.hubs) {
    auto hub = SplitHostPort(address, absl::StrCat("links.", link.name, ".edge.hub"));
    if (!hub.ok()) return hub.status();
    o.hubs.push_back(transport::HubAddress{hub->first, hub->second});
  }
  if (!e.proxy.empty()) {
    auto proxy = SplitHostPort(e.proxy, absl::StrCat("links.", link.name, ".edge.proxy"));
    if (!proxy.ok()) return proxy.status();
    o.proxy = transport::ProxyOptions{proxy->first, proxy->second, e.proxy_authorization};
  }
  o.server_name = e.server_name;
  o.tls.ca_file = e.ca_file;
  o.tls.cert_file = e.cert_file;
  o.tls.key_file = e.key_file;
  o.pipeline = pipeline.name;
  o.lane = -1;
  o.edge_name = edge_name.substr(0, transport::kMaxNameBytes);
  o.connections = e.connections;
  auto codec = transport::ParseCompression(e.compression);
  if (!codec.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("links.", link.name, ".edge.compression: ", codec.status().message()));
  }
  o.compression.codec = *codec;
  o.compression.zstd_level = e.compression_level;
  o.buffer_budget_bytes = static_cast<uint64_t>(e.buffer_bytes);
  o.heartbeat_interval = e.heartbeat_interval;
  o.dead_link_timeout = e.dead_link_timeout;
  o.report_interval = e.report_interval;
  o.reconnect_max = std::chrono::milliseconds(10'000);
  absl::StatusOr<LinkClasses> classes = LinkClassesFor(e.priorities);
  if (!classes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("links.", link.name, ".edge.priorities: ", classes.status().message()));
  }
  o.classes = std::move(classes->classes);
  o.class_of = std::move(classes->class_of);
  o.rate_limit_bits_per_second = static_cast<uint64_t>(e.rate_limit_bits_per_second);
  if (absl::Status s = transport::ValidateEdgeLinkOptions(o); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("links.", link.name, ".edge: ", s.message()));
  }
  return o;
}

namespace {

using std::chrono::milliseconds;
constexpr milliseconds kAdminTimeout{10'000};
constexpr milliseconds kSnapshotInterval{500};
// How often the link's report (the edge's backlog for the hub) is refreshed.
constexpr milliseconds kReportInterval{1'000};

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

struct LinkEvent {
  std::variant<transport::ResumeEvent, transport::AckEvent, std::pair<transport::LinkState, absl::Status>,
               std::monostate>
      what;  // monostate: writable
};

struct Snapshot {
  std::vector<PartitionStatus> partitions;
  transport::EdgeLinkMetrics link;
  bool have_link = false;
  std::string last_error;
};

// The link as the batcher sees it.
class LinkSink final : public EdgeBatchSink {
 public:
  explicit LinkSink(transport::EdgeLink* link) : link_(link) {}
  bool CanSend(uint64_t bytes) override { return link_->CanSend(bytes); }
  absl::StatusOr<uint64_t> SendBatch(transport::OutgoingBatch batch) override {
    return link_->SendBatch(std::move(batch));
  }

 private:
  transport::EdgeLink* link_;
};

class EdgeRunner final : public PipelineRunner {
 public:
  EdgeRunner(const config::Config& config, const std::string& pipeline, metrics::Registry* registry,
             transport::EdgeLinkOptions options, Clock* clock)
      : config_(config),
        clock_(clock),
        pipeline_(config_.pipelines.at(pipeline)),
        source_(config_.Cluster(pipeline_.source)),
        names_(pipeline_),
        options_(std::move(options)),
        batching_(EdgeBatchingFor(options_)),
        collector_(registry->AddCollector([this](metrics::CollectorSink& sink) { Collect(sink); })),
        live_(std::make_shared<const config::PipelineConfig>(pipeline_)) {}

  ~EdgeRunner() override {
    collector_.Reset();
    Stop(clock_->Now());
  }

  void Start() override {
    discovery_thread_ = std::thread([this] { DiscoveryLoop(); });
    reader_thread_ = std::thread([this] { ReaderLoop(); });
  }

  void Stop(SteadyTime deadline) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) stop_deadline_ = deadline;
      stopping_ = true;
    }
    wake_.notify_all();
    if (discovery_thread_.joinable()) discovery_thread_.join();
    if (reader_thread_.joinable()) reader_thread_.join();
  }

  void ApplyLive(const config::PipelineConfig& fresh) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_ = std::make_shared<const config::PipelineConfig>(config::WithLiveSettings(*live_, fresh));
      discovery_requested_ = true;  // the new filter now, not after discovery_interval
    }
    wake_.notify_all();
    LogInfo("edge: pipeline took over reloaded settings", {{"pipeline", pipeline_.name}});
  }

  PipelineStatus Status() const override {
    PipelineStatus st;
    st.name = pipeline_.name;
    st.role = "edge";
    st.delivery = pipeline_.delivery == config::Delivery::kExactlyOnce ? "exactly-once" : "at-least-once";
    st.lanes_total = pipeline_.lanes;
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    st.partitions = snapshot_.partitions;
    st.last_error = snapshot_.last_error;
    LinkStatus link;
    link.name = pipeline_.via;
    link.role = "edge";
    link.peer = options_.hubs.front().ToString();
    if (snapshot_.have_link) {
      const transport::EdgeLinkMetrics& m = snapshot_.link;
      link.peer = m.hub;
      link.state = m.failed ? "failed" : m.up ? "up" : "down";
      double rtt = -1;
      for (const auto& c : m.connections) {
        if (c.up && c.last_rtt_ms > 0) rtt = std::max(rtt, c.last_rtt_ms);
      }
      link.rtt_ms = rtt;
      link.bytes_in = m.bytes_uncompressed;
      link.bytes_out = m.bytes_compressed;
      link.compression_ratio = m.compression_ratio();
      link.reconnects = m.reconnects;
      link.buffered_bytes = m.buffered_bytes;
      link.buffer_budget_bytes = m.buffer_budget_bytes;
      link.last_error = m.last_error;
    }
    // Readiness and the state shown for the pipeline: the edge is "ready"
    // when its link streams.
    st.target_reachable = link.state == "up";
    st.checkpoint_topic_ready = true;
    st.lane_group_joined = true;
    st.link = std::move(link);
    return st;
  }

 private:
  // Source gaps per partition; kept across reader restarts so that a gap
  // met again is not counted again. Reader thread writes, Status() reads
  // through the snapshot.
  struct GapRecord {
    SourceGapLedger ledger;
    int64_t records = 0;
    int64_t first = -1, end = -1;
    std::string error;  // set while the partition is stopped
  };

  bool stopping() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }
  bool WaitOrStop(milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, d, [&] { return stopping_; });
    return stopping_;
  }
  // Discovery's wait: also ends when a reload asks for a discovery now.
  bool WaitForDiscoveryOrStop(milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, d, [&] { return stopping_ || discovery_requested_; });
    discovery_requested_ = false;
    return stopping_;
  }
  std::shared_ptr<const config::PipelineConfig> Live() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }
  void SetError(const std::string& e) {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    snapshot_.last_error = e;
  }

  // ---- discovery: which source partitions exist ----

  void DiscoveryLoop() {
    Backoff backoff(milliseconds(1000), pipeline_.discovery_interval);
    std::unique_ptr<KafkaAdmin> admin;
    while (!stopping()) {
      absl::Status s;
      if (!admin) {
        auto a = KafkaAdmin::Create(source_.ClientProperties(config::ClientRole::kAdmin),
                                    absl::StrCat("source cluster '", source_.name, "'"));
        if (a.ok()) admin = std::move(*a);
        else s = a.status();
      }
      if (admin) {
        auto topics = admin->Topics(kAdminTimeout);
        if (topics.ok()) {
          std::set<TopicPartition> found;
          std::map<std::string, TopicRetention> retention;
          for (const auto& [topic, partitions] : SelectTopics(*Live(), *topics)) {
            for (int p = 0; p < partitions; ++p) found.insert(TopicPartition{topic, p});
            // For the time left before retention deletes what was not sent.
            if (auto configs = admin->EffectiveTopicConfigs(topic, kAdminTimeout); configs.ok()) {
              retention[topic] = RetentionFromConfigs(*configs);
            }
          }
          {
            std::lock_guard<std::mutex> lock(snapshot_mu_);
            for (auto& [topic, r] : retention) retention_[topic] = r;
          }
          std::lock_guard<std::mutex> lock(mu_);
          if (found != discovered_) {
            discovered_ = std::move(found);
            ++discovered_version_;
          }
        } else {
          s = topics.status();
        }
      }
      milliseconds next = Live()->discovery_interval;
      if (!s.ok()) {
        LogWarn("edge: topic discovery failed; will retry",
                {{"pipeline", pipeline_.name}, {"error", std::string(s.message())}});
        SetError(std::string(s.message()));
        next = backoff.Next();
      } else {
        backoff.Reset();
      }
      if (WaitForDiscoveryOrStop(next)) break;
    }
  }

  // ---- the reader: source consumer -> link ----

  void ReaderLoop() {
    Backoff backoff(milliseconds(500), milliseconds(10'000));
    while (!stopping()) {
      absl::Status s = RunReader();
      if (stopping()) break;
      if (superseded_) {
        // A newer instance of this edge took over: restarting would fence
        // it in turn. The pipeline stays failed until an operator acts.
        SetError(std::string(s.message()));
        LogError("edge: pipeline failed: a newer instance of this edge feeds the hub; not restarting",
                 {{"pipeline", pipeline_.name}, {"error", std::string(s.message())}});
        break;
      }
      SetError(std::string(s.message()));
      auto delay = backoff.Next();
      LogWarn("edge: reader restarting from the hub's resume points",
              {{"pipeline", pipeline_.name}, {"error", std::string(s.message())},
               {"retry_in_ms", static_cast<long long>(delay.count())}});
      if (WaitOrStop(delay)) break;
    }
  }

  absl::Status CreateConsumer() {
    std::string what = absl::StrCat("edge consumer of pipeline '", pipeline_.name, "'");
    Properties defaults = {
        {"group.id", names_.lane_group + ".edge"},  // never joins: manual assignment only
        {"client.id", absl::StrCat("longhaul-", pipeline_.name, "-edge")},
        {"isolation.level", "read_committed"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
        {"fetch.wait.max.ms", "100"},
        {"reconnect.backoff.max.ms", "2000"},
        // Bounded prefetch: with the link buffer, what the edge's memory
        // budget is made of (see kEdgeMemoryAllowanceBytes).
        {"queued.max.messages.kbytes", std::to_string(kEdgeConsumerQueueBytes / 1024)},
        {"fetch.max.bytes", std::to_string(kEdgeFetchMaxBytes)},
    };
    auto source = KafkaRecordSource::Create(defaults, source_.ClientProperties(config::ClientRole::kConsumer), what);
    if (!source.ok()) return source.status();
    consumer_ = std::move(*source);
    return absl::OkStatus();
  }

  absl::Status StartLink() {
    transport::EdgeLinkCallbacks cb;
    cb.on_resume = [this](const transport::ResumeEvent& e) { Post(LinkEvent{e}); };
    cb.on_ack = [this](const transport::AckEvent& e) { Post(LinkEvent{e}); };
    cb.on_state = [this](transport::LinkState state, const absl::Status& why) {
      Post(LinkEvent{std::make_pair(state, why)});
    };
    cb.on_writable = [this] { Post(LinkEvent{std::monostate{}}); };
    auto link = transport::EdgeLink::Start(options_, std::move(cb));
    if (!link.ok()) return link.status();
    link_ = std::move(*link);
    return absl::OkStatus();
  }

  // On the link's I/O thread: hand over to the reader, never block.
  void Post(LinkEvent e) {
    std::lock_guard<std::mutex> lock(events_mu_);
    events_.push_back(std::move(e));
  }

  absl::Status RunReader() {
    batcher_.reset();
    caught_up_at_ms_.clear();
    {
      std::lock_guard<std::mutex> lock(events_mu_);
      events_.clear();
    }
    link_ready_ = false;
    link_up_ = false;
    consumer_paused_ = false;
    pauses_before_ = pauses_.load();
    applied_discovery_ = 0;
    if (auto s = CreateConsumer(); !s.ok()) return s;
    if (auto s = StartLink(); !s.ok()) {
      consumer_->Close();
      consumer_.reset();
      return s;
    }
    sink_ = std::make_unique<LinkSink>(link_.get());
    EdgeBatcherOptions batching;
    batching.max_batch_bytes = batching_.max_bytes;
    batching.max_batch_delay = batching_.max_delay;
    batching.buffer_budget_bytes = options_.buffer_budget_bytes;
    batcher_ = std::make_unique<EdgeBatcher>(sink_.get(), clock_, batching);
    absl::Status result = ReadLoop();
    Drain();
    link_->Stop();
    UpdateSnapshot();
    link_.reset();
    consumer_->Close();
    consumer_.reset();
    return result;
  }

  absl::Status ReadLoop() {
    SteadyTime next_snapshot = clock_->Now();
    SteadyTime next_report = next_snapshot;
    while (!stopping()) {
      if (superseded_) return superseded_status_;
      if (auto s = ProcessEvents(); !s.ok()) return s;
      if (auto s = ApplyDiscovery(); !s.ok()) return s;
      if (auto s = SyncConsumer(); !s.ok()) return s;
      SourceRecordView view;
      absl::Status warning;
      auto got = consumer_->Next(batcher_->has_open() ? milliseconds(10) : milliseconds(100), &view, &warning);
      if (!got.ok()) return got.status();
      if (*got) {
        if (auto s = batcher_->OnRecord(view); !s.ok()) return s;
      } else if (!warning.ok()) {
        LogDebug("edge: source read", {{"pipeline", pipeline_.name}, {"error", std::string(warning.message())}});
      }
      for (const OutOfRange& oor : consumer_->TakeOutOfRange()) {
        if (auto s = OnOutOfRange(oor); !s.ok()) return s;
      }
      if (auto s = batcher_->Tick(); !s.ok()) return s;
      if (auto s = SyncConsumer(); !s.ok()) return s;
      const SteadyTime now = clock_->Now();
      if (now >= next_snapshot) {
        UpdateSnapshot();
        next_snapshot = now + kSnapshotInterval;
      }
      if (now >= next_report) {
        UpdateReport();
        next_report = now + kReportInterval;
      }
    }
    return absl::OkStatus();
  }

  // Applies the batcher's requests to the source consumer: a new
  // assignment (a seek moved a partition, or new partitions start), and a
  // pause while the link buffer is full.
  absl::Status SyncConsumer() {
    if (batcher_->TakeReassign()) {
      if (auto s = consumer_->Assign(batcher_->Assignment()); !s.ok()) return s;
      consumer_paused_ = false;  // a new assignment fetches
    }
    if (batcher_->blocked() != consumer_paused_) {
      if (batcher_->blocked()) LogDebug("edge: link buffer full, pausing the source", {{"pipeline", pipeline_.name}});
      if (auto s = consumer_->Pause(batcher_->Assigned(), batcher_->blocked()); !s.ok()) return s;
      consumer_paused_ = batcher_->blocked();
    }
    pauses_.store(pauses_before_ + batcher_->pauses());
    return absl::OkStatus();
  }

  // Stopping: hand what was read to the link and give the hub until the
  // drain deadline to commit it, so a restart resends little.
  void Drain() {
    SteadyTime deadline;
    {
      std::lock_guard<std::mutex> lock(mu_);
      deadline = std::min(stop_deadline_, clock_->Now() + milliseconds(5'000));
    }
    if (!link_up_) return;
    batcher_->Tick(/*all=*/true).IgnoreError();
    while (clock_->Now() < deadline && link_->BufferedBytes() > 0) {
      ProcessEvents().IgnoreError();
      clock_->SleepFor(milliseconds(20));
    }
  }

  absl::Status ProcessEvents() {
    std::deque<LinkEvent> events;
    {
      std::lock_guard<std::mutex> lock(events_mu_);
      events.swap(events_);
    }
    for (auto& e : events) {
      if (auto* resume = std::get_if<transport::ResumeEvent>(&e.what)) {
        batcher_->OnResume(*resume);
      } else if (auto* ack = std::get_if<transport::AckEvent>(&e.what)) {
        batcher_->OnAck(*ack);
      } else if (auto* state = std::get_if<std::pair<transport::LinkState, absl::Status>>(&e.what)) {
        if (state->first == transport::LinkState::kFailed) {
          superseded_status_ = absl::FailedPreconditionError(
              absl::StrCat("the hub refused this edge for good: ", state->second.message()));
          superseded_ = true;
          return superseded_status_;
        }
        link_up_ = state->first == transport::LinkState::kUp;
        if (link_up_ && !link_ready_) {
          // Every connection has resumed once: partitions the hub did not
          // name are new to it and start at the pipeline's start position.
          link_ready_ = true;
          LogInfo("edge: link up", {{"pipeline", pipeline_.name}, {"hub", link_->Metrics().hub}});
        }
        if (!link_up_) {
          LogWarn("edge: link down; buffering up to the budget, then pausing the source",
                  {{"pipeline", pipeline_.name}, {"error", std::string(state->second.message())}});
        }
      } else {
        batcher_->OnWritable();
      }
    }
    return batcher_->SendPending();
  }

  // The same judgement as a lane's (lane_worker.cc): read again, or count
  // and log the lost records and stop the partition or go on from the log
  // start. Going on, the next batch still starts where the reader stood,
  // so the hub moves its checkpoint past the gap as past any other.
  absl::Status OnOutOfRange(const OutOfRange& oor) {
    const EdgePartition* p = batcher_->Find(oor.partition);
    if (p == nullptr || !p->assigned || p->stopped) return absl::OkStatus();
    const TopicPartition& tp = oor.partition;
    const int64_t next = oor.offset >= 0 ? oor.offset : std::max<int64_t>(p->pos, 0);
    auto bounds = consumer_->QueryLogBounds(tp);
    if (!bounds.ok()) return bounds.status();  // the reader restarts and meets it again
    const OutOfRangeVerdict verdict = JudgeOutOfRange(next, bounds->start, bounds->end);
    if (verdict.kind == OutOfRangeKind::kWithinLog) {
      LogWarn("edge: source offset out of range but inside the log now; reading it again",
              {{"pipeline", pipeline_.name}, {"partition", tp.ToString()}, {"offset", static_cast<long long>(next)}});
      return consumer_->Reposition(tp, next);
    }
    const bool skip = verdict.kind == OutOfRangeKind::kBelowLogStart &&
                      pipeline_.on_source_gap == config::SourceGapPolicy::kSkip;
    std::string what = verdict.kind == OutOfRangeKind::kBelowLogStart
                           ? DescribeSourceGap(tp, verdict.lost_first, verdict.lost_end)
                           : absl::StrCat("next offset ", next, " of ", tp.ToString(), " is beyond the source log's end ",
                                          bounds->end, ": the source lost records that were already copied");
    int64_t counted = 0;
    {
      std::lock_guard<std::mutex> lock(snapshot_mu_);
      GapRecord& g = gaps_[tp];
      if (verdict.kind == OutOfRangeKind::kBelowLogStart) {
        counted = g.ledger.Add(verdict.lost_first, verdict.lost_end);
        g.records += counted;
        g.first = verdict.lost_first;
        g.end = verdict.lost_end;
      }
      g.error = skip ? "" : absl::StrCat(what, "; the partition is stopped (on_source_gap: stop)");
    }
    LogError(skip ? "edge: source records lost; going on from the log start (on_source_gap: skip)"
                  : "edge: source records lost or source behind; partition stopped",
             {{"pipeline", pipeline_.name},
              {"partition", tp.ToString()},
              {"records", static_cast<long long>(verdict.lost_records())},
              {"newly_counted", static_cast<long long>(counted)},
              {"error", what}});
    if (!skip) {
      batcher_->Stop(tp);
      return consumer_->Reposition(tp, std::nullopt);
    }
    batcher_->SkipTo(tp, verdict.lost_end);
    return consumer_->Reposition(tp, verdict.lost_end);
  }

  absl::Status ApplyDiscovery() {
    std::optional<std::set<TopicPartition>> discovered;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (discovered_version_ != applied_discovery_) {
        discovered = discovered_;
        applied_discovery_ = discovered_version_;
      }
    }
    if (discovered) {
      for (const auto& [tp, p] : batcher_->partitions()) {
        // A reloaded topic filter no longer selects it: a fresh reader
        // (from the hub's resume points) leaves it out; what was sent of
        // it is committed or resent as after any restart.
        if (p.discovered && !discovered->count(tp)) {
          return absl::AbortedError(absl::StrCat("the topic filter no longer selects ", tp.ToString(),
                                                 " (config reload): the reader starts again without it"));
        }
      }
      batcher_->SetDiscovered(*discovered);
    }
    if (!link_ready_) return absl::OkStatus();
    std::function<absl::StatusOr<int64_t>(const TopicPartition&)> latest;
    if (pipeline_.start == config::StartPosition::kLatest) {
      latest = [this](const TopicPartition& tp) { return consumer_->LatestOffset(tp); };
    }
    for (const auto& [tp, error] : batcher_->StartDiscovered(latest)) {
      LogWarn("edge: cannot resolve the latest offset yet",
              {{"partition", tp.ToString()}, {"error", std::string(error.message())}});
    }
    return absl::OkStatus();
  }

  void UpdateSnapshot() {
    std::map<TopicPartition, EndOffsets> offsets = consumer_ ? consumer_->Offsets() : decltype(offsets){};
    const int64_t now_ms = clock_->WallMillis();
    std::vector<PartitionStatus> out;
    const std::map<TopicPartition, EdgePartition> no_partitions;
    for (const auto& [tp, p] : batcher_ ? batcher_->partitions() : no_partitions) {
      if (!p.discovered) continue;
      PartitionStatus ps;
      ps.topic = tp.topic;
      ps.partition = tp.partition;
      ps.target_topic = pipeline_.TargetTopic(tp.topic);
      ps.lane = static_cast<int>(offsets::LaneOf(tp.topic, tp.partition, pipeline_.lanes));
      ps.records_total = p.records_sent;
      ps.bytes_total = p.bytes_sent;
      ps.sent_offset = p.sent_next;
      int64_t replicated = p.acked;
      auto it = offsets.find(tp);
      if (it != offsets.end()) {
        ps.source_end_offset = it->second.end;
        // Transaction markers at the end of the log are never delivered:
        // with nothing read and unacknowledged, everything before the
        // reader's position is replicated or was skipped.
        if (p.idle() && it->second.position > replicated) replicated = it->second.position;
      }
      ps.replicated_offset = replicated;
      if (ps.source_end_offset >= 0 && replicated >= 0) {
        ps.lag_records = std::max<int64_t>(0, ps.source_end_offset - replicated);
      }
      int64_t& caught_up_at_ms = caught_up_at_ms_.try_emplace(tp, -1).first->second;
      if (ps.lag_records == 0) caught_up_at_ms = now_ms;
      if (ps.lag_records > 0 && caught_up_at_ms > 0) ps.lag_seconds = (now_ms - caught_up_at_ms) / 1000.0;
      out.push_back(std::move(ps));
    }
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    for (auto& ps : out) {
      // Time only (retention.ms); the edge does not track the write rate
      // that retention.bytes would need.
      if (auto r = retention_.find(ps.topic); r != retention_.end()) {
        ps.retention_remaining_seconds =
            RetentionRemainingSeconds(TopicRetention{r->second.ms, -1}, ps.lag_records, ps.lag_seconds, 0, 0);
      }
      auto g = gaps_.find(TopicPartition{ps.topic, ps.partition});
      if (g == gaps_.end()) continue;
      ps.source_gap_records = g->second.records;
      ps.source_gap_first = g->second.first;
      ps.source_gap_end = g->second.end;
      const EdgePartition* part = batcher_ ? batcher_->Find(g->first) : nullptr;
      if (part != nullptr && part->stopped) {
        ps.state = "error";
        ps.error = g->second.error;
      }
    }
    snapshot_.partitions = std::move(out);
    if (link_) {
      snapshot_.link = link_->Metrics();
      snapshot_.have_link = true;
      if (snapshot_.link.up) snapshot_.last_error.clear();
      else if (!snapshot_.link.last_error.empty()) snapshot_.last_error = snapshot_.link.last_error;
    }
  }

  // The edge's backlog as it knows it, for the hub (the link sends the
  // latest after each resume and every report_interval).
  void UpdateReport() {
    if (!link_ || !consumer_ || !batcher_) return;
    const std::map<TopicPartition, EndOffsets> offsets = consumer_->Offsets();
    transport::ReportFrame report;
    report.wall_ms = clock_->WallMillis();
    for (const auto& [tp, p] : batcher_->partitions()) {
      if (!p.discovered) continue;
      transport::PartitionReport r;
      r.partition = tp;
      if (auto it = offsets.find(tp); it != offsets.end()) {
        r.end_offset = std::max<int64_t>(it->second.end, -1);
        r.log_start_offset = std::max<int64_t>(it->second.low, -1);
      }
      r.committed_offset = std::max<int64_t>(p.acked, -1);
      // The oldest record read and not yet acknowledged: in flight, sealed,
      // then open (each newer than the one before). Records not read yet
      // are newer still; before the first read nothing is known (-1).
      int64_t oldest = -1;
      if (!p.unacked.empty()) oldest = p.unacked.front().second;
      else if (!p.sealed.empty()) oldest = p.sealed.front().oldest_timestamp_ms;
      else if (!p.open.empty()) oldest = p.open.front().timestamp_ms;
      r.oldest_unsent_timestamp_ms = std::max<int64_t>(oldest, -1);
      {
        // Records the source deleted before the edge read them (source
        // gaps, counted once): the hub shows them with the edge.
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        auto g = gaps_.find(tp);
        r.lost_records = g == gaps_.end() ? 0 : g->second.records;
      }
      report.partitions.push_back(std::move(r));
    }
    if (absl::Status s = link_->SetReport(std::move(report)); !s.ok()) {
      LogWarn("edge: report refused by the link", {{"pipeline", pipeline_.name}, {"error", std::string(s.message())}});
    }
  }

  void Collect(metrics::CollectorSink& sink) const {
    PipelineStatus st = Status();
    const std::string& p = st.name;
    for (const auto& ps : st.partitions) {
      std::vector<metrics::Label> labels = {{"pipeline", p}, {"role", "edge"}, {"topic", ps.topic}};
      if (config_.admin.per_partition_metrics) labels.push_back({"partition", std::to_string(ps.partition)});
      // The families every role exports, role="edge": with --role all the
      // hub half exports the same partitions with role="hub".
      sink.AddGauge("longhaul_source_end_offset", "End offset (read_committed) of the source partition.", labels,
                    static_cast<double>(std::max<int64_t>(ps.source_end_offset, 0)));
      sink.AddGauge("longhaul_replicated_offset", "Next source offset committed on the target.", labels,
                    static_cast<double>(std::max<int64_t>(ps.replicated_offset, 0)));
      sink.AddGauge("longhaul_lag_records", "Source records not yet committed on the target.", labels,
                    static_cast<double>(ps.lag_records));
      sink.AddGauge("longhaul_lag_seconds",
                    "Age of the oldest source record not yet committed on the target (see docs/observability.md).",
                    labels, ps.lag_seconds);
      sink.AddGauge("longhaul_link_sent_offset", "Next source offset the edge handed to the link.", labels,
                    static_cast<double>(std::max<int64_t>(ps.sent_offset, 0)));
    }
    AddPartitionHealthMetrics(sink, st, config_.admin.per_partition_metrics);
    transport::EdgeLinkMetrics m;
    {
      std::lock_guard<std::mutex> lock(snapshot_mu_);
      if (!snapshot_.have_link) return;
      m = snapshot_.link;
    }
    const std::string& link = pipeline_.via;
    auto gauge = [&](const char* name, const char* help, double v) {
      sink.AddGauge(name, help, {{"link", link}, {"pipeline", p}, {"role", "edge"}}, v);
    };
    auto counter = [&](const char* name, const char* help, double v) {
      sink.AddCounter(name, help, {{"link", link}, {"pipeline", p}, {"role", "edge"}}, v);
    };
    gauge("longhaul_link_up",
          "1 while the link streams (edge: every connection resumed; hub: an edge session of the pipeline is "
          "accepted).",
          m.up ? 1 : 0);
    gauge("longhaul_link_connections_up", "Link connections resumed and streaming.", m.connections_up);
    double last_rtt = 0;
    for (const auto& c : m.connections) last_rtt = std::max(last_rtt, c.last_rtt_ms);
    gauge("longhaul_link_last_rtt_seconds", "Last ping round trip over the link (the slowest connection).",
          last_rtt / 1000.0);
    {
      // The link counts round trips into per-bucket counts in milliseconds;
      // Prometheus wants cumulative counts in seconds.
      metrics::Histogram::Snapshot rtt;
      uint64_t cumulative = 0;
      for (size_t i = 0; i < m.rtt.buckets.size(); ++i) {
        if (i < transport::RttHistogram::kBoundsMs.size()) rtt.bounds.push_back(transport::RttHistogram::kBoundsMs[i] / 1000.0);
        cumulative += m.rtt.buckets[i];
        rtt.cumulative_counts.push_back(cumulative);
      }
      rtt.count = m.rtt.count;
      rtt.sum = m.rtt.sum_ms / 1000.0;
      sink.AddHistogram("longhaul_link_rtt_seconds", "Ping round trips over the link.",
                        {{"link", link}, {"pipeline", p}, {"role", "edge"}}, std::move(rtt));
    }
    counter("longhaul_link_hub_moves_total",
            "Times the edge moved to the next hub address (unreachable, TLS failure, or not served there).",
            static_cast<double>(m.hub_moves));
    counter("longhaul_link_reconnects_total", "Connections re-established after a loss.",
            static_cast<double>(m.reconnects));
    counter("longhaul_link_disconnects_total", "Connections lost.", static_cast<double>(m.disconnects));
    counter("longhaul_link_connect_failures_total", "Dial attempts that failed (refused, TLS, timeout).",
            static_cast<double>(m.connect_failures));
    counter("longhaul_link_bytes_uncompressed_total", "Record bytes shipped over the link, before compression.",
            static_cast<double>(m.bytes_uncompressed));
    counter("longhaul_link_bytes_compressed_total", "Record bytes shipped over the link, after compression.",
            static_cast<double>(m.bytes_compressed));
    counter("longhaul_link_wire_bytes_total", "Bytes of data frames written, resends included.",
            static_cast<double>(m.wire_bytes_sent));
    gauge("longhaul_link_compression_ratio", "Record bytes before compression / after.", m.compression_ratio());
    counter("longhaul_link_batches_sent_total", "Batches sent (first sends).", static_cast<double>(m.batches_sent));
    counter("longhaul_link_batches_resent_total", "Batches sent again after a reconnect.",
            static_cast<double>(m.batches_resent));
    counter("longhaul_link_batches_acked_total", "Batches the hub committed.", static_cast<double>(m.batches_acked));
    gauge("longhaul_link_frames_in_flight", "Data frames sent and not yet acknowledged.",
          static_cast<double>(m.frames_in_flight));
    gauge("longhaul_link_buffered_bytes", "Bytes the edge holds until the hub acknowledges them.",
          static_cast<double>(m.buffered_bytes));
    gauge("longhaul_link_buffer_budget_bytes", "links.<l>.edge.buffer_bytes.",
          static_cast<double>(m.buffer_budget_bytes));
    counter("longhaul_link_credit_waits_total", "Times a batch waited for hub credit.",
            static_cast<double>(m.credit_waits));
    counter("longhaul_link_credit_wait_seconds_total", "Time batches waited for hub credit.", m.credit_wait_seconds);
    counter("longhaul_link_window_waits_total", "Times a batch waited for the in-flight window.",
            static_cast<double>(m.window_waits));
    counter("longhaul_link_source_pauses_total", "Times the edge paused the source because the link buffer was full.",
            static_cast<double>(pauses_.load()));
    gauge("longhaul_link_rate_limit_bits_per_second", "links.<l>.edge.rate_limit (0: no cap).",
          static_cast<double>(m.rate_limit_bits_per_second));
    // Per traffic class (links.<l>.edge.priorities): what waits at the edge
    // and for how long, what went, and the records not yet committed.
    std::vector<double> class_lag(m.classes.size(), 0);
    if (!m.classes.empty()) {
      for (const auto& ps : st.partitions) {
        size_t cls = options_.class_of ? options_.class_of(ps.topic) : 0;
        class_lag[std::min(cls, class_lag.size() - 1)] += static_cast<double>(ps.lag_records);
      }
    }
    for (size_t i = 0; i < m.classes.size(); ++i) {
      const transport::EdgeClassMetrics& c = m.classes[i];
      const std::vector<metrics::Label> labels = {{"link", link}, {"pipeline", p}, {"role", "edge"}, {"class", c.name}};
      sink.AddGauge("longhaul_link_class_queued_bytes", "Data frames of the class waiting at the edge to be sent.",
                    labels, static_cast<double>(c.queued_bytes));
      sink.AddGauge("longhaul_link_class_queue_delay_seconds",
                    "How long the class's oldest waiting data frame has waited at the edge (0: none waits).", labels,
                    c.oldest_queued_seconds);
      sink.AddCounter("longhaul_link_class_wire_bytes_total", "Data frame bytes of the class written, resends included.",
                      labels, static_cast<double>(c.bytes_sent));
      sink.AddGauge("longhaul_link_class_lag_records",
                    "Source records of the class's topics not yet committed on the target, seen from the edge.", labels,
                    class_lag[i]);
    }
  }

  config::Config config_;
  Clock* clock_;
  const config::PipelineConfig& pipeline_;
  const config::ClusterConfig& source_;
  PipelineNames names_;
  const transport::EdgeLinkOptions options_;
  const EdgeBatching batching_;
  metrics::CollectorHandle collector_;
  std::thread discovery_thread_, reader_thread_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool discovery_requested_ = false;  // a reload asks for a discovery now
  // pipeline_ with the live settings of the last reload (topic filter,
  // discovery interval); under mu_.
  std::shared_ptr<const config::PipelineConfig> live_;
  SteadyTime stop_deadline_{};
  std::set<TopicPartition> discovered_;
  uint64_t discovered_version_ = 0;

  std::mutex events_mu_;
  std::deque<LinkEvent> events_;

  mutable std::mutex snapshot_mu_;
  Snapshot snapshot_;
  std::map<TopicPartition, GapRecord> gaps_;  // guarded by snapshot_mu_
  std::map<std::string, TopicRetention> retention_;  // guarded by snapshot_mu_; from discovery
  std::atomic<uint64_t> pauses_{0};

  // Reader thread only.
  std::unique_ptr<KafkaRecordSource> consumer_;
  std::unique_ptr<transport::EdgeLink> link_;
  std::unique_ptr<LinkSink> sink_;
  std::unique_ptr<EdgeBatcher> batcher_;
  // Whether the consumer's partitions are paused now (the batcher's
  // blocked() as last applied), and pauses counted before this reader.
  bool consumer_paused_ = false;
  uint64_t pauses_before_ = 0;
  std::map<TopicPartition, int64_t> caught_up_at_ms_;  // wall time each partition last had no lag
  uint64_t applied_discovery_ = 0;
  bool link_ready_ = false;
  bool link_up_ = false;
  // The link stopped for good (LinkState::kFailed): never restart it.
  std::atomic<bool> superseded_{false};
  absl::Status superseded_status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PipelineRunner>> CreateEdgeRunner(const config::Config& config,
                                                                 const std::string& pipeline_name,
                                                                 metrics::Registry* registry) {
  auto it = config.pipelines.find(pipeline_name);
  if (it == config.pipelines.end()) {
    return absl::NotFoundError(absl::StrCat("no pipeline named '", pipeline_name, "' in ", config.file));
  }
  const config::PipelineConfig& pipeline = it->second;
  if (pipeline.via.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("pipeline '", pipeline_name, "' has no via: it runs direct"));
  }
  auto link = config.links.find(pipeline.via);
  if (link == config.links.end()) {
    return absl::InvalidArgumentError(absl::StrCat("pipeline '", pipeline_name, "': no link named '", pipeline.via, "'"));
  }
  auto options = EdgeLinkOptionsFor(link->second, pipeline, Hostname());
  if (!options.ok()) return options.status();
  return std::unique_ptr<PipelineRunner>(
      new EdgeRunner(config, pipeline_name, registry, std::move(*options), &SystemClock::Instance()));
}

}  // namespace longhaul::mirror
