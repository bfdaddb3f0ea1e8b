// Admin operations the mirror needs (list, create, grow topics; read topic
// configs), over a librdkafka handle. Private to mirror/; all calls block up
// to the given timeout and return a Status naming the topic.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kafka_client.h"
#include "longhaul/base/topic_partition.h"

namespace longhaul::mirror {

class KafkaAdmin {
 public:
  // `what` names the cluster in errors ("target cluster 'cloud'").
  static absl::StatusOr<std::unique_ptr<KafkaAdmin>> Create(const Properties& properties, std::string what);

  // Topic name -> partition count, internal topics excluded.
  absl::StatusOr<std::map<std::string, int>> Topics(std::chrono::milliseconds timeout);
  // Configs set explicitly on the topic (not broker defaults).
  absl::StatusOr<Properties> ExplicitTopicConfigs(const std::string& topic, std::chrono::milliseconds timeout);
  // Succeeds if the topic exists afterwards (also when someone else created it).
  absl::Status CreateTopic(const std::string& topic, int partitions, const Properties& configs,
                           std::chrono::milliseconds timeout);
  absl::Status GrowPartitions(const std::string& topic, int total, std::chrono::milliseconds timeout);

  // The read_committed end offset (last stable offset) of each partition, in
  // one ListOffsets request per leader. Partitions whose leader did not answer
  // are left out; an error only when none could be read.
  absl::StatusOr<std::map<TopicPartition, int64_t>> EndOffsets(const std::vector<TopicPartition>& partitions,
                                                               std::chrono::milliseconds timeout);

  // True if a broker of the cluster answers a metadata request in time.
  bool Reachable(std::chrono::milliseconds timeout);

  const std::string& what() const { return what_; }

 private:
  KafkaAdmin(KafkaHandle rk, std::string what) : rk_(std::move(rk)), what_(std::move(what)) {}
  KafkaHandle rk_;
  std::string what_;
};

}  // namespace longhaul::mirror
