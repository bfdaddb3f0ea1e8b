// Admin operations the mirror needs (list, create, grow topics; read topic
// configs), over a librdkafka handle. Private to mirror/; all calls block up
// to the given timeout and return a Status naming the topic.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "acl_sync.h"
#include "kafka_client.h"
#include "longhaul/base/topic_partition.h"

namespace longhaul::mirror {

// Pieces of every librdkafka admin call (here and in group_sync_admin.cc).
struct AdminDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
  void operator()(rd_kafka_ListConsumerGroupOffsets_t* l) const { rd_kafka_ListConsumerGroupOffsets_destroy(l); }
  void operator()(rd_kafka_AlterConsumerGroupOffsets_t* a) const { rd_kafka_AlterConsumerGroupOffsets_destroy(a); }
};
using AdminOptions = std::unique_ptr<rd_kafka_AdminOptions_t, AdminDeleter>;
using AdminEvent = std::unique_ptr<rd_kafka_event_t, AdminDeleter>;

// Options for `op` with its request timeout (and operation timeout, for the
// operations that have one) set to `timeout`.
AdminOptions MakeAdminOptions(rd_kafka_t* rk, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout);

// Waits for the result event of an admin call on its private queue, in
// short slices so that a stopping worker (`stop` set) is not held up by a
// cluster that does not answer. Errors start with `what`.
absl::StatusOr<AdminEvent> AwaitAdminResult(rd_kafka_queue_t* q, std::chrono::milliseconds timeout,
                                            const std::string& what, const std::atomic<bool>* stop = nullptr);

class KafkaAdmin {
 public:
  // `what` names the cluster in errors ("target cluster 'cloud'").
  static absl::StatusOr<std::unique_ptr<KafkaAdmin>> Create(const Properties& properties, std::string what);

  // Topic name -> partition count, internal topics excluded.
  absl::StatusOr<std::map<std::string, int>> Topics(std::chrono::milliseconds timeout);
  // Configs set explicitly on the topic (not broker defaults).
  absl::StatusOr<Properties> ExplicitTopicConfigs(const std::string& topic, std::chrono::milliseconds timeout);
  // Every config in effect for the topic, broker defaults included.
  absl::StatusOr<Properties> EffectiveTopicConfigs(const std::string& topic, std::chrono::milliseconds timeout);
  // Succeeds if the topic exists afterwards (also when someone else created
  // it). replication_factor -1: the broker's default.replication.factor.
  absl::Status CreateTopic(const std::string& topic, int partitions, const Properties& configs,
                           std::chrono::milliseconds timeout, int replication_factor = -1);
  // Several topics in one CreateTopics request (a hub meeting hundreds of
  // new edges: one request per topic costs a controller round trip each).
  // Per topic: OK if it exists afterwards, else its error; an error for the
  // whole call only when the request itself failed.
  struct NewTopic {
    std::string topic;
    int partitions = 1;
    Properties configs;
  };
  absl::StatusOr<std::map<std::string, absl::Status>> CreateTopics(const std::vector<NewTopic>& topics,
                                                                   std::chrono::milliseconds timeout,
                                                                   int replication_factor = -1);
  // Asks the broker whether CreateTopic would succeed (validate_only): it
  // checks the principal's CREATE permission and the arguments, creates
  // nothing. PermissionDenied when the ACL is missing.
  absl::Status ValidateCreateTopic(const std::string& topic, int partitions, int replication_factor,
                                   std::chrono::milliseconds timeout);
  // The partition count of one topic, asked for by name (so a topic hidden
  // from this principal gives PermissionDenied rather than "not listed").
  absl::StatusOr<int> TopicPartitions(const std::string& topic, std::chrono::milliseconds timeout);
  // Replaces the topic's explicitly set configs with `configs` (AlterConfigs:
  // librdkafka 2.0 has no IncrementalAlterConfigs, so callers pass the whole
  // set of overrides they want kept). validate_only: check, change nothing.
  absl::Status AlterTopicConfigs(const std::string& topic, const Properties& configs,
                                 std::chrono::milliseconds timeout, bool validate_only = false);
  absl::Status ValidateAlterTopicConfigs(const std::string& topic, const Properties& configs,
                                         std::chrono::milliseconds timeout) {
    return AlterTopicConfigs(topic, configs, timeout, /*validate_only=*/true);
  }
  absl::Status GrowPartitions(const std::string& topic, int total, std::chrono::milliseconds timeout);
  // ALLOW bindings on LITERAL topic names (DescribeAcls; needs DESCRIBE on
  // the cluster). Operations other than READ, DESCRIBE, DESCRIBE_CONFIGS and
  // ALL come back as kOther.
  absl::StatusOr<std::vector<TopicAcl>> TopicAcls(std::chrono::milliseconds timeout);
  // Creates ALLOW bindings (CreateAcls; needs ALTER on the cluster). Creating
  // one that exists is not an error (Kafka keeps one).
  absl::Status CreateTopicAcls(const std::vector<TopicAcl>& acls, std::chrono::milliseconds timeout);
  // Several topics (name -> partitions wanted in all) in one request; per
  // topic OK or its error, as CreateTopics.
  absl::StatusOr<std::map<std::string, absl::Status>> GrowPartitions(const std::map<std::string, int>& totals,
                                                                     std::chrono::milliseconds timeout);

  // The read_committed end offset (last stable offset) of each partition, in
  // one ListOffsets request per leader. Partitions whose leader did not answer
  // are left out; an error only when none could be read.
  absl::StatusOr<std::map<TopicPartition, int64_t>> EndOffsets(const std::vector<TopicPartition>& partitions,
                                                               std::chrono::milliseconds timeout);

  // True if a broker of the cluster answers a metadata request in time.
  bool Reachable(std::chrono::milliseconds timeout);
  // As Reachable, but the error says why not: the cluster, and the last
  // authentication, TLS or transport error the client saw.
  absl::Status CheckConnection(std::chrono::milliseconds timeout);

  const std::string& what() const { return what_; }

 private:
  KafkaAdmin(KafkaHandle rk, std::string what) : rk_(std::move(rk)), what_(std::move(what)) {}
  absl::StatusOr<Properties> DescribeTopicConfigs(const std::string& topic, std::chrono::milliseconds timeout,
                                                  bool explicit_only);
  // `status` prefixed with what_, and followed by LastConnectionError.
  absl::Status WithConnectionError(const absl::Status& status) const;
  KafkaHandle rk_;
  std::string what_;
};

}  // namespace longhaul::mirror
