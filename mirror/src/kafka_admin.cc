#include "kafka_admin.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kafka_status.h"

namespace longhaul::mirror {

AdminOptions MakeAdminOptions(rd_kafka_t* rk, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout) {
  AdminOptions o(rd_kafka_AdminOptions_new(rk, op));
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(o.get(), static_cast<int>(timeout.count()), errstr, sizeof errstr);
  switch (op) {
    // The only operations with a broker-side operation timeout.
    case RD_KAFKA_ADMIN_OP_CREATETOPICS:
    case RD_KAFKA_ADMIN_OP_DELETETOPICS:
    case RD_KAFKA_ADMIN_OP_CREATEPARTITIONS:
      rd_kafka_AdminOptions_set_operation_timeout(o.get(), static_cast<int>(timeout.count()), errstr, sizeof errstr);
      break;
    default:
      break;
  }
  return o;
}

absl::StatusOr<AdminEvent> AwaitAdminResult(rd_kafka_queue_t* q, std::chrono::milliseconds timeout,
                                            const std::string& what, const std::atomic<bool>* stop) {
  // librdkafka answers with a timeout error after `timeout`; the extra second
  // only guards against an answer that never comes.
  auto deadline = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(1);
  AdminEvent ev;
  while (!ev) {
    if (stop != nullptr && stop->load()) return absl::CancelledError(what + ": stopping");
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(what, ": no answer within ", timeout.count(), " ms"));
    }
    ev.reset(rd_kafka_queue_poll(q, 200));
  }
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* msg = rd_kafka_event_error_string(ev.get());
    return KafkaStatus(rd_kafka_event_error(ev.get()), absl::StrCat(what, msg ? absl::StrCat(": ", msg) : ""));
  }
  return ev;
}

absl::StatusOr<std::unique_ptr<KafkaAdmin>> KafkaAdmin::Create(const Properties& properties, std::string what) {
  auto conf = MakeConf({{"client.id", "longhaul-admin"}}, properties, what);
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(*conf), what);
  if (!rk.ok()) return rk.status();
  return std::unique_ptr<KafkaAdmin>(new KafkaAdmin(std::move(*rk), std::move(what)));
}

absl::Status KafkaAdmin::WithConnectionError(const absl::Status& status) const {
  std::string why = LastConnectionError(rk_.get());
  if (why.empty()) return absl::Status(status.code(), absl::StrCat(what_, ": ", status.message()));
  return absl::Status(status.code(), absl::StrCat(what_, ": ", status.message(), "; last connection error: ", why));
}

absl::StatusOr<std::map<std::string, int>> KafkaAdmin::Topics(std::chrono::milliseconds timeout) {
  auto topics = ListTopics(rk_.get(), static_cast<int>(timeout.count()));
  if (!topics.ok()) return WithConnectionError(topics.status());
  return topics;
}

absl::Status KafkaAdmin::CheckConnection(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, nullptr, &md, static_cast<int>(timeout.count()));
  if (md) rd_kafka_metadata_destroy(md);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return WithConnectionError(KafkaStatus(err, "connecting"));
}

bool KafkaAdmin::Reachable(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  // all_topics=0 and no topic: brokers only, the cheapest request there is.
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, nullptr, &md, static_cast<int>(timeout.count()));
  if (md) rd_kafka_metadata_destroy(md);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

absl::StatusOr<std::map<TopicPartition, int64_t>> KafkaAdmin::EndOffsets(
    const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) {
  std::map<TopicPartition, int64_t> out;
  if (partitions.empty()) return out;
  PartitionList list = MakePartitionList(static_cast<int>(partitions.size()));
  for (const auto& tp : partitions) {
    // offsets_for_times with the "latest" sentinel is a plain ListOffsets;
    // the handle's isolation.level (librdkafka's default, read_committed)
    // makes the broker answer with the last stable offset.
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = RD_KAFKA_OFFSET_END;
  }
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_.get(), list.get(), static_cast<int>(timeout.count()));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0) out[TopicPartition{e.topic, e.partition}] = e.offset;
  }
  if (out.empty() && err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(err, absl::StrCat(what_, ": reading end offsets"));
  }
  return out;
}

absl::StatusOr<Properties> KafkaAdmin::ExplicitTopicConfigs(const std::string& topic,
                                                            std::chrono::milliseconds timeout) {
  return DescribeTopicConfigs(topic, timeout, /*explicit_only=*/true);
}

absl::StatusOr<Properties> KafkaAdmin::EffectiveTopicConfigs(const std::string& topic,
                                                             std::chrono::milliseconds timeout) {
  return DescribeTopicConfigs(topic, timeout, /*explicit_only=*/false);
}

absl::StatusOr<Properties> KafkaAdmin::DescribeTopicConfigs(const std::string& topic,
                                                            std::chrono::milliseconds timeout, bool explicit_only) {
  std::string what = absl::StrCat(what_, ": describing configs of topic '", topic, "'");
  KafkaQueue q(rd_kafka_queue_new(rk_.get()));
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  rd_kafka_DescribeConfigs(rk_.get(), &res, 1, opts.get(), q.get());
  rd_kafka_ConfigResource_destroy(res);
  auto ev = AwaitAdminResult(q.get(), timeout, what);
  if (!ev.ok()) return ev.status();
  const rd_kafka_DescribeConfigs_result_t* result = rd_kafka_event_DescribeConfigs_result(ev->get());
  size_t n = 0;
  const rd_kafka_ConfigResource_t** rs = rd_kafka_DescribeConfigs_result_resources(result, &n);
  Properties out;
  for (size_t i = 0; i < n; ++i) {
    if (rd_kafka_ConfigResource_error(rs[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaStatus(rd_kafka_ConfigResource_error(rs[i]), what);
    }
    size_t cnt = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[i], &cnt);
    for (size_t j = 0; j < cnt; ++j) {
      if (explicit_only &&
          rd_kafka_ConfigEntry_source(entries[j]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) {
        continue;
      }
      const char* v = rd_kafka_ConfigEntry_value(entries[j]);
      if (v != nullptr) out[rd_kafka_ConfigEntry_name(entries[j])] = v;
    }
  }
  return out;
}

namespace {

// One CreateTopics request for `topics`; `what_of(topic)` starts each
// topic's error message.
absl::StatusOr<std::map<std::string, absl::Status>> CreateTopicsRequest(
    rd_kafka_t* rk, const std::vector<KafkaAdmin::NewTopic>& topics, std::chrono::milliseconds timeout,
    int replication_factor, bool validate_only, const std::string& what,
    const std::function<std::string(const KafkaAdmin::NewTopic&)>& what_of) {
  std::map<std::string, absl::Status> out;
  if (topics.empty()) return out;
  char errstr[512];
  std::vector<rd_kafka_NewTopic_t*> nts;
  absl::Status bad;
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.topic.c_str(), t.partitions, replication_factor, errstr,
                                                    sizeof errstr);
    if (nt == nullptr) {
      bad = absl::InvalidArgumentError(absl::StrCat(what_of(t), ": ", errstr));
      break;
    }
    for (const auto& [k, v] : t.configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    nts.push_back(nt);
  }
  if (!bad.ok()) {
    for (auto* nt : nts) rd_kafka_NewTopic_destroy(nt);
    return bad;
  }
  KafkaQueue q(rd_kafka_queue_new(rk));
  auto opts = MakeAdminOptions(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  if (validate_only) rd_kafka_AdminOptions_set_validate_only(opts.get(), 1, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, nts.data(), nts.size(), opts.get(), q.get());
  for (auto* nt : nts) rd_kafka_NewTopic_destroy(nt);
  auto ev = AwaitAdminResult(q.get(), timeout, what);
  if (!ev.ok()) return ev.status();
  std::map<std::string, const KafkaAdmin::NewTopic*> by_name;
  for (const auto& t : topics) by_name[t.topic] = &t;
  size_t n = 0;
  const rd_kafka_topic_result_t** rs =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const std::string name = rd_kafka_topic_result_name(rs[i]);
    auto it = by_name.find(name);
    if (it == by_name.end()) continue;
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(rs[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      out[name] = absl::OkStatus();
      continue;
    }
    const char* msg = rd_kafka_topic_result_error_string(rs[i]);
    out[name] = KafkaStatus(err, absl::StrCat(what_of(*it->second), msg ? absl::StrCat(": ", msg) : ""));
  }
  for (const auto& t : topics) {
    out.try_emplace(t.topic, absl::UnknownError(absl::StrCat(what_of(t), ": no result for the topic in the answer")));
  }
  return out;
}

absl::Status CreateTopicRequest(rd_kafka_t* rk, const std::string& topic, int partitions, const Properties& configs,
                                std::chrono::milliseconds timeout, int replication_factor, bool validate_only,
                                const std::string& what) {
  auto results = CreateTopicsRequest(rk, {KafkaAdmin::NewTopic{topic, partitions, configs}}, timeout,
                                     replication_factor, validate_only, what,
                                     [&](const KafkaAdmin::NewTopic&) { return what; });
  if (!results.ok()) return results.status();
  return results->at(topic);
}

}  // namespace

absl::Status KafkaAdmin::CreateTopic(const std::string& topic, int partitions, const Properties& configs,
                                     std::chrono::milliseconds timeout, int replication_factor) {
  return CreateTopicRequest(
      rk_.get(), topic, partitions, configs, timeout, replication_factor, /*validate_only=*/false,
      absl::StrCat(what_, ": creating topic '", topic, "' with ", partitions, " partitions",
                   replication_factor > 0 ? absl::StrCat(" and replication factor ", replication_factor) : ""));
}

absl::StatusOr<std::map<std::string, absl::Status>> KafkaAdmin::CreateTopics(const std::vector<NewTopic>& topics,
                                                                             std::chrono::milliseconds timeout,
                                                                             int replication_factor) {
  const std::string rf =
      replication_factor > 0 ? absl::StrCat(" and replication factor ", replication_factor) : std::string();
  return CreateTopicsRequest(rk_.get(), topics, timeout, replication_factor, /*validate_only=*/false,
                             absl::StrCat(what_, ": creating ", topics.size(), " topics"), [&](const NewTopic& t) {
                               return absl::StrCat(what_, ": creating topic '", t.topic, "' with ", t.partitions,
                                                   " partitions", rf);
                             });
}

absl::Status KafkaAdmin::ValidateCreateTopic(const std::string& topic, int partitions, int replication_factor,
                                             std::chrono::milliseconds timeout) {
  return CreateTopicRequest(rk_.get(), topic, partitions, {}, timeout, replication_factor, /*validate_only=*/true,
                            absl::StrCat(what_, ": may this principal create topic '", topic, "'"));
}

absl::StatusOr<int> KafkaAdmin::TopicPartitions(const std::string& topic, std::chrono::milliseconds timeout) {
  const std::string what = absl::StrCat(what_, ": describing topic '", topic, "'");
  std::unique_ptr<rd_kafka_topic_t, KafkaDeleter> rkt(rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr));
  if (!rkt) return absl::InvalidArgumentError(absl::StrCat(what, ": invalid topic name"));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, rkt.get(), &md, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return WithConnectionError(KafkaStatus(err, "describing topic '" + topic + "'"));
  absl::StatusOr<int> out = absl::NotFoundError(absl::StrCat(what, ": not in the metadata answer"));
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic != md->topics[i].topic) continue;
    if (md->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      out = KafkaStatus(md->topics[i].err, what);
    } else {
      out = md->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

absl::Status KafkaAdmin::AlterTopicConfigs(const std::string& topic, const Properties& configs,
                                           std::chrono::milliseconds timeout, bool validate_only) {
  const std::string what = absl::StrCat(what_, validate_only ? ": may this principal alter configs of topic '"
                                                             : ": altering configs of topic '", topic, "'");
  char errstr[256];
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  for (const auto& [k, v] : configs) rd_kafka_ConfigResource_set_config(res, k.c_str(), v.c_str());
  KafkaQueue q(rd_kafka_queue_new(rk_.get()));
  auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout);
  if (validate_only) rd_kafka_AdminOptions_set_validate_only(opts.get(), 1, errstr, sizeof errstr);
  rd_kafka_AlterConfigs(rk_.get(), &res, 1, opts.get(), q.get());
  rd_kafka_ConfigResource_destroy(res);
  auto ev = AwaitAdminResult(q.get(), timeout, what);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_ConfigResource_t** rs =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(rs[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const char* msg = rd_kafka_ConfigResource_error_string(rs[i]);
    return KafkaStatus(err, absl::StrCat(what, msg ? absl::StrCat(": ", msg) : ""));
  }
  return absl::OkStatus();
}

absl::Status KafkaAdmin::GrowPartitions(const std::string& topic, int total, std::chrono::milliseconds timeout) {
  auto results = GrowPartitions(std::map<std::string, int>{{topic, total}}, timeout);
  if (!results.ok()) return results.status();
  return results->at(topic);
}

absl::StatusOr<std::map<std::string, absl::Status>> KafkaAdmin::GrowPartitions(
    const std::map<std::string, int>& totals, std::chrono::milliseconds timeout) {
  std::map<std::string, absl::Status> out;
  if (totals.empty()) return out;
  auto what_of = [&](const std::string& topic, int total) {
    return absl::StrCat(what_, ": growing topic '", topic, "' to ", total, " partitions");
  };
  const std::string what =
      totals.size() == 1 ? what_of(totals.begin()->first, totals.begin()->second)
                         : absl::StrCat(what_, ": growing ", totals.size(), " topics");
  char errstr[512];
  std::vector<rd_kafka_NewPartitions_t*> nps;
  absl::Status bad;
  for (const auto& [topic, total] : totals) {
    rd_kafka_NewPartitions_t* np = rd_kafka_NewPartitions_new(topic.c_str(), total, errstr, sizeof errstr);
    if (np == nullptr) {
      bad = absl::InvalidArgumentError(absl::StrCat(what_of(topic, total), ": ", errstr));
      break;
    }
    nps.push_back(np);
  }
  if (!bad.ok()) {
    for (auto* np : nps) rd_kafka_NewPartitions_destroy(np);
    return bad;
  }
  KafkaQueue q(rd_kafka_queue_new(rk_.get()));
  auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout);
  rd_kafka_CreatePartitions(rk_.get(), nps.data(), nps.size(), opts.get(), q.get());
  for (auto* np : nps) rd_kafka_NewPartitions_destroy(np);
  auto ev = AwaitAdminResult(q.get(), timeout, what);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_topic_result_t** rs =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const std::string topic = rd_kafka_topic_result_name(rs[i]);
    auto it = totals.find(topic);
    if (it == totals.end()) continue;
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(rs[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out[topic] = absl::OkStatus();
      continue;
    }
    const char* msg = rd_kafka_topic_result_error_string(rs[i]);
    out[topic] = KafkaStatus(err, absl::StrCat(what_of(topic, it->second), msg ? absl::StrCat(": ", msg) : ""));
  }
  for (const auto& [topic, total] : totals) {
    out.try_emplace(topic, absl::UnknownError(absl::StrCat(what_of(topic, total), ": no result for the topic in the answer")));
  }
  return out;
}

}  // namespace longhaul::mirror

namespace longhaul::mirror {
namespace {

AclOperation FromKafka(rd_kafka_AclOperation_t op) {
  switch (op) {
    case RD_KAFKA_ACL_OPERATION_READ:
      return AclOperation::kRead;
    case RD_KAFKA_ACL_OPERATION_DESCRIBE:
      return AclOperation::kDescribe;
    case RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS:
      return AclOperation::kDescribeConfigs;
    case RD_KAFKA_ACL_OPERATION_ALL:
      return AclOperation::kAll;
    default:
      return AclOperation::kOther;
  }
}

rd_kafka_AclOperation_t ToKafka(AclOperation op) {
  switch (op) {
    case AclOperation::kRead:
      return RD_KAFKA_ACL_OPERATION_READ;
    case AclOperation::kDescribe:
      return RD_KAFKA_ACL_OPERATION_DESCRIBE;
    case AclOperation::kDescribeConfigs:
      return RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS;
    case AclOperation::kAll:
      return RD_KAFKA_ACL_OPERATION_ALL;
    case AclOperation::kOther:
      break;
  }
  return RD_KAFKA_ACL_OPERATION_UNKNOWN;
}

}  // namespace

absl::StatusOr<std::vector<TopicAcl>> KafkaAdmin::TopicAcls(std::chrono::milliseconds timeout) {
  const std::string what = absl::StrCat(what_, ": describing topic ACLs");
  char errstr[512];
  rd_kafka_AclBindingFilter_t* filter = rd_kafka_AclBindingFilter_new(
      RD_KAFKA_RESOURCE_TOPIC, nullptr, RD_KAFKA_RESOURCE_PATTERN_LITERAL, nullptr, nullptr,
      RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof errstr);
  if (filter == nullptr) return absl::InternalError(absl::StrCat(what, ": ", errstr));
  KafkaQueue q(rd_kafka_queue_new(rk_.get()));
  auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_DESCRIBEACLS, timeout);
  rd_kafka_DescribeAcls(rk_.get(), filter, opts.get(), q.get());
  rd_kafka_AclBinding_destroy(filter);
  auto ev = AwaitAdminResult(q.get(), timeout, what);
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_AclBinding_t** bindings =
      rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev->get()), &n);
  std::vector<TopicAcl> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(TopicAcl{rd_kafka_AclBinding_name(bindings[i]), rd_kafka_AclBinding_principal(bindings[i]),
                           rd_kafka_AclBinding_host(bindings[i]),
                           FromKafka(rd_kafka_AclBinding_operation(bindings[i]))});
  }
  return out;
}

absl::Status KafkaAdmin::CreateTopicAcls(const std::vector<TopicAcl>& acls, std::chrono::milliseconds timeout) {
  if (acls.empty()) return absl::OkStatus();
  const std::string what = absl::StrCat(what_, ": creating ", acls.size(), " topic ACLs");
  char errstr[512];
  std::vector<rd_kafka_AclBinding_t*> bindings;
  absl::Status status;
  for (const TopicAcl& acl : acls) {
    rd_kafka_AclBinding_t* b = rd_kafka_AclBinding_new(
        RD_KAFKA_RESOURCE_TOPIC, acl.topic.c_str(), RD_KAFKA_RESOURCE_PATTERN_LITERAL, acl.principal.c_str(),
        acl.host.c_str(), ToKafka(acl.operation), RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof errstr);
    if (b == nullptr) {
      status = absl::InvalidArgumentError(absl::StrCat(what, ": ", Describe(acl), ": ", errstr));
      break;
    }
    bindings.push_back(b);
  }
  if (status.ok()) {
    KafkaQueue q(rd_kafka_queue_new(rk_.get()));
    auto opts = MakeAdminOptions(rk_.get(), RD_KAFKA_ADMIN_OP_CREATEACLS, timeout);
    rd_kafka_CreateAcls(rk_.get(), bindings.data(), bindings.size(), opts.get(), q.get());
    auto ev = AwaitAdminResult(q.get(), timeout, what);
    if (!ev.ok()) {
      status = ev.status();
    } else {
      size_t n = 0;
      const rd_kafka_acl_result_t** results =
          rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev->get()), &n);
      for (size_t i = 0; i < n && status.ok(); ++i) {
        if (const rd_kafka_error_t* e = rd_kafka_acl_result_error(results[i])) {
          status = KafkaStatus(rd_kafka_error_code(e),
                               absl::StrCat(what, ": ", Describe(acls[i]), ": ", rd_kafka_error_string(e)));
        }
      }
    }
  }
  rd_kafka_AclBinding_destroy_array(bindings.data(), bindings.size());
  return status;
}

}  // namespace longhaul::mirror
