#include "edge_backlog.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace longhaul::mirror {

namespace {

constexpr int64_t kMaxValue = INT64_MAX / 2;

// -1 (unknown) or 0 <= v < 2^62.
bool SaneOrUnknown(int64_t v) { return v >= -1 && v < kMaxValue; }

}  // namespace

void EdgeBacklog::SetConnected(const std::string& edge, const std::string& origin, bool connected, int64_t now_ms) {
  auto [it, inserted] = edges_.try_emplace(edge);
  Edge& e = it->second;
  e.origin = origin;
  if (!inserted && e.connected == connected) return;
  e.connected = connected;
  e.since_ms = now_ms;
}

absl::Status EdgeBacklog::Accept(const std::string& edge, const std::string& origin,
                                 const transport::ReportFrame& report, int64_t now_ms,
                                 const std::function<std::string(const std::string&)>& topic_refusal) {
  auto refuse = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("report of edge '", edge, "': ", what));
  };
  if (report.buffered_bytes >= static_cast<uint64_t>(kMaxValue) ||
      report.buffer_budget_bytes >= static_cast<uint64_t>(kMaxValue)) {
    return refuse(absl::StrCat("buffered bytes ", report.buffered_bytes, " / budget ", report.buffer_budget_bytes,
                               " are not below 2^62"));
  }
  const size_t max_partitions =
      static_cast<size_t>(std::max(limits_.max_topics, 0)) * static_cast<size_t>(std::max(limits_.max_partitions, 0));
  if (report.partitions.size() > max_partitions) {
    return refuse(absl::StrCat(report.partitions.size(), " partitions, more than max_topics x max_partitions (",
                               max_partitions, ")"));
  }
  std::set<std::string> topics;
  std::map<std::pair<std::string, int32_t>, Partition> partitions;
  for (const transport::PartitionReport& p : report.partitions) {
    const TopicPartition& tp = p.partition;
    if (!topics.count(tp.topic)) {
      if (std::string why = topic_refusal(tp.topic); !why.empty()) return refuse(why);
      if (static_cast<int>(topics.size()) >= limits_.max_topics) {
        return refuse(absl::StrCat("topic '", tp.topic, "' would be topic ", topics.size() + 1,
                                   ", above max_topics (", limits_.max_topics, ")"));
      }
      topics.insert(tp.topic);
    }
    if (tp.partition < 0 || tp.partition >= limits_.max_partitions) {
      return refuse(absl::StrCat(tp.ToString(), ": partition outside 0 to ", limits_.max_partitions - 1,
                                 " (max_partitions)"));
    }
    struct Field {
      const char* name;
      int64_t value;
    };
    for (const Field& f : {Field{"end offset", p.end_offset}, Field{"committed offset", p.committed_offset},
                           Field{"oldest unsent timestamp", p.oldest_unsent_timestamp_ms},
                           Field{"log start offset", p.log_start_offset}}) {
      if (!SaneOrUnknown(f.value)) {
        return refuse(absl::StrCat(tp.ToString(), ": ", f.name, " ", f.value, " is neither -1 nor 0 to 2^62"));
      }
    }
    if (p.lost_records < 0 || p.lost_records >= kMaxValue) {
      return refuse(absl::StrCat(tp.ToString(), ": lost records ", p.lost_records, " is not 0 to 2^62"));
    }
    auto [it, inserted] = partitions.try_emplace({tp.topic, tp.partition});
    if (!inserted) return refuse(absl::StrCat(tp.ToString(), " is reported twice"));
    it->second.report = p;
    it->second.report.partition.origin = origin;
  }

  Edge& e = edges_[edge];
  e.origin = origin;
  e.last_report_ms = now_ms;
  e.buffered_bytes = report.buffered_bytes;
  e.buffer_budget_bytes = report.buffer_budget_bytes;
  for (auto& [key, p] : partitions) {
    const transport::PartitionReport& r = p.report;
    const bool behind_unread = r.end_offset >= 0 && r.committed_offset >= 0 && r.end_offset > r.committed_offset &&
                               r.oldest_unsent_timestamp_ms < 0;
    if (behind_unread) {
      auto old = e.partitions.find(key);
      p.behind_since_ms = old != e.partitions.end() && old->second.behind_since_ms >= 0 ? old->second.behind_since_ms
                                                                                        : now_ms;
    }
  }
  // A partition the edge no longer reports (its topic deleted or no longer
  // selected) is dropped with the rest of the old report.
  e.partitions = std::move(partitions);
  return absl::OkStatus();
}

void EdgeBacklog::Forget(int64_t now_ms) {
  for (auto it = edges_.begin(); it != edges_.end();) {
    const Edge& e = it->second;
    const bool stale = !e.connected && now_ms - e.since_ms > limits_.forget_after.count();
    it = stale ? edges_.erase(it) : std::next(it);
  }
}

std::vector<EdgeStatus> EdgeBacklog::Views(int64_t now_ms,
                                           const std::function<int64_t(const TopicPartition&)>& committed) const {
  std::vector<EdgeStatus> out;
  out.reserve(edges_.size());
  for (const auto& [name, e] : edges_) {
    EdgeStatus v;
    v.name = name;
    v.origin = e.origin;
    v.connected = e.connected;
    v.since_ms = e.since_ms;
    v.last_report_ms = e.last_report_ms;
    v.buffered_bytes = e.buffered_bytes;
    v.buffer_budget_bytes = e.buffer_budget_bytes;
    for (const auto& [key, p] : e.partitions) {
      const transport::PartitionReport& r = p.report;
      EdgeStatus::Partition b;
      b.topic = key.first;
      b.partition = key.second;
      b.end_offset = r.end_offset;
      b.log_start_offset = r.log_start_offset;
      b.lost_records = r.lost_records;
      // Connected: the hub's committed offset is the truth and newer than
      // the report (the edge's word stands in until the hub has one). Away:
      // the backlog is the one the edge last reported; what its source
      // wrote since cannot cross a cut link.
      const int64_t at_hub = committed(r.partition);
      b.committed_offset = e.connected ? std::max(at_hub, r.committed_offset) : r.committed_offset;
      auto age = [&](int64_t since_ms) { return std::max<double>(0, static_cast<double>(now_ms - since_ms) / 1000.0); };
      if (b.end_offset >= 0 && b.committed_offset >= 0) {
        b.lag_records = std::max<int64_t>(0, b.end_offset - b.committed_offset);
        if (b.lag_records > 0 && r.oldest_unsent_timestamp_ms >= 0) {
          // The record's create time against the hub's clock: a skewed
          // edge clock cannot make it negative.
          b.lag_seconds = age(r.oldest_unsent_timestamp_ms);
        } else if (b.lag_records > 0 && p.behind_since_ms >= 0) {
          b.lag_seconds = age(p.behind_since_ms);
        } else {
          b.lag_seconds = 0;
        }
        v.backlog_records += b.lag_records;
      }
      // Away, the hub last heard of the partition at the report: whatever
      // the source wrote since is waiting at least that long.
      if (!e.connected && e.last_report_ms >= 0) b.lag_seconds = std::max(b.lag_seconds, age(e.last_report_ms));
      v.lag_seconds = std::max(v.lag_seconds, b.lag_seconds);
      v.lost_records += b.lost_records;
      v.partitions.push_back(std::move(b));
    }
    out.push_back(std::move(v));
  }
  return out;
}

ReportedBacklogIndex::ReportedBacklogIndex(const std::vector<EdgeStatus>& edges) {
  for (const EdgeStatus& e : edges) {
    for (const EdgeStatus::Partition& p : e.partitions) {
      auto [it, inserted] = by_partition_.try_emplace(TopicPartition{p.topic, p.partition, e.origin},
                                                      Entry{&p, e.last_report_ms});
      if (!inserted && e.last_report_ms > it->second.report_ms) it->second = Entry{&p, e.last_report_ms};
    }
  }
}

void ReportedBacklogIndex::Apply(PartitionStatus* ps) const {
  auto it = by_partition_.find(TopicPartition{ps->topic, ps->partition, ps->edge});
  if (it == by_partition_.end()) return;
  const EdgeStatus::Partition& r = *it->second.partition;
  if (r.end_offset > ps->source_end_offset) ps->source_end_offset = r.end_offset;
  if (ps->source_end_offset >= 0 && ps->replicated_offset >= 0) {
    ps->lag_records = std::max<int64_t>(ps->lag_records, ps->source_end_offset - ps->replicated_offset);
  }
  // An edge away keeps the backlog it last reported (EdgeBacklog::Views).
  ps->lag_records = std::max(ps->lag_records, r.lag_records);
  if (r.lag_seconds > ps->lag_seconds) ps->lag_seconds = r.lag_seconds;
}

}  // namespace longhaul::mirror
