#include "edge_batcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "longhaul/transport/record_codec.h"

namespace longhaul::mirror {

EdgeBatcher::EdgeBatcher(EdgeBatchSink* sink, const Clock* clock, EdgeBatcherOptions options)
    : sink_(sink), clock_(clock), options_(options) {}

EdgePartition& EdgeBatcher::PartOf(const TopicPartition& tp) {
  auto [it, inserted] = parts_.try_emplace(tp);
  if (inserted) {
    it->second.tp = tp;
    by_handle_.clear();  // it may hold "not ours" for this partition
  }
  return it->second;
}

EdgePartition* EdgeBatcher::Find(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  return it == parts_.end() ? nullptr : &it->second;
}

void EdgeBatcher::SetDiscovered(const std::set<TopicPartition>& discovered) {
  for (const auto& tp : discovered) PartOf(tp).discovered = true;
}

std::vector<std::pair<TopicPartition, absl::Status>> EdgeBatcher::StartDiscovered(
    const std::function<absl::StatusOr<int64_t>(const TopicPartition&)>& latest) {
  std::vector<std::pair<TopicPartition, absl::Status>> unresolved;
  for (auto& [tp, p] : parts_) {
    if (!p.discovered || p.assigned || p.stopped) continue;
    if (!p.start_known) {
      // The hub does not know the partition: the pipeline's start.
      if (latest) {
        absl::StatusOr<int64_t> offset = latest(tp);
        if (!offset.ok()) {
          unresolved.emplace_back(tp, offset.status());
          continue;
        }
        p.pos = *offset;
        p.sealed_next = *offset;
      }
      p.start_known = true;
    }
    p.assigned = true;
    reassign_ = true;
  }
  return unresolved;
}

std::vector<SourceAssignment> EdgeBatcher::Assignment() const {
  std::vector<SourceAssignment> out;
  for (const auto& [tp, p] : parts_) {
    if (p.assigned && !p.stopped) out.push_back(SourceAssignment{tp, p.pos});
  }
  return out;
}

std::vector<TopicPartition> EdgeBatcher::Assigned() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, p] : parts_) {
    if (p.assigned) out.push_back(tp);
  }
  return out;
}

void EdgeBatcher::Stop(const TopicPartition& tp) {
  if (EdgePartition* p = Find(tp)) p->stopped = true;
}

void EdgeBatcher::SkipTo(const TopicPartition& tp, int64_t offset) {
  // The next batch still starts where the reader stood, so the hub moves
  // its checkpoint past the gap as past any other.
  if (EdgePartition* p = Find(tp)) p->pos = offset;
}

EdgePartition* EdgeBatcher::FindByHandle(const SourceRecordView& r) {
  auto key = std::make_pair(r.partition_handle, r.partition);
  if (auto it = by_handle_.find(key); it != by_handle_.end()) return it->second;
  EdgePartition* p = Find(TopicPartition{r.topic, r.partition});
  by_handle_[key] = p;
  return p;
}

absl::Status EdgeBatcher::OnRecord(SourceRecordView& r) {
  EdgePartition* p = FindByHandle(r);
  if (p == nullptr || !p->assigned || (p->pos >= 0 && r.offset < p->pos)) {
    return absl::OkStatus();  // not ours, or read again from before a seek
  }
  Record rec;
  rec.offset = r.offset;
  rec.timestamp_ms = r.timestamp_ms;
  if (r.key) rec.key.emplace(static_cast<const char*>(r.key), r.key_len);
  if (r.value) rec.value.emplace(static_cast<const char*>(r.value), r.value_len);
  rec.headers = r.headers.ToVector();
  if (p->open.empty()) {
    p->opened_at = clock_->Now();
    ++open_count_;
  }
  p->open_bytes += transport::EncodedSizeBound(rec);
  p->open.push_back(std::move(rec));
  p->pos = r.offset + 1;
  if (p->open_bytes >= options_.max_batch_bytes) {
    Seal(*p);
    return TrySend(*p);
  }
  return absl::OkStatus();
}

void EdgeBatcher::Acknowledge(EdgePartition& p, int64_t offset) {
  p.acked = std::max(p.acked, offset);
  while (!p.unacked.empty() && p.unacked.front().first <= p.acked) p.unacked.pop_front();
}

void EdgeBatcher::OnResume(const transport::ResumeEvent& resume) {
  for (const auto& c : resume.committed) {
    EdgePartition& p = PartOf(c.partition);
    p.hub_known = true;
    Acknowledge(p, c.offset);
  }
  for (const auto& s : resume.seek) Seek(s.partition, s.offset);
}

void EdgeBatcher::OnAck(const transport::AckEvent& ack) {
  for (const auto& c : ack.committed) Acknowledge(PartOf(c.partition), c.offset);
}

void EdgeBatcher::OnWritable() { blocked_ = false; }

void EdgeBatcher::Seek(const TopicPartition& tp, int64_t offset) {
  EdgePartition& p = PartOf(tp);
  p.hub_known = true;
  p.start_known = true;
  p.resync_since.reset();
  if (p.last_sent_first == offset && p.sent_next > offset && p.sealed_next >= p.sent_next) {
    // The link took a batch starting exactly there after it applied this
    // seek and before we saw it: it expects the end of that batch, which
    // is where we are.
    return;
  }
  if (!p.open.empty()) --open_count_;
  p.open.clear();
  p.open_bytes = 0;
  p.sealed.clear();
  p.unacked.clear();
  p.pos = offset;
  p.sealed_next = offset;
  p.sent_next = offset;
  p.last_sent_first = -1;
  if (p.assigned) reassign_ = true;
}

void EdgeBatcher::Seal(EdgePartition& p) {
  if (p.open.empty()) return;
  EdgePartition::Sealed s;
  s.batch.partition = p.tp;
  s.batch.first_offset = p.sealed_next;  // where the reader stood; -1: the first record's
  s.batch.last_offset = p.open.back().offset;
  s.bytes = p.open_bytes + kEdgeFrameSlackBytes;
  for (const Record& r : p.open) {
    if (s.oldest_timestamp_ms < 0 || r.timestamp_ms < s.oldest_timestamp_ms) s.oldest_timestamp_ms = r.timestamp_ms;
  }
  s.batch.records = std::move(p.open);
  p.sealed_next = s.batch.last_offset + 1;
  p.open.clear();
  p.open_bytes = 0;
  --open_count_;
  p.sealed.push_back(std::move(s));
}

absl::Status EdgeBatcher::SendPending() {
  if (blocked_) return absl::OkStatus();
  for (auto& [tp, p] : parts_) {
    if (!p.sealed.empty()) {
      if (auto s = TrySend(p); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status EdgeBatcher::Tick(bool all) {
  const SteadyTime now = clock_->Now();
  if (open_count_ > 0 || all) {
    for (auto& [tp, p] : parts_) {
      if (p.open.empty()) continue;
      if (all || now - p.opened_at >= options_.max_batch_delay) {
        Seal(p);
        if (auto s = TrySend(p); !s.ok()) return s;
      }
    }
  }
  for (auto& [tp, p] : parts_) {
    if (p.resync_since && now - *p.resync_since > options_.resync_grace) {
      return absl::InternalError(
          absl::StrCat("the link refused a batch of ", tp.ToString(), " as out of order and no resume explained it"));
    }
  }
  return absl::OkStatus();
}

// Hands p's sealed batches to the link in order until it is full.
absl::Status EdgeBatcher::TrySend(EdgePartition& p) {
  while (!p.sealed.empty() && !blocked_ && !p.resync_since) {
    EdgePartition::Sealed& s = p.sealed.front();
    // A batch larger than the whole budget still goes once the buffer is empty.
    if (!sink_->CanSend(std::min<uint64_t>(s.bytes, options_.buffer_budget_bytes))) {
      Block();
      return absl::OkStatus();
    }
    const int64_t first = s.batch.first_offset >= 0 ? s.batch.first_offset : s.batch.records.front().offset;
    const int64_t end = s.batch.last_offset + 1;
    const int64_t records = static_cast<int64_t>(s.batch.records.size());
    const int64_t bytes = static_cast<int64_t>(s.bytes - kEdgeFrameSlackBytes);
    const int64_t oldest = s.oldest_timestamp_ms;
    absl::StatusOr<uint64_t> sent = sink_->SendBatch(std::move(s.batch));
    p.sealed.pop_front();
    if (sent.ok()) {
      if (oldest >= 0) p.unacked.emplace_back(end, oldest);
      p.last_sent_first = first;
      p.sent_next = end;
      p.records_sent += records;
      p.bytes_sent += bytes;
      continue;
    }
    switch (sent.status().code()) {
      case absl::StatusCode::kFailedPrecondition:
        // Raced with a resume seek (which will reposition the partition),
        // or the link and we disagree (then start over after a grace).
        p.resync_since = clock_->Now();
        p.sealed.clear();
        return absl::OkStatus();
      case absl::StatusCode::kResourceExhausted:
        // Cannot happen after CanSend (only this thread adds), but if it
        // does the batch is gone: read it again.
        Seek(p.tp, first);
        Block();
        return absl::OkStatus();
      case absl::StatusCode::kCancelled:
        return absl::OkStatus();  // stopping
      default:
        return sent.status();
    }
  }
  return absl::OkStatus();
}

// The link buffer is full: pause the source until OnWritable.
void EdgeBatcher::Block() {
  if (blocked_) return;
  blocked_ = true;
  ++pauses_;
}

}  // namespace longhaul::mirror
