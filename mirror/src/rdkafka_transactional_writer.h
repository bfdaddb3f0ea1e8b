// TransactionalWriter over a librdkafka producer (idempotent, acks=all; with
// a transactional.id in exactly-once mode). Private to mirror/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kafka_client.h"
#include "transactional_writer.h"

namespace longhaul::mirror {

class RdKafkaTransactionalWriter final : public TransactionalWriter {
 public:
  // `defaults` then the operator's `properties` (theirs win), then
  // `transactional_id` when set (it is what fences zombies). `what` names
  // the producer in errors.
  static absl::StatusOr<std::unique_ptr<RdKafkaTransactionalWriter>> Create(
      const Properties& defaults, const Properties& properties, const std::optional<std::string>& transactional_id,
      const std::string& what);
  ~RdKafkaTransactionalWriter() override;

  void SetDeliveryHandler(DeliveryHandler handler) override { on_delivery_ = std::move(handler); }
  int TopicId(const std::string& topic) override;
  absl::Status InitTransactions(std::chrono::milliseconds timeout, const std::string& what) override;
  absl::Status BeginTransaction(const std::string& what) override;
  ProduceResult Produce(Message& message, absl::Status* error) override;
  void Poll(std::chrono::milliseconds wait) override;
  size_t Outstanding() override;
  void Flush(std::chrono::milliseconds wait) override;
  absl::Status RefreshMetadata(int topic, std::chrono::milliseconds timeout) override;
  absl::Status CommitTransaction(std::chrono::milliseconds timeout, const std::string& what) override;
  absl::Status AbortTransaction(std::chrono::milliseconds timeout, const std::string& what) override;
  void Purge() override;

 private:
  RdKafkaTransactionalWriter() = default;
  static void OnDeliveryReport(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);

  KafkaHandle producer_;
  DeliveryHandler on_delivery_;
  struct Topic {
    std::string name;
    rd_kafka_topic_t* handle = nullptr;
  };
  std::vector<Topic> topics_;
};

}  // namespace longhaul::mirror
