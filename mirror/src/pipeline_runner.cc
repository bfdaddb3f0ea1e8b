#include "longhaul/mirror/pipeline_runner.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "consumer_budget.h"
#include "kafka_admin.h"
#include "kafka_client.h"
#include "kafka_record_source.h"
#include "kafka_status.h"
#include "group_sync.h"
#include "lane_worker.h"
#include "mirror_metrics.h"
#include "partition_health.h"
#include "partition_metrics.h"
#include "longhaul/base/backoff.h"
#include "longhaul/base/logging.h"
#include "longhaul/config/config_diff.h"
#include "longhaul/offsets/lane.h"
#include "edge_backlog.h"
#include "pipeline_state.h"
#include "source_gap.h"
#include "source_side.h"
#include "target_plan.h"
#include "topic_discovery.h"

namespace longhaul::mirror {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kAdminTimeout{10'000};

// Direct mode's source side: the source cluster itself.
class KafkaSourceSide final : public SourceSide {
 public:
  KafkaSourceSide(const config::Config& config, const config::PipelineConfig& pipeline)
      : pipeline_(pipeline),
        live_(std::make_shared<const config::PipelineConfig>(pipeline)),
        source_(config.Cluster(pipeline.source)),
        names_(pipeline_) {
    // The process byte budget, split across lanes; each lane's consumer
    // prefetch is sized so a backlog of any size stays within it, counting
    // librdkafka's per-record overhead, not only payload (consumer_budget.h).
    int64_t total_lanes = 0;
    for (const auto& [_, p] : config.pipelines) total_lanes += p.lanes;
    consumer_properties_ = source_.ClientProperties(config::ClientRole::kConsumer);
    ConsumerPrefetch prefetch =
        SizeConsumerPrefetch(config.worker.buffer_bytes / std::max<int64_t>(total_lanes, 1), consumer_properties_);
    for (auto& [key, value] : prefetch.properties) consumer_properties_[key] = value;
    if (!prefetch.lowered.empty()) {
      LogInfo("source consumer prefetch lowered to the lane's share of worker.buffer_bytes",
              {{"pipeline", pipeline_.name}, {"lowered", absl::StrJoin(prefetch.lowered, ", ")}});
    }
  }

  absl::StatusOr<std::map<SourceTopic, int>> Topics(milliseconds timeout) override {
    if (auto s = EnsureAdmin(); !s.ok()) return s;
    auto all = admin_->Topics(timeout);
    if (!all.ok()) return all.status();
    std::map<SourceTopic, int> out;
    for (const auto& [topic, partitions] : SelectTopics(*Live(), *all)) out.emplace(SourceTopic{topic, ""}, partitions);
    return out;
  }

  absl::StatusOr<Properties> TopicConfigs(const std::string& topic, milliseconds timeout) override {
    if (auto s = EnsureAdmin(); !s.ok()) return s;
    auto explicit_configs = admin_->ExplicitTopicConfigs(topic, timeout);
    if (!explicit_configs.ok()) return explicit_configs.status();
    return SyncedTopicConfigs(*explicit_configs, Live()->topic_configs);
  }
  void ApplyLive(const config::PipelineConfig& live) override {
    auto fresh = std::make_shared<const config::PipelineConfig>(live);
    std::lock_guard<std::mutex> lock(live_mu_);
    live_ = std::move(fresh);
  }
  bool KnowsTopicConfigs() const override { return true; }

  absl::StatusOr<std::vector<TopicAcl>> TopicAcls(milliseconds timeout) override {
    if (auto s = EnsureAdmin(); !s.ok()) return s;
    return admin_->TopicAcls(timeout);
  }

  absl::StatusOr<std::map<TopicPartition, int64_t>> EndOffsets(const std::vector<TopicPartition>& partitions,
                                                               milliseconds timeout) override {
    if (auto s = EnsureAdmin(); !s.ok()) return s;
    return admin_->EndOffsets(partitions, timeout);
  }

  bool CanSyncGroups() const override { return true; }

  absl::StatusOr<TopicRetention> Retention(const std::string& topic, milliseconds timeout) override {
    if (auto s = EnsureAdmin(); !s.ok()) return s;
    auto configs = admin_->EffectiveTopicConfigs(topic, timeout);
    if (!configs.ok()) return configs.status();
    return RetentionFromConfigs(*configs);
  }

  void AddStatus(PipelineStatus* status) const override { status->role = "direct"; }

  // Each lane reads its partitions straight from the source.
  absl::StatusOr<std::unique_ptr<RecordSource>> MakeRecordSource(int lane) override {
    std::string what = absl::StrCat("source consumer of pipeline '", pipeline_.name, "' lane ", lane);
    Properties defaults = {
        {"group.id", names_.lane_group + ".reader"},  // never joins: manual assignment only
        {"client.id", absl::StrCat("longhaul-", pipeline_.name, "-lane-", lane, "-reader")},
        {"isolation.level", "read_committed"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
        {"fetch.wait.max.ms", "100"},
        {"reconnect.backoff.max.ms", "2000"},
    };
    auto source = KafkaRecordSource::Create(defaults, consumer_properties_, what);
    if (!source.ok()) return source.status();
    return std::unique_ptr<RecordSource>(std::move(*source));
  }

 private:
  std::shared_ptr<const config::PipelineConfig> Live() const {
    std::lock_guard<std::mutex> lock(live_mu_);
    return live_;
  }

  // Called from the discovery thread only.
  absl::Status EnsureAdmin() {
    if (admin_) return absl::OkStatus();
    auto a = KafkaAdmin::Create(source_.ClientProperties(config::ClientRole::kAdmin),
                                absl::StrCat("source cluster '", source_.name, "'"));
    if (!a.ok()) return a.status();
    admin_ = std::move(*a);
    return absl::OkStatus();
  }

  const config::PipelineConfig pipeline_;
  // The pipeline with the live settings of the last reload (topic filter,
  // topic_configs); replaced by ApplyLive.
  mutable std::mutex live_mu_;
  std::shared_ptr<const config::PipelineConfig> live_;
  const config::ClusterConfig source_;
  const PipelineNames names_;
  Properties consumer_properties_;  // the operator's, with the prefetch sized to the budget
  std::unique_ptr<KafkaAdmin> admin_;
};

// One pipeline's lanes on the target: discovery of the partitions to mirror
// (from the source side) and target topic creation, lane ownership through
// the lane group, one LaneWorker per owned lane, status and metrics. The
// SourceSide decides where partitions and records come from (direct or hub).
class LanePipelineRunner final : public PipelineRunner {
 public:
  LanePipelineRunner(const config::Config& config, const std::string& pipeline, metrics::Registry* registry,
                     std::unique_ptr<SourceSide> side)
      : config_(config),
        pipeline_(config_.pipelines.at(pipeline)),
        source_(config_.Cluster(pipeline_.source)),
        target_(config_.Cluster(pipeline_.target)),
        names_(pipeline_),
        live_(std::make_shared<const config::PipelineConfig>(pipeline_)),
        directory_(pipeline_.lanes),
        side_(std::move(side)),
        metrics_(PipelineMetrics::Register(registry, pipeline_.name)),
        collector_(registry->AddCollector([this](metrics::CollectorSink& sink) { Collect(sink); })) {
    // librdkafka's log lines and connection errors then name the cluster.
    NameCluster(source_.bootstrap, source_.name);
    NameCluster(target_.bootstrap, target_.name);
    side_->SetDiscoveryTrigger([this] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        discovery_requested_ = true;
      }
      wake_.notify_all();
    });
  }

  ~LanePipelineRunner() override {
    collector_.Reset();
    Stop(clock_->Now());
  }

  void Start() override {
    discovery_thread_ = std::thread([this] { DiscoveryLoop(); });
    membership_thread_ = std::thread([this] { MembershipLoop(); });
    if (pipeline_.groups.enabled() && side_->CanSyncGroups()) {
      group_sync_ = std::make_unique<GroupSyncLoop>(pipeline_, source_, target_, &metrics_);
    }
  }

  void ApplyLive(const config::PipelineConfig& fresh) override {
    const std::shared_ptr<const config::PipelineConfig> old = Live();
    auto live = std::make_shared<const config::PipelineConfig>(config::WithLiveSettings(*old, fresh));
    const bool groups_changed = old->groups.filter.include() != live->groups.filter.include() ||
                                old->groups.filter.exclude() != live->groups.filter.exclude() ||
                                old->groups.interval != live->groups.interval ||
                                old->topics.include() != live->topics.include() ||
                                old->topics.exclude() != live->topics.exclude();
    side_->ApplyLive(*live);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      live_ = live;
      discovery_requested_ = true;  // the new filter now, not after discovery_interval
    }
    wake_.notify_all();
    // Group sync reads both filters (groups, and topics for the offsets it
    // translates); it keeps no state of its own, so a new loop takes over.
    if (groups_changed && side_->CanSyncGroups()) {
      group_sync_.reset();
      group_sync_config_ = live;  // the loop keeps a reference
      if (live->groups.enabled()) group_sync_ = std::make_unique<GroupSyncLoop>(*live, source_, target_);
    }
    LogInfo("pipeline took over reloaded settings", {{"pipeline", pipeline_.name}});
  }

  void Stop(SteadyTime deadline) override {
    side_->OnStopping();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        // already stopping; fall through to join
      }
      stopping_ = true;
      stop_deadline_ = deadline;
    }
    wake_.notify_all();
    group_sync_.reset();  // joins its thread; Kafka reads in flight are cancelled
    if (discovery_thread_.joinable()) discovery_thread_.join();
    if (membership_thread_.joinable()) membership_thread_.join();
  }

  PipelineStatus Status() const override {
    PipelineStatus st;
    st.name = pipeline_.name;
    st.delivery = pipeline_.delivery == config::Delivery::kExactlyOnce ? "exactly-once" : "at-least-once";
    st.lanes_total = pipeline_.lanes;
    st.checkpoint_topic_ready = checkpoint_topic_ready_.load();
    st.target_reachable = target_reachable_.load();
    st.lane_group_joined = lane_group_joined_.load();
    std::set<int> owned, orphaned;
    {
      std::lock_guard<std::mutex> lock(mu_);
      orphaned = orphaned_lanes_;
      int64_t wall = clock_->WallMillis();
      for (const auto& [lane, worker] : lanes_) {
        owned.insert(lane);
        std::string e = worker->LastError();
        if (!e.empty()) st.last_error = e;
        int64_t committed = worker->LastCommitMillis();
        st.checkpoint_age_seconds.emplace_back(lane, committed < 0 ? -1.0 : (wall - committed) / 1000.0);
      }
      if (st.last_error.empty()) st.last_error = discovery_error_;
    }
    st.lanes_owned.assign(owned.begin(), owned.end());
    side_->AddStatus(&st);
    // A hub knows the edges' backlog from their reports: lag is end to end.
    const ReportedBacklogIndex reported(st.edges);
    const std::shared_ptr<const config::PipelineConfig> live = Live();
    int64_t now_ms = clock_->WallMillis();
    for (const auto& [mp, progress] : const_cast<PartitionDirectory&>(directory_).AllWithProgress()) {
      const bool running = owned.count(mp.lane) > 0;
      if (!running && !orphaned.count(mp.lane)) continue;
      PartitionStatus ps;
      ps.topic = mp.source.topic;
      ps.edge = mp.source.origin;
      ps.partition = mp.source.partition;
      ps.target_topic = mp.target_topic;
      ps.lane = mp.lane;
      PartitionProgressReading reading;
      reading.source_end_offset = progress->source_end_offset.load();
      reading.replicated_offset = progress->replicated_offset.load();
      reading.oldest_pending_timestamp_ms = progress->oldest_pending_timestamp_ms.load();
      reading.caught_up_at_ms = progress->caught_up_at_ms.load();
      reading.advanced_at_ms = progress->advanced_at_ms.load();
      const PartitionProgress::Gap gap = progress->gap();
      reading.gap_stopped = gap.stopped;
      reading.gap_error = gap.error;
      ps.source_end_offset = reading.source_end_offset;
      ps.replicated_offset = reading.replicated_offset;
      ps.records_total = progress->records_total.load();
      ps.bytes_total = progress->bytes_total.load();
      ps.records_filtered = progress->records_filtered_total.load();
      const PartitionLag lag = MeasureLag(reading, now_ms);
      ps.lag_records = lag.records;
      ps.lag_seconds = lag.seconds;
      // A hub knows the edges' backlog from their reports: lag is end to end.
      reported.Apply(&ps);
      // Status judgement, in the spirit of Burrow, with the pipeline's
      // thresholds (lag_thresholds, as last reloaded).
      const PartitionVerdict verdict =
          JudgePartitionState(reading, PartitionLag{ps.lag_records, ps.lag_seconds}, running, now_ms,
                              HealthThresholds{live->lagging_after, live->stalled_after});
      ps.state = verdict.state;
      ps.error = verdict.error;
      ps.source_gap_records = progress->source_gap_records_total.load();
      ps.source_gap_first = gap.first;
      ps.source_gap_end = gap.end;
      if (!ps.error.empty() && st.last_error.empty()) st.last_error = ps.error;
      ps.retention_remaining_seconds = RetentionRemaining(ps, now_ms);
      st.partitions.push_back(std::move(ps));
    }
    return st;
  }

 private:
  // Time left before the source's retention may delete the partition's
  // oldest uncopied record (source_gap.h), from the topic's retention (read
  // by discovery), the backlog, the average record size this process copied
  // and the source's write rate over the last 10 s or more.
  double RetentionRemaining(const PartitionStatus& ps, int64_t now_ms) const {
    TopicRetention retention;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = retention_.find(ps.topic);
      if (it == retention_.end()) return -1;
      retention = it->second;
    }
    double write_rate = 0;
    if (ps.source_end_offset >= 0) {
      std::lock_guard<std::mutex> lock(rates_mu_);
      WriteRate& r = write_rates_[TopicPartition{ps.topic, ps.partition}];
      if (r.at_ms < 0 || ps.source_end_offset < r.end) {
        r = WriteRate{ps.source_end_offset, now_ms, 0};
      } else if (now_ms - r.at_ms >= 10'000) {
        r.per_second = (ps.source_end_offset - r.end) * 1000.0 / static_cast<double>(now_ms - r.at_ms);
        r.end = ps.source_end_offset;
        r.at_ms = now_ms;
      }
      write_rate = r.per_second;
    }
    const double avg_bytes =
        ps.records_total > 0 ? static_cast<double>(ps.bytes_total) / static_cast<double>(ps.records_total) : 0;
    return RetentionRemainingSeconds(retention, ps.lag_records, ps.lag_seconds, avg_bytes, write_rate);
  }

  // Scrape-time metrics: state, not events, so they come from Status().
  void Collect(metrics::CollectorSink& sink) const {
    PipelineStatus st = Status();
    const std::string& p = st.name;
    sink.AddGauge("longhaul_lanes_owned", "Lanes of the pipeline this worker owns.", {{"pipeline", p}},
                  static_cast<double>(st.lanes_owned.size()));
    sink.AddGauge("longhaul_lanes", "Lanes of the pipeline in total.", {{"pipeline", p}}, st.lanes_total);
    for (const auto& [lane, age] : st.checkpoint_age_seconds) {
      if (age < 0) continue;
      std::string lane_label = std::to_string(lane);
      sink.AddGauge("longhaul_checkpoint_age_seconds", "Seconds since the lane last committed a checkpoint.",
                    {{"pipeline", p}, {"lane", lane_label}}, age);
    }
    // Per partition, or per topic when per-partition series cost too much.
    struct Row {
      double end = 0, replicated = 0, lag = 0, lag_seconds = 0, records = 0, bytes = 0;
    };
    std::map<std::tuple<std::string, std::string, std::string>, Row> rows;  // (edge, topic, partition)
    for (const auto& ps : st.partitions) {
      std::string part = config_.admin.per_partition_metrics ? std::to_string(ps.partition) : "";
      Row& r = rows[{ps.edge, ps.topic, part}];
      r.end += std::max<int64_t>(ps.source_end_offset, 0);
      r.replicated += std::max<int64_t>(ps.replicated_offset, 0);
      r.lag += ps.lag_records;
      r.lag_seconds = std::max(r.lag_seconds, ps.lag_seconds);
      r.records += ps.records_total;
      r.bytes += ps.bytes_total;
    }
    for (const auto& [key, r] : rows) {
      const auto& [edge, topic, partition] = key;
      std::vector<metrics::Label> labels = {{"pipeline", p}, {"role", st.role}, {"topic", topic}};
      if (config_.admin.per_partition_metrics) labels.push_back({"partition", partition});
      // A pipeline fed by many edges has one series per edge.
      if (pipeline_.edges == config::Edges::kMany) labels.push_back({"edge", edge});
      sink.AddGauge("longhaul_source_end_offset", "End offset (read_committed) of the source partition.", labels,
                    r.end);
      sink.AddGauge("longhaul_replicated_offset", "Next source offset committed on the target.", labels,
                    r.replicated);
      sink.AddGauge("longhaul_lag_records", "Source records not yet committed on the target.", labels, r.lag);
      sink.AddGauge("longhaul_lag_seconds",
                    "Age of the oldest source record not yet committed on the target (see docs/observability.md).",
                    labels, r.lag_seconds);
      sink.AddCounter("longhaul_records_replicated_total", "Records committed on the target by this worker.", labels,
                      r.records);
      sink.AddCounter("longhaul_bytes_replicated_total",
                      "Key and value bytes committed on the target by this worker.", labels, r.bytes);
    }
    AddPartitionHealthMetrics(sink, st, config_.admin.per_partition_metrics);
    side_->Collect(sink);
  }

  // The pipeline with the live settings of the last reload (ApplyLive).
  std::shared_ptr<const config::PipelineConfig> Live() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }

  // Waits up to `d`, less if stopping or discovery was requested.
  bool WaitOrStop(milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, d, [&] { return stopping_ || discovery_requested_; });
    return stopping_;
  }
  bool TakeDiscoveryRequest() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(discovery_requested_, false);
  }
  bool stopping() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  // ---- discovery: topics, partitions, target topic creation ----

  // Discovery every discovery_interval (sooner after a failure), and a cheap
  // target reachability probe every couple of seconds for /readyz.
  void DiscoveryLoop() {
    Backoff backoff(milliseconds(1000), pipeline_.discovery_interval);
    SteadyTime next_discovery = clock_->Now();
    while (!stopping()) {
      SteadyTime now = clock_->Now();
      if (TakeDiscoveryRequest()) next_discovery = std::min(next_discovery, now);
      if (now >= next_discovery) {
        absl::Status s = DiscoverOnce();
        {
          std::lock_guard<std::mutex> lock(mu_);
          discovery_error_ = s.ok() ? "" : std::string(s.message());
        }
        if (!s.ok()) {
          metrics_.Error(ErrorReason::kDiscovery);
          LogWarn("topic discovery failed; will retry",
                  {{"pipeline", pipeline_.name}, {"error", std::string(s.message())}});
          next_discovery = clock_->Now() + backoff.Next();
        } else {
          backoff.Reset();
          next_discovery = clock_->Now() + Live()->discovery_interval;
        }
      } else if (target_admin_) {
        target_reachable_.store(target_admin_->Reachable(milliseconds(2000)));
      }
      RefreshOrphanedLanes();
      if (WaitOrStop(std::min<milliseconds>(
              milliseconds(2000),
              std::chrono::duration_cast<milliseconds>(next_discovery - clock_->Now())))) {
        break;
      }
    }
  }

  // Lanes lost while the target was unreachable cannot move to another
  // worker (the lane group lives on the target), so this worker keeps
  // reporting their partitions, with end offsets read here since no lane
  // reads them, and lag keeps growing on dashboards instead of vanishing.
  // Once the target answers again, the lane group decides who reports them.
  void RefreshOrphanedLanes() {
    std::set<int> orphaned;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (target_reachable_.load()) orphaned_lanes_.clear();
      orphaned = orphaned_lanes_;
    }
    if (orphaned.empty()) return;
    std::vector<std::pair<TopicPartition, PartitionProgress*>> wanted;
    for (const auto& [mp, progress] : directory_.AllWithProgress()) {
      if (orphaned.count(mp.lane)) wanted.emplace_back(mp.source, progress);
    }
    std::vector<TopicPartition> tps;
    for (const auto& [tp, _] : wanted) tps.push_back(tp);
    auto ends = side_->EndOffsets(tps, milliseconds(2000));
    if (!ends.ok()) return;  // the source is down too; the last values stay
    const int64_t now_ms = clock_->WallMillis();
    for (const auto& [tp, progress] : wanted) {
      auto it = ends->find(tp);
      if (it == ends->end()) continue;
      progress->source_end_offset.store(it->second);
      if (progress->replicated_offset.load() >= it->second) progress->caught_up_at_ms.store(now_ms);
    }
  }

  absl::Status EnsureAdmins() {
    if (!target_admin_) {
      auto a = KafkaAdmin::Create(target_.ClientProperties(config::ClientRole::kAdmin),
                                  absl::StrCat("target cluster '", target_.name, "'"));
      if (!a.ok()) return a.status();
      target_admin_ = std::move(*a);
    }
    return absl::OkStatus();
  }

  absl::Status EnsureInternalTopics(const std::map<std::string, int>& target_topics) {
    if (!target_topics.count(names_.offset_sync_topic)) {
      LogInfo("creating offset-sync topic", {{"pipeline", pipeline_.name}, {"topic", names_.offset_sync_topic}});
      absl::Status s = target_admin_->CreateTopic(
          names_.offset_sync_topic, pipeline_.lanes,
          {{"cleanup.policy", "delete"},
           {"retention.ms", std::to_string(pipeline_.offset_sync_retention.count())}},
          kAdminTimeout, pipeline_.replication_factor);
      if (!s.ok()) return s;
    }
    auto it = target_topics.find(names_.checkpoint_topic);
    if (it != target_topics.end()) {
      if (it->second != pipeline_.lanes) {
        return absl::FailedPreconditionError(absl::StrCat(
            "pipeline '", pipeline_.name, "': checkpoint topic '", names_.checkpoint_topic, "' on target cluster '",
            target_.name, "' has ", it->second, " partitions but the pipeline has lanes: ", pipeline_.lanes,
            "; the lane count of a pipeline cannot change (it decides where checkpoints live)"));
      }
      return absl::OkStatus();
    }
    LogInfo("creating checkpoint topic", {{"pipeline", pipeline_.name}, {"topic", names_.checkpoint_topic}});
    return target_admin_->CreateTopic(names_.checkpoint_topic, pipeline_.lanes,
                                      {{"cleanup.policy", "compact"}, {"min.compaction.lag.ms", "0"},
                                       {"segment.ms", "3600000"}},
                                      kAdminTimeout, pipeline_.replication_factor);
  }

  // Creates the target topics that are missing and grows those with too
  // few partitions, each kind in one request. A hub meeting hundreds of
  // new edges (a topic each with {edge} in rename) took a minute creating
  // them one round trip at a time (~10 a second here) while their
  // partitions waited. A partition is published only once the target's
  // topic listing shows it (up to kListedWait here, else in a later round,
  // which is requested): acting on a listing that predates a change made a
  // grown topic be grown again (INVALID_PARTITIONS, and its partitions
  // withdrawn for the round), and a lane's producer that asked a broker not
  // yet aware of a grown partition failed its delivery. `targets` loses
  // the topics still unlisted and keeps the listed count of those whose
  // growth is unlisted; `target_topics` becomes the latest listing. What
  // fails is left to the caller's one-by-one path, which reports it.
  //
  // Never withdraws a partition: a topic once listed with N partitions
  // counts as having them even when a later listing leaves it out (the
  // listing skips topics whose metadata has an error, e.g. while a broker
  // under load moves leaders); withdrawing a published partition would
  // make its lane drop it mid-transaction.
  template <class Needs>
  void PrepareTargetTopics(Needs& targets, std::map<std::string, int>* target_topics) {
    constexpr milliseconds kListedWait{3'000};
    constexpr std::chrono::minutes kUnlistedGiveUp{2};
    const SteadyTime now = SystemClock::Instance().Now();
    auto remember_listing = [&] {
      for (const auto& [topic, n] : *target_topics) {
        int& seen = ever_listed_[topic];
        seen = std::max(seen, n);
      }
      for (const auto& [topic, n] : ever_listed_) {
        int& listed = (*target_topics)[topic];
        listed = std::max(listed, n);
      }
    };
    remember_listing();
    for (auto it = unlisted_.begin(); it != unlisted_.end();) {
      auto listed = target_topics->find(it->first);
      const bool done = listed != target_topics->end() && listed->second >= it->second.partitions;
      if (!done && now - it->second.since > kUnlistedGiveUp) {
        LogWarn("target topic created or grown is still not listed as such; going on without waiting",
                {{"pipeline", pipeline_.name}, {"topic", it->first}, {"partitions", it->second.partitions}});
      }
      it = done || now - it->second.since > kUnlistedGiveUp ? unlisted_.erase(it) : std::next(it);
    }
    std::vector<KafkaAdmin::NewTopic> missing;
    std::map<std::string, int> grow;
    for (const auto& [target_topic, need] : targets) {
      if (unlisted_.count(target_topic)) continue;
      auto listed = target_topics->find(target_topic);
      if (listed != target_topics->end()) {
        if (listed->second < need.partitions) grow[target_topic] = need.partitions;
        continue;
      }
      KafkaAdmin::NewTopic t{target_topic, need.partitions, {}};
      if (pipeline_.sync_topic_configs) {
        auto synced = side_->TopicConfigs(need.config_source, kAdminTimeout);
        if (!synced.ok()) continue;
        t.configs = std::move(*synced);
      }
      missing.push_back(std::move(t));
    }
    if (!missing.empty()) {
      if (auto created = target_admin_->CreateTopics(missing, kAdminTimeout, pipeline_.replication_factor);
          created.ok()) {
        for (const auto& t : missing) {
          if (auto it = created->find(t.topic); it == created->end() || !it->second.ok()) continue;
          LogInfo("created target topic", {{"pipeline", pipeline_.name}, {"topic", t.topic},
                                           {"partitions", t.partitions},
                                           {"configs", static_cast<unsigned long>(t.configs.size())}});
          metrics_.topics_created->Increment();
          unlisted_[t.topic] = Unlisted{t.partitions, now};
        }
      }
    }
    if (!grow.empty()) {
      if (auto grown = target_admin_->GrowPartitions(grow, kAdminTimeout); grown.ok()) {
        for (const auto& [topic, total] : grow) {
          if (auto it = grown->find(topic); it == grown->end() || !it->second.ok()) continue;
          LogInfo("added partitions to target topic", {{"pipeline", pipeline_.name}, {"topic", topic},
                                                       {"from", (*target_topics)[topic]}, {"partitions", total}});
          metrics_.partitions_added->Increment();
          unlisted_[topic] = Unlisted{total, now};
        }
      }
    }
    auto all_listed = [&] {
      for (auto it = unlisted_.begin(); it != unlisted_.end();) {
        auto listed = target_topics->find(it->first);
        it = listed != target_topics->end() && listed->second >= it->second.partitions ? unlisted_.erase(it)
                                                                                        : std::next(it);
      }
      return unlisted_.empty();
    };
    const SteadyTime give_up = SystemClock::Instance().Now() + kListedWait;
    while (!all_listed() && SystemClock::Instance().Now() < give_up) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (wake_.wait_for(lock, milliseconds(200), [&] { return stopping_; })) return;
      }
      auto listing = target_admin_->Topics(kAdminTimeout);
      if (listing.ok()) {
        *target_topics = std::move(*listing);
        remember_listing();
      }
    }
    if (unlisted_.empty()) return;
    for (const auto& [topic, u] : unlisted_) {
      auto need = targets.find(topic);
      if (need == targets.end()) continue;
      auto listed = target_topics->find(topic);
      if (listed == target_topics->end()) {
        targets.erase(need);  // not published before either
      } else {
        need->second.partitions = std::min(need->second.partitions, listed->second);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    discovery_requested_ = true;  // look again soon
  }

  absl::Status DiscoverOnce() {
    if (auto s = EnsureAdmins(); !s.ok()) return s;
    auto target_topics = target_admin_->Topics(kAdminTimeout);
    target_reachable_.store(target_topics.ok());
    if (!target_topics.ok()) return target_topics.status();
    if (!checkpoint_topic_ready_.load()) {
      if (auto s = EnsureInternalTopics(*target_topics); !s.ok()) return s;
      checkpoint_topic_ready_.store(true);
      wake_.notify_all();
    }
    auto source_topics = side_->Topics(kAdminTimeout);
    if (!source_topics.ok()) return source_topics.status();
    const bool sync_topic_configs = Live()->sync_topic_configs;

    std::map<std::string, TargetTopicNeed> targets = PlanTargetTopics(pipeline_, *source_topics);
    std::map<std::string, int> ready_by_target;
    PrepareTargetTopics(targets, &*target_topics);
    absl::Status first_error;
    for (const auto& [target_topic, need] : targets) {
      const int partitions = need.partitions;
      int target_partitions = 0;
      if (auto t = target_topics->find(target_topic); t != target_topics->end()) target_partitions = t->second;
      absl::Status s;
      const TargetTopicAction action =
          DecideTargetTopic(target_partitions, partitions, side_->KnowsPartitionCounts());
      if (action == TargetTopicAction::kCreate) {
        Properties configs;
        if (sync_topic_configs) {
          auto synced = side_->TopicConfigs(need.config_source, kAdminTimeout);
          if (!synced.ok()) {
            s = synced.status();
          } else {
            configs = std::move(*synced);
          }
        }
        if (s.ok()) {
          s = target_admin_->CreateTopic(target_topic, partitions, configs, kAdminTimeout,
                                         pipeline_.replication_factor);
        }
        if (s.ok()) {
          LogInfo("created target topic", {{"pipeline", pipeline_.name}, {"topic", target_topic},
                                           {"partitions", partitions},
                                           {"configs", static_cast<unsigned long>(configs.size())}});
          metrics_.topics_created->Increment();
          target_partitions = partitions;
        }
      } else {
        if (action == TargetTopicAction::kGrow) {
          s = target_admin_->GrowPartitions(target_topic, partitions, kAdminTimeout);
          if (s.ok()) {
            LogInfo("added partitions to target topic", {{"pipeline", pipeline_.name}, {"topic", target_topic},
                                                         {"from", target_partitions}, {"partitions", partitions}});
            metrics_.partitions_added->Increment();
            target_partitions = partitions;
          }
        } else if (action == TargetTopicAction::kTargetHasMore) {
          LogWarn("target topic has more partitions than the source; extra partitions stay empty",
                  {{"pipeline", pipeline_.name}, {"topic", target_topic}});
        }
        if (sync_topic_configs && side_->KnowsTopicConfigs()) {
          absl::Status synced = SyncTopicConfigs(need.config_source, target_topic);
          if (s.ok()) s = synced;
        }
      }
      if (!s.ok() && first_error.ok()) first_error = s;
      ready_by_target[target_topic] = std::min(partitions, target_partitions);
    }
    std::vector<MirroredPartition> ready = ReadyPartitions(pipeline_, *source_topics, ready_by_target);
    directory_.Publish(ready);
    if (pipeline_.sync_topic_acls) {
      absl::Status synced = SyncTopicAcls(*source_topics);
      if (!synced.ok() && first_error.ok()) first_error = synced;
    }
    // Retention of each source topic, for the time left before uncopied
    // records are deleted. Best effort: the metric is left out when unknown.
    for (const auto& [source_topic, _] : *source_topics) {
      const std::string& topic = source_topic.topic;
      auto retention = side_->Retention(topic, kAdminTimeout);
      if (!retention.ok()) {
        LogDebug("source topic retention unknown", {{"pipeline", pipeline_.name}, {"topic", topic},
                                                     {"error", std::string(retention.status().message())}});
        continue;
      }
      LogDebug("source topic retention", {{"pipeline", pipeline_.name}, {"topic", topic},
                                          {"retention_ms", static_cast<long long>(retention->ms)},
                                          {"retention_bytes", static_cast<long long>(retention->bytes)}});
      std::lock_guard<std::mutex> lock(mu_);
      retention_[topic] = *retention;
    }
    return first_error;
  }

  // Alters the target topic's configs when the source's differ (a retention
  // or cleanup change made at the source after the topic was created).
  absl::Status SyncTopicConfigs(const std::string& source_topic, const std::string& target_topic) {
    auto source_configs = side_->TopicConfigs(source_topic, kAdminTimeout);
    if (!source_configs.ok()) return source_configs.status();
    auto target_configs = target_admin_->ExplicitTopicConfigs(target_topic, kAdminTimeout);
    if (!target_configs.ok()) return target_configs.status();
    std::optional<Properties> wanted =
        ReconciledTopicConfigs(*source_configs, *target_configs, Live()->topic_configs);
    if (!wanted) return absl::OkStatus();
    if (absl::Status s = target_admin_->AlterTopicConfigs(target_topic, *wanted, kAdminTimeout); !s.ok()) return s;
    std::vector<std::string> changed;
    for (const auto& [k, v] : *wanted) {
      auto it = target_configs->find(k);
      if (it == target_configs->end() || it->second != v) changed.push_back(absl::StrCat(k, "=", v));
    }
    for (const auto& [k, v] : *target_configs) {
      if (!wanted->count(k)) changed.push_back(absl::StrCat(k, " (removed)"));
    }
    LogInfo("target topic configs follow the source",
            {{"pipeline", pipeline_.name}, {"topic", target_topic}, {"changed", absl::StrJoin(changed, ", ")}});
    metrics_.topic_configs_altered->Increment();
    return absl::OkStatus();
  }

  // Grants on the target topics what the source grants on their sources
  // (the reading side only: acl_sync.h). Each binding is created once per
  // process; creating one that exists changes nothing.
  absl::Status SyncTopicAcls(const std::map<SourceTopic, int>& source_topics) {
    auto source_acls = side_->TopicAcls(kAdminTimeout);
    if (!source_acls.ok()) return source_acls.status();
    std::map<std::string, std::string> target_of;
    for (const auto& [st, _] : source_topics) target_of[st.topic] = pipeline_.TargetTopic(st.topic, st.origin);
    std::vector<TopicAcl> missing;
    for (TopicAcl& acl : TargetTopicAcls(*source_acls, target_of, pipeline_.acl_principals)) {
      if (!acls_granted_.count(acl)) missing.push_back(std::move(acl));
    }
    if (missing.empty()) return absl::OkStatus();
    if (absl::Status s = target_admin_->CreateTopicAcls(missing, kAdminTimeout); !s.ok()) return s;
    std::vector<std::string> described;
    for (const TopicAcl& acl : missing) {
      described.push_back(Describe(acl));
      acls_granted_.insert(acl);
    }
    LogInfo("topic ACLs of the source granted on the target",
            {{"pipeline", pipeline_.name}, {"count", static_cast<unsigned long>(missing.size())},
             {"acls", absl::StrJoin(described, "; ")}});
    metrics_.topic_acls_created->Increment(static_cast<double>(missing.size()));
    return absl::OkStatus();
  }

  // ---- lane ownership through a consumer group on the checkpoint topic ----

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                          void* opaque) {
    static_cast<LanePipelineRunner*>(opaque)->HandleRebalance(rk, err, parts);
  }

  void HandleRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    std::vector<int> lanes;
    for (int i = 0; i < parts->cnt; ++i) lanes.push_back(parts->elems[i].partition);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      lane_group_joined_.store(true);
      {
        std::lock_guard<std::mutex> lock(mu_);
        orphaned_lanes_.clear();
      }
      absl::Status s = TakeKafkaError(rd_kafka_incremental_assign(rk, parts), "taking lanes");
      if (!s.ok()) metrics_.Error(ErrorReason::kLaneGroup);
      if (!s.ok()) LogError("lane assignment failed", {{"pipeline", pipeline_.name}, {"error", std::string(s.message())}});
      // We only need ownership, not the checkpoint records themselves.
      rd_kafka_pause_partitions(rk, parts);
      LogInfo("lanes assigned", {{"pipeline", pipeline_.name}, {"lanes", absl::StrJoin(lanes, ",")}});
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      for (int lane : lanes) {
        LaneContext ctx{&pipeline_, &source_, &target_, &names_, &directory_, clock_, &metrics_,
                        [this](int lane) { return side_->MakeRecordSource(lane); }};
        auto worker = std::make_unique<LaneWorker>(ctx, lane);
        worker->Start();
        metrics_.lane_starts->Increment();
        lanes_[lane] = std::move(worker);
      }
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      bool lost = rd_kafka_assignment_lost(rk);
      SteadyTime deadline = lost ? clock_->Now()
                                 : clock_->Now() + config_.worker.drain_timeout;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) deadline = std::min(deadline, stop_deadline_);
      }
      LogInfo(lost ? "lanes lost" : "lanes revoked", {{"pipeline", pipeline_.name}, {"lanes", absl::StrJoin(lanes, ",")}});
      if (lost) {
        // Out of the group until it rejoins: not ready (readyz) until the
        // next assignment.
        lane_group_joined_.store(false);
        // The discovery thread's reachability flag can be seconds old here
        // (its own request may still hang on the dead broker): ask now. The
        // admin handle was created before this thread started (it waits
        // for checkpoint_topic_ready_).
        const bool reachable = target_admin_ && target_admin_->Reachable(milliseconds(2000));
        target_reachable_.store(reachable);
        if (!reachable) {
          std::lock_guard<std::mutex> lock(mu_);
          orphaned_lanes_.insert(lanes.begin(), lanes.end());
        }
      }
      StopLanes(lanes, deadline);
      TakeKafkaError(rd_kafka_incremental_unassign(rk, parts), "releasing lanes").IgnoreError();
      return;
    }
    LogError("lane group rebalance error", {{"pipeline", pipeline_.name}, {"error", rd_kafka_err2name(err)}});
  }

  void StopLanes(const std::vector<int>& lanes, SteadyTime deadline) {
    std::vector<std::unique_ptr<LaneWorker>> stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int lane : lanes) {
        auto it = lanes_.find(lane);
        if (it == lanes_.end()) continue;
        stopping.push_back(std::move(it->second));
        lanes_.erase(it);
      }
    }
    for (auto& w : stopping) w->RequestStop(deadline);
    for (auto& w : stopping) w->Join();
  }

  void MembershipLoop() {
    // Lanes need the checkpoint topic; wait for discovery to create it.
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || checkpoint_topic_ready_.load(); });
      if (stopping_) return;
    }
    std::string what = absl::StrCat("lane group of pipeline '", pipeline_.name, "'");
    Properties defaults = {
        {"group.id", names_.lane_group},
        {"client.id", absl::StrCat("longhaul-", pipeline_.name, "-lanes")},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"session.timeout.ms", "10000"},
        {"heartbeat.interval.ms", "1000"},
        {"enable.auto.commit", "false"},
        {"auto.offset.reset", "latest"},
        {"reconnect.backoff.max.ms", "2000"},
    };
    auto conf = MakeConf(defaults, target_.ClientProperties(config::ClientRole::kConsumer), what);
    if (!conf.ok()) {
      LogError("cannot configure the lane group", {{"pipeline", pipeline_.name}, {"error", std::string(conf.status().message())}});
      return;
    }
    rd_kafka_conf_set_rebalance_cb(conf->get(), &LanePipelineRunner::OnRebalance);
    rd_kafka_conf_set_opaque(conf->get(), this);
    auto rk = MakeClient(RD_KAFKA_CONSUMER, std::move(*conf), what);
    if (!rk.ok()) {
      LogError("cannot create the lane group consumer", {{"pipeline", pipeline_.name}, {"error", std::string(rk.status().message())}});
      return;
    }
    KafkaHandle consumer = std::move(*rk);
    rd_kafka_poll_set_consumer(consumer.get());
    PartitionList topics = MakePartitionList(1);
    rd_kafka_topic_partition_list_add(topics.get(), names_.checkpoint_topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(consumer.get(), topics.get())) {
      LogError("cannot join the lane group", {{"pipeline", pipeline_.name}, {"error", rd_kafka_err2name(err)}});
      return;
    }
    while (!stopping()) {
      KafkaMessage m(rd_kafka_consumer_poll(consumer.get(), 200));
      if (m && m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        LogDebug("lane group", {{"pipeline", pipeline_.name}, {"error", rd_kafka_err2name(m->err)}});
      }
    }
    // Drain: lanes commit or abort within the deadline, then leave the group
    // so the others take the lanes over at once instead of after a timeout.
    SteadyTime deadline;
    std::vector<int> owned;
    {
      std::lock_guard<std::mutex> lock(mu_);
      deadline = stop_deadline_;
      for (const auto& [lane, _] : lanes_) owned.push_back(lane);
    }
    StopLanes(owned, deadline);
    rd_kafka_consumer_close(consumer.get());
  }

  config::Config config_;
  // Every time read of the runner and its lanes.
  Clock* const clock_ = &SystemClock::Instance();
  const config::PipelineConfig& pipeline_;
  const config::ClusterConfig& source_;
  const config::ClusterConfig& target_;
  PipelineNames names_;
  // pipeline_ with the live settings of the last reload; under mu_.
  std::shared_ptr<const config::PipelineConfig> live_;
  PartitionDirectory directory_;
  std::unique_ptr<SourceSide> side_;

  PipelineMetrics metrics_;
  metrics::CollectorHandle collector_;
  std::unique_ptr<KafkaAdmin> target_admin_;
  std::thread discovery_thread_, membership_thread_;
  std::shared_ptr<const config::PipelineConfig> group_sync_config_;  // what a reloaded group_sync_ reads
  std::unique_ptr<GroupSyncLoop> group_sync_;  // consumer-group offset sync, when pipeline.groups is set
  std::atomic<bool> checkpoint_topic_ready_{false};
  // Topic-ACL bindings this process created on the target (discovery thread only).
  std::set<TopicAcl> acls_granted_;
  std::atomic<bool> target_reachable_{false};
  std::atomic<bool> lane_group_joined_{false};

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool discovery_requested_ = false;
  SteadyTime stop_deadline_{};
  // Target topics this runner created or grew that the listing does not
  // show as such yet (discovery thread only; PrepareTargetTopics).
  struct Unlisted {
    int partitions = 0;
    SteadyTime since{};
  };
  std::map<std::string, Unlisted> unlisted_;
  // The most partitions each target topic was ever listed with (same thread).
  std::map<std::string, int> ever_listed_;
  std::string discovery_error_;
  std::map<int, std::unique_ptr<LaneWorker>> lanes_;
  // Lanes lost during a target outage, still reported (see RefreshOrphanedLanes).
  std::set<int> orphaned_lanes_;
  std::map<std::string, TopicRetention> retention_;  // source topic -> retention, from discovery

  // Write rate of each source partition, sampled by Status() (RetentionRemaining).
  struct WriteRate {
    int64_t end = -1;
    int64_t at_ms = -1;
    double per_second = 0;
  };
  mutable std::mutex rates_mu_;
  mutable std::map<TopicPartition, WriteRate> write_rates_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PipelineRunner>> CreatePipelineRunner(const config::Config& config,
                                                                     const std::string& pipeline_name,
                                                                     metrics::Registry* registry) {
  auto it = config.pipelines.find(pipeline_name);
  if (it == config.pipelines.end()) {
    return absl::NotFoundError(absl::StrCat("no pipeline named '", pipeline_name, "' in ", config.file));
  }
  if (!it->second.via.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("pipeline '", pipeline_name, "' runs via link '", it->second.via,
                                                   "': it has an edge and a hub half, not a direct runner"));
  }
  return MakeLanePipelineRunner(config, pipeline_name, registry, MakeKafkaSourceSide(config, it->second));
}

std::unique_ptr<SourceSide> MakeKafkaSourceSide(const config::Config& config, const config::PipelineConfig& pipeline) {
  return std::make_unique<KafkaSourceSide>(config, pipeline);
}

std::unique_ptr<PipelineRunner> MakeLanePipelineRunner(const config::Config& config, const std::string& pipeline,
                                                       metrics::Registry* registry, std::unique_ptr<SourceSide> side) {
  return std::make_unique<LanePipelineRunner>(config, pipeline, registry, std::move(side));
}

}  // namespace longhaul::mirror
