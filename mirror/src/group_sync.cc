#include "group_sync.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "longhaul/base/backoff.h"
#include "longhaul/base/logging.h"

namespace longhaul::mirror {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kAdminTimeout{30'000};

bool IsInternal(std::string_view name) { return name.rfind("__", 0) == 0; }

}  // namespace

std::string_view TranslationStatusName(TranslationStatus status) {
  switch (status) {
    case TranslationStatus::kExact: return "exact";
    case TranslationStatus::kReplicationBehind: return "replication-behind";
    case TranslationStatus::kNotReplicated: return "not-replicated";
    case TranslationStatus::kHistoryExpired: return "history-expired";
    case TranslationStatus::kSourceGap: return "source-gap";
  }
  return "unknown";
}

std::string_view SyncActionName(SyncAction action) {
  switch (action) {
    case SyncAction::kCommitted: return "committed";
    case SyncAction::kUnchanged: return "unchanged";
    case SyncAction::kKeptNoRewind: return "kept-no-rewind";
    case SyncAction::kRewound: return "rewound";
    case SyncAction::kNotTranslated: return "not-translated";
    case SyncAction::kGroupActive: return "group-active";
    case SyncAction::kFailed: return "failed";
  }
  return "unknown";
}

bool GroupSyncReport::complete() const {
  return std::all_of(partitions.begin(), partitions.end(), [](const PartitionSync& p) {
    return p.translation.status == TranslationStatus::kExact &&
           (p.action == SyncAction::kCommitted || p.action == SyncAction::kUnchanged ||
            p.action == SyncAction::kRewound);
  });
}

absl::StatusOr<std::unique_ptr<GroupSyncer>> GroupSyncer::Create(const config::PipelineConfig& pipeline,
                                                                 const config::ClusterConfig& source,
                                                                 const config::ClusterConfig& target,
                                                                 const std::atomic<bool>* stop) {
  auto source_admin = RdKafkaGroupAdmin::Create(source.ClientProperties(config::ClientRole::kAdmin),
                                                absl::StrCat("source cluster '", source.name, "'"), kAdminTimeout, stop);
  if (!source_admin.ok()) return source_admin.status();
  auto target_admin = RdKafkaGroupAdmin::Create(target.ClientProperties(config::ClientRole::kAdmin),
                                                absl::StrCat("target cluster '", target.name, "'"), kAdminTimeout, stop);
  if (!target_admin.ok()) return target_admin.status();
  auto reader = CreateRdKafkaOffsetSyncReader(pipeline, source, target, stop);
  if (!reader.ok()) return reader.status();
  auto probe = CreateRdKafkaSourceProbe(pipeline, source, stop);
  if (!probe.ok()) return probe.status();
  auto translator = std::make_unique<OffsetTranslator>(pipeline, std::move(*reader), std::move(*probe));
  return std::unique_ptr<GroupSyncer>(
      new GroupSyncer(pipeline, std::move(*source_admin), std::move(*target_admin), std::move(translator)));
}

absl::StatusOr<std::vector<std::string>> GroupSyncer::MatchingGroups() {
  auto groups = source_->ListGroups();
  if (!groups.ok()) return groups.status();
  std::vector<std::string> out;
  for (auto& g : *groups) {
    if (!IsInternal(g) && pipeline_.groups.filter.Matches(g)) out.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<GroupTranslation> GroupSyncer::Translate(const std::string& group) {
  auto committed = source_->CommittedOffsets(group, {});
  if (!committed.ok()) return committed.status();
  std::vector<std::pair<TopicPartition, int64_t>> requests;
  for (const auto& [tp, offset] : *committed) {  // ordered by topic, partition
    if (IsInternal(tp.topic) || !pipeline_.topics.Matches(tp.topic)) continue;
    requests.emplace_back(tp, offset);
  }
  GroupTranslation out;
  out.group = group;
  if (requests.empty()) return out;
  auto translated = translator_->Translate(requests);
  if (!translated.ok()) {
    return absl::Status(translated.status().code(), absl::StrCat("translating the offsets of group '", group,
                                                                 "' in pipeline '", pipeline_.name,
                                                                 "': ", translated.status().message()));
  }
  out.partitions = std::move(*translated);
  return out;
}

absl::StatusOr<GroupSyncReport> GroupSyncer::Sync(const std::string& group, const SyncOptions& options) {
  auto translation = Translate(group);
  if (!translation.ok()) return translation.status();
  GroupSyncReport report;
  report.group = group;
  // Membership first, then the target's offsets: a member joining after
  // this check makes the broker refuse the commit below.
  auto membership = target_->Describe(group);
  if (!membership.ok()) return membership.status();
  report.target_state = membership->state;
  report.target_members = membership->members;
  std::vector<TopicPartition> target_partitions;
  for (const auto& t : translation->partitions) target_partitions.push_back({t.target_topic, t.partition});
  std::map<TopicPartition, int64_t> current;
  if (!target_partitions.empty()) {
    auto c = target_->CommittedOffsets(group, target_partitions);
    if (!c.ok()) return c.status();
    current = std::move(*c);
  }

  std::map<TopicPartition, int64_t> to_commit;
  for (auto& t : translation->partitions) {
    PartitionSync p;
    TopicPartition target_tp{t.target_topic, t.partition};
    if (auto it = current.find(target_tp); it != current.end()) p.old_target_offset = it->second;
    p.new_target_offset = p.old_target_offset;
    p.translation = std::move(t);
    const PartitionTranslation& tr = p.translation;
    bool translatable =
        tr.status == TranslationStatus::kExact || tr.status == TranslationStatus::kReplicationBehind ||
        tr.status == TranslationStatus::kSourceGap;
    if (!membership->inactive()) {
      p.action = SyncAction::kGroupActive;
      p.detail = absl::StrCat("the group has ", membership->members, " member(s) on the target (state ",
                              membership->state, ")");
    } else if (!translatable) {
      p.action = SyncAction::kNotTranslated;
      p.detail = tr.detail;
    } else if (p.old_target_offset == tr.target_offset) {
      p.action = SyncAction::kUnchanged;
    } else if (p.old_target_offset > tr.target_offset && !options.allow_rewind) {
      p.action = SyncAction::kKeptNoRewind;
      p.detail = absl::StrCat("the target group is at ", p.old_target_offset, ", ahead of the translation ",
                              tr.target_offset, "; not moved back without --allow-rewind");
    } else {
      p.action = p.old_target_offset > tr.target_offset ? SyncAction::kRewound : SyncAction::kCommitted;
      to_commit[target_tp] = tr.target_offset;
    }
    if ((tr.status == TranslationStatus::kReplicationBehind || tr.status == TranslationStatus::kSourceGap) &&
        p.detail.empty()) {
      p.detail = tr.detail;
    }
    report.partitions.push_back(std::move(p));
  }
  if (to_commit.empty()) return report;

  auto results = target_->Commit(group, to_commit);
  if (!results.ok()) return results.status();
  for (auto& p : report.partitions) {
    if (p.action != SyncAction::kCommitted && p.action != SyncAction::kRewound) continue;
    const absl::Status& s = (*results)[TopicPartition{p.translation.target_topic, p.translation.partition}];
    if (s.ok()) {
      p.new_target_offset = p.translation.target_offset;
    } else {
      p.action = SyncAction::kFailed;
      p.detail = std::string(s.message());
    }
  }
  return report;
}

GroupSyncLoop::GroupSyncLoop(const config::PipelineConfig& pipeline, const config::ClusterConfig& source,
                             const config::ClusterConfig& target, const PipelineMetrics* metrics)
    : pipeline_(pipeline), source_(source), target_(target), metrics_(metrics) {
  thread_ = std::thread([this] { Run(); });
}

GroupSyncLoop::~GroupSyncLoop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GroupSyncLoop::Run() {
  LogInfo("group offset sync started", {{"pipeline", pipeline_.name},
                                        {"interval_ms", static_cast<long long>(pipeline_.groups.interval.count())}});
  while (!stop_.load()) {
    const bool ok = RunOnce();
    if (metrics_ != nullptr && !stop_.load()) {
      (ok ? metrics_->group_sync_ok : metrics_->group_sync_failed)->Increment();
    }
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, pipeline_.groups.interval, [&] { return stop_.load(); });
  }
  syncer_.reset();
  LogInfo("group offset sync stopped", {{"pipeline", pipeline_.name}});
}

bool GroupSyncLoop::RunOnce() {
  if (!syncer_) {
    auto s = GroupSyncer::Create(pipeline_, source_, target_, &stop_);
    if (!s.ok()) {
      LogWarn("group offset sync: cannot create clients; will retry",
              {{"pipeline", pipeline_.name}, {"error", std::string(s.status().message())}});
      return false;
    }
    syncer_ = std::move(*s);
  }
  auto groups = syncer_->MatchingGroups();
  if (!groups.ok()) {
    LogWarn("group offset sync: cannot list groups; will retry",
            {{"pipeline", pipeline_.name}, {"error", std::string(groups.status().message())}});
    return false;
  }
  bool all_synced = true;
  for (const std::string& group : *groups) {
    if (stop_.load()) return all_synced;
    auto report = syncer_->Sync(group, SyncOptions{});
    if (!report.ok()) {
      if (stop_.load()) return all_synced;
      all_synced = false;
      LogWarn("group offset sync failed; will retry",
              {{"pipeline", pipeline_.name}, {"group", group}, {"error", std::string(report.status().message())}});
      continue;
    }
    int committed = 0, failed = 0, untranslated = 0;
    for (const auto& p : report->partitions) {
      if (p.action == SyncAction::kCommitted) ++committed;
      if (p.action == SyncAction::kFailed) ++failed;
      if (p.action == SyncAction::kNotTranslated) ++untranslated;
      if (p.action == SyncAction::kCommitted || p.action == SyncAction::kFailed) {
        LogDebug("group offset", {{"pipeline", pipeline_.name},
                                  {"group", group},
                                  {"partition", absl::StrCat(p.translation.target_topic, "[", p.translation.partition,
                                                             "]")},
                                  {"source_offset", static_cast<long long>(p.translation.source_offset)},
                                  {"old", static_cast<long long>(p.old_target_offset)},
                                  {"new", static_cast<long long>(p.new_target_offset)},
                                  {"action", std::string(SyncActionName(p.action))}});
      }
    }
    if (committed > 0 || failed > 0) {
      // Info the first time per group (and on failures), debug after: a
      // group consuming on the source moves every interval.
      bool first = synced_groups_.insert(group).second;
      Log(first || failed > 0 ? LogLevel::kInfo : LogLevel::kDebug, "group offsets synced to the target",
          {{"pipeline", pipeline_.name},
           {"group", group},
           {"committed", committed},
           {"failed", failed},
           {"not_translated", untranslated}});
    }
    if (report->target_members > 0) {
      LogDebug("group is active on the target; not synced",
               {{"pipeline", pipeline_.name}, {"group", group}, {"members", report->target_members}});
    }
    if (failed > 0) all_synced = false;
  }
  return all_synced;
}

absl::StatusOr<GroupTranslation> TranslateGroupOffsets(const config::Config& config, const std::string& pipeline,
                                                       const std::string& group) {
  auto it = config.pipelines.find(pipeline);
  if (it == config.pipelines.end()) {
    return absl::NotFoundError(absl::StrCat("no pipeline named '", pipeline, "' in ", config.file));
  }
  const config::PipelineConfig& p = it->second;
  auto syncer = GroupSyncer::Create(p, config.Cluster(p.source), config.Cluster(p.target), nullptr);
  if (!syncer.ok()) return syncer.status();
  return (*syncer)->Translate(group);
}

absl::StatusOr<GroupSyncReport> SyncGroupOffsets(const config::Config& config, const std::string& pipeline,
                                                 const std::string& group, const SyncOptions& options) {
  auto it = config.pipelines.find(pipeline);
  if (it == config.pipelines.end()) {
    return absl::NotFoundError(absl::StrCat("no pipeline named '", pipeline, "' in ", config.file));
  }
  const config::PipelineConfig& p = it->second;
  auto syncer = GroupSyncer::Create(p, config.Cluster(p.source), config.Cluster(p.target), nullptr);
  if (!syncer.ok()) return syncer.status();
  return (*syncer)->Sync(group, options);
}

}  // namespace longhaul::mirror
