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
#include "lane_transaction.h"
#include "longhaul/offsets/checkpoint.h"
#include "rdkafka_transactional_writer.h"
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
  const SteadyTime deadline = ctx.clock->Now() + milliseconds(60'000);
  while (true) {
    if (stop.load()) return absl::CancelledError(what + ": stopping");
    if (ctx.clock->Now() > deadline) {
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
      return WithContext(decoded_key.status(), absl::StrCat(what, ": record at offset ", m->offset));
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
    if (!cp.ok()) return WithContext(cp.status(), absl::StrCat(what, ": record at offset ", m->offset));
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
// The transaction's bookkeeping is LaneTransaction's (lane_transaction.h);
// this is its I/O shell: the writer, the record source, the directory.
class LaneWorker::Session {
 public:
  Session(LaneWorker* owner) : w_(owner), ctx_(owner->ctx_) {
    transactional_ = ctx_.pipeline->delivery == config::Delivery::kExactlyOnce;
  }

  absl::Status Run() {
    if (auto s = CreateWriter(); !s.ok()) return s;
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
                             {"partitions", static_cast<unsigned long>(txn_->partition_count())},
                             {"checkpoints", static_cast<unsigned long>(checkpoints_.size())}});

    auto next_progress = ctx_.clock->Now();
    bool behind = false;  // the source was not caught up when the lane last ran dry
    while (true) {
      if (w_->stop_.load()) return Drain();
      SteadyTime now = ctx_.clock->Now();
      if (ctx_.directory->version() != directory_version_) {
        if (txn_->HasWork()) {
          if (auto s = Commit(now + kCommitTimeout); !s.ok()) return s;
        }
        if (auto s = ApplyDirectory(); !s.ok()) return s;
      }
      // Wait for the first record only until the transaction is due, then
      // take what is already queued without waiting.
      milliseconds wait = std::min(kPollSlice, txn_->policy().TimeUntilDue(now, /*early=*/!behind));
      bool ran_dry = false;
      for (int n = 0; n < kMaxBatch && !txn_->policy().Full(); ++n) {
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
        if (auto s = txn_->Add(record, now); !s.ok()) return s;
      }
      for (const OutOfRange& oor : source_->TakeOutOfRange()) {
        if (auto s = OnOutOfRange(oor); !s.ok()) return s;
      }
      if (auto s = txn_->ServeDeliveries(); !s.ok()) return s;
      now = ctx_.clock->Now();
      // Ran dry and read to the end of every partition: commit now rather
      // than at commit_interval. Running dry alone is not enough: under a
      // backlog the queue empties while the next fetch is on its way, and
      // committing then would stall the lane for nothing.
      bool caught_up = false;
      if (ran_dry && txn_->policy().MayCommitEarly(now)) {
        caught_up = source_->CaughtUp();
        behind = !caught_up;
      } else if (!ran_dry) {
        behind = false;
      }
      if (txn_->policy().ShouldCommit(now, caught_up)) {
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
    if (txn_) txn_->Abort(timeout);
  }

  void Close() {
    if (source_) source_->Close();
    if (writer_) writer_->Purge();
    source_.reset();
    txn_.reset();
    writer_.reset();
  }

 private:
  absl::Status CreateWriter() {
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
    std::optional<std::string> txn_id;
    if (transactional_) txn_id = absl::StrCat(ctx_.names->transactional_id_prefix, w_->lane_);
    auto writer = RdKafkaTransactionalWriter::Create(
        defaults, ctx_.target->ClientProperties(config::ClientRole::kProducer), txn_id, what);
    if (!writer.ok()) return writer.status();
    writer_ = std::move(*writer);
    LaneTransactionOptions options;
    options.lane = w_->lane_;
    options.source_cluster = ctx_.source->name;
    options.checkpoint_topic = ctx_.names->checkpoint_topic;
    options.offset_sync_topic = ctx_.names->offset_sync_topic;
    options.transactional = transactional_;
    options.commit_interval = ctx_.pipeline->commit_interval;
    options.min_commit_interval = ctx_.pipeline->min_commit_interval;
    options.max_transaction_bytes = ctx_.pipeline->max_transaction_bytes;
    options.new_partition_wait = kNewPartitionWait;
    options.provenance = ProvenanceRule(*ctx_.pipeline);
    LaneWorker* w = w_;
    txn_ = std::make_unique<LaneTransaction>(writer_.get(), ctx_.clock, ctx_.metrics, std::move(options),
                                             [w]() -> std::optional<SteadyTime> {
                                               if (!w->stop_.load()) return std::nullopt;
                                               return SteadyTime(std::chrono::nanoseconds(w->stop_deadline_ns_.load()));
                                             });
    return absl::OkStatus();
  }

  absl::Status InitTransactions() {
    if (!transactional_) return absl::OkStatus();
    std::string what = absl::StrCat("lane ", w_->lane_, ": init_transactions on the target");
    while (true) {
      if (w_->stop_.load()) return absl::CancelledError("stopping");
      absl::Status s = writer_->InitTransactions(kInitTimeout, what);
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
  // every partition's committed position is exact.
  absl::Status ApplyDirectory() {
    directory_version_ = ctx_.directory->version();
    absl::Status s = txn_->SetPartitions(
        ctx_.directory->ForLane(w_->lane_), [&](const TopicPartition& tp) { return ctx_.directory->Progress(tp); },
        [&](const MirroredPartition& mp) -> absl::StatusOr<LaneTransaction::PartitionStart> {
          LaneTransaction::PartitionStart start;
          if (auto cp = checkpoints_.find(mp.source); cp != checkpoints_.end()) {
            start.committed_next = cp->second.next_source_offset;
            start.committed_next_target = cp->second.next_target_offset;
          } else if (ctx_.pipeline->start == config::StartPosition::kLatest) {
            auto latest = source_->LatestOffset(mp.source);
            if (!latest.ok()) return latest.status();
            start.committed_next = *latest;
            start.pending_checkpoint = true;
          }
          return start;
        });
    if (!s.ok()) return s;
    return source_->Assign(txn_->Assignment());
  }

  // The source could not serve a partition's next offset. Within the log
  // (a leader that had not caught up): read it again. Below the log start:
  // the records in between were deleted before they were copied; they are
  // counted, logged and shown whatever the policy, then the partition
  // stops (stop) or goes on from the log start (skip). Beyond the end: the
  // source lost records we copied; the partition stops whatever the policy.
  absl::Status OnOutOfRange(const OutOfRange& oor) {
    LaneTransaction::Partition* part = txn_->Find(oor.partition);
    if (part == nullptr || part->stopped) return absl::OkStatus();
    const TopicPartition& tp = oor.partition;
    // Where the lane stands: the source's own word, else after what it read.
    int64_t next = oor.offset;
    if (next < 0) next = part->NextOffset();
    auto bounds = source_->QueryLogBounds(tp);
    if (!bounds.ok()) {
      // Cannot judge it now: a new session asks again from the checkpoint.
      return WithContext(bounds.status(), absl::StrCat("lane ", w_->lane_, ": offset ", next, " of ", tp.ToString(),
                                                       " is out of range and the log bounds are unknown"));
    }
    PartitionProgress* progress = part->progress;
    progress->source_log_start.store(bounds->start);
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
        progress->source_end_offset.store(bounds->end);
        progress->AddGap(next, next, /*stopped=*/true, error);
        txn_->StopPartition(tp);
        return source_->Reposition(tp, std::nullopt);
      }
      case OutOfRangeKind::kBelowLogStart:
        break;
    }
    const bool skip = ctx_.pipeline->on_source_gap == config::SourceGapPolicy::kSkip;
    std::string lost = DescribeSourceGap(tp, verdict.lost_first, verdict.lost_end);
    std::string error = skip ? "" : absl::StrCat(lost, "; the partition is stopped (on_source_gap: stop)");
    const int64_t counted = progress->AddGap(verdict.lost_first, verdict.lost_end, !skip, error);
    progress->source_end_offset.store(bounds->end);
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
      txn_->StopPartition(tp);
      return source_->Reposition(tp, std::nullopt);
    }
    txn_->SkipLostRange(tp, verdict.lost_first, verdict.lost_end);
    return source_->Reposition(tp, verdict.lost_end);
  }

  absl::Status Commit(SteadyTime deadline) {
    auto committed = txn_->Commit(deadline);
    if (!committed.ok()) return committed.status();
    if (!committed->next_offsets.empty()) source_->OnCommitted(committed->next_offsets);
    w_->last_commit_ms_.store(committed->wall_ms);
    w_->SetError(absl::OkStatus());
    return absl::OkStatus();
  }

  absl::Status Drain() {
    auto deadline = SteadyTime(std::chrono::nanoseconds(w_->stop_deadline_ns_.load()));
    if (txn_->HasWork()) {
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
      const LaneTransaction::Partition* part = txn_->Find(tp);
      if (part == nullptr || offsets.end < 0) continue;
      part->progress->source_end_offset.store(offsets.end);
      int64_t replicated = part->committed_next >= 0 ? part->committed_next : std::max<int64_t>(offsets.low, 0);
      // Transaction markers and aborted records at the end of the source log
      // are never delivered, so the last checkpoint stops short of the end.
      // With nothing open in our transaction, everything before the reader's
      // position is replicated or was skipped: count it as replicated.
      if (part->txn_records == 0 && offsets.position > replicated) replicated = offsets.position;
      part->progress->replicated_offset.store(replicated);
      if (replicated >= offsets.end) part->progress->caught_up_at_ms.store(now_ms);
    }
  }

  LaneWorker* w_;
  const LaneContext& ctx_;
  bool transactional_ = true;
  // Declared in this order so that the transaction (which the writer calls
  // back with delivery reports) goes before the writer.
  std::unique_ptr<RdKafkaTransactionalWriter> writer_;
  std::unique_ptr<LaneTransaction> txn_;
  std::unique_ptr<RecordSource> source_;
  uint64_t directory_version_ = 0;
  std::map<TopicPartition, offsets::Checkpoint> checkpoints_;
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
      ctx_.clock->SleepFor(milliseconds(50));
    }
  }
  LogInfo("lane stopped", {{"pipeline", ctx_.pipeline->name}, {"lane", lane_}});
}

}  // namespace longhaul::mirror
