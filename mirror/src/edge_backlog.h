// What a hub knows of each edge's backlog: the last report (ReportFrame)
// every edge sent, whether the edge is connected now and since when, and
// from those the end-to-end lag per edge and partition, records and
// seconds. While an edge is away its last reported backlog stays, and the
// lag in seconds keeps growing from the report: the oldest record the edge
// had not sent only gets older, and anything its source wrote since the
// report has waited at least since then. Pure (no Kafka, no clock: callers pass the wall time);
// reports are peer input and are validated here, never asserted on.
// Not thread-safe: the HubPipeline calls it under its own lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/mirror/pipeline_runner.h"
#include "longhaul/transport/frame.h"

namespace longhaul::mirror {

struct EdgeBacklogLimits {
  // A report may name at most this many topics and partitions 0 to
  // max_partitions - 1 of each (the pipeline's max_topics/max_partitions,
  // which bound the batches an edge may send too).
  int max_topics = 1000;
  int max_partitions = 1000;
  // An edge away (no session) longer than this is forgotten with its report.
  std::chrono::milliseconds forget_after = std::chrono::hours(24 * 7);
};

class EdgeBacklog {
 public:
  explicit EdgeBacklog(EdgeBacklogLimits limits) : limits_(limits) {}

  // Whether edge `edge` has a session now. `origin` is the key its
  // partitions carry at the hub (TopicPartition::origin: its name with
  // edges: many, "" with edges: one). Only changes of state matter.
  void SetConnected(const std::string& edge, const std::string& origin, bool connected, int64_t now_ms);

  // Keeps `report` as edge `edge`'s latest, replacing the one before.
  // `topic_refusal` says why a topic may not come from this edge (empty:
  // it may). InvalidArgument naming the partition and field when the
  // report is not sane (offsets below -1 or from 2^62, a log start above
  // the end, a topic refused, a partition outside the cap, too many
  // topics, a partition twice, a negative count); nothing is kept then.
  absl::Status Accept(const std::string& edge, const std::string& origin, const transport::ReportFrame& report,
                      int64_t now_ms, const std::function<std::string(const std::string&)>& topic_refusal);

  // Drops edges away longer than forget_after.
  void Forget(int64_t now_ms);

  // Every known edge by name. `committed` gives the hub's next committed
  // offset of a partition (TopicPartition with the edge's origin), or -1.
  std::vector<EdgeStatus> Views(int64_t now_ms, const std::function<int64_t(const TopicPartition&)>& committed) const;

  size_t size() const { return edges_.size(); }

 private:
  struct Partition {
    transport::PartitionReport report;
    // Hub wall time of the first report in which the partition was behind
    // with no oldest unsent record known (the edge has not read it yet):
    // the lag is at least the time since.
    int64_t behind_since_ms = -1;
  };
  struct Edge {
    std::string origin;
    bool connected = false;
    int64_t since_ms = -1;
    int64_t last_report_ms = -1;
    uint64_t buffered_bytes = 0;
    uint64_t buffer_budget_bytes = 0;
    std::map<std::pair<std::string, int32_t>, Partition> partitions;
  };

  const EdgeBacklogLimits limits_;
  std::map<std::string, Edge> edges_;
};

// Makes a hub partition's lag end to end: where `edges` (Views) has a
// report of the partition (same origin, topic and partition; the newest
// report if several edges of an edges: one pipeline sent one), the source
// end and the lag in records and seconds become at least the reported ones.
// Untouched when nothing was reported.
class ReportedBacklogIndex {
 public:
  explicit ReportedBacklogIndex(const std::vector<EdgeStatus>& edges);
  void Apply(PartitionStatus* ps) const;

 private:
  struct Entry {
    const EdgeStatus::Partition* partition;
    int64_t report_ms;
  };
  std::map<TopicPartition, Entry> by_partition_;
};

}  // namespace longhaul::mirror
