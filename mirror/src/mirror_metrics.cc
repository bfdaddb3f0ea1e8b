#include "mirror_metrics.h"

namespace longhaul::mirror {

const char* ErrorReasonName(ErrorReason r) {
  switch (r) {
    case ErrorReason::kSourceRead: return "source_read";
    case ErrorReason::kTargetWrite: return "target_write";
    case ErrorReason::kTransactionAbort: return "transaction_abort";
    case ErrorReason::kFenced: return "fenced";
    case ErrorReason::kCheckpointRead: return "checkpoint_read";
    case ErrorReason::kDiscovery: return "discovery";
    case ErrorReason::kLaneGroup: return "lane_group";
  }
  return "unknown";
}

PipelineMetrics PipelineMetrics::Register(metrics::Registry* registry, const std::string& pipeline) {
  PipelineMetrics m;
  // 1 ms .. ~1.6 h: replication latency spans LAN commits to records that were
  // days old when read (then it lands in +Inf, honestly).
  m.replication_latency = &registry
                               ->AddHistogram("longhaul_replication_latency_seconds",
                                              "Time from a record's source create timestamp to the commit of the "
                                              "transaction that wrote it to the target.",
                                              {"pipeline"}, metrics::ExponentialBuckets(0.001, 2.5, 18))
                               .WithLabels({pipeline});
  m.commit_latency = &registry
                          ->AddHistogram("longhaul_transaction_commit_seconds",
                                         "Time to deliver a transaction's records, write its checkpoints and commit it.",
                                         {"pipeline"}, metrics::ExponentialBuckets(0.001, 2, 16))
                          .WithLabels({pipeline});
  m.backpressure_seconds =
      &registry
           ->AddCounter("longhaul_backpressure_seconds_total",
                        "Time lanes spent waiting for the target (full producer queue, deliveries at commit) "
                        "instead of reading the source.",
                        {"pipeline"})
           .WithLabels({pipeline});
  m.transactions = &registry
                        ->AddCounter("longhaul_transactions_total", "Transactions committed on the target.",
                                     {"pipeline"})
                        .WithLabels({pipeline});
  m.records_filtered_visited =
      &registry
           ->AddCounter("longhaul_records_filtered_total",
                        "Source records read and deliberately not written to the target (their offsets count as "
                        "copied). reason=visited: the record's provenance header says it has been in the target "
                        "cluster already (active/active loop prevention).",
                        {"pipeline", "reason"})
           .WithLabels({pipeline, "visited"});
  auto& sync = registry->AddCounter("longhaul_topic_sync_total",
                                    "Changes topic discovery made on the target cluster: topics created, "
                                    "partitions added, topic configs altered to follow the source.",
                                    {"pipeline", "action"});
  m.topics_created = &sync.WithLabels({pipeline, "topic_created"});
  m.partitions_added = &sync.WithLabels({pipeline, "partitions_added"});
  m.topic_configs_altered = &sync.WithLabels({pipeline, "configs_altered"});
  m.topic_acls_created = &sync.WithLabels({pipeline, "acls_created"});
  m.lane_starts = &registry
                       ->AddCounter("longhaul_lane_starts_total",
                                    "Lane workers this process started, one per lane taken (at start, after a "
                                    "rebalance, when a config reload restarts the pipeline).",
                                    {"pipeline"})
                       .WithLabels({pipeline});
  auto& errors = registry->AddCounter("longhaul_errors_total", "Errors by reason (a closed set).",
                                      {"pipeline", "reason"});
  for (int i = 0; i < kErrorReasonCount; ++i) {
    m.errors[i] = &errors.WithLabels({pipeline, ErrorReasonName(static_cast<ErrorReason>(i))});
  }
  auto& group_sync = registry->AddCounter(
      "longhaul_group_sync_rounds_total",
      "Rounds of consumer group offset sync (groups.interval): ok (every matching group synced) or failed "
      "(clients, listing groups or a group's sync failed; the log says why).",
      {"pipeline", "result"});
  m.group_sync_ok = &group_sync.WithLabels({pipeline, "ok"});
  m.group_sync_failed = &group_sync.WithLabels({pipeline, "failed"});
  return m;
}

}  // namespace longhaul::mirror
