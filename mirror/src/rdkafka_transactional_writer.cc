#include "rdkafka_transactional_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kafka_status.h"

namespace longhaul::mirror {
namespace {

int ToMs(std::chrono::milliseconds d) { return static_cast<int>(std::max<int64_t>(d.count(), 0)); }

}  // namespace

absl::StatusOr<std::unique_ptr<RdKafkaTransactionalWriter>> RdKafkaTransactionalWriter::Create(
    const Properties& defaults, const Properties& properties, const std::optional<std::string>& transactional_id,
    const std::string& what) {
  auto conf = MakeConf(defaults, properties, what);
  if (!conf.ok()) return conf.status();
  char errstr[256];
  if (transactional_id) {
    // Set after the operator's properties: the lane's id is what fences zombies.
    if (rd_kafka_conf_set(conf->get(), "transactional.id", transactional_id->c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      return absl::InternalError(absl::StrCat(what, ": ", errstr));
    }
  }
  std::unique_ptr<RdKafkaTransactionalWriter> writer(new RdKafkaTransactionalWriter());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &RdKafkaTransactionalWriter::OnDeliveryReport);
  rd_kafka_conf_set_opaque(conf->get(), writer.get());
  auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(*conf), what);
  if (!rk.ok()) return rk.status();
  writer->producer_ = std::move(*rk);
  return writer;
}

RdKafkaTransactionalWriter::~RdKafkaTransactionalWriter() {
  for (Topic& t : topics_) rd_kafka_topic_destroy(t.handle);
  topics_.clear();
}

void RdKafkaTransactionalWriter::OnDeliveryReport(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<RdKafkaTransactionalWriter*>(opaque);
  if (!self->on_delivery_) return;
  Delivery d;
  d.tag = m->_private;
  d.offset = m->offset;
  if (m->err) d.status = KafkaStatus(m->err, "delivery to the target failed");
  self->on_delivery_(d);
}

int RdKafkaTransactionalWriter::TopicId(const std::string& topic) {
  for (size_t i = 0; i < topics_.size(); ++i) {
    if (topics_[i].name == topic) return static_cast<int>(i);
  }
  topics_.push_back(Topic{topic, rd_kafka_topic_new(producer_.get(), topic.c_str(), nullptr)});
  return static_cast<int>(topics_.size() - 1);
}

absl::Status RdKafkaTransactionalWriter::InitTransactions(std::chrono::milliseconds timeout, const std::string& what) {
  return TakeKafkaError(rd_kafka_init_transactions(producer_.get(), ToMs(timeout)), what);
}

absl::Status RdKafkaTransactionalWriter::BeginTransaction(const std::string& what) {
  return TakeKafkaError(rd_kafka_begin_transaction(producer_.get()), what);
}

TransactionalWriter::ProduceResult RdKafkaTransactionalWriter::Produce(Message& m, absl::Status* error) {
  const Topic& topic = topics_.at(static_cast<size_t>(m.topic));
  // producev takes the header list only when it queues the message.
  rd_kafka_headers_t* headers =
      m.headers ? static_cast<rd_kafka_headers_t*>(m.headers->ReleaseNative()) : nullptr;
  rd_kafka_resp_err_t err = rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_RKT(topic.handle), RD_KAFKA_V_PARTITION(m.partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(const_cast<void*>(m.value), m.value_len),
      RD_KAFKA_V_KEY(m.key, m.key_len), RD_KAFKA_V_TIMESTAMP(m.timestamp_ms), RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_OPAQUE(const_cast<void*>(m.tag)), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return ProduceResult::kQueued;
  if (headers) *m.headers = RecordHeaders::AdoptNative(headers);  // still the caller's
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return ProduceResult::kQueueFull;
  if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) return ProduceResult::kUnknownPartition;
  *error = KafkaStatus(err, absl::StrCat("producing to ", topic.name, "[", m.partition, "]"));
  return ProduceResult::kFailed;
}

void RdKafkaTransactionalWriter::Poll(std::chrono::milliseconds wait) { rd_kafka_poll(producer_.get(), ToMs(wait)); }

size_t RdKafkaTransactionalWriter::Outstanding() {
  return static_cast<size_t>(std::max(rd_kafka_outq_len(producer_.get()), 0));
}

void RdKafkaTransactionalWriter::Flush(std::chrono::milliseconds wait) {
  rd_kafka_flush(producer_.get(), ToMs(wait));
}

absl::Status RdKafkaTransactionalWriter::RefreshMetadata(int topic, std::chrono::milliseconds timeout) {
  const Topic& t = topics_.at(static_cast<size_t>(topic));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(producer_.get(), 0, t.handle, &md, ToMs(timeout));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_metadata_destroy(md);
  return KafkaStatus(err, absl::StrCat("refreshing the metadata of ", t.name));
}

absl::Status RdKafkaTransactionalWriter::CommitTransaction(std::chrono::milliseconds timeout, const std::string& what) {
  return TakeKafkaError(rd_kafka_commit_transaction(producer_.get(), ToMs(timeout)), what);
}

absl::Status RdKafkaTransactionalWriter::AbortTransaction(std::chrono::milliseconds timeout, const std::string& what) {
  return TakeKafkaError(rd_kafka_abort_transaction(producer_.get(), ToMs(timeout)), what);
}

void RdKafkaTransactionalWriter::Purge() {
  rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(producer_.get(), 1000);
}

}  // namespace longhaul::mirror
