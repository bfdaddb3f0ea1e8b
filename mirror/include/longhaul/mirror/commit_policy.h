// When a lane commits its open transaction: after commit_interval since the
// first record of the transaction, or as soon as max_transaction_bytes were
// written. Pure logic: the lane passes `now`; this is the throughput/latency knob.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "longhaul/base/clock.h"

namespace longhaul::mirror {

class CommitPolicy {
 public:
  CommitPolicy(std::chrono::milliseconds interval, int64_t max_bytes) : interval_(interval), max_bytes_(max_bytes) {}

  // A record of `bytes` joined the open transaction at `now`.
  void OnRecord(SteadyTime now, int64_t bytes) {
    if (records_ == 0) first_record_at_ = now;
    ++records_;
    bytes_ += bytes;
  }
  // Something other than records (a checkpoint for a new partition) must be committed.
  void OnPendingCheckpoint(SteadyTime now) {
    if (!pending_checkpoint_ && records_ == 0) first_record_at_ = now;
    pending_checkpoint_ = true;
  }
  bool HasWork() const { return records_ > 0 || pending_checkpoint_; }
  bool ShouldCommit(SteadyTime now) const {
    if (!HasWork()) return false;
    return bytes_ >= max_bytes_ || now - first_record_at_ >= interval_;
  }
  // How long the lane may block waiting for input before it must commit.
  std::chrono::milliseconds TimeUntilDue(SteadyTime now) const {
    if (!HasWork()) return interval_;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(first_record_at_ + interval_ - now);
    return std::max(left, std::chrono::milliseconds::zero());
  }
  void OnCommitted() {
    records_ = 0;
    bytes_ = 0;
    pending_checkpoint_ = false;
  }
  int64_t bytes() const { return bytes_; }
  int64_t records() const { return records_; }

 private:
  std::chrono::milliseconds interval_;
  int64_t max_bytes_;
  SteadyTime first_record_at_{};
  int64_t records_ = 0;
  int64_t bytes_ = 0;
  bool pending_checkpoint_ = false;
};

}  // namespace longhaul::mirror
