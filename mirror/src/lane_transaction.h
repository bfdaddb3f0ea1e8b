// The lane's transaction, as a sans-I/O core over a TransactionalWriter:
// records in; per partition, the source-to-target segments the delivery
// reports give; at commit, one checkpoint per partition written in the same
// transaction as the records (next source offset, segments, lost ranges:
// checkpoint format v2) and an offset-sync record; then the positions that
// are durable. Reads time from the injected Clock only and never sleeps
// except inside writer calls; tests/unit/mirror/lane_transaction_test.cc
// drives it with a fake writer on a ManualClock. The lane worker
// (lane_worker.cc) is its I/O shell: source, directory, logging, sessions.
// One thread (the lane's). Private to mirror/.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/base/clock.h"
#include "longhaul/mirror/commit_policy.h"
#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/segment.h"
#include "mirror_metrics.h"
#include "pipeline_state.h"
#include "provenance.h"
#include "record_source.h"
#include "transactional_writer.h"

namespace longhaul::mirror {

struct LaneTransactionOptions {
  int lane = 0;
  std::string source_cluster;  // in checkpoint keys
  std::string checkpoint_topic;
  std::string offset_sync_topic;
  // Exactly-once: records and checkpoints in one transaction. Off
  // (at-least-once): checkpoints are written after the records' delivery.
  bool transactional = true;
  std::chrono::milliseconds commit_interval{1000};
  std::chrono::milliseconds min_commit_interval{100};
  int64_t max_transaction_bytes = int64_t{64} << 20;
  // How long to keep retrying a partition the writer does not know yet
  // (discovery just added it to the target topic) before failing.
  std::chrono::milliseconds new_partition_wait{30'000};
  // Loop prevention (active/active): records whose provenance says they have
  // been in the target cluster are not written (provenance.h). The default
  // rule writes everything and leaves headers alone.
  ProvenanceRule provenance;
};

class LaneTransaction {
 public:
  // One source partition of the lane.
  struct Partition {
    MirroredPartition mp;
    int target_topic = -1;  // the writer's TopicId
    PartitionProgress* progress = nullptr;
    int64_t committed_next = -1;   // next source offset durable on the target; -1: none yet
    int64_t txn_last_source = -1;  // last source offset written in the open transaction
    int64_t txn_last_target = -1;
    int64_t txn_records = 0;
    int64_t txn_bytes = 0;
    bool pending_checkpoint = false;  // start position resolved, or a skipped gap, not yet persisted
    // Next target offset after the last record written, as last checkpointed:
    // carried into checkpoints of transactions that wrote no record of the
    // partition (only filtered records, a resolved start, a skipped gap), so
    // translation still knows where the replicated part ends.
    int64_t committed_next_target = -1;
    // Records of the open transaction not written because their provenance
    // says they have been in the target cluster: their offsets count as
    // copied, so the checkpoint moves past them.
    int64_t txn_filtered = 0;
    int64_t filtered_next = -1;  // one past the last of them; -1: none
    // The partition is not read in this session (on_source_gap: stop, or a
    // source log that lost copied records).
    bool stopped = false;
    // on_source_gap: skip: the lost ranges the next checkpoint moves past
    // and records (in order; usually one).
    std::vector<offsets::LostRange> skipped;
    std::deque<int64_t> awaiting_delivery;  // source offsets in produce order
    offsets::SegmentBuilder segments;

    // Where the lane stands: after the open transaction's last record, else
    // at the committed position (0 before any).
    int64_t NextOffset() const {
      return txn_records > 0 ? txn_last_source + 1 : std::max<int64_t>(committed_next, 0);
    }
  };

  // Where a partition new to the lane starts.
  struct PartitionStart {
    int64_t committed_next = -1;  // -1: the pipeline's start position (the source resolves it)
    // The start must be persisted even with no record (a resolved "latest").
    bool pending_checkpoint = false;
    int64_t committed_next_target = -1;  // the checkpoint's next target offset, -1: none
  };

  struct Committed {
    // Next source offset per partition the transaction touched.
    std::map<TopicPartition, int64_t> next_offsets;
    int64_t wall_ms = 0;  // when it committed, by the Clock
  };

  // `stop_deadline`: the deadline of a stop request (drain, lanes revoked),
  // nullopt while none; a stop cuts retries short and tightens commit
  // deadlines. `metrics` may be null (tests that do not look at them).
  LaneTransaction(TransactionalWriter* writer, const Clock* clock, const PipelineMetrics* metrics,
                  LaneTransactionOptions options, std::function<std::optional<SteadyTime>()> stop_deadline);
  ~LaneTransaction() { writer_->SetDeliveryHandler(nullptr); }
  LaneTransaction(const LaneTransaction&) = delete;
  LaneTransaction& operator=(const LaneTransaction&) = delete;

  const CommitPolicy& policy() const { return policy_; }
  // Records or a checkpoint are waiting to be committed.
  bool HasWork() const { return policy_.HasWork(); }
  // A transaction is open on the writer.
  bool open() const { return open_; }

  // ---- partitions (only with no open work: every position is exact) ----

  // Keeps the partitions of `wanted` it has with the same target, drops the
  // others, and adds the new ones starting at `start(mp)`.
  absl::Status SetPartitions(const std::vector<MirroredPartition>& wanted,
                             const std::function<PartitionProgress*(const TopicPartition&)>& progress,
                             const std::function<absl::StatusOr<PartitionStart>(const MirroredPartition&)>& start);
  // What the source should read: every partition not stopped, from its
  // committed position.
  std::vector<SourceAssignment> Assignment() const;
  Partition* Find(const TopicPartition& tp);
  size_t partition_count() const { return partitions_.size(); }

  // ---- records ----

  // Writes one record into the open transaction (beginning one if needed) to
  // the same partition number of the target topic, key, value, headers and
  // create time unchanged. A record of a partition the lane does not have
  // is dropped. Waits in the writer while its queue is full. Errors end the
  // session (the caller aborts).
  absl::Status Add(SourceRecordView& record, SteadyTime now);
  // Serves delivery reports; the first failed delivery, if any.
  absl::Status ServeDeliveries();
  const absl::Status& delivery_error() const { return delivery_error_; }

  // ---- gaps (source_gap.h judges; the caller logs and counts) ----

  // The partition is not read any more in this session.
  void StopPartition(const TopicPartition& tp);
  // The next checkpoint moves past [first, end) and records it as lost.
  void SkipLostRange(const TopicPartition& tp, int64_t first, int64_t end);

  // ---- commit and abort ----

  // Waits for every delivery (they give the target offsets), writes each
  // touched partition's checkpoint and offset sync, and commits; then the
  // positions advance and the policy restarts. A stop request tightens
  // `deadline` to the stop's. Any error leaves the transaction open: the
  // caller aborts and starts over from the checkpoints.
  absl::StatusOr<Committed> Commit(SteadyTime deadline);
  // Aborts the open transaction (best effort: a new owner's
  // InitTransactions aborts it anyway) and forgets its records: positions
  // stay at the last commit.
  void Abort(std::chrono::milliseconds timeout);

 private:
  void OnDelivery(const TransactionalWriter::Delivery& d);
  Partition* FindByHandle(const SourceRecordView& r);
  SteadyTime Effective(SteadyTime deadline) const;
  bool Stopping() const { return stop_deadline_() != std::nullopt; }
  absl::Status Begin();
  absl::Status WriteInternal(int topic, const std::string& key, const std::string& value, const std::string& what);
  void ForgetOpenTransaction();

  TransactionalWriter* writer_;
  const Clock* clock_;
  const PipelineMetrics* metrics_;
  const LaneTransactionOptions options_;
  std::function<std::optional<SteadyTime>()> stop_deadline_;
  CommitPolicy policy_;
  bool open_ = false;
  int checkpoint_topic_ = -1;
  int offset_sync_topic_ = -1;
  absl::flat_hash_map<TopicPartition, std::unique_ptr<Partition>> partitions_;
  absl::flat_hash_map<std::pair<const void*, int32_t>, Partition*> by_handle_;
  absl::Status delivery_error_;
  std::string key_buf_, value_buf_;
  // Create times of the open transaction's records, run-length encoded
  // (timestamp, records): consecutive records mostly share their millisecond.
  std::vector<std::pair<int64_t, int64_t>> txn_timestamps_;
};

}  // namespace longhaul::mirror
