// State shared between a pipeline's threads: the partition directory
// (which source partitions exist and are ready on the target, per lane) and
// per-partition progress counters read by Status(). Private to mirror/.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "longhaul/base/topic_partition.h"
#include "longhaul/config/config.h"
#include "source_gap.h"

namespace longhaul::mirror {

struct MirroredPartition {
  TopicPartition source;
  std::string target_topic;
  int lane = 0;
  friend bool operator==(const MirroredPartition&, const MirroredPartition&) = default;
};

// Progress of one partition, written by its lane, read by Status().
struct PartitionProgress {
  std::atomic<int64_t> source_end_offset{-1};
  std::atomic<int64_t> replicated_offset{-1};
  std::atomic<int64_t> records_total{0};
  std::atomic<int64_t> bytes_total{0};
  // Records read but not written: their provenance says they have been in
  // the target cluster (active/active loop prevention). Counted at commit.
  std::atomic<int64_t> records_filtered_total{0};
  // Create time of the oldest record read but not yet committed, or -1.
  std::atomic<int64_t> oldest_pending_timestamp_ms{-1};
  // Wall time when replicated_offset last reached source_end_offset.
  std::atomic<int64_t> caught_up_at_ms{-1};
  // Wall time when replicated_offset last moved forward.
  std::atomic<int64_t> advanced_at_ms{-1};
  // Source records lost to a gap (source_gap.h), each counted once.
  std::atomic<int64_t> source_gap_records_total{0};
  // Earliest offset still in the source log as the lane last saw it, and
  // that log's retention (-1 unknown), for the time left before the oldest
  // uncopied record is deleted.
  std::atomic<int64_t> source_log_start{-1};

  // The newest gap and whether it stopped the partition. Written by the
  // lane on a gap, read by Status().
  struct Gap {
    int64_t first = -1;  // lost source offsets [first, end)
    int64_t end = -1;
    bool stopped = false;  // on_source_gap: stop (or a log that lost copied records)
    std::string error;     // why the partition stopped, for the status
  };
  // Adds a lost range (returns the records not counted before) and records it.
  int64_t AddGap(int64_t first, int64_t end, bool stopped, std::string error) {
    std::lock_guard<std::mutex> lock(gap_mu_);
    const int64_t added = gap_ledger_.Add(first, end);
    source_gap_records_total.fetch_add(added);
    if (end > first) {
      gap_.first = first;
      gap_.end = end;
    }
    gap_.stopped = stopped;
    gap_.error = std::move(error);
    return added;
  }
  Gap gap() const {
    std::lock_guard<std::mutex> lock(gap_mu_);
    return gap_;
  }

 private:
  mutable std::mutex gap_mu_;
  Gap gap_;
  SourceGapLedger gap_ledger_;
};

class PartitionDirectory {
 public:
  explicit PartitionDirectory(int lanes) : by_lane_(lanes) {}

  // Replaces the set of partitions ready for replication.
  void Publish(const std::vector<MirroredPartition>& partitions) {
    std::vector<std::vector<MirroredPartition>> by_lane(by_lane_.size());
    for (const auto& p : partitions) by_lane[p.lane].push_back(p);
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < by_lane.size(); ++i) {
      if (by_lane[i] != by_lane_[i]) {
        by_lane_[i] = std::move(by_lane[i]);
        version_.fetch_add(1);
      }
    }
    published_ = true;
  }
  std::vector<MirroredPartition> ForLane(int lane) const {
    std::lock_guard<std::mutex> lock(mu_);
    return by_lane_[lane];
  }
  uint64_t version() const { return version_.load(); }

  // Progress counters live as long as the directory; never removed, so lanes
  // and Status() may keep raw pointers.
  PartitionProgress* Progress(const TopicPartition& tp) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& p = progress_[tp];
    if (!p) p = std::make_unique<PartitionProgress>();
    return p.get();
  }
  std::vector<std::pair<MirroredPartition, PartitionProgress*>> AllWithProgress() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<MirroredPartition, PartitionProgress*>> out;
    for (const auto& lane : by_lane_) {
      for (const auto& p : lane) {
        auto& prog = progress_[p.source];
        if (!prog) prog = std::make_unique<PartitionProgress>();
        out.emplace_back(p, prog.get());
      }
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<MirroredPartition>> by_lane_;
  std::map<TopicPartition, std::unique_ptr<PartitionProgress>> progress_;
  std::atomic<uint64_t> version_{0};
  bool published_ = false;
};

// Names of a pipeline's internal topics and ids, derived in one place.
struct PipelineNames {
  explicit PipelineNames(const config::PipelineConfig& p)
      : checkpoint_topic("__longhaul." + p.name + ".checkpoints"),
        offset_sync_topic("__longhaul." + p.name + ".offset-syncs"),
        lane_group("__longhaul." + p.name + ".lanes"),
        transactional_id_prefix("longhaul." + p.name + ".lane-") {}
  std::string checkpoint_topic;
  std::string offset_sync_topic;
  std::string lane_group;
  std::string transactional_id_prefix;
};

}  // namespace longhaul::mirror
