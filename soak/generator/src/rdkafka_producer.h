// The generator's only contact with librdkafka: a producer that ensures the
// topic exists, writes Records to explicit partitions (optionally in
// transactions) and reports the first delivery error with its partition.
// Private to longhaul-gen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "longhaul/base/topic_partition.h"

namespace longhaul::soak {

struct ProducerConfig {
  std::string bootstrap;
  std::vector<std::pair<std::string, std::string>> properties;
  std::string transactional_id;  // empty: idempotent, non-transactional
};

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = -1;
  std::vector<std::pair<std::string, std::string>> configs;
  bool create = true;
};

class RdKafkaProducer {
 public:
  static absl::StatusOr<std::unique_ptr<RdKafkaProducer>> Create(const ProducerConfig& config);
  ~RdKafkaProducer();
  RdKafkaProducer(const RdKafkaProducer&) = delete;
  RdKafkaProducer& operator=(const RdKafkaProducer&) = delete;

  // Returns the topic's partition count, creating it if missing and allowed.
  // Unavailable when the cluster cannot be reached within `timeout`.
  absl::StatusOr<int32_t> EnsureTopic(const TopicSpec& spec, absl::Duration timeout);

  // Queues one record; waits (serving callbacks) while the local queue is
  // full. Delivery failures surface later through DeliveryError().
  absl::Status Produce(const std::string& topic, int32_t partition, const Record& record);

  // Serves delivery reports for up to `timeout`.
  void Poll(absl::Duration timeout);
  // Waits until every queued record is delivered or failed.
  absl::Status Flush(absl::Duration timeout);

  // The first delivery failure so far ("<topic>[p]: <error name>: <text>").
  const absl::Status& DeliveryError() const { return delivery_error_; }
  int64_t delivered() const { return delivered_; }
  int64_t delivered_bytes() const { return delivered_bytes_; }

  absl::Status InitTransactions(absl::Duration timeout);
  absl::Status BeginTransaction();
  absl::Status CommitTransaction(absl::Duration timeout);
  absl::Status AbortTransaction(absl::Duration timeout);

 private:
  struct Handle;
  explicit RdKafkaProducer(std::unique_ptr<Handle> handle);
  friend struct RdKafkaProducerCallbacks;

  std::unique_ptr<Handle> handle_;
  absl::Status delivery_error_;
  int64_t delivered_ = 0;
  int64_t delivered_bytes_ = 0;
};

}  // namespace longhaul::soak
