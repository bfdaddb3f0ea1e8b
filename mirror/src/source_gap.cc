#include "source_gap.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace longhaul::mirror {

OutOfRangeVerdict JudgeOutOfRange(int64_t next, int64_t log_start, int64_t log_end) {
  OutOfRangeVerdict v;
  if (next < log_start) {
    v.kind = OutOfRangeKind::kBelowLogStart;
    v.lost_first = next;
    v.lost_end = log_start;
  } else if (next > log_end) {
    v.kind = OutOfRangeKind::kBeyondLogEnd;
  } else {
    v.kind = OutOfRangeKind::kWithinLog;
  }
  return v;
}

int64_t SourceGapLedger::Add(int64_t first, int64_t end) {
  if (end <= first) return 0;
  if (first_ >= 0 && first >= first_ && first <= end_) {
    // The same gap seen again, perhaps wider: only its new tail is news.
    const int64_t added = std::max<int64_t>(0, end - end_);
    end_ = std::max(end_, end);
    return added;
  }
  first_ = first;
  end_ = end;
  return end - first;
}

TopicRetention RetentionFromConfigs(const std::map<std::string, std::string>& configs) {
  TopicRetention r;
  auto read = [&](const char* key, int64_t* out) {
    auto it = configs.find(key);
    int64_t v = 0;
    if (it != configs.end() && absl::SimpleAtoi(it->second, &v) && v >= 0) *out = v;
  };
  read("retention.ms", &r.ms);
  read("retention.bytes", &r.bytes);
  // cleanup.policy=compact alone never deletes by time or size.
  if (auto it = configs.find("cleanup.policy"); it != configs.end() && it->second.find("delete") == std::string::npos) {
    r = TopicRetention{};
  }
  return r;
}

double RetentionRemainingSeconds(const TopicRetention& retention, int64_t backlog_records, double backlog_age_seconds,
                                 double avg_record_bytes, double write_records_per_second) {
  double remaining = -1;
  if (retention.ms >= 0) {
    const double age = backlog_records > 0 ? std::max(0.0, backlog_age_seconds) : 0.0;
    remaining = std::max(0.0, retention.ms / 1000.0 - age);
  }
  if (retention.bytes >= 0 && avg_record_bytes > 0 && write_records_per_second > 0) {
    const double room = retention.bytes / avg_record_bytes - static_cast<double>(std::max<int64_t>(backlog_records, 0));
    const double by_bytes = std::max(0.0, room / write_records_per_second);
    remaining = remaining < 0 ? by_bytes : std::min(remaining, by_bytes);
  }
  return remaining;
}

std::string DescribeSourceGap(const TopicPartition& tp, int64_t first, int64_t end) {
  return absl::StrCat("source offsets ", first, "..", end - 1, " of ", tp.ToString(), " (", end - first,
                      end - first == 1 ? " record" : " records",
                      ") were deleted at the source (retention or DeleteRecords) before they were copied");
}

}  // namespace longhaul::mirror
