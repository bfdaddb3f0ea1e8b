// When a lane commits its open transaction: after commit_interval since the
// first record of the transaction, as soon as max_transaction_bytes were
// written, or early once the lane is caught up (its source says nothing
// more is waiting) and both min_commit_interval and the time the last commit
// took have passed since it ended (so a caught-up lane spends at most about
// half its time committing, even when an overloaded target makes commits slow).
// Pure logic: the lane passes `now`; this is the throughput/latency knob.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "longhaul/base/clock.h"

namespace longhaul::mirror {

class CommitPolicy {
 public:
  // `min_interval` >= `interval` turns early commits off.
  CommitPolicy(std::chrono::milliseconds interval, std::chrono::milliseconds min_interval, int64_t max_bytes)
      : interval_(interval), min_interval_(std::min(min_interval, interval)), max_bytes_(max_bytes) {}

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
  // max_transaction_bytes reached: stop adding records and commit.
  bool Full() const { return bytes_ >= max_bytes_; }
  // `caught_up`: the source had nothing more to hand out just now. Under a
  // backlog that never happens, so transactions stay as large as the
  // interval and size allow; at a low rate the records are committed (made
  // visible) without waiting out the interval, at most once per
  // min_interval so the transaction rate stays bounded.
  bool ShouldCommit(SteadyTime now, bool caught_up = false) const {
    if (!HasWork()) return false;
    if (Full() || now - first_record_at_ >= interval_) return true;
    return caught_up && MayCommitEarly(now);
  }
  // An early commit would be allowed now if the lane is caught up (asking
  // the source that costs a little, so the lane asks only then).
  bool MayCommitEarly(SteadyTime now) const {
    return HasWork() && min_interval_ < interval_ && now >= EarlyFrom();
  }
  // How long the lane may block waiting for input before it must commit.
  // `early`: also wake when an early commit becomes allowed (the lane was
  // caught up when it last ran dry; a lane still behind waits for records).
  std::chrono::milliseconds TimeUntilDue(SteadyTime now, bool early = true) const {
    if (!HasWork()) return interval_;
    SteadyTime due = first_record_at_ + interval_;
    if (early && min_interval_ < interval_) due = std::min(due, EarlyFrom());
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - now);
    return std::max(left, std::chrono::milliseconds::zero());
  }
  // The open transaction committed at `now`, after `took` (flush, checkpoints, commit).
  void OnCommitted(SteadyTime now, std::chrono::nanoseconds took = {}) {
    records_ = 0;
    bytes_ = 0;
    pending_checkpoint_ = false;
    last_commit_at_ = now;
    last_commit_took_ = took;
  }
  int64_t bytes() const { return bytes_; }
  int64_t records() const { return records_; }

 private:
  SteadyTime EarlyFrom() const {
    return last_commit_at_ + std::max<std::chrono::nanoseconds>(min_interval_, last_commit_took_);
  }

  std::chrono::milliseconds interval_;
  std::chrono::milliseconds min_interval_;
  int64_t max_bytes_;
  SteadyTime first_record_at_{};
  SteadyTime last_commit_at_{};
  std::chrono::nanoseconds last_commit_took_{};
  int64_t records_ = 0;
  int64_t bytes_ = 0;
  bool pending_checkpoint_ = false;
};

}  // namespace longhaul::mirror
