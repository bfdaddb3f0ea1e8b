// Records deleted at the source before they were copied (retention, or
// DeleteRecords, outran replication): how an offset-out-of-range answer is
// judged, and how each lost record is counted once. Pure logic, no Kafka
// types; the lane (lane_worker.cc) and the edge (edge_runner.cc) act on the
// verdict. Private to mirror/.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "longhaul/base/topic_partition.h"

namespace longhaul::mirror {

// What an out-of-range answer for `next` means, given the partition's log
// start and end as asked right after it (read_committed end).
enum class OutOfRangeKind {
  // The offset is inside the log now (a leader change answered before it
  // caught up): read it again, nothing is lost.
  kWithinLog,
  // Below the log start: [next, log start) was deleted before it was copied.
  kBelowLogStart,
  // Beyond the end: the source log lost records we already copied (topic
  // recreated, unclean leader election). Never skipped over.
  kBeyondLogEnd,
};

struct OutOfRangeVerdict {
  OutOfRangeKind kind = OutOfRangeKind::kWithinLog;
  // kBelowLogStart: the lost source offsets [lost_first, lost_end); the
  // partition can go on at lost_end (the log start).
  int64_t lost_first = -1;
  int64_t lost_end = -1;
  int64_t lost_records() const { return lost_end - lost_first; }
};

// `next` >= 0; `log_start` <= `log_end` as the source reported them.
OutOfRangeVerdict JudgeOutOfRange(int64_t next, int64_t log_start, int64_t log_end);

// Counts lost records once per process: a partition stopped at a gap meets
// it again in every new lane session (and retention may have widened it
// meanwhile), and only the records not counted before may be added. Keeps
// the newest gap of one partition; not thread-safe.
class SourceGapLedger {
 public:
  // Notes the lost range [first, end); returns how many of its records were
  // not counted before.
  int64_t Add(int64_t first, int64_t end);

 private:
  int64_t first_ = -1;
  int64_t end_ = -1;
};

// A source topic's retention as configured (broker defaults included);
// -1: unlimited or unknown.
struct TopicRetention {
  int64_t ms = -1;
  int64_t bytes = -1;
};
// From the topic's effective configs (retention.ms, retention.bytes).
TopicRetention RetentionFromConfigs(const std::map<std::string, std::string>& configs);

// Seconds until retention may delete the oldest record not yet copied, or
// -1 when nothing says it ever will. retention.ms: a record is deleted no
// sooner than retention.ms after its create time, and the oldest uncopied
// one is `backlog_age_seconds` old (0 with no backlog). retention.bytes:
// the log keeps about retention.bytes / `avg_record_bytes` records, so the
// backlog of `backlog_records` has room for the rest, filled at
// `write_records_per_second`. The sooner of the two; never negative.
double RetentionRemainingSeconds(const TopicRetention& retention, int64_t backlog_records, double backlog_age_seconds,
                                 double avg_record_bytes, double write_records_per_second);

// "source offsets 1000..10999 of orders[3] (10000 records) were deleted at
// the source before they were copied": the operator's wording, used in the
// log line, the partition's error and the status API.
std::string DescribeSourceGap(const TopicPartition& tp, int64_t first, int64_t end);

}  // namespace longhaul::mirror
