// Consumer-group admin calls the group offset sync needs on one cluster:
// list groups, read and alter committed offsets, and describe a group's
// membership. librdkafka 2.0.2 has all four as Admin API calls (KIP-222
// ListConsumerGroups/DescribeConsumerGroups, ListConsumerGroupOffsets,
// AlterConsumerGroupOffsets). Private to mirror/; each call blocks up to the
// timeout and errors name the cluster and group.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kafka_client.h"
#include "longhaul/base/topic_partition.h"

namespace longhaul::mirror {

struct GroupMembership {
  std::string state;  // "Empty", "Stable", "PreparingRebalance", "Dead" (no such group), ...
  int members = 0;
  // No consumer can be using the group's offsets: no member, and a state
  // in which the broker accepts commits from outside the group.
  bool inactive() const { return members == 0 && (state == "Empty" || state == "Dead"); }
};

class RdKafkaGroupAdmin {
 public:
  // `what` names the cluster in errors ("source cluster 'dc1'"). Calls
  // return Cancelled soon after *stop (may be null) becomes true.
  static absl::StatusOr<std::unique_ptr<RdKafkaGroupAdmin>> Create(const Properties& properties, std::string what,
                                                                   std::chrono::milliseconds timeout,
                                                                   const std::atomic<bool>* stop);

  // Ids of all consumer groups.
  absl::StatusOr<std::vector<std::string>> ListGroups();
  // Committed offsets (>= 0 only) of `group`; all of its partitions when
  // `partitions` is empty. Waits for pending transactional commits.
  absl::StatusOr<std::map<TopicPartition, int64_t>> CommittedOffsets(const std::string& group,
                                                                     const std::vector<TopicPartition>& partitions);
  absl::StatusOr<GroupMembership> Describe(const std::string& group);
  // Commits `offsets` for `group` from outside the group (the broker refuses
  // while the group has members). The outer status is the call's; the map
  // holds each partition's own result.
  absl::StatusOr<std::map<TopicPartition, absl::Status>> Commit(const std::string& group,
                                                                const std::map<TopicPartition, int64_t>& offsets);

  const std::string& what() const { return what_; }

 private:
  RdKafkaGroupAdmin(KafkaHandle rk, std::string what, std::chrono::milliseconds timeout,
                    const std::atomic<bool>* stop)
      : rk_(std::move(rk)), what_(std::move(what)), timeout_(timeout), stop_(stop) {}
  KafkaHandle rk_;
  std::string what_;
  std::chrono::milliseconds timeout_;
  const std::atomic<bool>* stop_;
};

}  // namespace longhaul::mirror
