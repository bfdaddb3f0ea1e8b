// The source-to-target offset map of one source partition, built from the
// segments of committed transactions, and the translation of committed
// consumer-group offsets onto the target cluster. Memory is bounded: the
// index keeps at most max_segments segments and forgets the oldest first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "longhaul/offsets/segment.h"

namespace longhaul::offsets {

struct TranslateResult {
  // Where a consumer switching clusters resumes; -1 when before_index.
  int64_t target_offset = -1;
  // The offset is older than what the index holds: load older segments
  // (LoadOlder) and retry, or report it untranslatable.
  bool before_index = false;
  // No replicated record is at or after the offset; target_offset is the end
  // of what is replicated. Exact only if the source has nothing between the
  // replicated end and the offset (e.g. the offset is at most the
  // partition's checkpointed next_source_offset); otherwise the caller must
  // wait for replication to catch up.
  bool beyond_replicated = false;
  friend bool operator==(const TranslateResult&, const TranslateResult&) = default;
};

// Not thread-safe; the owner serialises access.
class OffsetIndex {
 public:
  // Precondition (LH_CHECK): max_segments >= 1.
  explicit OffsetIndex(size_t max_segments);

  // Appends the segments of the next committed transaction(s), e.g. a
  // checkpoint's or a decoded offset-sync record's. They must be well formed,
  // ordered, and start at or after the end of the indexed range on both
  // sides; otherwise InvalidArgument and the index is unchanged (segments can
  // come from a topic, so this is not CHECKed). A segment contiguous with the
  // newest one on both sides is merged into it. Evicts the oldest segments
  // beyond max_segments. Empty input is a no-op.
  absl::Status Add(absl::Span<const OffsetSegment> segments);

  // Prepends segments read back from the offset-sync topic. They must be the
  // ones immediately preceding the indexed range (nothing was replicated
  // between their end and lowest_indexed_source_offset()), well formed,
  // ordered, and end at or before that range on both sides: otherwise
  // InvalidArgument, index unchanged. On an empty index this is Add().
  // The bound still holds, oldest first: when the index cannot take them
  // all, it keeps the newest that fit; when it cannot take any, it returns
  // ResourceExhausted (a caller needing older history translates with a
  // separate, temporary OffsetIndex filled from the topic).
  absl::Status LoadOlder(absl::Span<const OffsetSegment> segments);

  // Maps a committed source offset o to the target offset of the first
  // replicated record at or after o: inside a segment, its image; inside a
  // gap, the start of the next segment; after the last segment, the end of
  // the last one (beyond_replicated); before lowest_indexed_source_offset()
  // or on an empty index, before_index. InvalidArgument when o < 0 (a
  // committed offset is untrusted input; -1 means "none" in Kafka).
  // O(log size()).
  absl::StatusOr<TranslateResult> Translate(int64_t source_offset) const;

  // The lowest source offset Translate answers without before_index:
  // the first segment's start, or after eviction (or a partial LoadOlder)
  // the end of the newest segment dropped, since the gap up to the first
  // kept segment is known to be empty. nullopt when empty.
  std::optional<int64_t> lowest_indexed_source_offset() const;

  // One past the newest indexed source offset; nullopt when empty.
  std::optional<int64_t> end_source_offset() const;

  size_t size() const { return segments_.size(); }
  bool empty() const { return segments_.empty(); }
  size_t max_segments() const { return max_segments_; }

 private:
  void EvictOldest();

  size_t max_segments_;
  // Ordered, non-overlapping, never empty once anything was added. A deque
  // gives O(1) append, evict and prepend plus random access for the
  // binary search; memory per segment is in offsets/README.md.
  std::deque<OffsetSegment> segments_;
  // See lowest_indexed_source_offset(); meaningful only when non-empty.
  int64_t floor_ = 0;
};

}  // namespace longhaul::offsets
