#include "lane_worker.h"

#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "kafka_client.h"
#include "kafka_record_source.h"
#include "kafka_status.h"
#include "longhaul/base/backoff.h"
#include "longhaul/base/check.h"
#include "longhaul/base/logging.h"
#include "longhaul/mirror/commit_policy.h"
#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/offset_sync.h"
#include "longhaul/offsets/segment.h"
#include "provenance.h"
#include "source_gap.h"

namespace longhaul::mirror {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kCommitTimeout{60'000};  // give up on a transaction after this; abort and redo
constexpr milliseconds kInitTimeout{10'000};
constexpr milliseconds kPollSlice{100};
constexpr milliseconds kProgressInterval{1'000};
// How long a lane waits for its producer to see a partition that discovery
// has just added to a target topic before it gives the lane up.
constexpr milliseconds kNewPartitionWait{30'000};
// Records taken from the source per turn of the lane loop: the clock read,
// the delivery-report poll and the commit decision are per batch, not per record.
constexpr int kMaxBatch = 1024;

int ToMs(milliseconds d) { return static_cast<int>(std::max<int64_t>(d.count(), 0)); }

absl::Status Annotate(const absl::Status& s, const std::string& prefix) {
  if (s.ok()) return s;
  absl::Status out(s.code(), absl::StrCat(prefix, ": ", s.message()));
  s.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

// Reads the newest checkpoint of every partition of this lane: partition
// `lane` of the pipeline's checkpoint topic, read_committed, from the start
// to the end. Called only after init_transactions fenced the previous owner,
// so no transaction of a zombie can still commit behind what we read.
absl::StatusOr<std::map<TopicPartition, offsets::Checkpoint>> ReadCheckpoints(const LaneContext& ctx, int lane,
                                                                              const std::atomic<bool>& stop) {
  std::string what = absl::StrCat("reading checkpoints of lane ", lane, " from '", ctx.names->checkpoint_topic, "'");
  Properties defaults = {
      {"group.id", ctx.names->lane_group + ".checkpoint-reader"},
      {"isolation.level", "read_committed"},
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"reconnect.backoff.max.ms", "2000"},
      {"client.id", absl::StrCat("longhaul-", ctx.pipeline->name, "-lane-", lane, "-checkpoints")},
  };
  auto conf = MakeConf(defaults, ctx.target->ClientProperties(config::ClientRole::kConsumer), what);
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_CONSUMER, std::move(*conf), what);
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  PartitionList list = MakePartitionList(1);
  rd_kafka_topic_partition_list_add(list.get(), ctx.names->checkpoint_topic.c_str(), lane)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  if (auto err = rd_kafka_assign(rk->get(), list.get())) return KafkaStatus(err, what);

  std::map<TopicPartition, offsets::Checkpoint> out;
  const std::string& our_source = ctx.source->name;
  auto deadline = std::chrono::steady_clock::now() + milliseconds(60'000);
  while (true) {
    if (stop.load()) return absl::CancelledError(what + ": stopping");
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(what + ": did not reach the end of the partition within 60 s");
    }
    KafkaMessage m(rd_kafka_consumer_poll(rk->get(), ToMs(kPollSlice)));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    if (m->err) {
      absl::Status s = KafkaStatus(m->err, what);
      if (IsRetriable(s)) continue;  // broker not up yet: keep trying until the deadline
      return s;
    }
    std::string_view key(static_cast<const char*>(m->key), m->key_len);
    auto decoded_key = offsets::DecodeCheckpointKey(key);
    if (!decoded_key.ok()) {
      return Annotate(decoded_key.status(), absl::StrCat(what, ": record at offset ", m->offset));
    }
    if (decoded_key->source_cluster != our_source) continue;
    // In an edges: many pipeline every partition is one edge's (key
    // "<source>/<edge>/<topic>/<partition>"); elsewhere none is. Keys of the
    // other kind (written before the pipeline's `edges` changed) are not
    // this pipeline's partitions any more.
    if (decoded_key->edge.empty() != (ctx.pipeline->edges == config::Edges::kOne)) continue;
    TopicPartition tp{decoded_key->topic, decoded_key->partition, decoded_key->edge};
    if (m->payload == nullptr) {  // tombstone: checkpoint deliberately deleted
      out.erase(tp);
      continue;
    }
    auto cp = offsets::DecodeCheckpoint(std::string_view(static_cast<const char*>(m->payload), m->len));
    if (!cp.ok()) return Annotate(cp.status(), absl::StrCat(what, ": record at offset ", m->offset));
    out[std::move(tp)] = std::move(*cp);
  }
  rd_kafka_consumer_close(rk->get());
  return out;
}

}  // namespace

// One attempt at running the lane: from creating clients and fencing to the
// first error or the stop request. Any error ends the session; the worker
// starts a new one, which re-reads the checkpoints. That single recovery path
// (instead of rewinding in place) is what keeps exactly-once easy to reason about.
class LaneWorker::Session {
 public:
  Session(LaneWorker* owner)
      : w_(owner),
        ctx_(owner->ctx_),
        policy_(ctx_.pipeline->commit_interval, ctx_.pipeline->min_commit_interval,
                ctx_.pipeline->max_transaction_bytes),
        provenance_(*ctx_.pipeline) {
    transactional_ = ctx_.pipeline->delivery == config::Delivery::kExactlyOnce;
  }
  ~Session() {
    for (auto& [_, slot] : slots_) {
      if (slot->target_rkt) rd_kafka_topic_destroy(slot->target_rkt);
    }
  }

  absl::Status Run() {
    if (auto s = CreateProducer(); !s.ok()) return s;
    if (auto s = InitTransactions(); !s.ok()) return s;
    auto cps = ReadCheckpoints(ctx_, w_->lane_, w_->stop_);
    if (!cps.ok()) return cps.status();
    checkpoints_ = std::move(*cps);
    if (auto s = CreateConsumer(); !s.ok()) return s;
    if (auto s = ApplyDirectory(); !s.ok()) return s;
    {
      std::map<TopicPartition, int64_t> checkpointed;
      for (const auto& [tp, cp] : checkpoints_) checkpointed[tp] = cp.next_source_offset;
      source_->OnSessionReady(checkpointed);
    }
    LogInfo("lane started", {{"pipeline", ctx_.pipeline->name},
                             {"lane", w_->lane_},
                             {"partitions", static_cast<unsigned long>(slots_.size())},
                             {"checkpoints", static_cast<unsigned long>(checkpoints_.size())}});

    auto next_progress = ctx_.clock->Now();
    bool behind = false;  // the source was not caught up when the lane last ran dry
    while (true) {
      if (w_->stop_.load()) return Drain();
      SteadyTime now = ctx_.clock->Now();
      if (ctx_.directory->version() != directory_version_) {
        if (policy_.HasWork()) {
          if (auto s = Commit(now + kCommitTimeout); !s.ok()) return s;
        }
        if (auto s = ApplyDirectory(); !s.ok()) return s;
      }
      // Wait for the first record only until the transaction is due, then
      // take what is already queued without waiting.
      milliseconds wait = std::min(kPollSlice, policy_.TimeUntilDue(now, /*early=*/!behind));
      bool ran_dry = false;
      for (int n = 0; n < kMaxBatch && !policy_.Full(); ++n) {
        SourceRecordView record;
        absl::Status warning;
        auto got = source_->Next(n == 0 ? wait : milliseconds::zero(), &record, &warning);
        if (!got.ok()) return got.status();
        if (!*got) {
          if (!warning.ok()) {
            LogWarn("source read error",
                    {{"pipeline", ctx_.pipeline->name}, {"error", std::string(warning.message())}});
            ctx_.metrics->Error(ErrorReason::kSourceRead);
            w_->SetError(warning);
          }
          ran_dry = true;
          break;
        }
        if (n == 0) now = ctx_.clock->Now();  // after the wait: when the transaction's first record arrived
        if (auto s = Forward(record, now); !s.ok()) return s;
      }
      for (const OutOfRange& oor : source_->TakeOutOfRange()) {
        if (auto s = OnOutOfRange(oor); !s.ok()) return s;
      }
      rd_kafka_poll(producer_.get(), 0);  // serve delivery reports
      if (!delivery_error_.ok()) return delivery_error_;
      now = ctx_.clock->Now();
      // Ran dry and read to the end of every partition: commit now rather
      // than at commit_interval. Running dry alone is not enough: under a
      // backlog the queue empties while the next fetch is on its way, and
      // committing then would stall the lane for nothing.
      bool caught_up = false;
      if (ran_dry && policy_.MayCommitEarly(now)) {
        caught_up = source_->CaughtUp();
        behind = !caught_up;
      } else if (!ran_dry) {
        behind = false;
      }
      if (policy_.ShouldCommit(now, caught_up)) {
        if (auto s = Commit(now + kCommitTimeout); !s.ok()) return s;
        // The committed records came with fresher end offsets than the last
        // refresh: without this, replicated_offset runs ahead of
        // source_end_offset between refreshes and lag reads 0 under load.
        UpdateEndOffsets();
      }
      if (now >= next_progress) {
        UpdateEndOffsets();
        next_progress = now + kProgressInterval;
      }
    }
  }

  // Best effort after a failed session: a new session's init_transactions
  // aborts whatever is left anyway.
  void Abort(milliseconds timeout) {
    if (!producer_ || !transactional_ || !txn_open_) return;
    absl::Status s = TakeKafkaError(rd_kafka_abort_transaction(producer_.get(), ToMs(timeout)), "aborting");
    if (!s.ok()) LogDebug("abort failed", {{"lane", w_->lane_}, {"error", std::string(s.message())}});
    txn_open_ = false;
  }

  void Close() {
    if (source_) source_->Close();
    if (producer_) {
      rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(producer_.get(), 1000);
    }
    source_.reset();
    producer_.reset();
  }

 private:
  struct Slot {
    MirroredPartition mp;
    rd_kafka_topic_t* target_rkt = nullptr;
    PartitionProgress* progress = nullptr;
    int64_t committed_next = -1;    // next source offset durable on the target
    // Next target offset after the last record written, as last checkpointed:
    // carried into checkpoints of transactions that wrote no record of the
    // partition (only filtered records, a resolved start, a skipped gap), so
    // translation still knows where the replicated part ends.
    int64_t committed_next_target = -1;
    int64_t txn_last_source = -1;   // last source offset written in the open transaction
    int64_t txn_last_target = -1;
    int64_t txn_records = 0;
    int64_t txn_bytes = 0;
    bool pending_checkpoint = false;  // start position resolved, or a skipped gap, not yet persisted
    // on_source_gap: stop (or a source log that lost copied records): the
    // partition is not read in this session.
    bool stopped = false;
    // on_source_gap: skip: the lost ranges the next checkpoint moves past
    // and records (in order; usually one).
    std::vector<offsets::LostRange> skipped;
    // Records of the open transaction not written because their provenance
    // says they have been in the target cluster (active/active): their
    // offsets count as copied, so the checkpoint moves past them.
    int64_t txn_filtered = 0;
    int64_t filtered_next = -1;  // one past the last of them
    std::deque<int64_t> awaiting_delivery;  // source offsets in produce order
    offsets::SegmentBuilder segments;
  };

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    static_cast<Session*>(opaque)->HandleDelivery(m);
  }

  void HandleDelivery(const rd_kafka_message_t* m) {
    auto* slot = static_cast<Slot*>(m->_private);
    if (m->err) {
      if (delivery_error_.ok()) {
        std::string where = slot ? slot->mp.source.ToString() : std::string("checkpoint");
        delivery_error_ = KafkaStatus(m->err, absl::StrCat("lane ", w_->lane_, ": delivery to the target failed for ",
                                                          where));
      }
      return;
    }
    if (slot == nullptr) return;  // a checkpoint record
    if (m->offset < 0) {
      // acks=all always reports the offset; without it the segment is unknown.
      if (delivery_error_.ok()) {
        delivery_error_ = absl::InternalError(absl::StrCat("lane ", w_->lane_, ": delivery report for ",
                                                           slot->mp.source.ToString(), " carries no target offset"));
      }
      return;
    }
    LH_CHECK(!slot->awaiting_delivery.empty());
    int64_t source_offset = slot->awaiting_delivery.front();
    slot->awaiting_delivery.pop_front();
    slot->segments.Add(source_offset, m->offset);
    slot->txn_last_target = m->offset;
  }

  absl::Status CreateProducer() {
    std::string what = absl::StrCat("target producer of pipeline '", ctx_.pipeline->name, "' lane ", w_->lane_);
    Properties defaults = {
        {"client.id", absl::StrCat("longhaul-", ctx_.pipeline->name, "-lane-", w_->lane_)},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        {"batch.size", "1000000"},
        {"message.max.bytes", "10485760"},
        {"compression.type", "lz4"},
        {"queue.buffering.max.kbytes", "1048576"},
        {"transaction.timeout.ms", "60000"},
        {"message.timeout.ms", "55000"},
        {"reconnect.backoff.max.ms", "2000"},
    };
    auto conf = MakeConf(defaults, ctx_.target->ClientProperties(config::ClientRole::kProducer), what);
    if (!conf.ok()) return conf.status();
    char errstr[256];
    if (transactional_) {
      // Set after the operator's properties: the lane's id is what fences zombies.
      std::string txn_id = absl::StrCat(ctx_.names->transactional_id_prefix, w_->lane_);
      if (rd_kafka_conf_set(conf->get(), "transactional.id", txn_id.c_str(), errstr, sizeof errstr) !=
          RD_KAFKA_CONF_OK) {
        return absl::InternalError(absl::StrCat(what, ": ", errstr));
      }
    }
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &Session::OnDelivery);
    rd_kafka_conf_set_opaque(conf->get(), this);
    auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(*conf), what);
    if (!rk.ok()) return rk.status();
    producer_ = std::move(*rk);
    return absl::OkStatus();
  }

  absl::Status InitTransactions() {
    if (!transactional_) return absl::OkStatus();
    std::string what = absl::StrCat("lane ", w_->lane_, ": init_transactions on the target");
    while (true) {
      if (w_->stop_.load()) return absl::CancelledError("stopping");
      absl::Status s = TakeKafkaError(rd_kafka_init_transactions(producer_.get(), ToMs(kInitTimeout)), what);
      if (s.ok()) return s;
      if (!IsRetriable(s) && s.code() != absl::StatusCode::kDeadlineExceeded) return s;
      LogWarn("target not ready for transactions, retrying",
              {{"pipeline", ctx_.pipeline->name}, {"lane", w_->lane_}, {"error", std::string(s.message())}});
      w_->SetError(s);
    }
  }

  absl::Status CreateConsumer() {
    auto source = ctx_.make_source(w_->lane_);
    if (!source.ok()) return source.status();
    source_ = std::move(*source);
    return absl::OkStatus();
  }

  // (Re)assigns the lane's partitions. Only called with no open work, so
  // every slot's committed position is exact.
  absl::Status ApplyDirectory() {
    directory_version_ = ctx_.directory->version();
    std::vector<MirroredPartition> wanted = ctx_.directory->ForLane(w_->lane_);
    absl::flat_hash_map<TopicPartition, std::unique_ptr<Slot>> next;
    for (const auto& mp : wanted) {
      auto it = slots_.find(mp.source);
      if (it != slots_.end() && it->second->mp == mp) {
        next[mp.source] = std::move(it->second);
        continue;
      }
      auto slot = std::make_unique<Slot>();
      slot->mp = mp;
      slot->progress = ctx_.directory->Progress(mp.source);
      slot->target_rkt = rd_kafka_topic_new(producer_.get(), mp.target_topic.c_str(), nullptr);
      if (auto cp = checkpoints_.find(mp.source); cp != checkpoints_.end()) {
        slot->committed_next = cp->second.next_source_offset;
        slot->committed_next_target = cp->second.next_target_offset;
      } else if (ctx_.pipeline->start == config::StartPosition::kLatest) {
        auto latest = source_->LatestOffset(mp.source);
        if (!latest.ok()) return latest.status();
        slot->committed_next = *latest;
        // Persist the resolved start, or a restart before the first record
        // would resolve "latest" again and skip what arrived in between.
        slot->pending_checkpoint = true;
        policy_.OnPendingCheckpoint(ctx_.clock->Now());
      }
      if (slot->committed_next >= 0) slot->progress->replicated_offset.store(slot->committed_next);
      next[mp.source] = std::move(slot);
    }
    for (auto& [tp, slot] : slots_) {
      if (slot && slot->target_rkt) rd_kafka_topic_destroy(slot->target_rkt);
    }
    slots_ = std::move(next);
    by_handle_.clear();

    std::vector<SourceAssignment> assignment;
    for (const auto& [tp, slot] : slots_) {
      if (!slot->stopped) assignment.push_back({tp, slot->committed_next});
    }
    return source_->Assign(assignment);
  }

  // The source could not serve a partition's next offset. Within the log
  // (a leader that had not caught up): read it again. Below the log start:
  // the records in between were deleted before they were copied; they are
  // counted, logged and shown whatever the policy, then the partition
  // stops (stop) or goes on from the log start (skip). Beyond the end: the
  // source lost records we copied; the partition stops whatever the policy.
  absl::Status OnOutOfRange(const OutOfRange& oor) {
    auto it = slots_.find(oor.partition);
    if (it == slots_.end() || it->second->stopped) return absl::OkStatus();
    Slot& slot = *it->second;
    const TopicPartition& tp = oor.partition;
    // Where the lane stands: the source's own word, else after what it read.
    int64_t next = oor.offset;
    if (next < 0) next = slot.txn_records > 0 ? slot.txn_last_source + 1 : std::max<int64_t>(slot.committed_next, 0);
    auto bounds = source_->QueryLogBounds(tp);
    if (!bounds.ok()) {
      // Cannot judge it now: a new session asks again from the checkpoint.
      return Annotate(bounds.status(), absl::StrCat("lane ", w_->lane_, ": offset ", next, " of ", tp.ToString(),
                                                    " is out of range and the log bounds are unknown"));
    }
    slot.progress->source_log_start.store(bounds->start);
    const OutOfRangeVerdict verdict = JudgeOutOfRange(next, bounds->start, bounds->end);
    const std::string& pipeline = ctx_.pipeline->name;
    switch (verdict.kind) {
      case OutOfRangeKind::kWithinLog:
        LogWarn("source offset out of range but inside the log now; reading it again",
                {{"pipeline", pipeline}, {"partition", tp.ToString()}, {"offset", static_cast<long long>(next)}});
        return source_->Reposition(tp, next);
      case OutOfRangeKind::kBeyondLogEnd: {
        std::string error = absl::StrCat("next offset ", next, " of ", tp.ToString(), " is beyond the source log's end ",
                                         bounds->end, ": the source lost records that were already copied (topic "
                                         "recreated, or an unclean leader election); the partition is stopped");
        LogError("source partition is behind what was copied; partition stopped",
                 {{"pipeline", pipeline}, {"partition", tp.ToString()}, {"error", error}});
        slot.progress->source_end_offset.store(bounds->end);
        slot.progress->AddGap(next, next, /*stopped=*/true, error);
        slot.stopped = true;
        return source_->Reposition(tp, std::nullopt);
      }
      case OutOfRangeKind::kBelowLogStart:
        break;
    }
    const bool skip = ctx_.pipeline->on_source_gap == config::SourceGapPolicy::kSkip;
    std::string lost = DescribeSourceGap(tp, verdict.lost_first, verdict.lost_end);
    std::string error = skip ? "" : absl::StrCat(lost, "; the partition is stopped (on_source_gap: stop)");
    const int64_t counted = slot.progress->AddGap(verdict.lost_first, verdict.lost_end, !skip, error);
    slot.progress->source_end_offset.store(bounds->end);
    LogError(skip ? "source records lost; going on from the log start (on_source_gap: skip)"
                  : "source records lost; partition stopped (on_source_gap: stop)",
             {{"pipeline", pipeline},
              {"lane", w_->lane_},
              {"partition", tp.ToString()},
              {"first_lost_offset", static_cast<long long>(verdict.lost_first)},
              {"last_lost_offset", static_cast<long long>(verdict.lost_end - 1)},
              {"records", static_cast<long long>(verdict.lost_records())},
              {"newly_counted", static_cast<long long>(counted)},
              {"error", lost}});
    if (!skip) {
      slot.stopped = true;
      return source_->Reposition(tp, std::nullopt);
    }
    if (!slot.skipped.empty() && slot.skipped.back().end >= verdict.lost_first) {
      slot.skipped.back().end = std::max(slot.skipped.back().end, verdict.lost_end);
    } else {
      slot.skipped.push_back(offsets::LostRange{verdict.lost_first, verdict.lost_end});
    }
    slot.pending_checkpoint = true;
    policy_.OnPendingCheckpoint(ctx_.clock->Now());
    return source_->Reposition(tp, verdict.lost_end);
  }

  Slot* FindSlot(const SourceRecordView& r) {
    auto key = std::make_pair(r.partition_handle, r.partition);
    if (auto it = by_handle_.find(key); it != by_handle_.end()) return it->second;
    auto it = slots_.find(TopicPartition{r.topic, r.partition, r.origin ? r.origin : ""});
    Slot* slot = it == slots_.end() ? nullptr : it->second.get();
    by_handle_[key] = slot;
    return slot;
  }

  absl::Status Forward(const SourceRecordView& r, SteadyTime now) {
    rd_kafka_headers_t* headers = r.headers;  // ours until producev takes it
    Slot* slot = FindSlot(r);
    if (slot == nullptr) {  // from a partition we no longer own
      if (headers) rd_kafka_headers_destroy(headers);
      return absl::OkStatus();
    }
    if (provenance_.Apply(&headers) == ProvenanceVerdict::kVisited) {
      if (headers) rd_kafka_headers_destroy(headers);
      slot->txn_filtered++;
      slot->filtered_next = r.offset + 1;
      slot->pending_checkpoint = true;
      policy_.OnPendingCheckpoint(now);
      return absl::OkStatus();
    }
    if (transactional_ && !txn_open_) {
      if (auto s = TakeKafkaError(rd_kafka_begin_transaction(producer_.get()), "begin_transaction"); !s.ok()) {
        if (headers) rd_kafka_headers_destroy(headers);
        return s;
      }
      txn_open_ = true;
    }
    const int64_t ts = r.timestamp_ms;
    SteadyTime metadata_deadline{};  // set on the first unknown-partition answer
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_RKT(slot->target_rkt), RD_KAFKA_V_PARTITION(r.partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(const_cast<void*>(r.value), r.value_len),
          RD_KAFKA_V_KEY(r.key, r.key_len), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(headers),
          RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !w_->stop_.load()) {
        auto waited_from = ctx_.clock->Now();
        rd_kafka_poll(producer_.get(), 50);  // backpressure: wait for deliveries
        ctx_.metrics->backpressure_seconds->Increment(
            std::chrono::duration<double>(ctx_.clock->Now() - waited_from).count());
        continue;
      }
      if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION && !w_->stop_.load()) {
        // The partition was just added to the target topic (discovery grew
        // it: a new source partition, or a hub that learns partitions as
        // edges ship them) and this producer's cached metadata predates it.
        // Refresh and retry for a while instead of failing the lane, which
        // would make a hub's edges resend everything uncommitted.
        const SteadyTime now_for_metadata = ctx_.clock->Now();
        if (metadata_deadline == SteadyTime{}) metadata_deadline = now_for_metadata + kNewPartitionWait;
        if (now_for_metadata < metadata_deadline) {
          const rd_kafka_metadata_t* md = nullptr;
          if (rd_kafka_metadata(producer_.get(), 0, slot->target_rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
          }
          rd_kafka_poll(producer_.get(), 100);
          continue;
        }
      }
      if (headers) rd_kafka_headers_destroy(headers);
      return KafkaStatus(err, absl::StrCat("lane ", w_->lane_, ": producing to ", slot->mp.target_topic, "[",
                                           r.partition, "]"));
    }
    int64_t bytes = static_cast<int64_t>(r.value_len + r.key_len);
    if (slot->txn_records == 0) slot->progress->oldest_pending_timestamp_ms.store(ts);
    if (!txn_timestamps_.empty() && txn_timestamps_.back().first == ts) {
      ++txn_timestamps_.back().second;
    } else {
      txn_timestamps_.emplace_back(ts, 1);
    }
    slot->awaiting_delivery.push_back(r.offset);
    slot->txn_last_source = r.offset;
    slot->txn_records++;
    slot->txn_bytes += bytes;
    policy_.OnRecord(now, bytes);
    return absl::OkStatus();
  }

  absl::Status Commit(SteadyTime deadline) {
    std::string what = absl::StrCat("lane ", w_->lane_, ": committing");
    const SteadyTime started = ctx_.clock->Now();
    // A stop request (drain, lanes revoked or lost) tightens the deadline:
    // never block a rebalance or a SIGTERM for the whole commit timeout.
    auto effective = [&] {
      if (!w_->stop_.load()) return deadline;
      return std::min(deadline, SteadyTime(std::chrono::nanoseconds(w_->stop_deadline_ns_.load())));
    };
    // 1. Every record delivered: only then are the target offsets known.
    while (rd_kafka_outq_len(producer_.get()) > 0) {
      if (ctx_.clock->Now() > effective()) {
        return absl::UnavailableError(absl::StrCat(what, ": records not delivered to the target in time"));
      }
      rd_kafka_flush(producer_.get(), 200);
      if (!delivery_error_.ok()) return delivery_error_;
    }
    ctx_.metrics->backpressure_seconds->Increment(std::chrono::duration<double>(ctx_.clock->Now() - started).count());
    if (!delivery_error_.ok()) return delivery_error_;
    if (transactional_ && !txn_open_) {
      if (auto s = TakeKafkaError(rd_kafka_begin_transaction(producer_.get()), "begin_transaction"); !s.ok()) {
        return s;
      }
      txn_open_ = true;
    }
    // 2. Checkpoints of every partition written in this transaction.
    int64_t now_ms = ctx_.clock->WallMillis();
    for (auto& [tp, slot] : slots_) {
      if (slot->txn_records == 0 && !slot->pending_checkpoint) continue;
      LH_CHECK(slot->awaiting_delivery.empty());
      offsets::Checkpoint cp;
      cp.next_source_offset = slot->txn_records > 0 ? slot->txn_last_source + 1 : slot->committed_next;
      cp.next_source_offset = std::max(cp.next_source_offset, slot->filtered_next);
      // A skipped gap moves the resume point past it even before a record
      // after it was read.
      if (!slot->skipped.empty()) {
        cp.next_source_offset = std::max(cp.next_source_offset, slot->skipped.back().end);
        // Written down with the move past it, so that offset translation
        // says "lost" for a group inside the gap rather than "exact".
        cp.lost = slot->skipped;
      }
      cp.next_target_offset = slot->txn_records > 0 ? slot->txn_last_target + 1 : slot->committed_next_target;
      cp.commit_time_ms = now_ms;
      cp.lane = w_->lane_;
      cp.segments.assign(slot->segments.segments().begin(), slot->segments.segments().end());
      key_buf_ = offsets::EncodeCheckpointKey(
          offsets::CheckpointKey{ctx_.source->name, tp.topic, tp.partition, tp.origin});
      value_buf_.clear();
      offsets::EncodeCheckpoint(cp, &value_buf_);
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_TOPIC(ctx_.names->checkpoint_topic.c_str()), RD_KAFKA_V_PARTITION(w_->lane_),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key_buf_.data(), key_buf_.size()),
          RD_KAFKA_V_VALUE(value_buf_.data(), value_buf_.size()), RD_KAFKA_V_OPAQUE(nullptr), RD_KAFKA_V_END);
      if (err) return KafkaStatus(err, absl::StrCat(what, ": writing the checkpoint of ", tp.ToString()));
      if (slot->txn_records == 0 && cp.lost.empty()) continue;
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
      err = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(ctx_.names->offset_sync_topic.c_str()),
                              RD_KAFKA_V_PARTITION(w_->lane_), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY(key_buf_.data(), key_buf_.size()),
                              RD_KAFKA_V_VALUE(value_buf_.data(), value_buf_.size()), RD_KAFKA_V_OPAQUE(nullptr),
                              RD_KAFKA_V_END);
      if (err) return KafkaStatus(err, absl::StrCat(what, ": writing the offset sync of ", tp.ToString()));
    }
    // 3. Records and checkpoints become visible together, or not at all.
    if (transactional_) {
      while (true) {
        auto left = std::chrono::duration_cast<milliseconds>(effective() - ctx_.clock->Now());
        absl::Status s = TakeKafkaError(
            rd_kafka_commit_transaction(producer_.get(), ToMs(std::clamp(left, milliseconds(100), milliseconds(10'000)))),
            what);
        if (s.ok()) break;
        if (IsRetriable(s) && ctx_.clock->Now() < effective()) continue;
        return s;
      }
      txn_open_ = false;
    } else {
      while (rd_kafka_outq_len(producer_.get()) > 0) {
        if (ctx_.clock->Now() > effective()) return absl::UnavailableError(what + ": checkpoints not delivered in time");
        rd_kafka_flush(producer_.get(), 200);
      }
      if (!delivery_error_.ok()) return delivery_error_;
    }
    // 4. Durable: advance positions.
    std::map<TopicPartition, int64_t> committed;
    for (auto& [tp, slot] : slots_) {
      if (slot->txn_records == 0 && !slot->pending_checkpoint) continue;
      if (slot->txn_records > 0) {
        slot->committed_next = slot->txn_last_source + 1;
        slot->committed_next_target = slot->txn_last_target + 1;
      }
      slot->committed_next = std::max(slot->committed_next, slot->filtered_next);
      if (slot->txn_filtered > 0) {
        slot->progress->records_filtered_total.fetch_add(slot->txn_filtered);
        ctx_.metrics->records_filtered_visited->Increment(static_cast<double>(slot->txn_filtered));
        slot->txn_filtered = 0;
      }
      if (!slot->skipped.empty()) slot->committed_next = std::max(slot->committed_next, slot->skipped.back().end);
      slot->skipped.clear();
      if (slot->committed_next >= 0) committed[tp] = slot->committed_next;
      slot->progress->replicated_offset.store(slot->committed_next);
      slot->progress->advanced_at_ms.store(now_ms);
      slot->progress->records_total.fetch_add(slot->txn_records);
      slot->progress->bytes_total.fetch_add(slot->txn_bytes);
      slot->progress->oldest_pending_timestamp_ms.store(-1);
      slot->txn_records = 0;
      slot->txn_bytes = 0;
      slot->pending_checkpoint = false;
      slot->segments.Clear();
    }
    const SteadyTime finished = ctx_.clock->Now();
    policy_.OnCommitted(finished, finished - started);
    if (!committed.empty()) source_->OnCommitted(committed);
    ctx_.metrics->commit_latency->Observe(std::chrono::duration<double>(finished - started).count());
    ctx_.metrics->transactions->Increment();
    const int64_t committed_ms = ctx_.clock->WallMillis();
    for (const auto& [ts, count] : txn_timestamps_) {
      ctx_.metrics->replication_latency->Observe(std::max<int64_t>(0, committed_ms - ts) / 1000.0,
                                                 static_cast<uint64_t>(count));
    }
    txn_timestamps_.clear();
    w_->last_commit_ms_.store(committed_ms);
    w_->SetError(absl::OkStatus());
    return absl::OkStatus();
  }

  absl::Status Drain() {
    auto deadline = SteadyTime(std::chrono::nanoseconds(w_->stop_deadline_ns_.load()));
    if (policy_.HasWork()) {
      absl::Status s = Commit(deadline);
      if (!s.ok()) {
        LogWarn("drain: could not commit the open transaction, aborting it",
                {{"pipeline", ctx_.pipeline->name}, {"lane", w_->lane_}, {"error", std::string(s.message())}});
        Abort(milliseconds(1000));
      }
    }
    return absl::OkStatus();
  }

  void UpdateEndOffsets() {
    int64_t now_ms = ctx_.clock->WallMillis();
    for (const auto& [tp, offsets] : source_->Offsets()) {
      auto it = slots_.find(tp);
      if (it == slots_.end() || offsets.end < 0) continue;
      Slot& slot = *it->second;
      slot.progress->source_end_offset.store(offsets.end);
      int64_t replicated = slot.committed_next >= 0 ? slot.committed_next : std::max<int64_t>(offsets.low, 0);
      // Transaction markers and aborted records at the end of the source log
      // are never delivered, so the last checkpoint stops short of the end.
      // With nothing open in our transaction, everything before the reader's
      // position is replicated or was skipped: count it as replicated.
      if (slot.txn_records == 0 && offsets.position > replicated) replicated = offsets.position;
      slot.progress->replicated_offset.store(replicated);
      if (replicated >= offsets.end) slot.progress->caught_up_at_ms.store(now_ms);
    }
  }

  LaneWorker* w_;
  const LaneContext& ctx_;
  CommitPolicy policy_;
  const ProvenanceRule provenance_;
  bool transactional_ = true;
  bool txn_open_ = false;
  KafkaHandle producer_;
  std::unique_ptr<RecordSource> source_;
  uint64_t directory_version_ = 0;
  std::map<TopicPartition, offsets::Checkpoint> checkpoints_;
  absl::flat_hash_map<TopicPartition, std::unique_ptr<Slot>> slots_;
  absl::flat_hash_map<std::pair<const void*, int32_t>, Slot*> by_handle_;
  absl::Status delivery_error_;
  std::string key_buf_, value_buf_;
  // Create times of the open transaction's records, run-length encoded
  // (timestamp, records): consecutive records mostly share their millisecond.
  std::vector<std::pair<int64_t, int64_t>> txn_timestamps_;
};

LaneWorker::LaneWorker(LaneContext ctx, int lane) : ctx_(ctx), lane_(lane) {}

LaneWorker::~LaneWorker() {
  if (thread_.joinable()) {
    RequestStop(ctx_.clock->Now());
    Join();
  }
}

void LaneWorker::Start() { thread_ = std::thread([this] { Run(); }); }

void LaneWorker::RequestStop(SteadyTime deadline) {
  stop_deadline_ns_.store(deadline.time_since_epoch().count());
  stop_.store(true);
}

void LaneWorker::Join() {
  if (thread_.joinable()) thread_.join();
}

std::string LaneWorker::LastError() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return last_error_;
}

void LaneWorker::SetError(const absl::Status& s) {
  std::lock_guard<std::mutex> lock(error_mu_);
  last_error_ = s.ok() ? "" : std::string(s.message());
}

void LaneWorker::Run() {
  Backoff backoff(milliseconds(200), milliseconds(10'000));
  while (!stop_.load()) {
    Session session(this);
    absl::Status s = session.Run();
    if (s.ok() || stop_.load()) {
      session.Close();
      break;
    }
    if (IsSessionRestart(s)) {
      // Asked for by the record source (a hub whose edge session ended): a
      // routine restart, not a failure; no backoff.
      LogInfo("lane session restarting", {{"pipeline", ctx_.pipeline->name}, {"lane", lane_},
                                          {"reason", std::string(s.message())}});
      session.Abort(milliseconds(2000));
      session.Close();
      backoff.Reset();
      continue;
    }
    SetError(s);
    ctx_.metrics->Error(IsFenced(s) ? ErrorReason::kFenced : ErrorReason::kTransactionAbort);
    LogWarn(IsFenced(s) ? "lane fenced by a newer owner" : "lane session failed; restarting from checkpoints",
            {{"pipeline", ctx_.pipeline->name}, {"lane", lane_}, {"error", std::string(s.message())}});
    session.Abort(milliseconds(2000));
    session.Close();
    auto delay = backoff.Next();
    for (auto until = ctx_.clock->Now() + delay; ctx_.clock->Now() < until && !stop_.load();) {
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  LogInfo("lane stopped", {{"pipeline", ctx_.pipeline->name}, {"lane", lane_}});
}

}  // namespace longhaul::mirror
