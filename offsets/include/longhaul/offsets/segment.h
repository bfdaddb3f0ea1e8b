// Source-to-target offset segments: the unit in which the writer records
// where each mirrored record landed. SegmentBuilder turns the per-record
// delivery reports of one partition in one transaction into the minimal
// list of segments that checkpoint and offset-sync records carry.
#pragma once

#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"

namespace longhaul::offsets {

// source_start + i -> target_start + i for every 0 <= i < length.
// Well-formed: source_start >= 0, target_start >= 0, length >= 1, and both
// ends fit in int64. A list of segments is ordered and non-overlapping on
// both sides (each starts at or after the previous one's end).
struct OffsetSegment {
  int64_t source_start = 0;
  int64_t target_start = 0;
  int64_t length = 0;

  int64_t source_end() const { return source_start + length; }  // one past the last
  int64_t target_end() const { return target_start + length; }  // one past the last
  friend bool operator==(const OffsetSegment&, const OffsetSegment&) = default;
};
// offsets/README.md quotes this size in its memory bound; keep them in step.
static_assert(sizeof(OffsetSegment) == 24);

// Builds the segments of one source partition within one transaction.
// Not thread-safe; one per partition, owned by the writer. Add() is O(1)
// and does not allocate while records stay contiguous on both sides (the
// first segment is stored inline); each further segment may allocate.
class SegmentBuilder {
 public:
  // Records that the record at source_offset landed at target_offset.
  // Precondition (LH_CHECK, a bug in the writer otherwise): both offsets are
  // >= 0 and strictly greater than those of the previous Add() since
  // Clear(). Delivery reports without an offset must be turned into an error
  // by the caller before they reach this point.
  void Add(int64_t source_offset, int64_t target_offset);

  // The minimal segment list so far: a new segment starts whenever either
  // side jumps by other than 1. Valid until the next Add() or Clear().
  absl::Span<const OffsetSegment> segments() const { return segments_; }
  bool empty() const { return segments_.empty(); }

  // One past the last offset added on each side; -1 when empty.
  int64_t next_source_offset() const { return empty() ? -1 : segments_.back().source_end(); }
  int64_t next_target_offset() const { return empty() ? -1 : segments_.back().target_end(); }

  // Starts the next transaction. Keeps heap capacity (bounded by the most
  // fragmented transaction seen), so a gappy partition stops allocating too.
  // (InlinedVector::clear() would free it.)
  void Clear() { segments_.erase(segments_.begin(), segments_.end()); }

 private:
  absl::InlinedVector<OffsetSegment, 1> segments_;
};

}  // namespace longhaul::offsets
