// Offset-sync records: per source partition and transaction, the exact
// source-to-target segments the writer committed, written to a
// non-compacted topic with retention so that consumer-group offsets can be
// translated exactly (offset_index.h) long after the checkpoint for the
// partition has been compacted over. Format: offsets/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/offsets/checkpoint.h"  // key text form, kMaxTopicLength
#include "longhaul/offsets/segment.h"

namespace longhaul::offsets {

// Key: the same text as the partition's checkpoint key,
// EncodeCheckpointKey({source_cluster, topic, partition}). The value repeats
// topic and partition so that it describes itself without its key.
struct OffsetSyncRecord {
  std::string topic;
  int32_t partition = 0;
  // This transaction's segments for the partition, in order.
  std::vector<OffsetSegment> segments;
  // Wall-clock commit time as given by the writer's clock; -1 if unknown.
  int64_t commit_time_ms = -1;
  // Source ranges this transaction skipped as lost (format version 2 when
  // not empty); see LostRange.
  std::vector<LostRange> lost;
  friend bool operator==(const OffsetSyncRecord&, const OffsetSyncRecord&) = default;
};

// Appends the value encoding of `record` to *out (existing bytes are kept).
// Precondition (LH_CHECK): topic non-empty, no '/', at most kMaxTopicLength
// bytes; partition >= 0; commit_time_ms >= -1; segments well formed and
// ordered.
void EncodeOffsetSync(const OffsetSyncRecord& record, std::string* out);

// Decodes a value read from Kafka (untrusted), with the same guarantees as
// DecodeCheckpoint: InvalidArgument naming the field and byte offset for any
// malformed input, and every accepted value re-encodes to identical bytes.
absl::StatusOr<OffsetSyncRecord> DecodeOffsetSync(std::string_view value);

}  // namespace longhaul::offsets
