// Hub mode's RecordSource: a lane session reads the record batches that
// edges shipped over the long-haul link, queued for it by the HubPipeline
// (hub_router.h), and acknowledges each batch to its edge session once the
// lane's transaction that wrote its records has committed. Private to
// mirror/.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "longhaul/transport/hub_server.h"
#include "record_source.h"

namespace longhaul::mirror {

class HubPipeline;

// Batches queued for one lane session, shared by the HubPipeline (which
// pushes on the link's I/O threads) and the lane's LinkRecordSource (which
// pulls on the lane thread). `ready` is guarded by the HubPipeline's mutex;
// everything else by `mu` (lock order: pipeline, then inbox).
struct LaneInbox {
  struct Queued {
    transport::ReceivedBatch batch;  // batch.partition carries the edge as origin (edges: many)
    std::shared_ptr<transport::HubSession> session;
  };
  // A batch handed to the lane and not yet committed.
  struct Delivered {
    uint64_t batch_id = 0;
    std::shared_ptr<transport::HubSession> session;
    // Committed once the lane's committed next offset reaches this: one past
    // the batch's last record (0 for a batch without records, which is
    // committed as soon as the batches before it are).
    int64_t threshold = 0;
    int64_t end = 0;  // last_offset + 1
  };

  explicit LaneInbox(int lane_in) : lane(lane_in) {}

  const int lane;
  bool ready = false;  // OnSessionReady seen

  std::mutex mu;
  std::condition_variable wake;
  std::map<TopicPartition, std::deque<Queued>> queued;
  std::string restart;  // non-empty: the lane must restart its session, and why
  // Batches handed to the lane per partition, oldest first; how many per
  // edge (TopicPartition::origin); and whether a batch is being read now.
  std::map<TopicPartition, std::deque<Delivered>> delivered;
  std::map<std::string, int64_t> delivered_by_edge;
  bool reading = false;
  // Per partition: one past the last offset received and delivered (for lag).
  std::map<TopicPartition, int64_t> received_end;
  std::map<TopicPartition, int64_t> delivered_end;

  // Queues a batch and wakes the lane.
  void Push(transport::ReceivedBatch batch, std::shared_ptr<transport::HubSession> session);
  // Drops the batches of `edge` (origin) queued and not yet handed over.
  void DropQueued(const std::string& edge);
  // Whether the lane took batches of `edge` that are not committed yet.
  bool HoldsTaken(const std::string& edge);
  void RequestRestart(const std::string& why);
};

class LinkRecordSource final : public RecordSource {
 public:
  LinkRecordSource(std::shared_ptr<HubPipeline> pipeline, std::shared_ptr<LaneInbox> inbox);
  ~LinkRecordSource() override;

  absl::Status Assign(const std::vector<SourceAssignment>& assignment) override;
  absl::StatusOr<bool> Next(std::chrono::milliseconds wait, SourceRecordView* out, absl::Status* warning) override;
  std::map<TopicPartition, EndOffsets> Offsets() override;
  // The hub never resolves a start position: the edge does, and the hub
  // takes what the edge sends first (Unimplemented).
  absl::StatusOr<int64_t> LatestOffset(const TopicPartition& tp) override;
  void OnSessionReady(const std::map<TopicPartition, int64_t>& checkpointed) override;
  void OnCommitted(const std::map<TopicPartition, int64_t>& next_offsets) override;
  void Close() override;

 private:
  struct PartitionState {
    std::string topic;  // stable storage for SourceRecordView::topic
    std::string origin;  // and ::origin
    int64_t start = -1;  // from Assign: records below are skipped
    bool assigned = false;
  };
  PartitionState* StateOf(const TopicPartition& tp);
  // Takes the next batch of an assigned partition from the queue (into
  // current_, or as a gap to acknowledge); false if there is none. Called
  // with inbox_->mu held.
  bool TakeBatchLocked();
  // Acknowledges the gap-only batches taken (without inbox_->mu held).
  void FlushGapAcks();

  std::shared_ptr<HubPipeline> pipeline_;
  std::shared_ptr<LaneInbox> inbox_;
  const std::string edge_header_;  // edges: many: header carrying the edge's name, or empty
  bool closed_ = false;
  std::map<TopicPartition, std::unique_ptr<PartitionState>> partitions_;
  std::map<TopicPartition, std::unique_ptr<PartitionState>>::iterator round_robin_;
  // The batch being read (only the lane thread touches it once taken).
  std::optional<LaneInbox::Queued> current_;
  PartitionState* current_state_ = nullptr;
  size_t next_record_ = 0;
  std::vector<LaneInbox::Delivered> gap_acks_;
  std::vector<TopicPartition> gap_partitions_;
};

}  // namespace longhaul::mirror
