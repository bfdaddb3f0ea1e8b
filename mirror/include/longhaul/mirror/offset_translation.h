// Exact consumer-group offset translation and failover for a pipeline:
// what a group committed on the source cluster, where the same position is
// on the target cluster, and committing it there. The commands
// `longhaul offsets translate|failover` and the periodic group sync in
// `longhaul run` use these; docs/offset-translation.md explains the method.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/config/config.h"

namespace longhaul::mirror {

enum class TranslationStatus {
  // target_offset is where the group resumes on the target and sees every
  // record after its source position once: the target offset of the first
  // replicated record at or after the source offset, or, when everything up
  // to the source offset is replicated, the end of what is replicated.
  kExact,
  // The source offset is past what is replicated and the source has records
  // in between: target_offset is the end of what is replicated, so a
  // consumer there would see those records again once they arrive. Sync
  // again once replication caught up.
  kReplicationBehind,
  // Nothing of the partition is replicated yet; no target offset.
  kNotReplicated,
  // The offset is older than the retained offset-sync history and the
  // source still has records the history no longer maps; no target offset
  // (raise offset_syncs.retention).
  kHistoryExpired,
  // The source offset lies in a range of source records that were deleted
  // at the source before they were copied (on_source_gap: skip): they exist
  // nowhere. target_offset is where the group goes on (the first record
  // copied after the gap); it is committed by the group sync like an exact
  // one, but the group never sees the lost records, and failover reports it.
  kSourceGap,
};

// "exact", "replication-behind", "not-replicated", "history-expired",
// "source-gap".
std::string_view TranslationStatusName(TranslationStatus status);

struct PartitionTranslation {
  std::string source_topic;
  int32_t partition = 0;
  int64_t source_offset = -1;  // the group's committed offset on the source
  std::string target_topic;
  int64_t target_offset = -1;  // -1 when the status gives none
  TranslationStatus status = TranslationStatus::kNotReplicated;
  // The partition's next source offset to replicate (its checkpoint), -1
  // when it has none.
  int64_t replicated_source_offset = -1;
  std::string detail;  // why, when not kExact
};

struct GroupTranslation {
  std::string group;
  // One per partition the group has a committed offset for, of topics the
  // pipeline mirrors; ordered by topic and partition.
  std::vector<PartitionTranslation> partitions;
};

// Reads `group`'s committed offsets on the pipeline's source cluster and
// translates them. Blocks (bounded, tens of seconds); errors name the
// cluster, topic or record that failed. NotFound for an unknown pipeline.
absl::StatusOr<GroupTranslation> TranslateGroupOffsets(const config::Config& config, const std::string& pipeline,
                                                       const std::string& group);

enum class SyncAction {
  kCommitted,      // the target group now has new_target_offset
  kUnchanged,      // it already had it
  kKeptNoRewind,   // it is ahead of the translation; kept (no --allow-rewind)
  kRewound,        // moved back to the translation (--allow-rewind)
  kNotTranslated,  // no exact target offset (see the translation's status)
  kGroupActive,    // the group has members on the target; nothing touched
  kFailed,         // the commit of this partition failed (see detail)
};

// "committed", "unchanged", "kept-no-rewind", "rewound", "not-translated",
// "group-active", "failed".
std::string_view SyncActionName(SyncAction action);

struct PartitionSync {
  PartitionTranslation translation;
  int64_t old_target_offset = -1;  // the target group's offset before; -1 none
  int64_t new_target_offset = -1;  // after; -1 none
  SyncAction action = SyncAction::kNotTranslated;
  std::string detail;
};

struct GroupSyncReport {
  std::string group;
  // Members of the group on the target cluster, and its state there
  // ("Empty", "Stable", "Dead" for a group that does not exist, ...).
  int target_members = 0;
  std::string target_state;
  std::vector<PartitionSync> partitions;

  // True when every partition's target offset is now the exact translation.
  bool complete() const;
};

struct SyncOptions {
  // Move the target group backwards when it is ahead of the translation.
  bool allow_rewind = false;
};

// Syncs `group` once: translates its source offsets and commits them on the
// target, only if the group has no active member there, never backwards
// unless options.allow_rewind, never for a partition without an exact (or
// replication-behind: end of what is replicated) target offset.
absl::StatusOr<GroupSyncReport> SyncGroupOffsets(const config::Config& config, const std::string& pipeline,
                                                 const std::string& group, const SyncOptions& options);

}  // namespace longhaul::mirror
