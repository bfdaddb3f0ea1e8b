#include "hub_engine.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "longhaul/transport/record_codec.h"
#include "wire.h"

namespace longhaul::transport {
namespace {

int64_t Millis(std::chrono::nanoseconds d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

std::string Describe(const DataFrame& f) {
  return absl::StrCat("data frame (batch ", f.batch_id, ", ", f.topic, "[", f.partition, "] offsets ", f.first_offset,
                      "..", f.last_offset, ")");
}

}  // namespace

HubSessionEngine::HubSessionEngine(HubEngineOptions options, SteadyTime now)
    : options_(std::move(options)), last_received_(now) {}

HubEngineOptions EngineOptionsFrom(const HubServerOptions& o) {
  HubEngineOptions e;
  e.receive_window_bytes = o.receive_window_bytes;
  e.max_batch_bytes = o.max_batch_bytes;
  e.limits.max_frame_bytes = o.max_frame_bytes;
  e.max_hello_frame_bytes = o.max_hello_frame_bytes;
  e.max_records_per_batch = o.max_records_per_batch;
  e.max_partitions = o.max_partitions_per_session;
  e.max_outbound_bytes = o.max_outbound_bytes;
  e.dead_link_timeout = o.dead_link_timeout;
  return e;
}

void HubSessionEngine::Queue(const Frame& frame) {
  auto encoded = std::make_shared<const std::string>(EncodeFrame(frame));
  queued_bytes_ += encoded->size();
  queue_.push_back(std::move(encoded));
}

void HubSessionEngine::QueueCredit() { Queue(CreditFrame{options_.receive_window_bytes + released_}); }

void HubSessionEngine::Accept(const std::vector<PartitionOffset>& resume, uint64_t generation) {
  if (state_ != State::kAwaitAccept) return;
  for (const PartitionOffset& p : resume) {
    PartitionState& s = partitions_[p.partition];
    s.committed_next = p.offset;
    s.next_expected = p.offset;
  }
  Queue(ResumeFrame{generation, resume});
  QueueCredit();
  state_ = State::kStreaming;
  counters_.streaming = true;
}

void HubSessionEngine::Ack(const std::vector<uint64_t>& batch_ids, const std::vector<PartitionOffset>& committed,
                           SteadyTime now) {
  if (state_ != State::kStreaming) return;
  AckFrame ack;
  uint64_t released = 0;
  for (uint64_t id : batch_ids) {
    auto it = outstanding_.find(id);
    if (it == outstanding_.end()) continue;
    released += it->second.cost;
    const auto held = std::chrono::duration_cast<std::chrono::microseconds>(now - it->second.received_at).count();
    ack.hold_us = std::max<uint64_t>(ack.hold_us, held > 0 ? static_cast<uint64_t>(held) : 0);
    outstanding_.erase(it);
    ack.batch_ids.push_back(id);
  }
  std::sort(ack.batch_ids.begin(), ack.batch_ids.end());
  ack.batch_ids.erase(std::unique(ack.batch_ids.begin(), ack.batch_ids.end()), ack.batch_ids.end());
  for (const PartitionOffset& p : committed) {
    PartitionState& s = partitions_[p.partition];
    s.committed_next = std::max(s.committed_next, p.offset);
    if (std::none_of(ack.committed.begin(), ack.committed.end(),
                     [&](const PartitionOffset& q) { return q.partition == p.partition; })) {
      ack.committed.push_back(p);
    }
  }
  if (ack.batch_ids.empty() && ack.committed.empty()) return;
  counters_.batches_acked += ack.batch_ids.size();
  Queue(ack);
  if (released > 0) {
    released_ += released;
    QueueCredit();
  }
}

void HubSessionEngine::AdmitData(DataFrame frame, SteadyTime now, Inbound* in) {
  auto refuse = [&](RefusalReason reason, absl::Status status) {
    in->error = std::move(status);
    in->refusal = reason;
  };
  if (frame.record_count > options_.max_records_per_batch) {
    return refuse(RefusalReason::kRecords,
                  absl::ResourceExhaustedError(absl::StrCat(Describe(frame), ": ", frame.record_count,
                                                            " records exceed max_records_per_batch ",
                                                            options_.max_records_per_batch)));
  }
  if (frame.uncompressed_size > options_.max_batch_bytes) {
    in->bad_frame = true;
    return refuse(RefusalReason::kBatchSize,
                  absl::ResourceExhaustedError(absl::StrCat(Describe(frame), ": ", frame.uncompressed_size,
                                                            " uncompressed bytes exceed max_batch_bytes ",
                                                            options_.max_batch_bytes)));
  }
  // The decoder refuses these already; the partition's next offset is
  // last_offset + 1, which must not overflow whatever a decoder lets by.
  if (frame.partition < 0 || frame.first_offset < 0 || frame.last_offset < frame.first_offset ||
      frame.last_offset == std::numeric_limits<int64_t>::max()) {
    return refuse(RefusalReason::kOffsets,
                  absl::InvalidArgumentError(absl::StrCat(Describe(frame), ": offsets out of range")));
  }
  if (outstanding_.contains(frame.batch_id)) {
    return refuse(RefusalReason::kProtocol,
                  absl::InvalidArgumentError(absl::StrCat(Describe(frame), ": batch id is already outstanding")));
  }
  TopicPartition tp{frame.topic, frame.partition};
  auto known = partitions_.find(tp);
  if (known == partitions_.end() && partitions_.size() >= options_.max_partitions) {
    return refuse(RefusalReason::kPartitions,
                  absl::ResourceExhaustedError(absl::StrCat(Describe(frame), ": more than max_partitions_per_session ",
                                                            options_.max_partitions, " partitions on one session")));
  }
  // Credit counts the decoded objects: decode within what is left of it, so
  // a small frame that would decode into a mountain of records is refused
  // before the mountain is allocated. Duplicates are decoded too: the edge
  // charged their cost and gets it back only if the hub knows it.
  const uint64_t left = CreditLeft();
  absl::StatusOr<std::vector<Record>> records = DecodeRecords(frame, options_.max_batch_bytes, left);
  auto over_credit = [&](const std::string& cost, std::string_view detail) {
    refuse(RefusalReason::kCredit,
           absl::ResourceExhaustedError(absl::StrCat(
               Describe(frame), ": exceeds the credit granted (", options_.receive_window_bytes + released_,
               " bytes in all, ", received_cost_, " used before this batch of ", cost, " decoded bytes)",
               wire::Absl(detail))));
  };
  if (!records.ok()) {
    if (records.status().code() == absl::StatusCode::kResourceExhausted) {
      over_credit(absl::StrCat("over ", left), absl::StrCat(": ", records.status().message()));
      return;
    }
    in->bad_frame = true;
    return refuse(RefusalReason::kBadFrame, records.status());
  }
  const uint64_t cost = BatchCreditCost(*records);
  if (cost > left) {
    over_credit(absl::StrCat(cost), "");
    return;
  }
  PartitionState& s = known != partitions_.end() ? known->second : partitions_[tp];
  if (s.next_expected >= 0) {
    if (frame.first_offset > s.next_expected) {
      return refuse(RefusalReason::kOffsets,
                    absl::DataLossError(absl::StrCat(Describe(frame), " starts after the next expected offset ",
                                                     s.next_expected, ": offsets ", s.next_expected, "..",
                                                     frame.first_offset - 1, " would be lost")));
    }
    if (frame.last_offset < s.next_expected) {
      if (s.committed_next >= 0 && frame.last_offset < s.committed_next) {
        // Committed already (its ack was lost with a connection): drop it and
        // acknowledge at once so the edge forgets it.
        ++counters_.duplicate_batches;
        received_cost_ += cost;
        released_ += cost;
        Queue(AckFrame{{frame.batch_id}, {}});
        QueueCredit();
        in->duplicate = true;
        return;
      }
      return refuse(RefusalReason::kOffsets,
                    absl::InvalidArgumentError(absl::StrCat(
                        Describe(frame), " repeats offsets already received on this connection (next expected ",
                        s.next_expected, ")")));
    }
  }
  received_cost_ += cost;
  ReceivedBatch batch;
  batch.batch_id = frame.batch_id;
  batch.partition = std::move(tp);
  batch.first_offset = frame.first_offset;
  batch.last_offset = frame.last_offset;
  batch.uncompressed_bytes = frame.uncompressed_size;
  batch.decoded_bytes = cost;
  batch.records = std::move(*records);
  if (s.next_expected > batch.first_offset) {
    // Overlaps what was committed or received: keep only the new records.
    auto keep = std::find_if(batch.records.begin(), batch.records.end(),
                             [&](const Record& r) { return r.offset >= s.next_expected; });
    batch.records.erase(batch.records.begin(), keep);
    batch.first_offset = s.next_expected;
  }
  s.next_expected = batch.last_offset + 1;
  outstanding_[batch.batch_id] = Outstanding{cost, now};
  ++counters_.batches_received;
  counters_.records_received += batch.records.size();
  counters_.bytes_uncompressed += frame.uncompressed_size;
  in->batch = std::move(batch);
}

size_t HubSessionEngine::max_message_bytes() const {
  // Small until a hello arrived: the shell checks it against the identity
  // rules before it reads again, and a read started before Accept must take
  // the data frames an edge sends as soon as it has its resume.
  return state_ == State::kAwaitHello ? options_.max_hello_frame_bytes : options_.limits.max_frame_bytes;
}

absl::Status HubSessionEngine::OutboundStatus() const {
  if (queued_bytes_ <= options_.max_outbound_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("the edge does not read: ", queued_bytes_,
                                                   " bytes of frames are queued for it (max_outbound_bytes ",
                                                   options_.max_outbound_bytes, ")"));
}

HubSessionEngine::Inbound HubSessionEngine::OnMessage(std::string_view message, SteadyTime now, int64_t wall_ms) {
  Inbound in;
  last_received_ = now;
  counters_.wire_bytes_received += message.size();
  absl::StatusOr<Frame> frame = DecodeFrame(message, FrameLimits{max_message_bytes()});
  if (!frame.ok()) {
    in.error = frame.status();
    in.bad_frame = true;
    in.refusal = frame.status().code() == absl::StatusCode::kFailedPrecondition ? RefusalReason::kProtocol
                                                                                : RefusalReason::kBadFrame;
    if (state_ == State::kAwaitHello && frame.status().code() == absl::StatusCode::kResourceExhausted) {
      in.error = absl::ResourceExhaustedError(absl::StrCat(frame.status().message(), " (before the hello ",
                                                           "frames are limited to ", options_.max_hello_frame_bytes,
                                                           " bytes)"));
    }
    return in;
  }
  const FrameType type = TypeOf(*frame);
  auto unexpected = [&](std::string_view why) {
    in.error = absl::InvalidArgumentError(
        absl::StrCat("unexpected ", wire::Absl(FrameTypeName(type)), " frame from the edge: ", wire::Absl(why)));
    in.refusal = RefusalReason::kProtocol;
  };
  if (state_ == State::kAwaitHello && type != FrameType::kHello) {
    unexpected("the first frame must be hello");
    return in;
  }
  switch (type) {
    case FrameType::kHello: {
      if (state_ != State::kAwaitHello) {
        unexpected("hello was already received");
        return in;
      }
      auto& hello = std::get<HelloFrame>(*frame);
      if (hello.protocol_version != kProtocolVersion) {
        in.error = absl::FailedPreconditionError(absl::StrCat("hello frame: the edge speaks protocol version ",
                                                              hello.protocol_version, ", this hub speaks ",
                                                              kProtocolVersion));
        in.refusal = RefusalReason::kProtocol;
        return in;
      }
      state_ = State::kAwaitAccept;
      in.hello = std::move(hello);
      break;
    }
    case FrameType::kData:
      if (state_ != State::kStreaming) {
        unexpected("data before the hub sent resume");
        return in;
      }
      AdmitData(std::move(std::get<DataFrame>(*frame)), now, &in);
      break;
    case FrameType::kPing: {
      const auto& ping = std::get<PingFrame>(*frame);
      Queue(PongFrame{ping.sequence, ping.sent_ns, wall_ms});
      break;
    }
    case FrameType::kPong:
      break;
    case FrameType::kReport:
      if (state_ != State::kStreaming) {
        unexpected("report before the hub sent resume");
        return in;
      }
      in.report = std::move(std::get<ReportFrame>(*frame));
      break;
    case FrameType::kError: {
      const auto& error = std::get<ErrorFrame>(*frame);
      in.error = absl::Status(error.code, absl::StrCat("the edge reported: ", error.message));
      break;
    }
    case FrameType::kClose:
      in.peer_closed = true;
      in.close_reason = std::get<CloseFrame>(*frame).reason;
      break;
    case FrameType::kResume:
    case FrameType::kAck:
    case FrameType::kCredit:
      unexpected("only the hub sends it");
      break;
  }
  if (in.error.ok()) {
    if (absl::Status outbound = OutboundStatus(); !outbound.ok()) {
      in.error = std::move(outbound);
      in.refusal = RefusalReason::kOutboundQueue;
      in.batch.reset();
      in.report.reset();
    }
  }
  return in;
}

std::shared_ptr<const std::string> HubSessionEngine::NextFrame() {
  if (queue_.empty()) return nullptr;
  auto frame = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= frame->size();
  return frame;
}

absl::Status HubSessionEngine::OnTick(SteadyTime now) {
  // The handler's acks queue frames too; an edge that reads nothing while
  // they pile up is caught here.
  if (absl::Status outbound = OutboundStatus(); !outbound.ok()) return outbound;
  const auto silent = now - last_received_;
  if (silent > options_.dead_link_timeout) {
    return absl::DeadlineExceededError(absl::StrCat("dead link: nothing from the edge for ", Millis(silent),
                                                    " ms (dead_link_timeout ", Millis(options_.dead_link_timeout),
                                                    " ms)"));
  }
  return absl::OkStatus();
}

void HubSessionEngine::FillMetrics(HubSessionMetrics* m) const {
  m->streaming = state_ == State::kStreaming;
  m->batches_received = counters_.batches_received;
  m->records_received = counters_.records_received;
  m->bytes_uncompressed = counters_.bytes_uncompressed;
  m->wire_bytes_received = counters_.wire_bytes_received;
  m->duplicate_batches = counters_.duplicate_batches;
  m->batches_acked = counters_.batches_acked;
  m->credit_outstanding_bytes = received_cost_ - std::min(received_cost_, released_);
}

}  // namespace longhaul::transport
