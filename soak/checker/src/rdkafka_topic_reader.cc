#include "rdkafka_topic_reader.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "longhaul/soak/rdkafka_client.h"

namespace longhaul::soak {

struct RdKafkaTopicReader::Handle {
  RdKafkaClient rk;  // closed as a consumer, then destroyed
};

namespace {

// Errors after which reading cannot go on; the rest (transport, leader
// changes) librdkafka retries by itself.
bool IsFatalConsumeError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__FATAL:
      return true;
    default:
      return false;
  }
}

}  // namespace

RdKafkaTopicReader::RdKafkaTopicReader(std::string label, std::string bootstrap, std::unique_ptr<Handle> handle)
    : label_(std::move(label)), bootstrap_(std::move(bootstrap)), handle_(std::move(handle)) {}

RdKafkaTopicReader::~RdKafkaTopicReader() = default;

absl::StatusOr<std::unique_ptr<RdKafkaTopicReader>> RdKafkaTopicReader::Create(
    const std::string& label, const std::string& bootstrap,
    const std::vector<std::pair<std::string, std::string>>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  KafkaProperties settings = {
      {"bootstrap.servers", bootstrap},
      // No offsets are committed; a group id only keeps librdkafka happy.
      {"group.id", absl::StrCat("longhaul-check-", label, "-", getpid())},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"isolation.level", "read_committed"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"check.crcs", "true"},
      // Summaries are small; the fetch queue is what would dominate memory.
      {"queued.max.messages.kbytes", "16384"},
      {"allow.auto.create.topics", "false"},
  };
  settings.insert(settings.end(), properties.begin(), properties.end());
  absl::StatusOr<RdKafkaClient> client =
      NewRdKafkaClient(RD_KAFKA_CONSUMER, conf, settings, absl::StrCat(label, " consumer"));
  if (!client.ok()) return client.status();
  auto handle = std::make_unique<Handle>();
  handle->rk = *std::move(client);
  rd_kafka_poll_set_consumer(handle->rk.get());
  return std::unique_ptr<RdKafkaTopicReader>(new RdKafkaTopicReader(label, bootstrap, std::move(handle)));
}

absl::StatusOr<int32_t> RdKafkaTopicReader::PartitionCount(const std::string& topic, absl::Duration timeout) {
  // All-topics metadata: asking for one topic could auto-create it.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(handle_->rk.get(), 1, nullptr, &md, TimeoutMs(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return RdKafkaErrorStatus(err, absl::StrCat("cannot read metadata of the ", label_, " cluster ", bootstrap_));
  absl::StatusOr<int32_t> result =
      absl::NotFoundError(absl::StrCat(label_, " topic ", topic, " does not exist"));
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) result = RdKafkaErrorStatus(t.err, absl::StrCat(label_, " topic ", topic));
    else result = t.partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  return result;
}

absl::StatusOr<std::vector<int64_t>> RdKafkaTopicReader::EndOffsets(const std::string& topic, int32_t partitions,
                                                                    absl::Duration timeout) {
  std::vector<int64_t> ends(partitions, 0);
  absl::Time deadline = absl::Now() + timeout;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(handle_->rk.get(), topic.c_str(), p, &low, &high, TimeoutMs(deadline - absl::Now()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return RdKafkaErrorStatus(err, absl::StrCat(label_, " end offset of ", topic, "[", p, "]"));
    ends[p] = high;
  }
  return ends;
}

absl::Status RdKafkaTopicReader::Assign(const std::string& topic, int32_t partitions) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(std::max(partitions, 1));
  for (int32_t p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t err = rd_kafka_assign(handle_->rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return RdKafkaErrorStatus(err, absl::StrCat(label_, " assign ", topic));
  topic_ = topic;
  positions_.assign(partitions, -1);
  return absl::OkStatus();
}

absl::Status RdKafkaTopicReader::Unassign() {
  rd_kafka_resp_err_t err = rd_kafka_assign(handle_->rk.get(), nullptr);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return RdKafkaErrorStatus(err, absl::StrCat(label_, " unassign ", topic_));
  return absl::OkStatus();
}

absl::StatusOr<bool> RdKafkaTopicReader::ReadTo(const std::vector<int64_t>& ends, absl::Time deadline,
                                                bool stop_at_end, const Sink& sink) {
  const size_t n = std::min(ends.size(), positions_.size());
  auto reached = [&] {
    for (size_t p = 0; p < n; ++p)
      if (ends[p] > 0 && positions_[p] < ends[p]) return false;
    return true;
  };
  RecordView view;
  absl::Time last_warning = absl::InfinitePast();
  while (!reached()) {
    absl::Time now = absl::Now();
    if (now >= deadline) return false;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(handle_->rk.get(), TimeoutMs(std::min(deadline - now, absl::Milliseconds(200))));
    if (m == nullptr) continue;
    const bool ours = m->rkt != nullptr && topic_ == rd_kafka_topic_name(m->rkt) && m->partition >= 0 &&
                      static_cast<size_t>(m->partition) < positions_.size();
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // For read_committed the end is the last stable offset: control
      // records and aborted records before it are already skipped.
      if (ours) positions_[m->partition] = std::max(positions_[m->partition], m->offset);
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string where = ours ? absl::StrCat(label_, " ", topic_, "[", m->partition, "]") : label_;
      if (IsFatalConsumeError(m->err)) {
        absl::Status status = RdKafkaErrorStatus(m->err, where);
        rd_kafka_message_destroy(m);
        return status;
      }
      if (absl::Now() - last_warning > absl::Seconds(5)) {
        std::fprintf(stderr, "longhaul-check: %s: %s (retrying)\n", where.c_str(), rd_kafka_message_errstr(m));
        last_warning = absl::Now();
      }
    } else if (ours) {
      const int32_t p = m->partition;
      positions_[p] = std::max(positions_[p], m->offset + 1);
      if (!stop_at_end || static_cast<size_t>(p) >= ends.size() || m->offset < ends[p]) {
        view.offset = m->offset;
        view.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
        view.key.reset();
        view.value.reset();
        view.headers.clear();
        if (m->key != nullptr) view.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
        if (m->payload != nullptr) view.value = std::string_view(static_cast<const char*>(m->payload), m->len);
        rd_kafka_headers_t* headers = nullptr;
        if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          const char* name;
          const void* value;
          size_t size;
          for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
               ++i) {
            std::optional<std::string_view> v;
            if (value != nullptr) v = std::string_view(static_cast<const char*>(value), size);
            view.headers.emplace_back(name, v);
          }
        }
        sink(p, view);
      }
    }
    rd_kafka_message_destroy(m);
  }
  return true;
}

}  // namespace longhaul::soak
