// A Kafka client for integration tests: creates topics, writes records
// exactly as given (null versus empty key, value and header values, repeated
// header names, create timestamps), reads a partition back to its end, and
// sets or reads consumer-group offsets. Built on librdkafka, which stays out
// of this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/base/topic_partition.h"

namespace longhaul::testing {

enum class Isolation { kReadCommitted, kReadUncommitted };

// One ALLOW ACL, spelled as Kafka's tools spell it.
struct AclSpec {
  // "topic", "group" or "cluster" (librdkafka 2.0 cannot name transactional
  // ids: KafkaClusters::Acls runs Kafka's own tool for those).
  std::string resource_type;
  std::string name;           // "kafka-cluster" for the cluster
  bool prefixed = false;      // pattern type PREFIXED, else LITERAL
  std::string principal;      // "User:limited"
  std::string operation;      // "read", "write", "create", "describe", "describe_configs", "alter_configs", "all"
};

inline constexpr std::chrono::milliseconds kKafkaTestTimeout{30'000};

// Not thread-safe: use one per thread. Every call is bounded by its timeout
// and returns a Status naming the topic (and partition) on failure.
class KafkaTestClient {
 public:
  // Connects lazily; nothing is sent until the first call. `properties` are
  // librdkafka settings for every client it makes: the cluster's security
  // (KafkaClusters::ClientProperties for a secured test cluster).
  explicit KafkaTestClient(std::string bootstrap, std::map<std::string, std::string> properties = {});
  ~KafkaTestClient();
  KafkaTestClient(const KafkaTestClient&) = delete;
  KafkaTestClient& operator=(const KafkaTestClient&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }

  // Creates `topic` with replication factor 1 and `configs` as topic-level
  // overrides, then waits until metadata shows every partition with a leader.
  absl::Status CreateTopic(std::string_view topic, int partitions,
                           const std::map<std::string, std::string>& configs = {},
                           std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // Deletes `topic` and waits until metadata no longer lists it.
  absl::Status DeleteTopic(std::string_view topic,
                           std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // Moves the partition's log start to `before` (Kafka's DeleteRecords, as
  // retention would): records below it are gone for every reader.
  absl::Status DeleteRecordsBefore(std::string_view topic, int32_t partition, int64_t before,
                                   std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // Every topic the cluster's metadata lists (internal ones included).
  absl::StatusOr<std::vector<std::string>> ListTopics(std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // NotFound when the topic does not exist.
  absl::StatusOr<int> PartitionCount(std::string_view topic,
                                     std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // The topic-level overrides (DescribeConfigs entries whose source is
  // DYNAMIC_TOPIC_CONFIG); broker defaults are left out.
  absl::StatusOr<std::map<std::string, std::string>> TopicConfig(
      std::string_view topic, std::chrono::milliseconds timeout = kKafkaTestTimeout);

  // Adds partitions to `topic` until it has `total`, then waits until the
  // metadata shows them.
  absl::Status GrowPartitions(std::string_view topic, int total, std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // Replaces the topic's explicitly set configs with `configs` (AlterConfigs).
  absl::Status SetTopicConfig(std::string_view topic, const std::map<std::string, std::string>& configs,
                              std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // Creates ALLOW ACLs (host "*"); needs a principal allowed to ALTER the cluster.
  absl::Status CreateAcls(const std::vector<AclSpec>& acls, std::chrono::milliseconds timeout = kKafkaTestTimeout);

  // Writes `records` in order with an idempotent producer and waits until all
  // are acknowledged. Record::offset is ignored; timestamp_ms is kept as the
  // create time (librdkafka replaces a timestamp <= 0 with the current time).
  // Records may be up to 8 MiB. Returns the first failed record's error.
  absl::Status Produce(std::string_view topic, int32_t partition, const std::vector<Record>& records,
                       std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // Writes `records` in one transaction of a transactional producer, waits
  // until they are in the log, then commits (commit == true) or aborts.
  absl::Status ProduceTransaction(std::string_view topic, int32_t partition,
                                  const std::vector<Record>& records, bool commit,
                                  std::chrono::milliseconds timeout = kKafkaTestTimeout);

  // Reads the partition from its first offset to its end as of the read: the
  // last stable offset for kReadCommitted (aborted records and transaction
  // markers skipped), the high watermark for kReadUncommitted. Returns the
  // records in offset order with their offsets; DeadlineExceeded names how
  // far it got.
  absl::StatusOr<std::vector<Record>> ReadAll(
      std::string_view topic, int32_t partition, Isolation isolation = Isolation::kReadCommitted,
      std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // The high watermark (log end offset): one past the last offset written,
  // counting transaction markers.
  absl::StatusOr<int64_t> EndOffset(std::string_view topic, int32_t partition,
                                    std::chrono::milliseconds timeout = kKafkaTestTimeout);

  // Sets `group`'s committed offset for the partition, as a consumer outside
  // the group's generation would (the broker refuses it while the group has
  // active members).
  absl::Status CommitGroupOffset(std::string_view group, std::string_view topic, int32_t partition,
                                 int64_t offset, std::chrono::milliseconds timeout = kKafkaTestTimeout);
  // `group`'s committed offset for `tp`, or std::nullopt when it has none.
  // Offsets committed inside a still-open transaction are waited for
  // (read_committed), up to the timeout.
  absl::StatusOr<std::optional<int64_t>> GroupOffset(
      std::string_view group, const TopicPartition& tp,
      std::chrono::milliseconds timeout = kKafkaTestTimeout);

 private:
  struct Clients;  // librdkafka handles, created on first use

  std::string bootstrap_;
  std::map<std::string, std::string> properties_;
  std::unique_ptr<Clients> clients_;
};

}  // namespace longhaul::testing
