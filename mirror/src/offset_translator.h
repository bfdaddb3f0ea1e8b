// Translates committed source offsets of a pipeline's partitions into target
// offsets, exactly, from what the lanes committed on the target: the newest
// checkpoint per partition and the offset-sync records (the segments of every
// transaction). Keeps a bounded index of recent segments per partition it
// was asked about, and searches the offset-sync topic backwards, in growing
// windows, for anything older. Kafka I/O goes through OffsetSyncReader and
// SourceProbe; the method and its bounds are in docs/offset-translation.md.
// Private to mirror/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/config/config.h"
#include "longhaul/mirror/offset_translation.h"
#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/offset_index.h"
#include "offset_sync_reader.h"

namespace longhaul::mirror {

struct OffsetTranslatorOptions {
  // Bound of each partition's in-memory index (about 25 B per segment plus
  // 0.7 KiB per partition, offsets/README.md). Older segments are searched
  // for in the offset-sync topic when needed.
  size_t max_segments_per_partition = 256;
  // Offset-sync records read by the first step of a backward search; each
  // further step reads twice as many, up to max_window.
  int64_t first_window = 64;
  int64_t max_window = 65536;
};

// Not thread-safe: one owner (the group-sync thread, or a CLI command).
// A long-lived translator reads only what was committed since its last call.
class OffsetTranslator {
 public:
  OffsetTranslator(const config::PipelineConfig& pipeline, std::unique_ptr<OffsetSyncReader> reader,
                   std::unique_ptr<SourceProbe> probe, OffsetTranslatorOptions options = {});

  // Translates each (source partition, committed offset >= 0); each
  // partition at most once per call (else InvalidArgument). The result
  // has one entry per request, in order. Errors are Kafka read errors or
  // malformed records in the internal topics (naming topic, partition and
  // offset); a partition that cannot be translated exactly is not an error
  // but a status in its entry.
  absl::StatusOr<std::vector<PartitionTranslation>> Translate(
      const std::vector<std::pair<TopicPartition, int64_t>>& requests);

  // Partitions with an in-memory index (each bounded as above).
  size_t indexed_partitions() const { return indices_.size(); }

 private:
  struct LaneState {
    bool started = false;
    int64_t checkpoint_position = 0;  // next offset of the checkpoint partition to read
    int64_t sync_position = 0;        // next offset of the offset-sync partition to read
    // Newest checkpoint per source partition of the lane: one small entry
    // per partition, bounded by the pipeline's partition count.
    std::map<TopicPartition, offsets::Checkpoint> checkpoints;
  };
  // A request that the in-memory index cannot answer, searched for in the
  // offset-sync topic.
  struct Search;

  int LaneOf(const TopicPartition& tp) const;
  absl::Status Refresh(int lane);
  void Extend(const TopicPartition& tp, absl::Span<const offsets::OffsetSegment> segments);
  absl::Status SearchHistory(int lane, std::vector<Search*>& searches);
  // Remembers lost source ranges read from checkpoints and offset syncs.
  void NoteLost(const TopicPartition& tp, absl::Span<const offsets::LostRange> ranges);
  const offsets::LostRange* LostRangeAt(const TopicPartition& tp, int64_t offset) const;

  const config::PipelineConfig& pipeline_;
  std::unique_ptr<OffsetSyncReader> reader_;
  std::unique_ptr<SourceProbe> probe_;
  OffsetTranslatorOptions options_;
  std::map<int, LaneState> lanes_;
  absl::flat_hash_map<TopicPartition, std::unique_ptr<offsets::OffsetIndex>> indices_;
  // Lost source ranges seen per partition (rare: a source gap skipped over),
  // the newest kMaxLostRanges of each.
  static constexpr size_t kMaxLostRanges = 64;
  absl::flat_hash_map<TopicPartition, std::vector<offsets::LostRange>> lost_;
};

}  // namespace longhaul::mirror
