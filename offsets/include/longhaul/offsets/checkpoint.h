// Checkpoint records: per source partition and transaction, what the
// transactional writer commits to the compacted checkpoint topic on the
// target cluster, and what a worker reads back to resume exactly there.
// Key: readable text (shared with offset-sync records); value: compact
// versioned binary. Both are documented byte by byte in offsets/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/offsets/segment.h"

namespace longhaul::offsets {

// Identifies one source partition across pipelines. Encoded as
// "<source_cluster>/<topic>/<partition>", e.g. "dc1/orders/7", or, for a
// partition of one edge of a pipeline fed by many edges, as
// "<source_cluster>/<edge>/<topic>/<partition>", e.g. "dc1/ship-1/orders/7".
// Neither cluster names (validated by config), edge names (validated by
// the hub) nor Kafka topics can contain '/'.
struct CheckpointKey {
  std::string source_cluster;
  std::string topic;
  int32_t partition = 0;
  std::string edge = {};  // empty: no edge part
  friend bool operator==(const CheckpointKey&, const CheckpointKey&) = default;
};

// Source offsets [first, end) deleted at the source (retention, DeleteRecords)
// before they were copied, and skipped over (on_source_gap: skip): no record
// of them exists on the target, and offset translation says so for an offset
// inside.
struct LostRange {
  int64_t first = 0;
  int64_t end = 0;
  int64_t length() const { return end - first; }
  friend bool operator==(const LostRange&, const LostRange&) = default;
};

struct Checkpoint {
  // Where to resume reading the source partition.
  int64_t next_source_offset = 0;
  // First target offset after this transaction's records for the partition;
  // -1 if unknown.
  int64_t next_target_offset = -1;
  // Wall-clock commit time as given by the writer's clock; -1 if unknown.
  int64_t commit_time_ms = -1;
  // The lane (transactional.id group) that wrote this checkpoint.
  int32_t lane = 0;
  // This transaction's source-to-target segments for the partition, in
  // order; empty when the transaction only advanced past gaps.
  std::vector<OffsetSegment> segments;
  // Source ranges this transaction skipped because they were lost (ordered,
  // disjoint, ending at or before next_source_offset); usually empty. A
  // checkpoint with any is written in format version 2.
  std::vector<LostRange> lost;
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The longest topic name Kafka accepts; longer input is rejected.
inline constexpr size_t kMaxTopicLength = 249;

// Precondition (LH_CHECK): source_cluster and topic are non-empty and
// contain no '/', topic is at most kMaxTopicLength bytes, partition >= 0.
std::string EncodeCheckpointKey(const CheckpointKey& key);

// Parses a key read from Kafka. Exactly one canonical text per key is
// accepted (decimal partition without sign or leading zeros), so distinct
// accepted texts are distinct compaction keys. InvalidArgument names the
// problem and its byte position.
absl::StatusOr<CheckpointKey> DecodeCheckpointKey(std::string_view text);

// Appends the value encoding of `checkpoint` to *out (existing bytes are
// kept, so a caller can reuse one buffer). Precondition (LH_CHECK, our own
// invariant): the checkpoint is well formed, i.e. DecodeCheckpoint would
// accept the result: next_source_offset >= 0, next_target_offset >= -1,
// commit_time_ms >= -1, lane >= 0, segments well formed and ordered, the
// last one ending at or before next_source_offset / next_target_offset.
void EncodeCheckpoint(const Checkpoint& checkpoint, std::string* out);

// Decodes a value read from Kafka (untrusted). Never crashes: truncated
// input, an unknown format byte, overlong or non-minimal varints, counts the
// input cannot hold, out-of-range or negative numbers, disordered segments
// and trailing bytes each return InvalidArgument naming the field and the
// byte offset. Every accepted value re-encodes to the identical bytes.
absl::StatusOr<Checkpoint> DecodeCheckpoint(std::string_view value);

}  // namespace longhaul::offsets
