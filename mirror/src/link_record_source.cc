#include "link_record_source.h"

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"
#include "hub_router.h"
#include "longhaul/base/check.h"

namespace longhaul::mirror {

void LaneInbox::Push(transport::ReceivedBatch batch, std::shared_ptr<transport::HubSession> session) {
  {
    std::lock_guard<std::mutex> lock(mu);
    int64_t& end = received_end[batch.partition];
    end = std::max(end, batch.last_offset + 1);
    TopicPartition tp = batch.partition;
    queued[tp].push_back(Queued{std::move(batch), std::move(session)});
  }
  wake.notify_all();
}

void LaneInbox::DropQueued(const std::string& edge) {
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = queued.begin(); it != queued.end();) {
    if (it->first.origin != edge) {
      ++it;
      continue;
    }
    auto d = delivered_end.find(it->first);
    if (d == delivered_end.end()) {
      received_end.erase(it->first);
    } else {
      received_end[it->first] = d->second;
    }
    it = queued.erase(it);
  }
}

bool LaneInbox::HoldsTaken(const std::string& edge) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = delivered_by_edge.find(edge);
  return it != delivered_by_edge.end() && it->second > 0;
}

void LaneInbox::RequestRestart(const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (restart.empty()) restart = why;
  }
  wake.notify_all();
}

LinkRecordSource::LinkRecordSource(std::shared_ptr<HubPipeline> pipeline, std::shared_ptr<LaneInbox> inbox)
    : pipeline_(std::move(pipeline)),
      inbox_(std::move(inbox)),
      edge_header_(pipeline_->edge_header()),
      round_robin_(partitions_.end()) {}

LinkRecordSource::~LinkRecordSource() { Close(); }

LinkRecordSource::PartitionState* LinkRecordSource::StateOf(const TopicPartition& tp) {
  auto& p = partitions_[tp];
  if (!p) {
    p = std::make_unique<PartitionState>();
    p->topic = tp.topic;
    p->origin = tp.origin;
  }
  return p.get();
}

absl::Status LinkRecordSource::Assign(const std::vector<SourceAssignment>& assignment) {
  for (auto& [tp, state] : partitions_) state->assigned = false;
  for (const auto& a : assignment) {
    PartitionState* state = StateOf(a.partition);
    state->assigned = true;
    state->start = a.start_offset;
  }
  inbox_->wake.notify_all();
  return absl::OkStatus();
}

bool LinkRecordSource::TakeBatchLocked() {
  auto& queued = inbox_->queued;
  if (queued.empty()) return false;
  // Round robin over partitions, starting after the last one served.
  auto it = queued.begin();
  if (round_robin_ != partitions_.end()) it = queued.upper_bound(round_robin_->first);
  for (size_t n = 0; n < queued.size(); ++n, ++it) {
    if (it == queued.end()) it = queued.begin();
    if (it->second.empty()) continue;
    PartitionState* state = StateOf(it->first);
    // A partition the lane has not assigned yet (its target topic is being
    // created): its batches wait.
    if (!state->assigned) continue;
    round_robin_ = partitions_.find(it->first);
    LaneInbox::Queued q = std::move(it->second.front());
    it->second.pop_front();
    const TopicPartition tp = it->first;
    if (it->second.empty()) queued.erase(it);

    const transport::ReceivedBatch& b = q.batch;
    LaneInbox::Delivered d;
    d.batch_id = b.batch_id;
    d.session = q.session;
    d.end = b.last_offset + 1;
    d.threshold = b.records.empty() ? 0 : b.records.back().offset + 1;
    inbox_->delivered_end[tp] = std::max(inbox_->delivered_end[tp], d.end);
    auto& delivered = inbox_->delivered[tp];
    if (b.records.empty() && delivered.empty()) {
      // Only a gap (transaction markers, compaction): nothing to write and
      // nothing before it outstanding, so it is committed as it stands.
      gap_acks_.push_back(std::move(d));
      gap_partitions_.push_back(tp);
      return true;
    }
    delivered.push_back(std::move(d));
    ++inbox_->delivered_by_edge[tp.origin];
    if (b.records.empty()) return true;  // committed along with the batches before it
    current_ = std::move(q);
    current_state_ = state;
    next_record_ = 0;
    inbox_->reading = true;
    return true;
  }
  return false;
}

absl::StatusOr<bool> LinkRecordSource::Next(std::chrono::milliseconds wait, SourceRecordView* out,
                                            absl::Status* warning) {
  // The lane's wait bounds a condition-variable wait, like a consumer poll.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock<std::mutex> lock(inbox_->mu);
  absl::StatusOr<bool> result = false;
  while (true) {
    if (!inbox_->restart.empty()) {
      result = SessionRestartStatus(inbox_->restart);
      break;
    }
    if (current_) {
      const std::vector<Record>& records = current_->batch.records;
      const Record* found = nullptr;
      while (next_record_ < records.size()) {
        const Record& r = records[next_record_++];
        if (current_state_->start >= 0 && r.offset < current_state_->start) continue;  // committed already
        found = &r;
        break;
      }
      if (found != nullptr) {
        const Record& r = *found;
        out->partition_handle = current_state_;
        out->topic = current_state_->topic.c_str();
        out->origin = current_state_->origin.empty() ? nullptr : current_state_->origin.c_str();
        out->partition = current_->batch.partition.partition;
        out->offset = r.offset;
        out->timestamp_ms = r.timestamp_ms;
        out->key = r.key ? r.key->data() : nullptr;
        out->key_len = r.key ? r.key->size() : 0;
        out->value = r.value ? r.value->data() : nullptr;
        out->value_len = r.value ? r.value->size() : 0;
        // edges: many with edge_header: the edge's name travels with each
        // record (after the record's own headers, whose order is kept).
        out->headers = RecordHeaders::Of(r.headers);
        if (!edge_header_.empty() && !current_state_->origin.empty()) {
          out->headers.Add(edge_header_, current_state_->origin);
        }
        result = true;
        break;
      }
      current_.reset();
      current_state_ = nullptr;
      inbox_->reading = false;
    }
    if (TakeBatchLocked()) continue;
    if (!gap_acks_.empty()) break;  // acknowledge them now rather than after the wait
    if (inbox_->wake.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (TakeBatchLocked()) continue;
      break;
    }
  }
  lock.unlock();
  FlushGapAcks();
  return result;
}

void LinkRecordSource::FlushGapAcks() {
  if (gap_acks_.empty()) return;
  std::map<TopicPartition, int64_t> committed;
  for (size_t i = 0; i < gap_acks_.size(); ++i) {
    const LaneInbox::Delivered& d = gap_acks_[i];
    int64_t& c = committed[gap_partitions_[i]];
    c = std::max(c, d.end);
    TopicPartition wire = gap_partitions_[i];
    wire.origin.clear();  // the link speaks for one edge
    d.session->Ack({d.batch_id}, {transport::PartitionOffset{std::move(wire), d.end}});
  }
  gap_acks_.clear();
  gap_partitions_.clear();
  pipeline_->Committed(committed);
}

std::map<TopicPartition, EndOffsets> LinkRecordSource::Offsets() {
  std::map<TopicPartition, EndOffsets> out;
  std::lock_guard<std::mutex> lock(inbox_->mu);
  for (const auto& [tp, state] : partitions_) {
    if (!state->assigned) continue;
    EndOffsets eo;
    if (auto it = inbox_->received_end.find(tp); it != inbox_->received_end.end()) eo.end = it->second;
    if (auto it = inbox_->delivered_end.find(tp); it != inbox_->delivered_end.end()) eo.position = it->second;
    out[tp] = eo;
  }
  return out;
}

absl::StatusOr<int64_t> LinkRecordSource::LatestOffset(const TopicPartition& tp) {
  return absl::UnimplementedError(absl::StrCat("hub lane ", inbox_->lane, ": the edge resolves where ", tp.ToString(),
                                               " starts; the hub runs with start: earliest"));
}

void LinkRecordSource::OnSessionReady(const std::map<TopicPartition, int64_t>& checkpointed) {
  pipeline_->LaneReady(inbox_, checkpointed);
}

void LinkRecordSource::OnCommitted(const std::map<TopicPartition, int64_t>& next_offsets) {
  struct Acks {
    std::shared_ptr<transport::HubSession> session;
    std::vector<uint64_t> ids;
    std::map<TopicPartition, int64_t> committed;
  };
  std::map<transport::HubSession*, Acks> by_session;
  std::map<TopicPartition, int64_t> committed;
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    for (const auto& [tp, next] : next_offsets) {
      int64_t reported = next;
      auto it = inbox_->delivered.find(tp);
      std::vector<LaneInbox::Delivered> done;
      if (it != inbox_->delivered.end()) {
        auto& d = it->second;
        while (!d.empty() && d.front().threshold <= next) {
          reported = std::max(reported, d.front().end);
          done.push_back(std::move(d.front()));
          d.pop_front();
          --inbox_->delivered_by_edge[tp.origin];
        }
      }
      committed[tp] = reported;
      for (auto& d : done) {
        Acks& a = by_session[d.session.get()];
        a.session = d.session;
        a.ids.push_back(d.batch_id);
        a.committed[tp] = reported;
      }
    }
  }
  for (auto& [_, a] : by_session) {
    std::vector<transport::PartitionOffset> offsets;
    for (const auto& [tp, off] : a.committed) {
      TopicPartition wire = tp;
      wire.origin.clear();  // the link speaks for one edge
      offsets.push_back(transport::PartitionOffset{std::move(wire), off});
    }
    a.session->Ack(std::move(a.ids), std::move(offsets));
  }
  pipeline_->Committed(committed);
}

void LinkRecordSource::Close() {
  if (closed_) return;
  closed_ = true;
  FlushGapAcks();
  pipeline_->Detach(inbox_);
}

}  // namespace longhaul::mirror
