#include "kafka_record_source.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kafka_status.h"

namespace longhaul::mirror {

absl::StatusOr<std::unique_ptr<KafkaRecordSource>> KafkaRecordSource::Create(const Properties& defaults,
                                                                             const Properties& properties,
                                                                             const std::string& what) {
  auto conf = MakeConf(defaults, properties, what);
  if (!conf.ok()) return conf.status();
  // Set over the operator's properties: an offset out of range is the
  // reader's decision (source_gap.h), never a silent jump.
  char errstr[256];
  if (rd_kafka_conf_set(conf->get(), "auto.offset.reset", "error", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    return absl::InternalError(absl::StrCat(what, ": auto.offset.reset=error: ", errstr));
  }
  auto rk = MakeClient(RD_KAFKA_CONSUMER, std::move(*conf), what);
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return std::unique_ptr<KafkaRecordSource>(new KafkaRecordSource(std::move(*rk), what));
}

absl::Status KafkaRecordSource::Assign(const std::vector<SourceAssignment>& assignment) {
  current_.reset();
  out_of_range_.clear();
  PartitionList list = MakePartitionList(static_cast<int>(assignment.size()) + 1);
  assigned_.clear();
  start_offsets_.clear();
  for (const auto& a : assignment) {
    rd_kafka_topic_partition_list_add(list.get(), a.partition.topic.c_str(), a.partition.partition)->offset =
        a.start_offset >= 0 ? a.start_offset : RD_KAFKA_OFFSET_BEGINNING;
    assigned_.push_back(a.partition);
    start_offsets_.push_back(a.start_offset);
  }
  RebuildPositions();
  if (auto err = rd_kafka_assign(rk_.get(), list.get())) return KafkaStatus(err, what_ + ": assigning partitions");
  return absl::OkStatus();
}

void KafkaRecordSource::RebuildPositions() {
  positions_ = MakePartitionList(static_cast<int>(assigned_.size()) + 1);
  for (const auto& tp : assigned_) rd_kafka_topic_partition_list_add(positions_.get(), tp.topic.c_str(), tp.partition);
}

std::vector<OutOfRange> KafkaRecordSource::TakeOutOfRange() { return std::exchange(out_of_range_, {}); }

absl::Status KafkaRecordSource::Reposition(const TopicPartition& tp, std::optional<int64_t> offset) {
  current_.reset();
  auto it = std::find(assigned_.begin(), assigned_.end(), tp);
  if (it == assigned_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(what_, ": ", tp.ToString(), " is not assigned"));
  }
  // After an out-of-range error librdkafka has stopped fetching the
  // partition and refuses a seek, so it is taken out of the assignment and,
  // unless it stops here, put back at the new offset.
  PartitionList one = MakePartitionList(1);
  rd_kafka_topic_partition_list_add(one.get(), tp.topic.c_str(), tp.partition);
  if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk_.get(), one.get())) {
    absl::Status s = absl::InternalError(
        absl::StrCat(what_, ": unassigning ", tp.ToString(), ": ", rd_kafka_error_string(error)));
    rd_kafka_error_destroy(error);
    return s;
  }
  const size_t index = static_cast<size_t>(it - assigned_.begin());
  if (!offset) {
    assigned_.erase(it);
    start_offsets_.erase(start_offsets_.begin() + static_cast<std::ptrdiff_t>(index));
    RebuildPositions();
    return absl::OkStatus();
  }
  start_offsets_[index] = *offset;
  one->elems[0].offset = *offset;
  if (rd_kafka_error_t* error = rd_kafka_incremental_assign(rk_.get(), one.get())) {
    absl::Status s = absl::InternalError(absl::StrCat(what_, ": assigning ", tp.ToString(), " at offset ", *offset,
                                                      ": ", rd_kafka_error_string(error)));
    rd_kafka_error_destroy(error);
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> KafkaRecordSource::ListOffset(const TopicPartition& tp, int64_t logical, const char* which) {
  // rd_kafka_query_watermark_offsets ignores its timeout while the broker is
  // down in 2.0.x; offsets_for_times honours it. OFFSET_END follows the
  // consumer's isolation level (read_committed: the last stable offset),
  // OFFSET_BEGINNING asks for the log start.
  PartitionList list = MakePartitionList(1);
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = logical;
  const std::string what = absl::StrCat(what_, ": resolving the ", which, " offset of ", tp.ToString());
  if (auto err = rd_kafka_offsets_for_times(rk_.get(), list.get(), 10'000)) return KafkaStatus(err, what);
  const auto& e = list->elems[0];
  if (e.err) return KafkaStatus(e.err, what);
  return e.offset;
}

absl::StatusOr<LogBounds> KafkaRecordSource::QueryLogBounds(const TopicPartition& tp) {
  auto start = ListOffset(tp, RD_KAFKA_OFFSET_BEGINNING, "earliest");
  if (!start.ok()) return start.status();
  auto end = ListOffset(tp, RD_KAFKA_OFFSET_END, "latest");
  if (!end.ok()) return end.status();
  return LogBounds{*start, *end};
}

absl::StatusOr<bool> KafkaRecordSource::Next(std::chrono::milliseconds wait, SourceRecordView* out,
                                             absl::Status* warning) {
  current_.reset(rd_kafka_consumer_poll(rk_.get(), static_cast<int>(wait.count())));
  rd_kafka_message_t* m = current_.get();
  if (m == nullptr) return false;
  if (m->err) {
    if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET && m->rkt != nullptr) {
      // auto.offset.reset=error: the partition's offset is out of range and
      // librdkafka stopped fetching it. The reader decides what to do.
      out_of_range_.push_back(OutOfRange{TopicPartition{rd_kafka_topic_name(m->rkt), m->partition}, m->offset});
      return false;
    }
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // Source unreachable or leader moving: librdkafka retries by itself.
      *warning = KafkaStatus(m->err, absl::StrCat(what_, ": reading",
                                                  m->rkt ? absl::StrCat(" ", rd_kafka_topic_name(m->rkt), "[",
                                                                        m->partition, "]")
                                                         : ""));
    }
    return false;
  }
  out->partition_handle = m->rkt;
  out->topic = rd_kafka_topic_name(m->rkt);
  out->partition = m->partition;
  out->offset = m->offset;
  rd_kafka_timestamp_type_t ts_type;
  out->timestamp_ms = rd_kafka_message_timestamp(m, &ts_type);
  if (ts_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) out->timestamp_ms = 0;
  out->key = m->key;
  out->key_len = m->key_len;
  out->value = m->payload;
  out->value_len = m->len;
  // Detached, not copied: the parsed list becomes the caller's (and then the
  // producer's), saving an allocation per header and per record.
  rd_kafka_headers_t* headers = nullptr;
  out->headers = RecordHeaders::AdoptNative(
      rd_kafka_message_detach_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR ? headers : nullptr);
  return true;
}

bool KafkaRecordSource::CaughtUp() {
  if (!positions_) return true;  // nothing assigned, nothing waiting
  rd_kafka_position(rk_.get(), positions_.get());
  for (int i = 0; i < positions_->cnt; ++i) {
    const auto& e = positions_->elems[i];
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(rk_.get(), e.topic, e.partition, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0) {
      return false;  // no fetch response yet: unknown
    }
    // Nothing handed out yet: the position is where the partition starts.
    // Transaction markers advance it too (librdkafka serves them as ops).
    int64_t position = e.offset >= 0 ? e.offset : start_offsets_[i] >= 0 ? start_offsets_[i] : lo;
    if (position < hi) return false;
  }
  return true;
}

std::map<TopicPartition, EndOffsets> KafkaRecordSource::Offsets() {
  std::map<TopicPartition, EndOffsets> out;
  PartitionList positions = MakePartitionList(static_cast<int>(assigned_.size()) + 1);
  for (const auto& tp : assigned_) rd_kafka_topic_partition_list_add(positions.get(), tp.topic.c_str(), tp.partition);
  rd_kafka_position(rk_.get(), positions.get());
  for (int i = 0; i < positions->cnt; ++i) {
    const auto& e = positions->elems[i];
    EndOffsets eo;
    eo.position = e.offset >= 0 ? e.offset : -1;
    int64_t lo = -1, hi = -1;
    // Cached from fetch responses: no request, never blocks. For a
    // read_committed consumer the high mark is the last stable offset.
    if (rd_kafka_get_watermark_offsets(rk_.get(), e.topic, e.partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      eo.end = hi;
      eo.low = lo;
    }
    out[TopicPartition{e.topic, e.partition}] = eo;
  }
  return out;
}

absl::StatusOr<int64_t> KafkaRecordSource::LatestOffset(const TopicPartition& tp) {
  return ListOffset(tp, RD_KAFKA_OFFSET_END, "latest");
}

absl::Status KafkaRecordSource::Pause(const std::vector<TopicPartition>& partitions, bool pause) {
  if (partitions.empty()) return absl::OkStatus();
  PartitionList list = MakePartitionList(static_cast<int>(partitions.size()));
  for (const auto& tp : partitions) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  rd_kafka_resp_err_t err =
      pause ? rd_kafka_pause_partitions(rk_.get(), list.get()) : rd_kafka_resume_partitions(rk_.get(), list.get());
  if (err) return KafkaStatus(err, absl::StrCat(what_, pause ? ": pausing partitions" : ": resuming partitions"));
  return absl::OkStatus();
}

void KafkaRecordSource::Close() {
  current_.reset();
  positions_.reset();
  rd_kafka_consumer_close(rk_.get());
}

}  // namespace longhaul::mirror
