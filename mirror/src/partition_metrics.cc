#include "partition_metrics.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace longhaul::mirror {

int PartitionStateRank(const std::string& state) {
  if (state == "error") return 4;
  if (state == "stalled") return 3;
  if (state == "lagging") return 2;
  if (state == "stopped") return 1;
  return 0;
}

void AddPartitionHealthMetrics(metrics::CollectorSink& sink, const PipelineStatus& status, bool per_partition) {
  struct Row {
    std::string state = "ok";
    double gap_records = 0;
    double retention_remaining = -1;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Row> rows;  // (edge, topic, partition)
  for (const auto& ps : status.partitions) {
    Row& r = rows[{ps.edge, ps.topic, per_partition ? std::to_string(ps.partition) : ""}];
    if (PartitionStateRank(ps.state) > PartitionStateRank(r.state)) r.state = ps.state;
    r.gap_records += static_cast<double>(ps.source_gap_records);
    if (ps.retention_remaining_seconds >= 0) {
      r.retention_remaining = r.retention_remaining < 0
                                  ? ps.retention_remaining_seconds
                                  : std::min(r.retention_remaining, ps.retention_remaining_seconds);
    }
  }
  for (const auto& [key, r] : rows) {
    const auto& [edge, topic, partition] = key;
    std::vector<metrics::Label> labels = {{"pipeline", status.name}, {"role", status.role}, {"topic", topic}};
    if (per_partition) labels.push_back({"partition", partition});
    // A hub pipeline fed by many edges: one series per edge (as the lag).
    if (!edge.empty()) labels.push_back({"edge", edge});
    sink.AddCounter("longhaul_source_gap_records_total",
                    "Source records deleted at the source (retention, DeleteRecords) before they were copied: lost. "
                    "Counted once per process; see on_source_gap.",
                    labels, r.gap_records);
    if (r.retention_remaining >= 0) {
      sink.AddGauge("longhaul_source_retention_remaining_seconds",
                    "Time until the source topic's retention may delete the oldest record not yet copied "
                    "(retention.ms, or retention.bytes at the recent write rate; the sooner).",
                    labels, r.retention_remaining);
    }
    std::vector<metrics::Label> state_labels = labels;
    state_labels.push_back({"state", ""});
    for (const char* state : kPartitionStates) {
      state_labels.back().value = state;
      sink.AddGauge("longhaul_partition_state",
                    "1 for the partition's current state (ok, lagging, stalled, stopped, error; as on the live "
                    "page), 0 for the others.",
                    state_labels, r.state == state ? 1 : 0);
    }
  }
}

}  // namespace longhaul::mirror
