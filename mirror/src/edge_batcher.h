// The edge's per-partition batch cursors, as a sans-I/O core: records read
// from the source, the hub's resume seeks and acks in; batches handed to the
// link ("send"), and two requests to the reader shell: pause or resume the
// source (the link buffer is full, or has room again) and reassign the
// source consumer (a seek moved a partition, or a new partition starts).
// Reads time from the injected Clock only; never blocks. The edge runner
// (edge_runner.cc) is its I/O shell; tests/unit/mirror/edge_batcher_test.cc
// drives it with a fake link on a ManualClock. One thread (the edge's
// reader). Private to mirror/.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/base/clock.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/transport/edge_link.h"
#include "record_source.h"

namespace longhaul::mirror {

// What the batcher needs of the link (transport::EdgeLink in the edge).
class EdgeBatchSink {
 public:
  virtual ~EdgeBatchSink() = default;
  // Whether a batch of `bytes` fits the link's buffer now.
  virtual bool CanSend(uint64_t bytes) = 0;
  // The batch id, or FailedPrecondition (out of order: raced with a resume
  // seek), ResourceExhausted (no room), Cancelled (stopping), other errors.
  virtual absl::StatusOr<uint64_t> SendBatch(transport::OutgoingBatch batch) = 0;
};

struct EdgeBatcherOptions {
  // A partition's batch is handed to the link once it holds this many
  // encoded bytes, or this long after its first record.
  uint64_t max_batch_bytes = uint64_t{1} << 20;
  std::chrono::milliseconds max_batch_delay{50};
  // The link's buffer budget: a batch larger than it still goes once the
  // buffer is empty.
  uint64_t buffer_budget_bytes = uint64_t{64} << 20;
  // A batch refused as out of order with no resume seek explaining it
  // within this time means the reader and the link disagree.
  std::chrono::milliseconds resync_grace{2'000};
};

// Encoded-size slack for the frame header and the batch's own fields.
inline constexpr uint64_t kEdgeFrameSlackBytes = 4096;

// One source partition as the edge sees it.
struct EdgePartition {
  TopicPartition tp;
  bool discovered = false;   // the source has it and the pipeline mirrors it
  bool assigned = false;     // read by the source consumer
  bool start_known = false;  // from a resume seek, or the pipeline start (the hub does not know it)
  bool hub_known = false;
  // Next offset to read; -1 before the first record when starting at the
  // beginning of the partition.
  int64_t pos = -1;
  // Where the next sealed batch starts (the end of the last one, or a
  // seek); -1 for a partition the link has not seen.
  int64_t sealed_next = -1;
  // The last batch the link took: its first offset and its end.
  int64_t last_sent_first = -1;
  int64_t sent_next = -1;
  int64_t acked = -1;  // the hub's committed next offset
  int64_t records_sent = 0;
  int64_t bytes_sent = 0;
  // Records read and not yet sealed into a batch.
  std::vector<Record> open;
  uint64_t open_bytes = 0;
  SteadyTime opened_at{};
  // Sealed batches the link has not taken yet (buffer full).
  struct Sealed {
    transport::OutgoingBatch batch;
    uint64_t bytes = 0;
    int64_t oldest_timestamp_ms = -1;  // -1: no record
  };
  std::deque<Sealed> sealed;
  // Batches the link took and the hub has not acknowledged: where each
  // ends and the create time of its oldest record (for the report).
  std::deque<std::pair<int64_t, int64_t>> unacked;
  // A batch was refused as out of order; a resume seek should follow.
  std::optional<SteadyTime> resync_since;
  // A source gap stopped it (on_source_gap: stop): not read until restart.
  bool stopped = false;

  // Everything read was acknowledged: nothing open, sealed or unacknowledged.
  bool idle() const { return open.empty() && sealed.empty() && sent_next == acked; }
};

class EdgeBatcher {
 public:
  EdgeBatcher(EdgeBatchSink* sink, const Clock* clock, EdgeBatcherOptions options);

  // ---- partitions ----

  // The partitions the pipeline mirrors now (from discovery).
  void SetDiscovered(const std::set<TopicPartition>& discovered);
  // Starts reading every discovered partition that is not yet, once the link
  // is ready (every connection resumed, so partitions the hub did not name
  // are new to it). Those with no resume seek start at `latest(tp)` when
  // given (start: latest), else at the beginning; a partition whose latest
  // offset is unknown yet waits for the next call. Returns what `latest`
  // failed with, for a warning.
  std::vector<std::pair<TopicPartition, absl::Status>> StartDiscovered(
      const std::function<absl::StatusOr<int64_t>(const TopicPartition&)>& latest);
  // What the source consumer should read: assigned, not stopped, from `pos`.
  std::vector<SourceAssignment> Assignment() const;
  // Every assigned partition (what a pause covers).
  std::vector<TopicPartition> Assigned() const;
  EdgePartition* Find(const TopicPartition& tp);
  const std::map<TopicPartition, EdgePartition>& partitions() const { return parts_; }
  // A source gap: stops reading the partition, or moves past the gap.
  void Stop(const TopicPartition& tp);
  void SkipTo(const TopicPartition& tp, int64_t offset);

  // ---- in ----

  // One record read from the source; its headers are taken. A record of a
  // partition not assigned, or from before the partition's position (read
  // again after a seek), is dropped.
  absl::Status OnRecord(SourceRecordView& record);
  // The hub's resume points: committed offsets and seeks.
  void OnResume(const transport::ResumeEvent& resume);
  void OnAck(const transport::AckEvent& ack);
  // The link has room again: resume the source.
  void OnWritable();
  // Hands sealed batches to the link (after events were applied).
  absl::Status SendPending();
  // Seals batches whose delay ran out (`all`: every open batch, when
  // stopping) and hands them to the link. An error when a refused batch was
  // never explained by a seek within resync_grace: start over.
  absl::Status Tick(bool all = false);

  // ---- out ----

  // Whether the source must be paused (the link buffer is full).
  bool blocked() const { return blocked_; }
  // Some partition has records not yet sealed into a batch (Tick is due soon).
  bool has_open() const { return open_count_ > 0; }
  // Times the batcher paused the source.
  uint64_t pauses() const { return pauses_; }
  // The consumer must be reassigned (Assignment()); true once per request.
  bool TakeReassign() { return std::exchange(reassign_, false); }

 private:
  EdgePartition& PartOf(const TopicPartition& tp);
  EdgePartition* FindByHandle(const SourceRecordView& r);
  void Seek(const TopicPartition& tp, int64_t offset);
  void Acknowledge(EdgePartition& p, int64_t offset);
  void Seal(EdgePartition& p);
  absl::Status TrySend(EdgePartition& p);
  void Block();

  EdgeBatchSink* sink_;
  const Clock* clock_;
  const EdgeBatcherOptions options_;
  std::map<TopicPartition, EdgePartition> parts_;
  absl::flat_hash_map<std::pair<const void*, int32_t>, EdgePartition*> by_handle_;
  int open_count_ = 0;  // partitions with an open batch
  bool blocked_ = false;
  bool reassign_ = false;
  uint64_t pauses_ = 0;
};

}  // namespace longhaul::mirror
