// Where a lane writes: one producer on the target cluster whose
// transactional.id is the lane's, so a new owner's InitTransactions fences
// the old one. The narrow interface LaneTransaction (lane_transaction.h)
// drives; RdKafkaTransactionalWriter is the librdkafka implementation, the
// unit tests use a fake (tests/unit/mirror/lane_transaction_test.cc). Every
// call is made on the lane's thread. Private to mirror/.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "record_source.h"

namespace longhaul::mirror {

class TransactionalWriter {
 public:
  // A delivery report for one produced message: its target offset, or why
  // it was not delivered.
  struct Delivery {
    const void* tag = nullptr;  // the Message's tag
    absl::Status status;        // classified as kafka_status.h does (IsFenced, IsRetriable)
    int64_t offset = -1;        // target offset; -1 if the broker did not say
  };
  using DeliveryHandler = std::function<void(const Delivery&)>;

  struct Message {
    int topic = -1;  // from TopicId()
    int32_t partition = 0;
    const void* key = nullptr;  // nullptr: null key
    size_t key_len = 0;
    const void* value = nullptr;  // nullptr: null value (tombstone)
    size_t value_len = 0;
    int64_t timestamp_ms = 0;  // create time; 0: none (the producer's now)
    // Taken by the writer when the message is queued; left with the caller
    // otherwise. Null: no headers.
    RecordHeaders* headers = nullptr;
    const void* tag = nullptr;  // handed back in the Delivery
  };

  enum class ProduceResult {
    kQueued,            // copied into the writer; a Delivery follows
    kQueueFull,         // the writer's local queue is full: serve deliveries (Poll) and try again
    kUnknownPartition,  // the writer's metadata does not have the partition yet: RefreshMetadata and try again
    kFailed,            // `error` says why
  };

  virtual ~TransactionalWriter() = default;
  // Called for each delivery report, from inside Poll() and Flush().
  virtual void SetDeliveryHandler(DeliveryHandler handler) = 0;
  // A small handle for a target topic, valid for the writer's life.
  virtual int TopicId(const std::string& topic) = 0;
  // Fences every earlier producer with the same transactional id and aborts
  // its open transaction. `what` starts the error message.
  virtual absl::Status InitTransactions(std::chrono::milliseconds timeout, const std::string& what) = 0;
  virtual absl::Status BeginTransaction(const std::string& what) = 0;
  // Key, value and timestamp are copied; the headers taken (kQueued only).
  // kFailed sets `error`, whose message names the topic and partition.
  virtual ProduceResult Produce(Message& message, absl::Status* error) = 0;
  // Serves delivery reports, waiting up to `wait` for the first.
  virtual void Poll(std::chrono::milliseconds wait) = 0;
  // Messages queued or in flight whose delivery was not reported yet.
  virtual size_t Outstanding() = 0;
  // Sends what is queued and serves delivery reports for up to `wait`.
  virtual void Flush(std::chrono::milliseconds wait) = 0;
  virtual absl::Status RefreshMetadata(int topic, std::chrono::milliseconds timeout) = 0;
  // Makes everything produced since BeginTransaction visible, or nothing.
  virtual absl::Status CommitTransaction(std::chrono::milliseconds timeout, const std::string& what) = 0;
  virtual absl::Status AbortTransaction(std::chrono::milliseconds timeout, const std::string& what) = 0;
  // Drops whatever is queued or in flight (the lane session ends).
  virtual void Purge() = 0;
};

}  // namespace longhaul::mirror
