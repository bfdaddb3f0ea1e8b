#include "edge_engine.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"
#include "longhaul/offsets/lane.h"
#include "wire.h"

namespace longhaul::transport {
namespace {

uint64_t Mix64(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

int64_t Nanos(SteadyTime t) { return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(); }

int64_t Millis(std::chrono::nanoseconds d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

uint32_t ConnectionOf(const TopicPartition& partition, uint32_t connections) {
  LH_CHECK(connections >= 1);
  return static_cast<uint32_t>(Mix64(offsets::StableTopicPartitionHash(partition.topic, partition.partition)) %
                               connections);
}

SessionEnd ClassifyHubError(const ErrorFrame& error) {
  switch (error.code) {
    case absl::StatusCode::kUnavailable:
      return SessionEnd::kHubUnavailable;
    case absl::StatusCode::kAborted:
      return SessionEnd::kUnknownGeneration;
    case absl::StatusCode::kFailedPrecondition:
      return absl::StartsWith(error.message, "stale generation") ? SessionEnd::kStaleGeneration : SessionEnd::kOther;
    default:
      return SessionEnd::kOther;
  }
}

EdgeLinkPlan::EdgeLinkPlan(size_t hub_count) : hub_count_(hub_count) { LH_CHECK(hub_count >= 1); }

EdgeLinkPlan::Retry EdgeLinkPlan::OnSessionEnded(const Dial& dialled, SessionEnd end) {
  if (stopped_) return Retry::kNever;
  // The link moved on while this session was on an older hub: follow now.
  const bool moved_since = dialled.move != moves_;
  switch (end) {
    case SessionEnd::kStaleGeneration:
      stopped_ = true;
      return Retry::kNever;
    case SessionEnd::kUnknownGeneration:
      // Said hello with 0 and still refused: not a generation problem.
      if (dialled.generation == 0) return moved_since ? Retry::kNow : Retry::kBackOff;
      if (generation_ == dialled.generation) generation_ = 0;
      return Retry::kNow;
    case SessionEnd::kHubUnavailable:
      if (moved_since) return Retry::kNow;  // another connection moved the link already
      if (hub_count_ == 1) return Retry::kBackOff;  // nowhere else to go
      hub_ = (hub_ + 1) % hub_count_;
      ++moves_;
      if (++failed_moves_ >= hub_count_) {
        failed_moves_ = 0;
        return Retry::kBackOff;  // a whole round without a resume
      }
      return Retry::kNow;
    case SessionEnd::kOther:
      return moved_since ? Retry::kNow : Retry::kBackOff;
  }
  return Retry::kBackOff;
}

bool EdgeLinkPlan::OnResumed(const Dial& dialled, uint64_t generation) {
  if (stopped_ || dialled.hub != hub_) return false;
  failed_moves_ = 0;
  generation_ = generation;
  return true;
}

EdgeConnectionEngine::EdgeConnectionEngine(EdgeEngineOptions options)
    : options_(std::move(options)), window_(options_.window) {
  classes_.resize(std::max<size_t>(1, options_.class_weights.size()));
  for (size_t i = 0; i < options_.class_weights.size(); ++i) classes_[i].weight = std::max<uint32_t>(1, options_.class_weights[i]);
}

size_t EdgeConnectionEngine::retained_batches() const {
  size_t n = 0;
  for (const ClassQueue& q : classes_) n += q.retained.size();
  return n;
}

bool EdgeConnectionEngine::Owns(const TopicPartition& tp) const {
  return ConnectionOf(tp, options_.hello.connection_count) == options_.hello.connection_index;
}

absl::Status EdgeConnectionEngine::Enqueue(PendingBatch batch) {
  LH_CHECK(Owns(batch.partition));
  LH_CHECK(!location_of_.contains(batch.id));
  auto [it, inserted] = partitions_.try_emplace(batch.partition);
  PartitionCursor& cursor = it->second;
  if (cursor.expected_next >= 0 && batch.first_offset != cursor.expected_next) {
    return absl::FailedPreconditionError(absl::StrCat(
        "batch for ", batch.partition.ToString(), " starts at offset ", batch.first_offset, " but the link expects ",
        cursor.expected_next, " (where the previous batch or the last resume seek ended)"));
  }
  // A partition stays in the class of its first batch: its batches must go
  // out in order, and order holds only within a class.
  if (inserted) cursor.priority_class = std::min<uint32_t>(batch.priority_class, classes_.size() - 1);
  cursor.expected_next = batch.last_offset + 1;
  batch.priority_class = cursor.priority_class;
  batch.sent = false;
  batch.ever_sent = false;
  retained_bytes_ += batch.frame->size();
  const uint64_t sequence = next_sequence_++;
  location_of_[batch.id] = Location{batch.priority_class, sequence};
  classes_[batch.priority_class].retained.emplace(sequence, std::move(batch));
  return absl::OkStatus();
}

std::string EdgeConnectionEngine::OnConnected(SteadyTime now, uint64_t generation) {
  options_.hello.generation = generation;
  state_ = State::kAwaitResume;
  report_due_ = false;
  closing_ = false;
  last_received_ = now;
  last_ping_ = now - options_.heartbeat_interval;  // first ping right away: RTT early
  credit_.Reset();
  control_.clear();
  return EncodeFrame(options_.hello);
}

void EdgeConnectionEngine::OnDisconnected(SteadyTime now) {
  for (ClassQueue& q : classes_) {
    for (auto& [sequence, batch] : q.retained) {
      if (batch.sent) {
        window_.OnAbandoned(batch.frame->size());
        batch.sent = false;
      }
    }
    q.send_cursor = 0;
    q.next_tag = 0;
  }
  virtual_time_ = 0;
  rate_ready_at_ = SteadyTime::max();
  credit_.Reset();
  control_.clear();
  credit_wait_.Update(false, now);
  window_wait_.Update(false, now);
  state_ = State::kDisconnected;
}

void EdgeConnectionEngine::Forget(ClassQueue& queue, std::map<uint64_t, PendingBatch>::iterator it, Inbound* in,
                                  bool acked) {
  const uint64_t size = it->second.frame->size();
  if (it->second.sent && !acked) window_.OnAbandoned(size);
  retained_bytes_ -= size;
  in->freed_bytes += size;
  if (acked) {
    in->acked.push_back(it->second.id);
    ++counters_.batches_acked;
  }
  location_of_.erase(it->second.id);
  queue.retained.erase(it);
}

void EdgeConnectionEngine::ApplyResume(const ResumeFrame& resume, Inbound* in) {
  absl::flat_hash_map<TopicPartition, int64_t> resume_at;
  for (const PartitionOffset& p : resume.next_offsets) {
    if (!Owns(p.partition)) continue;
    resume_at[p.partition] = p.offset;
    in->committed.push_back(p);
  }
  // Batches wholly below the hub's point are committed: forget them. Note
  // where each partition's remaining batches start.
  // (A partition's batches are all in one class, in order.)
  absl::flat_hash_map<TopicPartition, int64_t> first_remaining;
  for (ClassQueue& q : classes_) {
    for (auto it = q.retained.begin(); it != q.retained.end();) {
      auto next = std::next(it);
      auto r = resume_at.find(it->second.partition);
      if (r != resume_at.end()) {
        if (it->second.last_offset < r->second) {
          Forget(q, it, in, /*acked=*/true);
        } else {
          first_remaining.try_emplace(it->second.partition, it->second.first_offset);
        }
      }
      it = next;
    }
  }
  for (const auto& [tp, next] : resume_at) {
    auto fr = first_remaining.find(tp);
    if (fr != first_remaining.end()) {
      // What we hold continues from the hub's point (the hub trims any
      // overlap): resend it, the reader goes on where it is.
      if (fr->second <= next) continue;
      // The hub needs offsets before what we hold (it lost a commit, or a
      // different target): what we hold cannot be sent in order. Drop it
      // and have the reader go back.
      ClassQueue& q = classes_[partitions_[tp].priority_class];
      for (auto it = q.retained.begin(); it != q.retained.end();) {
        auto after = std::next(it);
        if (it->second.partition == tp) Forget(q, it, in, /*acked=*/false);
        it = after;
      }
    } else {
      auto e = partitions_.find(tp);
      if (e != partitions_.end() && e->second.expected_next == next) continue;
    }
    partitions_[tp].expected_next = next;
    in->seek.push_back(PartitionOffset{tp, next});
  }
  std::sort(in->seek.begin(), in->seek.end(),
            [](const PartitionOffset& a, const PartitionOffset& b) { return a.partition < b.partition; });
}

void EdgeConnectionEngine::ApplyAck(const AckFrame& ack, SteadyTime now, Inbound* in) {
  window_.OnHubHold(std::chrono::microseconds(static_cast<int64_t>(std::min<uint64_t>(ack.hold_us, INT64_MAX / 1000))),
                    now);
  for (uint64_t id : ack.batch_ids) {
    auto where = location_of_.find(id);
    if (where == location_of_.end()) continue;  // already forgotten (resume)
    ClassQueue& q = classes_[where->second.priority_class];
    auto it = q.retained.find(where->second.sequence);
    if (it->second.sent) window_.OnDelivered(it->second.frame->size(), it->second.stamp, now);
    Forget(q, it, in, /*acked=*/true);
  }
  for (const PartitionOffset& p : ack.committed) {
    if (Owns(p.partition)) in->ack_offsets.push_back(p);
  }
}

EdgeConnectionEngine::Inbound EdgeConnectionEngine::OnMessage(std::string_view message, SteadyTime now) {
  Inbound in;
  ++counters_.frames_received;
  last_received_ = now;
  absl::StatusOr<Frame> frame = DecodeFrame(message, options_.limits);
  if (!frame.ok()) {
    in.error = frame.status();
    return in;
  }
  const FrameType type = TypeOf(*frame);
  auto unexpected = [&] {
    in.error = absl::InvalidArgumentError(
        absl::StrCat("unexpected ", wire::Absl(FrameTypeName(type)), " frame from the hub",
                     state_ == State::kAwaitResume ? " (waiting for resume)" : ""));
  };
  switch (type) {
    case FrameType::kResume:
      if (state_ != State::kAwaitResume) {
        unexpected();
        break;
      }
      ApplyResume(std::get<ResumeFrame>(*frame), &in);
      state_ = State::kStreaming;
      in.resumed = true;
      in.generation = std::get<ResumeFrame>(*frame).generation;
      report_due_ = true;
      QueueReportIfDue(now);
      break;
    case FrameType::kAck:
      if (state_ != State::kStreaming) {
        unexpected();
        break;
      }
      ApplyAck(std::get<AckFrame>(*frame), now, &in);
      break;
    case FrameType::kCredit:
      credit_.OnGrant(std::get<CreditFrame>(*frame).total_bytes);
      break;
    case FrameType::kPing: {
      const auto& ping = std::get<PingFrame>(*frame);
      if (!closing_) control_.push_back(std::make_shared<const std::string>(EncodeFrame(PongFrame{ping.sequence, ping.sent_ns, 0})));
      break;
    }
    case FrameType::kPong: {
      const auto& pong = std::get<PongFrame>(*frame);
      const int64_t rtt_ns = Nanos(now) - pong.ping_sent_ns;
      if (rtt_ns >= 0) {
        const double ms = static_cast<double>(rtt_ns) / 1e6;
        counters_.rtt.Add(ms);
        counters_.last_rtt_ms = ms;
        window_.OnRtt(std::chrono::nanoseconds(rtt_ns), now);
      }
      break;
    }
    case FrameType::kError: {
      const auto& error = std::get<ErrorFrame>(*frame);
      in.error = absl::Status(error.code, absl::StrCat("the hub reported: ", error.message));
      in.end = ClassifyHubError(error);
      break;
    }
    case FrameType::kClose:
      in.error = absl::UnavailableError(
          absl::StrCat("the hub closed the connection: ", std::get<CloseFrame>(*frame).reason));
      break;
    case FrameType::kHello:
    case FrameType::kData:
    case FrameType::kReport:
      unexpected();
      break;
  }
  return in;
}

std::optional<EdgeConnectionEngine::Outbound> EdgeConnectionEngine::NextFrame(SteadyTime now) {
  if (!control_.empty()) {
    Outbound out{std::move(control_.front()), false, control_.size() == 1 && closing_};
    control_.erase(control_.begin());
    ++counters_.frames_sent;
    return out;
  }
  rate_ready_at_ = SteadyTime::max();
  ClassQueue* queue = state_ == State::kStreaming && !closing_ ? NextClass() : nullptr;
  if (queue == nullptr) {
    credit_wait_.Update(false, now);
    window_wait_.Update(false, now);
    return std::nullopt;
  }
  auto it = queue->retained.lower_bound(queue->send_cursor);
  PendingBatch& batch = it->second;
  const uint64_t size = batch.frame->size();
  const bool credit_ok = credit_.Allows(batch.credit_cost);
  const bool window_ok = window_.Allows(size);
  credit_wait_.Update(!credit_ok, now);
  window_wait_.Update(credit_ok && !window_ok, now);
  if (!credit_ok || !window_ok) return std::nullopt;
  if (options_.rate_limiter != nullptr && !options_.rate_limiter->Allows(now)) {
    rate_ready_at_ = options_.rate_limiter->ReadyAt(now);
    return std::nullopt;
  }
  if (options_.rate_limiter != nullptr) options_.rate_limiter->OnSent(size, now);
  const double start = std::max(queue->next_tag, virtual_time_);
  virtual_time_ = start;
  queue->next_tag = start + static_cast<double>(size) / queue->weight;
  queue->bytes_sent += size;
  credit_.OnSent(batch.credit_cost);
  batch.stamp = window_.OnSent(size, now);
  batch.sent = true;
  if (batch.ever_sent) {
    ++counters_.batches_resent;
  } else {
    ++counters_.batches_sent;
    counters_.records_sent += batch.record_count;
    counters_.bytes_uncompressed += batch.uncompressed_bytes;
    counters_.bytes_compressed += batch.compressed_bytes;
  }
  batch.ever_sent = true;
  counters_.wire_bytes_sent += size;
  ++counters_.frames_sent;
  queue->send_cursor = it->first + 1;
  return Outbound{batch.frame, true, false};
}

EdgeConnectionEngine::ClassQueue* EdgeConnectionEngine::NextClass() {
  ClassQueue* best = nullptr;
  double best_tag = 0;
  for (ClassQueue& q : classes_) {
    if (q.retained.lower_bound(q.send_cursor) == q.retained.end()) continue;
    const double tag = std::max(q.next_tag, virtual_time_);
    // Ties go to the earlier (higher) class.
    if (best == nullptr || tag < best_tag) {
      best = &q;
      best_tag = tag;
    }
  }
  return best;
}

void EdgeConnectionEngine::SetReport(const ReportFrame& report) {
  report_ = std::make_shared<const std::string>(EncodeFrame(report));
}

void EdgeConnectionEngine::QueueReportIfDue(SteadyTime now) {
  if (state_ != State::kStreaming || closing_ || report_ == nullptr) return;
  if (!report_due_ && now - last_report_ < options_.report_interval) return;
  control_.push_back(report_);
  report_due_ = false;
  last_report_ = now;
  ++reports_sent_;
}

void EdgeConnectionEngine::QueueClose(std::string reason) {
  // Pending pings and pongs are moot now.
  control_.clear();
  control_.push_back(std::make_shared<const std::string>(EncodeFrame(CloseFrame{std::move(reason)})));
  closing_ = true;
}

absl::Status EdgeConnectionEngine::OnTick(SteadyTime now) {
  if (state_ == State::kDisconnected) return absl::OkStatus();
  const auto silent = now - last_received_;
  if (silent > options_.dead_link_timeout) {
    return absl::DeadlineExceededError(absl::StrCat("dead link: nothing from the hub for ", Millis(silent),
                                                    " ms (dead_link_timeout ", Millis(options_.dead_link_timeout),
                                                    " ms)"));
  }
  if (!closing_ && now - last_ping_ >= options_.heartbeat_interval) {
    control_.push_back(std::make_shared<const std::string>(EncodeFrame(PingFrame{++ping_sequence_, Nanos(now)})));
    last_ping_ = now;
  }
  QueueReportIfDue(now);
  return absl::OkStatus();
}

EdgeConnectionMetrics EdgeConnectionEngine::Snapshot(SteadyTime now) const {
  EdgeConnectionMetrics m;
  m.index = static_cast<int>(options_.hello.connection_index);
  m.up = state_ == State::kStreaming;
  m.last_rtt_ms = counters_.last_rtt_ms;
  m.window_bytes = window_.window();
  m.delivery_rate_bytes_per_s = window_.rate_bytes_per_second();
  m.credit_available_bytes = credit_.available();
  for (const ClassQueue& q : classes_) {
    for (const auto& [sequence, batch] : q.retained) {
      if (batch.sent) {
        ++m.frames_in_flight;
        m.bytes_in_flight += batch.frame->size();
      } else {
        ++m.batches_queued;
      }
    }
  }
  (void)now;
  return m;
}

}  // namespace longhaul::transport

namespace longhaul::transport {

std::vector<EdgeClassSnapshot> EdgeConnectionEngine::ClassSnapshot() const {
  std::vector<EdgeClassSnapshot> out(classes_.size());
  for (size_t i = 0; i < classes_.size(); ++i) {
    const ClassQueue& q = classes_[i];
    EdgeClassSnapshot& c = out[i];
    c.bytes_sent = q.bytes_sent;
    for (const auto& [sequence, batch] : q.retained) {
      if (batch.sent) continue;
      if (c.queued_batches == 0 || batch.enqueued_at < c.oldest_queued) c.oldest_queued = batch.enqueued_at;
      ++c.queued_batches;
      c.queued_bytes += batch.frame->size();
    }
  }
  return out;
}

}  // namespace longhaul::transport
