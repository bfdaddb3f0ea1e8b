#include "lane_transaction.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kafka_status.h"
#include "longhaul/base/check.h"
#include "longhaul/offsets/offset_sync.h"

namespace longhaul::mirror {
namespace {

using std::chrono::milliseconds;

// While the writer's queue is full: how long one wait for deliveries lasts.
constexpr milliseconds kQueueFullWait{50};
// A partition unknown to the writer: how long one metadata request and the
// wait after it may take.
constexpr milliseconds kMetadataTimeout{2000};
constexpr milliseconds kMetadataRetryWait{100};
// One flush step while waiting for deliveries at commit.
constexpr milliseconds kFlushSlice{200};

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

LaneTransaction::LaneTransaction(TransactionalWriter* writer, const Clock* clock, const PipelineMetrics* metrics,
                                 LaneTransactionOptions options,
                                 std::function<std::optional<SteadyTime>()> stop_deadline)
    : writer_(writer),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      stop_deadline_(std::move(stop_deadline)),
      policy_(options_.commit_interval, options_.min_commit_interval, options_.max_transaction_bytes) {
  writer_->SetDeliveryHandler([this](const TransactionalWriter::Delivery& d) { OnDelivery(d); });
  checkpoint_topic_ = writer_->TopicId(options_.checkpoint_topic);
  offset_sync_topic_ = writer_->TopicId(options_.offset_sync_topic);
}

absl::Status LaneTransaction::SetPartitions(
    const std::vector<MirroredPartition>& wanted,
    const std::function<PartitionProgress*(const TopicPartition&)>& progress,
    const std::function<absl::StatusOr<PartitionStart>(const MirroredPartition&)>& start) {
  LH_CHECK(!policy_.HasWork() && !open_);
  absl::flat_hash_map<TopicPartition, std::unique_ptr<Partition>> next;
  for (const MirroredPartition& mp : wanted) {
    auto it = partitions_.find(mp.source);
    if (it != partitions_.end() && it->second->mp == mp) {
      next[mp.source] = std::move(it->second);
      continue;
    }
    auto p = std::make_unique<Partition>();
    p->mp = mp;
    p->progress = progress(mp.source);
    LH_CHECK(p->progress != nullptr);
    p->target_topic = writer_->TopicId(mp.target_topic);
    absl::StatusOr<PartitionStart> s = start(mp);
    if (!s.ok()) return s.status();
    p->committed_next = s->committed_next;
    p->committed_next_target = s->committed_next_target;
    if (s->pending_checkpoint) {
      // Persist the resolved start, or a restart before the first record
      // would resolve "latest" again and skip what arrived in between.
      p->pending_checkpoint = true;
      policy_.OnPendingCheckpoint(clock_->Now());
    }
    if (p->committed_next >= 0) p->progress->replicated_offset.store(p->committed_next);
    next[mp.source] = std::move(p);
  }
  partitions_ = std::move(next);
  by_handle_.clear();
  return absl::OkStatus();
}

std::vector<SourceAssignment> LaneTransaction::Assignment() const {
  std::vector<SourceAssignment> out;
  for (const auto& [tp, p] : partitions_) {
    if (!p->stopped) out.push_back({tp, p->committed_next});
  }
  return out;
}

LaneTransaction::Partition* LaneTransaction::Find(const TopicPartition& tp) {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : it->second.get();
}

LaneTransaction::Partition* LaneTransaction::FindByHandle(const SourceRecordView& r) {
  auto key = std::make_pair(r.partition_handle, r.partition);
  if (auto it = by_handle_.find(key); it != by_handle_.end()) return it->second;
  Partition* p = Find(TopicPartition{r.topic, r.partition, r.origin ? r.origin : ""});
  by_handle_[key] = p;
  return p;
}

void LaneTransaction::StopPartition(const TopicPartition& tp) {
  if (Partition* p = Find(tp)) p->stopped = true;
}

void LaneTransaction::SkipLostRange(const TopicPartition& tp, int64_t first, int64_t end) {
  Partition* p = Find(tp);
  if (p == nullptr) return;
  if (!p->skipped.empty() && p->skipped.back().end >= first) {
    p->skipped.back().end = std::max(p->skipped.back().end, end);
  } else {
    p->skipped.push_back(offsets::LostRange{first, end});
  }
  p->pending_checkpoint = true;
  policy_.OnPendingCheckpoint(clock_->Now());
}

absl::Status LaneTransaction::Begin() {
  if (!options_.transactional || open_) return absl::OkStatus();
  if (absl::Status s = writer_->BeginTransaction(absl::StrCat("lane ", options_.lane, ": begin_transaction"));
      !s.ok()) {
    return s;
  }
  open_ = true;
  return absl::OkStatus();
}

absl::Status LaneTransaction::Add(SourceRecordView& r, SteadyTime now) {
  Partition* p = FindByHandle(r);
  if (p == nullptr) return absl::OkStatus();  // from a partition we no longer own; its headers go with r
  if (options_.provenance.Apply(&r.headers) == ProvenanceVerdict::kVisited) {
    p->txn_filtered++;
    p->filtered_next = r.offset + 1;
    p->pending_checkpoint = true;
    policy_.OnPendingCheckpoint(now);
    return absl::OkStatus();
  }
  if (absl::Status s = Begin(); !s.ok()) return s;
  TransactionalWriter::Message m;
  m.topic = p->target_topic;
  m.partition = r.partition;
  m.key = r.key;
  m.key_len = r.key_len;
  m.value = r.value;
  m.value_len = r.value_len;
  m.timestamp_ms = r.timestamp_ms;
  m.headers = &r.headers;
  m.tag = p;
  SteadyTime metadata_deadline{};  // set on the first unknown-partition answer
  while (true) {
    absl::Status error;
    const TransactionalWriter::ProduceResult result = writer_->Produce(m, &error);
    if (result == TransactionalWriter::ProduceResult::kQueued) break;
    if (result == TransactionalWriter::ProduceResult::kQueueFull && !Stopping()) {
      const SteadyTime waited_from = clock_->Now();
      writer_->Poll(kQueueFullWait);  // backpressure: wait for deliveries
      if (metrics_) metrics_->backpressure_seconds->Increment(Seconds(clock_->Now() - waited_from));
      continue;
    }
    if (result == TransactionalWriter::ProduceResult::kUnknownPartition && !Stopping()) {
      // The partition was just added to the target topic (discovery grew
      // it: a new source partition, or a hub that learns partitions as
      // edges ship them) and the writer's cached metadata predates it.
      // Refresh and retry for a while instead of failing the lane, which
      // would make a hub's edges resend everything uncommitted.
      const SteadyTime t = clock_->Now();
      if (metadata_deadline == SteadyTime{}) metadata_deadline = t + options_.new_partition_wait;
      if (t < metadata_deadline) {
        writer_->RefreshMetadata(p->target_topic, kMetadataTimeout).IgnoreError();
        writer_->Poll(kMetadataRetryWait);
        continue;
      }
    }
    if (error.ok()) {
      error = result == TransactionalWriter::ProduceResult::kQueueFull
                  ? absl::UnavailableError(absl::StrCat("producing to ", p->mp.target_topic, "[", r.partition,
                                                        "]: the producer queue is full and the lane is stopping"))
                  : absl::UnavailableError(absl::StrCat("producing to ", p->mp.target_topic, "[", r.partition,
                                                        "]: the partition is unknown to the target producer"));
    }
    return WithContext(error, absl::StrCat("lane ", options_.lane));
  }
  const int64_t bytes = static_cast<int64_t>(r.value_len + r.key_len);
  const int64_t ts = r.timestamp_ms;
  if (p->txn_records == 0) p->progress->oldest_pending_timestamp_ms.store(ts);
  if (!txn_timestamps_.empty() && txn_timestamps_.back().first == ts) {
    ++txn_timestamps_.back().second;
  } else {
    txn_timestamps_.emplace_back(ts, 1);
  }
  p->awaiting_delivery.push_back(r.offset);
  p->txn_last_source = r.offset;
  p->txn_records++;
  p->txn_bytes += bytes;
  policy_.OnRecord(now, bytes);
  return absl::OkStatus();
}

void LaneTransaction::OnDelivery(const TransactionalWriter::Delivery& d) {
  auto* p = static_cast<Partition*>(const_cast<void*>(d.tag));
  if (!d.status.ok()) {
    if (delivery_error_.ok()) {
      delivery_error_ = WithContext(
          d.status, absl::StrCat("lane ", options_.lane, ": ", p ? p->mp.source.ToString() : std::string("checkpoint")));
    }
    return;
  }
  if (p == nullptr) return;  // a checkpoint or offset-sync record
  if (d.offset < 0) {
    // acks=all always reports the offset; without it the segment is unknown.
    if (delivery_error_.ok()) {
      delivery_error_ = absl::InternalError(absl::StrCat("lane ", options_.lane, ": delivery report for ",
                                                         p->mp.source.ToString(), " carries no target offset"));
    }
    return;
  }
  // A report for a record of an aborted transaction that the writer still
  // served: nothing waits for it any more.
  if (p->awaiting_delivery.empty()) return;
  const int64_t source_offset = p->awaiting_delivery.front();
  p->awaiting_delivery.pop_front();
  p->segments.Add(source_offset, d.offset);
  p->txn_last_target = d.offset;
}

absl::Status LaneTransaction::ServeDeliveries() {
  writer_->Poll(milliseconds::zero());
  return delivery_error_;
}

SteadyTime LaneTransaction::Effective(SteadyTime deadline) const {
  // A stop request (drain, lanes revoked or lost) tightens the deadline:
  // never block a rebalance or a SIGTERM for the whole commit timeout.
  std::optional<SteadyTime> stop = stop_deadline_();
  return stop ? std::min(deadline, *stop) : deadline;
}

absl::Status LaneTransaction::WriteInternal(int topic, const std::string& key, const std::string& value,
                                            const std::string& what) {
  TransactionalWriter::Message m;
  m.topic = topic;
  m.partition = options_.lane;
  m.key = key.data();
  m.key_len = key.size();
  m.value = value.data();
  m.value_len = value.size();
  m.tag = nullptr;
  absl::Status error;
  switch (writer_->Produce(m, &error)) {
    case TransactionalWriter::ProduceResult::kQueued:
      return absl::OkStatus();
    case TransactionalWriter::ProduceResult::kQueueFull:
      return absl::UnavailableError(absl::StrCat(what, ": the producer queue is full"));
    case TransactionalWriter::ProduceResult::kUnknownPartition:
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": partition ", options_.lane, " of the internal topic does not exist"));
    case TransactionalWriter::ProduceResult::kFailed:
      break;
  }
  return WithContext(error, what);
}

absl::StatusOr<LaneTransaction::Committed> LaneTransaction::Commit(SteadyTime deadline) {
  // Nothing to commit: no transaction is begun for it (an empty one would
  // cost the target a round of EndTxn for nothing).
  if (!policy_.HasWork() && !open_) return Committed{{}, clock_->WallMillis()};
  const std::string what = absl::StrCat("lane ", options_.lane, ": committing");
  const SteadyTime started = clock_->Now();
  // 1. Every record delivered: only then are the target offsets known.
  while (writer_->Outstanding() > 0) {
    if (clock_->Now() > Effective(deadline)) {
      return absl::UnavailableError(absl::StrCat(what, ": records not delivered to the target in time"));
    }
    writer_->Flush(kFlushSlice);
    if (!delivery_error_.ok()) return delivery_error_;
  }
  if (metrics_) metrics_->backpressure_seconds->Increment(Seconds(clock_->Now() - started));
  if (!delivery_error_.ok()) return delivery_error_;
  if (absl::Status s = Begin(); !s.ok()) return s;
  // 2. Checkpoints of every partition written in this transaction.
  const int64_t now_ms = clock_->WallMillis();
  for (auto& [tp, p] : partitions_) {
    if (p->txn_records == 0 && !p->pending_checkpoint) continue;
    LH_CHECK(p->awaiting_delivery.empty());
    offsets::Checkpoint cp;
    cp.next_source_offset = p->txn_records > 0 ? p->txn_last_source + 1 : p->committed_next;
    cp.next_source_offset = std::max(cp.next_source_offset, p->filtered_next);
    // A skipped gap moves the resume point past it even before a record
    // after it was read.
    if (!p->skipped.empty()) {
      cp.next_source_offset = std::max(cp.next_source_offset, p->skipped.back().end);
      // Written down with the move past it, so that offset translation
      // says "lost" for a group inside the gap rather than "exact".
      cp.lost = p->skipped;
    }
    cp.next_target_offset = p->txn_records > 0 ? p->txn_last_target + 1 : p->committed_next_target;
    cp.commit_time_ms = now_ms;
    cp.lane = options_.lane;
    cp.segments.assign(p->segments.segments().begin(), p->segments.segments().end());
    key_buf_ = offsets::EncodeCheckpointKey(offsets::CheckpointKey{options_.source_cluster, tp.topic, tp.partition,
                                                                   tp.origin});
    value_buf_.clear();
    offsets::EncodeCheckpoint(cp, &value_buf_);
    if (absl::Status s = WriteInternal(checkpoint_topic_, key_buf_, value_buf_,
                                       absl::StrCat(what, ": writing the checkpoint of ", tp.ToString()));
        !s.ok()) {
      return s;
    }
    if (p->txn_records == 0 && cp.lost.empty()) continue;
    // The exact source-to-target segments of this transaction, kept (unlike
    // the compacted checkpoint) for the offset-sync retention, so consumer
    // groups that committed long ago still translate exactly.
    offsets::OffsetSyncRecord sync;
    sync.topic = tp.topic;
    sync.partition = tp.partition;
    sync.segments = std::move(cp.segments);
    sync.lost = std::move(cp.lost);
    sync.commit_time_ms = now_ms;
    value_buf_.clear();
    offsets::EncodeOffsetSync(sync, &value_buf_);
    if (absl::Status s = WriteInternal(offset_sync_topic_, key_buf_, value_buf_,
                                       absl::StrCat(what, ": writing the offset sync of ", tp.ToString()));
        !s.ok()) {
      return s;
    }
  }
  // 3. Records and checkpoints become visible together, or not at all.
  if (options_.transactional) {
    while (true) {
      auto left = std::chrono::duration_cast<milliseconds>(Effective(deadline) - clock_->Now());
      absl::Status s = writer_->CommitTransaction(std::clamp(left, milliseconds(100), milliseconds(10'000)), what);
      if (s.ok()) break;
      if (IsRetriable(s) && clock_->Now() < Effective(deadline)) continue;
      return s;
    }
    open_ = false;
  } else {
    while (writer_->Outstanding() > 0) {
      if (clock_->Now() > Effective(deadline)) {
        return absl::UnavailableError(what + ": checkpoints not delivered in time");
      }
      writer_->Flush(kFlushSlice);
    }
    if (!delivery_error_.ok()) return delivery_error_;
  }
  // 4. Durable: advance positions.
  Committed out;
  for (auto& [tp, p] : partitions_) {
    if (p->txn_records == 0 && !p->pending_checkpoint) continue;
    if (p->txn_records > 0) {
      p->committed_next = p->txn_last_source + 1;
      p->committed_next_target = p->txn_last_target + 1;
    }
    p->committed_next = std::max(p->committed_next, p->filtered_next);
    if (p->txn_filtered > 0) {
      p->progress->records_filtered_total.fetch_add(p->txn_filtered);
      if (metrics_) metrics_->records_filtered_visited->Increment(static_cast<double>(p->txn_filtered));
      p->txn_filtered = 0;
    }
    p->filtered_next = -1;
    if (!p->skipped.empty()) p->committed_next = std::max(p->committed_next, p->skipped.back().end);
    p->skipped.clear();
    if (p->committed_next >= 0) out.next_offsets[tp] = p->committed_next;
    p->progress->replicated_offset.store(p->committed_next);
    p->progress->advanced_at_ms.store(now_ms);
    p->progress->records_total.fetch_add(p->txn_records);
    p->progress->bytes_total.fetch_add(p->txn_bytes);
    p->progress->oldest_pending_timestamp_ms.store(-1);
    p->txn_records = 0;
    p->txn_bytes = 0;
    p->pending_checkpoint = false;
    p->segments.Clear();
  }
  const SteadyTime finished = clock_->Now();
  policy_.OnCommitted(finished, finished - started);
  out.wall_ms = clock_->WallMillis();
  if (metrics_) {
    metrics_->commit_latency->Observe(Seconds(finished - started));
    metrics_->transactions->Increment();
    for (const auto& [ts, count] : txn_timestamps_) {
      metrics_->replication_latency->Observe(std::max<int64_t>(0, out.wall_ms - ts) / 1000.0,
                                             static_cast<uint64_t>(count));
    }
  }
  txn_timestamps_.clear();
  return out;
}

void LaneTransaction::Abort(milliseconds timeout) {
  if (options_.transactional && open_) {
    // Best effort: the caller ends the session, and the next owner's (or
    // session's) InitTransactions aborts whatever is left.
    writer_->AbortTransaction(timeout, absl::StrCat("lane ", options_.lane, ": aborting")).IgnoreError();
    open_ = false;
  }
  ForgetOpenTransaction();
}

void LaneTransaction::ForgetOpenTransaction() {
  for (auto& [tp, p] : partitions_) {
    p->txn_records = 0;
    p->txn_bytes = 0;
    p->txn_last_source = -1;
    p->txn_last_target = -1;
    p->pending_checkpoint = false;
    // Filtered records of an aborted transaction are read (and filtered) again.
    p->txn_filtered = 0;
    p->filtered_next = -1;
    p->skipped.clear();
    p->awaiting_delivery.clear();
    p->segments.Clear();
    p->progress->oldest_pending_timestamp_ms.store(-1);
  }
  txn_timestamps_.clear();
  policy_.OnCommitted(clock_->Now(), {});
}

}  // namespace longhaul::mirror
