#include "offset_sync_reader.h"

#include <chrono>
#include <limits>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "kafka_client.h"
#include "kafka_status.h"
#include "pipeline_state.h"

namespace longhaul::mirror {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kReadTimeout{60'000};
constexpr milliseconds kProbeTimeout{30'000};
constexpr int kPollMs = 100;
constexpr int kWatermarkTimeoutMs = 10'000;

bool Stopped(const std::atomic<bool>* stop) { return stop != nullptr && stop->load(); }

// A consumer that never joins its group (manual assignment only), reading
// committed data, reporting the end of each partition.
absl::StatusOr<KafkaHandle> MakeReader(const config::ClusterConfig& cluster, const std::string& group,
                                       const std::string& client_id, const std::string& what,
                                       const Properties& extra = {}) {
  Properties defaults = {
      {"group.id", group},
      {"client.id", client_id},
      {"isolation.level", "read_committed"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"fetch.wait.max.ms", "100"},
  };
  for (const auto& [k, v] : extra) defaults[k] = v;
  auto conf = MakeConf(defaults, cluster.ClientProperties(config::ClientRole::kConsumer), what);
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_CONSUMER, std::move(*conf), what);
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return rk;
}

// First offset and read_committed end (last stable offset) of each
// partition. offsets_for_times with the logical offsets is a plain
// ListOffsets that honours its timeout (query_watermark_offsets does not in
// 2.0.2) and, on a read_committed handle, answers END with the LSO.
absl::StatusOr<std::map<TopicPartition, PartitionBounds>> Bounds(rd_kafka_t* rk,
                                                                 const std::vector<TopicPartition>& partitions,
                                                                 const std::string& what) {
  std::map<TopicPartition, PartitionBounds> out;
  for (int64_t which : {RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_END}) {
    PartitionList list = MakePartitionList(static_cast<int>(partitions.size()) + 1);
    for (const auto& tp : partitions) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = which;
    }
    if (auto err = rd_kafka_offsets_for_times(rk, list.get(), kWatermarkTimeoutMs)) return KafkaStatus(err, what);
    for (int i = 0; i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t& e = list->elems[i];
      if (e.err) return KafkaStatus(e.err, absl::StrCat(what, ": ", e.topic, "[", e.partition, "]"));
      PartitionBounds& b = out[TopicPartition{e.topic, e.partition}];
      (which == RD_KAFKA_OFFSET_BEGINNING ? b.low : b.high) = e.offset;
    }
  }
  return out;
}

class RdKafkaOffsetSyncReader final : public OffsetSyncReader {
 public:
  RdKafkaOffsetSyncReader(const config::PipelineConfig& pipeline, std::string source_cluster, KafkaHandle consumer,
                          const std::atomic<bool>* stop)
      : names_(pipeline), source_cluster_(std::move(source_cluster)), rk_(std::move(consumer)), stop_(stop) {}

  ~RdKafkaOffsetSyncReader() override { rd_kafka_consumer_close(rk_.get()); }

  absl::StatusOr<PartitionBounds> SyncBounds(int lane) override {
    TopicPartition tp{names_.offset_sync_topic, lane};
    auto b = Bounds(rk_.get(), {tp}, absl::StrCat("reading the bounds of ", tp.ToString()));
    if (!b.ok()) return b.status();
    return (*b)[tp];
  }

  absl::StatusOr<int64_t> ReadCheckpoints(int lane, int64_t from, const CheckpointFn& fn) override {
    const std::string& topic = names_.checkpoint_topic;
    return ReadRange(topic, lane, from, std::numeric_limits<int64_t>::max(),
                     [&](const rd_kafka_message_t* m, const offsets::CheckpointKey& key) -> absl::Status {
                       TopicPartition tp{key.topic, key.partition};
                       if (m->payload == nullptr) {
                         fn(tp, nullptr);
                         return absl::OkStatus();
                       }
                       auto cp = offsets::DecodeCheckpoint(
                           std::string_view(static_cast<const char*>(m->payload), m->len));
                       if (!cp.ok()) return cp.status();
                       fn(tp, &*cp);
                       return absl::OkStatus();
                     });
  }

  absl::StatusOr<int64_t> ReadSyncs(int lane, int64_t from, int64_t to, const SyncFn& fn) override {
    return ReadRange(names_.offset_sync_topic, lane, from, to,
                     [&](const rd_kafka_message_t* m, const offsets::CheckpointKey& key) -> absl::Status {
                       if (m->payload == nullptr) return absl::OkStatus();  // nothing to learn from a tombstone
                       auto sync = offsets::DecodeOffsetSync(
                           std::string_view(static_cast<const char*>(m->payload), m->len));
                       if (!sync.ok()) return sync.status();
                       if (sync->topic != key.topic || sync->partition != key.partition) {
                         return absl::InvalidArgumentError(
                             absl::StrCat("offset-sync value is for ", sync->topic, "[", sync->partition,
                                          "] but its key names ", key.topic, "[", key.partition, "]"));
                       }
                       fn(m->offset, *sync);
                       return absl::OkStatus();
                     });
  }

 private:
  using RecordFn = std::function<absl::Status(const rd_kafka_message_t*, const offsets::CheckpointKey&)>;

  // Reads [from, to) of topic[lane], read_committed, stopping at `to` or at
  // the end. Returns the position after what was covered.
  absl::StatusOr<int64_t> ReadRange(const std::string& topic, int lane, int64_t from, int64_t to,
                                    const RecordFn& fn) {
    const std::string what = absl::StrCat("reading ", topic, "[", lane, "] from offset ", from);
    if (from >= to) return to;
    PartitionList list = MakePartitionList(1);
    // A read_committed consumer resolves OFFSET_END to the last stable offset.
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), lane)->offset =
        from == kFromEnd ? RD_KAFKA_OFFSET_END : from <= 0 ? RD_KAFKA_OFFSET_BEGINNING : from;
    if (auto err = rd_kafka_assign(rk_.get(), list.get())) return KafkaStatus(err, what);
    absl::StatusOr<int64_t> result = Loop(topic, lane, to, what, fn);
    rd_kafka_assign(rk_.get(), nullptr);  // stop prefetching what nobody reads
    return result;
  }

  absl::StatusOr<int64_t> Loop(const std::string& topic, int lane, int64_t to, const std::string& what,
                               const RecordFn& fn) {
    auto deadline = SteadyClock::now() + kReadTimeout;
    while (true) {
      if (Stopped(stop_)) return absl::CancelledError(what + ": stopping");
      if (SteadyClock::now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat(what, ": did not reach the end within ", kReadTimeout.count() / 1000, " s"));
      }
      KafkaMessage m(rd_kafka_consumer_poll(rk_.get(), kPollMs));
      if (!m) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::min(m->offset, to);
      if (m->err) {
        absl::Status s = KafkaStatus(m->err, what);
        if (IsRetriable(s)) continue;  // broker restarting, leader moving: keep trying until the deadline
        return s;
      }
      if (m->offset >= to) return to;
      std::string_view key(static_cast<const char*>(m->key), m->key_len);
      auto decoded = offsets::DecodeCheckpointKey(key);
      if (!decoded.ok()) {
        return WithContext(decoded.status(), absl::StrCat("record at offset ", m->offset, " of ", topic, "[", lane, "]"));
      }
      if (decoded->source_cluster != source_cluster_) continue;
      // One edge's partition of an `edges: many` pipeline: translation does
      // not name edges yet, so these never mix into another edge's map.
      if (!decoded->edge.empty()) continue;
      if (absl::Status s = fn(m.get(), *decoded); !s.ok()) {
        return WithContext(s, absl::StrCat("record at offset ", m->offset, " of ", topic, "[", lane, "]"));
      }
    }
  }

  PipelineNames names_;
  std::string source_cluster_;
  KafkaHandle rk_;
  const std::atomic<bool>* stop_;
};

class RdKafkaSourceProbe final : public SourceProbe {
 public:
  RdKafkaSourceProbe(KafkaHandle consumer, std::string source_cluster, const std::atomic<bool>* stop)
      : rk_(std::move(consumer)), source_cluster_(std::move(source_cluster)), stop_(stop) {}
  ~RdKafkaSourceProbe() override { rd_kafka_consumer_close(rk_.get()); }

  absl::StatusOr<std::map<TopicPartition, int64_t>> NextRecord(
      const std::vector<std::pair<TopicPartition, int64_t>>& positions) override {
    std::map<TopicPartition, int64_t> out;
    std::set<TopicPartition> pending;
    PartitionList list = MakePartitionList(static_cast<int>(positions.size()) + 1);
    std::vector<TopicPartition> tps;
    for (const auto& [tp, _] : positions) tps.push_back(tp);
    auto bounds = Bounds(rk_.get(), tps, absl::StrCat("reading partition bounds on source cluster '", source_cluster_,
                                                      "'"));
    if (!bounds.ok()) return bounds.status();
    for (const auto& [tp, offset] : positions) {
      const PartitionBounds& b = (*bounds)[tp];
      int64_t start = std::max(offset, b.low);
      if (start >= b.high) {  // no committed record at or after it yet
        out[tp] = start;
        continue;
      }
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = start;
      pending.insert(tp);
    }
    if (pending.empty()) return out;
    const std::string what = absl::StrCat("looking for the next committed records on source cluster '",
                                          source_cluster_, "'");
    if (auto err = rd_kafka_assign(rk_.get(), list.get())) return KafkaStatus(err, what);
    auto deadline = SteadyClock::now() + kProbeTimeout;
    absl::Status status;
    while (!pending.empty()) {
      if (Stopped(stop_)) {
        status = absl::CancelledError(what + ": stopping");
        break;
      }
      if (SteadyClock::now() > deadline) {
        status = absl::DeadlineExceededError(absl::StrCat(what, ": no answer for ", pending.begin()->ToString(),
                                                          " within ", kProbeTimeout.count() / 1000, " s"));
        break;
      }
      KafkaMessage m(rd_kafka_consumer_poll(rk_.get(), kPollMs));
      if (!m) continue;
      if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        absl::Status s = KafkaStatus(m->err, what);
        if (IsRetriable(s)) continue;
        status = s;
        break;
      }
      if (m->rkt == nullptr) continue;
      TopicPartition tp{rd_kafka_topic_name(m->rkt), m->partition};
      if (pending.erase(tp) == 0) continue;  // already answered
      out[tp] = m->offset;  // a record's offset, or at EOF the read_committed end
    }
    rd_kafka_assign(rk_.get(), nullptr);
    if (!status.ok()) return status;
    return out;
  }

 private:
  KafkaHandle rk_;
  std::string source_cluster_;
  const std::atomic<bool>* stop_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OffsetSyncReader>> CreateRdKafkaOffsetSyncReader(
    const config::PipelineConfig& pipeline, const config::ClusterConfig& source, const config::ClusterConfig& target,
    const std::atomic<bool>* stop) {
  PipelineNames names(pipeline);
  auto rk = MakeReader(target, names.lane_group + ".offsets-reader",
                       absl::StrCat("longhaul-", pipeline.name, "-offsets-reader"),
                       absl::StrCat("offset-sync reader of pipeline '", pipeline.name, "' on target cluster '",
                                    target.name, "'"),
                       {{"queued.max.messages.kbytes", "4096"}});
  if (!rk.ok()) return rk.status();
  return std::unique_ptr<OffsetSyncReader>(new RdKafkaOffsetSyncReader(pipeline, source.name, std::move(*rk), stop));
}

absl::StatusOr<std::unique_ptr<SourceProbe>> CreateRdKafkaSourceProbe(const config::PipelineConfig& pipeline,
                                                                     const config::ClusterConfig& source,
                                                                     const std::atomic<bool>* stop) {
  PipelineNames names(pipeline);
  // Only the first record of each partition matters: keep fetches small.
  auto rk = MakeReader(source, names.lane_group + ".offsets-probe",
                       absl::StrCat("longhaul-", pipeline.name, "-offsets-probe"),
                       absl::StrCat("source probe of pipeline '", pipeline.name, "' on source cluster '", source.name,
                                    "'"),
                       {{"max.partition.fetch.bytes", "65536"}, {"queued.max.messages.kbytes", "1024"}});
  if (!rk.ok()) return rk.status();
  return std::unique_ptr<SourceProbe>(new RdKafkaSourceProbe(std::move(*rk), source.name, stop));
}

}  // namespace longhaul::mirror
