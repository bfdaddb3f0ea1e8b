// What offset translation reads from Kafka, behind two narrow interfaces:
// a pipeline's internal topics on the target cluster (a lane's checkpoints
// and offset-sync records, read_committed, by ranges of topic offsets) and
// the source cluster (where the next committed record after an offset is).
// The RdKafka* implementations are the only librdkafka code of translation.
// Private to mirror/.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/config/config.h"
#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/offset_sync.h"

namespace longhaul::mirror {

// Bounds of one partition.
struct PartitionBounds {
  int64_t low = 0;   // first retained offset
  int64_t high = 0;  // read_committed end: the last stable offset
};

// Reads partition `lane` of the pipeline's checkpoint and offset-sync
// topics on the target cluster. Not thread-safe: one owner. Every call
// blocks up to its own bound (tens of seconds) or until *stop becomes true
// (then Cancelled), and returns errors naming the topic, partition and, for
// an undecodable record, its offset.
class OffsetSyncReader {
 public:
  static constexpr int64_t kFromEnd = -1;

  virtual ~OffsetSyncReader() = default;

  // Bounds of partition `lane` of the offset-sync topic.
  virtual absl::StatusOr<PartitionBounds> SyncBounds(int lane) = 0;

  // Calls `fn` for each committed checkpoint of this pipeline's source
  // cluster in [from, end of the partition), in order; `checkpoint` is null
  // for a tombstone. Returns the position after the last record read (the
  // read_committed end), where the next call continues.
  using CheckpointFn = std::function<void(const TopicPartition&, const offsets::Checkpoint* checkpoint)>;
  virtual absl::StatusOr<int64_t> ReadCheckpoints(int lane, int64_t from, const CheckpointFn& fn) = 0;

  // Calls `fn` for each committed offset-sync record of this pipeline's
  // source cluster in [from, to) (to = INT64_MAX: to the end), in order.
  // Returns the position after the last offset covered: `to`, or the
  // read_committed end if that came first. from = kFromEnd reads nothing
  // and returns the current read_committed end (the last stable offset):
  // every record committed later lies at or after it.
  using SyncFn = std::function<void(int64_t sync_offset, const offsets::OffsetSyncRecord&)>;
  virtual absl::StatusOr<int64_t> ReadSyncs(int lane, int64_t from, int64_t to, const SyncFn& fn) = 0;
};

// Where the next committed record is on the source cluster.
class SourceProbe {
 public:
  virtual ~SourceProbe() = default;
  // For each (partition, offset): the offset of the first record that a
  // read_committed consumer sees at or after `offset`; when there is none,
  // the partition's current read_committed end (where the next one will
  // appear). So "the source has no record in [offset, limit)" is
  // "result >= limit". One bounded call for all positions.
  virtual absl::StatusOr<std::map<TopicPartition, int64_t>> NextRecord(
      const std::vector<std::pair<TopicPartition, int64_t>>& positions) = 0;
};

// `stop` (may be null) cancels long reads; it must outlive the reader.
absl::StatusOr<std::unique_ptr<OffsetSyncReader>> CreateRdKafkaOffsetSyncReader(
    const config::PipelineConfig& pipeline, const config::ClusterConfig& source, const config::ClusterConfig& target,
    const std::atomic<bool>* stop);

absl::StatusOr<std::unique_ptr<SourceProbe>> CreateRdKafkaSourceProbe(const config::PipelineConfig& pipeline,
                                                                     const config::ClusterConfig& source,
                                                                     const std::atomic<bool>* stop);

}  // namespace longhaul::mirror
