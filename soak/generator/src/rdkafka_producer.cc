#include "rdkafka_producer.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "longhaul/base/check.h"
#include "longhaul/soak/rdkafka_client.h"

namespace longhaul::soak {

struct RdKafkaProducer::Handle {
  RdKafkaClient rk;
};

namespace {

// Takes ownership of `error`.
absl::Status TxnErrorStatus(rd_kafka_error_t* error, absl::string_view context) {
  std::string message = absl::StrCat(context, ": ", rd_kafka_error_name(error), ": ", rd_kafka_error_string(error));
  bool fatal = rd_kafka_error_is_fatal(error);
  bool abortable = rd_kafka_error_txn_requires_abort(error);
  rd_kafka_error_destroy(error);
  if (fatal) return absl::InternalError(absl::StrCat(message, " (fatal)"));
  if (abortable) return absl::AbortedError(message);
  return absl::UnavailableError(message);
}

}  // namespace

struct RdKafkaProducerCallbacks {
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<RdKafkaProducer*>(opaque);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self->delivered_;
      self->delivered_bytes_ += static_cast<int64_t>(message->len + message->key_len);
      return;
    }
    // Purged records belong to a transaction we aborted on purpose.
    if (message->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || message->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) return;
    if (self->delivery_error_.ok()) {
      self->delivery_error_ = RdKafkaErrorStatus(
          message->err, absl::StrCat("delivery failed for ", rd_kafka_topic_name(message->rkt), "[",
                                     message->partition, "] (offset ", message->offset, ")"));
    }
  }
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void*) {
    // Transport errors are retried by librdkafka; a delivery or transaction
    // error reports what was lost. Say it here too so a stuck run explains itself.
    std::fprintf(stderr, "longhaul-gen: kafka: %s: %s\n", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
                 reason);
  }
};

RdKafkaProducer::RdKafkaProducer(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
// librdkafka goes first: its callbacks point at the counters below.
RdKafkaProducer::~RdKafkaProducer() { handle_.reset(); }

absl::StatusOr<std::unique_ptr<RdKafkaProducer>> RdKafkaProducer::Create(const ProducerConfig& config) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  KafkaProperties settings = {
      {"bootstrap.servers", config.bootstrap},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"allow.auto.create.topics", "false"},
  };
  if (config.transactional_id.empty()) {
    settings.emplace_back("enable.idempotence", "true");
  } else {
    settings.emplace_back("transactional.id", config.transactional_id);
  }
  settings.insert(settings.end(), config.properties.begin(), config.properties.end());
  auto handle = std::make_unique<Handle>();
  auto producer = std::unique_ptr<RdKafkaProducer>(new RdKafkaProducer(std::move(handle)));
  rd_kafka_conf_set_opaque(conf, producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf, &RdKafkaProducerCallbacks::OnDelivery);
  rd_kafka_conf_set_error_cb(conf, &RdKafkaProducerCallbacks::OnError);
  absl::StatusOr<RdKafkaClient> client = NewRdKafkaClient(RD_KAFKA_PRODUCER, conf, settings, "producer");
  if (!client.ok()) return client.status();
  producer->handle_->rk = *std::move(client);
  return producer;
}

absl::StatusOr<int32_t> RdKafkaProducer::EnsureTopic(const TopicSpec& spec, absl::Duration timeout) {
  rd_kafka_t* rk = handle_->rk.get();
  const absl::Time deadline = absl::Now() + timeout;
  bool created = false;
  while (true) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, TimeoutMs(deadline - absl::Now()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return RdKafkaErrorStatus(err, "cannot read cluster metadata");
    int32_t partitions = -1;
    bool leaders_known = true;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (spec.name != t.topic || t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      partitions = t.partition_cnt;
      for (int p = 0; p < t.partition_cnt; ++p) leaders_known &= t.partitions[p].leader >= 0;
    }
    rd_kafka_metadata_destroy(md);
    if (partitions > 0 && leaders_known) return partitions;
    if (absl::Now() >= deadline)
      return absl::DeadlineExceededError(absl::StrCat("topic ", spec.name, " did not become available"));
    if (partitions < 0 && !created) {
      if (!spec.create) return absl::NotFoundError(absl::StrCat("topic ", spec.name, " does not exist (--no-create)"));
      rd_kafka_NewTopic_t* topic =
          rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, spec.replication_factor, nullptr, 0);
      for (const auto& [key, value] : spec.configs) rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str());
      rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
      rd_kafka_CreateTopics(rk, &topic, 1, nullptr, queue);
      rd_kafka_event_t* event = rd_kafka_queue_poll(queue, TimeoutMs(deadline - absl::Now()));
      absl::Status status;
      if (event == nullptr) {
        status = absl::DeadlineExceededError(absl::StrCat("creating topic ", spec.name, " timed out"));
      } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = RdKafkaErrorStatus(rd_kafka_event_error(event), absl::StrCat("creating topic ", spec.name));
      } else {
        size_t n = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
        for (size_t i = 0; i < n; ++i) {
          rd_kafka_resp_err_t topic_err = rd_kafka_topic_result_error(results[i]);
          if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR && topic_err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const char* detail = rd_kafka_topic_result_error_string(results[i]);
            status = absl::InvalidArgumentError(absl::StrCat("creating topic ", spec.name, ": ",
                                                             rd_kafka_err2name(topic_err), ": ",
                                                             detail ? detail : rd_kafka_err2str(topic_err)));
          }
        }
      }
      if (event != nullptr) rd_kafka_event_destroy(event);
      rd_kafka_queue_destroy(queue);
      rd_kafka_NewTopic_destroy(topic);
      if (!status.ok()) return status;
      created = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

absl::Status RdKafkaProducer::Produce(const std::string& topic, int32_t partition, const Record& record) {
  rd_kafka_t* rk = handle_->rk.get();
  while (true) {
    rd_kafka_headers_t* headers = nullptr;
    if (!record.headers.empty()) {
      headers = rd_kafka_headers_new(record.headers.size());
      for (const RecordHeader& h : record.headers) {
        rd_kafka_header_add(headers, h.name.data(), static_cast<ssize_t>(h.name.size()),
                            h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
      }
    }
    // A null pointer means null; a non-null pointer with length 0 is empty.
    const void* key = record.key ? record.key->data() : nullptr;
    size_t key_size = record.key ? record.key->size() : 0;
    void* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
    size_t value_size = record.value ? record.value->size() : 0;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_TIMESTAMP(record.timestamp_ms),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();  // headers now belong to librdkafka
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      return RdKafkaErrorStatus(err, absl::StrCat("cannot produce to ", topic, "[", partition, "]"));
    rd_kafka_poll(rk, 50);
  }
}

void RdKafkaProducer::Poll(absl::Duration timeout) { rd_kafka_poll(handle_->rk.get(), TimeoutMs(timeout)); }

absl::Status RdKafkaProducer::Flush(absl::Duration timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(handle_->rk.get(), TimeoutMs(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return RdKafkaErrorStatus(err, absl::StrCat("flush: ", rd_kafka_outq_len(handle_->rk.get()), " records still undelivered"));
  return absl::OkStatus();
}

absl::Status RdKafkaProducer::InitTransactions(absl::Duration timeout) {
  if (rd_kafka_error_t* e = rd_kafka_init_transactions(handle_->rk.get(), TimeoutMs(timeout)))
    return TxnErrorStatus(e, "init_transactions");
  return absl::OkStatus();
}

absl::Status RdKafkaProducer::BeginTransaction() {
  if (rd_kafka_error_t* e = rd_kafka_begin_transaction(handle_->rk.get())) return TxnErrorStatus(e, "begin_transaction");
  return absl::OkStatus();
}

absl::Status RdKafkaProducer::CommitTransaction(absl::Duration timeout) {
  if (rd_kafka_error_t* e = rd_kafka_commit_transaction(handle_->rk.get(), TimeoutMs(timeout)))
    return TxnErrorStatus(e, "commit_transaction");
  return absl::OkStatus();
}

absl::Status RdKafkaProducer::AbortTransaction(absl::Duration timeout) {
  if (rd_kafka_error_t* e = rd_kafka_abort_transaction(handle_->rk.get(), TimeoutMs(timeout)))
    return TxnErrorStatus(e, "abort_transaction");
  return absl::OkStatus();
}

}  // namespace longhaul::soak
