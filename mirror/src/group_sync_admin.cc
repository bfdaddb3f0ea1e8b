#include "group_sync_admin.h"

#include "absl/strings/str_cat.h"
#include "kafka_admin.h"
#include "kafka_status.h"

namespace longhaul::mirror {
namespace {

// A group-level error of a result (not owned, so not TakeKafkaError).
absl::Status GroupError(const rd_kafka_error_t* error, const std::string& what) {
  if (error == nullptr) return absl::OkStatus();
  return KafkaStatus(rd_kafka_error_code(error), absl::StrCat(what, ": ", rd_kafka_error_string(error)));
}

PartitionList ToList(const std::vector<TopicPartition>& partitions) {
  PartitionList list = MakePartitionList(static_cast<int>(partitions.size()) + 1);
  for (const auto& tp : partitions) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RdKafkaGroupAdmin>> RdKafkaGroupAdmin::Create(const Properties& properties,
                                                                             std::string what,
                                                                             std::chrono::milliseconds timeout,
                                                                             const std::atomic<bool>* stop) {
  auto conf = MakeConf({{"client.id", "longhaul-group-sync"}}, properties, what);
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(*conf), what);
  if (!rk.ok()) return rk.status();
  return std::unique_ptr<RdKafkaGroupAdmin>(new RdKafkaGroupAdmin(std::move(*rk), std::move(what), timeout, stop));
}

absl::StatusOr<std::vector<std::string>> RdKafkaGroupAdmin::ListGroups() {
  const std::string what = absl::StrCat(what_, ": listing consumer groups");
  KafkaQueue q(rd_kafka_queue_new(rk_.get()));
  auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout_);
  rd_kafka_ListConsumerGroups(rk_.get(), opts.get(), q.get());
  auto ev = AwaitAdminResult(q.get(), timeout_, what, stop_);
  if (!ev.ok()) return ev.status();
  const rd_kafka_ListConsumerGroups_result_t* result = rd_kafka_event_ListConsumerGroups_result(ev->get());
  size_t n_errors = 0;
  const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(result, &n_errors);
  // A broker that did not answer may hold groups we would miss: fail the
  // round rather than sync a partial list silently.
  if (n_errors > 0) return GroupError(errors[0], what);
  size_t n = 0;
  const rd_kafka_ConsumerGroupListing_t** groups = rd_kafka_ListConsumerGroups_result_valid(result, &n);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]));
  return out;
}

absl::StatusOr<std::map<TopicPartition, int64_t>> RdKafkaGroupAdmin::CommittedOffsets(
    const std::string& group, const std::vector<TopicPartition>& partitions) {
  const std::string what = absl::StrCat(what_, ": reading committed offsets of group '", group, "'");
  PartitionList list = ToList(partitions);
  std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t, AdminDeleter> request(
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), partitions.empty() ? nullptr : list.get()));
  KafkaQueue q(rd_kafka_queue_new(rk_.get()));
  auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_);
  // Offsets of a transactional consumer count once its transaction commits.
  if (rd_kafka_error_t* e = rd_kafka_AdminOptions_set_require_stable_offsets(opts.get(), 1)) {
    return TakeKafkaError(e, what);
  }
  rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_ListConsumerGroupOffsets(rk_.get(), requests, 1, opts.get(), q.get());
  auto ev = AwaitAdminResult(q.get(), timeout_, what, stop_);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev->get()), &n);
  std::map<TopicPartition, int64_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (absl::Status s = GroupError(rd_kafka_group_result_error(groups[i]), what); !s.ok()) return s;
    const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(groups[i]);
    for (int j = 0; parts != nullptr && j < parts->cnt; ++j) {
      const rd_kafka_topic_partition_t& p = parts->elems[j];
      if (p.err) {
        return KafkaStatus(p.err, absl::StrCat(what, ": partition ", p.topic, "[", p.partition, "]"));
      }
      if (p.offset >= 0) out[TopicPartition{p.topic, p.partition}] = p.offset;
    }
  }
  return out;
}

absl::StatusOr<GroupMembership> RdKafkaGroupAdmin::Describe(const std::string& group) {
  const std::string what = absl::StrCat(what_, ": describing group '", group, "'");
  KafkaQueue q(rd_kafka_queue_new(rk_.get()));
  auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout_);
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(rk_.get(), groups, 1, opts.get(), q.get());
  auto ev = AwaitAdminResult(q.get(), timeout_, what, stop_);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs =
      rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (group != rd_kafka_ConsumerGroupDescription_group_id(descs[i])) continue;
    if (absl::Status s = GroupError(rd_kafka_ConsumerGroupDescription_error(descs[i]), what); !s.ok()) {
      // Kafka answers "Dead" for an unknown group; some versions answer
      // GROUP_ID_NOT_FOUND instead. Both mean nobody uses it.
      if (s.code() == absl::StatusCode::kNotFound ||
          rd_kafka_error_code(rd_kafka_ConsumerGroupDescription_error(descs[i])) ==
              RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
        return GroupMembership{"Dead", 0};
      }
      return s;
    }
    GroupMembership m;
    m.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(descs[i]));
    m.members = static_cast<int>(rd_kafka_ConsumerGroupDescription_member_count(descs[i]));
    return m;
  }
  return absl::InternalError(absl::StrCat(what, ": the answer does not describe the group"));
}

absl::StatusOr<std::map<TopicPartition, absl::Status>> RdKafkaGroupAdmin::Commit(
    const std::string& group, const std::map<TopicPartition, int64_t>& offsets) {
  const std::string what = absl::StrCat(what_, ": committing offsets of group '", group, "'");
  PartitionList list = MakePartitionList(static_cast<int>(offsets.size()) + 1);
  for (const auto& [tp, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  }
  std::unique_ptr<rd_kafka_AlterConsumerGroupOffsets_t, AdminDeleter> request(
      rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get()));
  KafkaQueue q(rd_kafka_queue_new(rk_.get()));
  auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout_);
  rd_kafka_AlterConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_AlterConsumerGroupOffsets(rk_.get(), requests, 1, opts.get(), q.get());
  auto ev = AwaitAdminResult(q.get(), timeout_, what, stop_);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev->get()), &n);
  std::map<TopicPartition, absl::Status> out;
  for (size_t i = 0; i < n; ++i) {
    if (absl::Status s = GroupError(rd_kafka_group_result_error(groups[i]), what); !s.ok()) return s;
    const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(groups[i]);
    for (int j = 0; parts != nullptr && j < parts->cnt; ++j) {
      const rd_kafka_topic_partition_t& p = parts->elems[j];
      TopicPartition tp{p.topic, p.partition};
      out[tp] = p.err ? KafkaStatus(p.err, absl::StrCat(what, ": partition ", tp.ToString())) : absl::OkStatus();
    }
  }
  for (const auto& [tp, _] : offsets) {
    if (!out.count(tp)) out[tp] = absl::InternalError(absl::StrCat(what, ": no result for ", tp.ToString()));
  }
  return out;
}

}  // namespace longhaul::mirror
