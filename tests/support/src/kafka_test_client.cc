#include "longhaul/testing/kafka_test_client.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "longhaul/testing/unique_name.h"

namespace longhaul::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Room for ~1 MB records plus batch framing; scripts/kafka-cluster sets the
// broker's message.max.bytes to the same.
constexpr char kMaxMessageBytes[] = "8388608";

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
  void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
  void operator()(rd_kafka_AdminOptions_t* p) const { rd_kafka_AdminOptions_destroy(p); }
  void operator()(rd_kafka_topic_partition_list_t* p) const { rd_kafka_topic_partition_list_destroy(p); }
  void operator()(const rd_kafka_metadata_t* p) const { rd_kafka_metadata_destroy(p); }
  void operator()(rd_kafka_error_t* p) const { rd_kafka_error_destroy(p); }
  void operator()(rd_kafka_message_t* p) const { rd_kafka_message_destroy(p); }
  void operator()(rd_kafka_headers_t* p) const { rd_kafka_headers_destroy(p); }
  void operator()(rd_kafka_NewTopic_t* p) const { rd_kafka_NewTopic_destroy(p); }
  void operator()(rd_kafka_DeleteTopic_t* p) const { rd_kafka_DeleteTopic_destroy(p); }
  void operator()(rd_kafka_ConfigResource_t* p) const { rd_kafka_ConfigResource_destroy(p); }
  void operator()(rd_kafka_DeleteRecords_t* p) const { rd_kafka_DeleteRecords_destroy(p); }
  void operator()(rd_kafka_NewPartitions_t* p) const { rd_kafka_NewPartitions_destroy(p); }
  void operator()(rd_kafka_AclBinding_t* p) const { rd_kafka_AclBinding_destroy(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, RdKafkaDeleter>;

// absl::string_view is not std::string_view in this Abseil build.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

int TimeoutMs(milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 24 * 3600 * 1000));
}

milliseconds Remaining(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// The Kafka error name stays in the message, so a failure reads like
// "produce to t[0] record #3: MSG_SIZE_TOO_LARGE: Broker: Message size too large".
absl::Status KafkaError(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail = "") {
  std::string message = absl::StrCat(Av(context), ": ", rd_kafka_err2name(err), ": ",
                                     detail.empty() ? absl::string_view(rd_kafka_err2str(err)) : Av(detail));
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
      return absl::DeadlineExceededError(message);
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return absl::NotFoundError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::AlreadyExistsError(message);
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return absl::InvalidArgumentError(message);
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
      return absl::UnavailableError(message);
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status KafkaError(const rd_kafka_error_t* error, std::string_view context) {
  return KafkaError(rd_kafka_error_code(error), context, rd_kafka_error_string(error));
}

using Properties = std::vector<std::pair<std::string, std::string>>;

// Where a client connects: bootstrap servers and the cluster's security
// properties (security.protocol, TLS files, SASL user).
struct Endpoint {
  const std::string& bootstrap;
  const std::map<std::string, std::string>& security;
};

// A librdkafka client with `properties`; `configure` may add callbacks.
absl::StatusOr<Owned<rd_kafka_t>> NewClient(rd_kafka_type_t type, const Endpoint& endpoint,
                                           const Properties& properties,
                                           void (*configure)(rd_kafka_conf_t*) = nullptr) {
  const std::string& bootstrap = endpoint.bootstrap;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  // Brokers are stopped and restarted in tests: reconnect within a second
  // rather than after librdkafka's default backoff of up to 10 s.
  Properties all = {{"bootstrap.servers", bootstrap},
                    {"client.id", "longhaul-test-client"},
                    {"reconnect.backoff.max.ms", "1000"}};
  all.insert(all.end(), endpoint.security.begin(), endpoint.security.end());
  all.insert(all.end(), properties.begin(), properties.end());
  for (const auto& [name, value] : all) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      // The value is left out: it may be a password.
      return absl::InvalidArgumentError(absl::StrCat("librdkafka property ", name, ": ", errstr));
    }
  }
  if (configure != nullptr) configure(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("cannot create librdkafka client for ", bootstrap, ": ", errstr));
  }
  return Owned<rd_kafka_t>(rk);
}

// Per-record delivery outcome, filled by the delivery report callback, which
// runs inside rd_kafka_poll/rd_kafka_flush on the calling thread.
struct Delivery {
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int64_t offset = -1;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* delivery = static_cast<Delivery*>(message->_private);
  if (delivery == nullptr) return;
  delivery->done = true;
  delivery->err = message->err;
  delivery->offset = message->offset;
}

void ConfigureProducer(rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery); }

const Properties& ProducerProperties() {
  static const Properties properties = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "2"},
      {"message.max.bytes", kMaxMessageBytes},
  };
  return properties;
}

// Enqueues `records` without waiting. Each record gets deliveries[i] as its
// delivery opaque. Stops at the first record librdkafka refuses.
absl::Status Enqueue(rd_kafka_t* rk, const TopicPartition& tp, const std::vector<Record>& records,
                     std::vector<Delivery>& deliveries, Clock::time_point deadline) {
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& record = records[i];
    rd_kafka_headers_t* headers = nullptr;
    if (!record.headers.empty()) {
      headers = rd_kafka_headers_new(record.headers.size());
      for (const RecordHeader& header : record.headers) {
        // A null pointer makes a null header value; data() of an empty
        // string is non-null and makes an empty one.
        const char* value = header.value ? header.value->data() : nullptr;
        const ssize_t size = header.value ? static_cast<ssize_t>(header.value->size()) : 0;
        rd_kafka_header_add(headers, header.name.data(), static_cast<ssize_t>(header.name.size()), value, size);
      }
    }
    const void* key = record.key ? record.key->data() : nullptr;
    const size_t key_size = record.key ? record.key->size() : 0;
    void* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
    const size_t value_size = record.value ? record.value->size() : 0;
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(tp.topic.c_str()), RD_KAFKA_V_PARTITION(tp.partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
          RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_TIMESTAMP(std::max<int64_t>(record.timestamp_ms, 0)),
          RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(&deliveries[i]), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;  // librdkafka owns `headers` now
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && Clock::now() < deadline) {
        rd_kafka_poll(rk, 10);
        continue;
      }
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      return KafkaError(err, absl::StrCat("produce to ", tp.ToString(), " record #", i));
    }
  }
  return absl::OkStatus();
}

// Waits until every enqueued record has a delivery report and returns the
// first failure.
absl::Status AwaitDeliveries(rd_kafka_t* rk, const TopicPartition& tp, const std::vector<Delivery>& deliveries,
                             Clock::time_point deadline) {
  rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, TimeoutMs(Remaining(deadline)));
  for (size_t i = 0; i < deliveries.size(); ++i) {
    if (deliveries[i].done && deliveries[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaError(deliveries[i].err, absl::StrCat("produce to ", tp.ToString(), " record #", i));
    }
  }
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const auto pending = std::count_if(deliveries.begin(), deliveries.end(), [](const Delivery& d) { return !d.done; });
    return KafkaError(flushed, absl::StrCat("produce to ", tp.ToString()),
                      absl::StrCat(pending, " of ", deliveries.size(), " records unacknowledged at the deadline"));
  }
  return absl::OkStatus();
}

Record ToRecord(const rd_kafka_message_t* message) {
  Record record;
  record.offset = message->offset;
  rd_kafka_timestamp_type_t type;
  record.timestamp_ms = rd_kafka_message_timestamp(message, &type);
  if (message->key != nullptr) record.key.emplace(static_cast<const char*>(message->key), message->key_len);
  if (message->payload != nullptr) record.value.emplace(static_cast<const char*>(message->payload), message->len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      RecordHeader header{name, std::nullopt};
      if (value != nullptr) header.value.emplace(static_cast<const char*>(value), size);
      record.headers.push_back(std::move(header));
    }
  }
  return record;
}

Owned<rd_kafka_AdminOptions_t> AdminOptions(rd_kafka_t* rk, rd_kafka_admin_op_t op, milliseconds timeout) {
  Owned<rd_kafka_AdminOptions_t> options(rd_kafka_AdminOptions_new(rk, op));
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), TimeoutMs(timeout), errstr, sizeof(errstr));
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS) {
    // The broker answers once the controller has applied the change.
    rd_kafka_AdminOptions_set_operation_timeout(options.get(), TimeoutMs(timeout), errstr, sizeof(errstr));
  }
  return options;
}

// Waits for the one result event of an admin call on `queue`.
absl::StatusOr<Owned<rd_kafka_event_t>> AwaitAdminResult(rd_kafka_queue_t* queue, milliseconds timeout,
                                                         std::string_view what) {
  // The request timeout is enforced by librdkafka; allow a little more here.
  Owned<rd_kafka_event_t> event(rd_kafka_queue_poll(queue, TimeoutMs(timeout + milliseconds(5000))));
  if (event == nullptr) {
    return absl::DeadlineExceededError(absl::StrCat(Av(what), ": no answer within ", timeout.count(), " ms"));
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(rd_kafka_event_error(event.get()), what, rd_kafka_event_error_string(event.get()));
  }
  return event;
}

absl::StatusOr<rd_kafka_t*> LazyClient(Owned<rd_kafka_t>& slot, rd_kafka_type_t type, const Endpoint& endpoint,
                                      const Properties& properties, void (*configure)(rd_kafka_conf_t*) = nullptr) {
  if (slot == nullptr) {
    absl::StatusOr<Owned<rd_kafka_t>> client = NewClient(type, endpoint, properties, configure);
    if (!client.ok()) return client.status();
    slot = std::move(*client);
  }
  return slot.get();
}

// Full cluster metadata; the topic list is small in tests and asking for all
// topics avoids librdkafka's per-topic handles and their background refresh.
absl::StatusOr<Owned<const rd_kafka_metadata_t>> Metadata(rd_kafka_t* rk, milliseconds timeout,
                                                          std::string_view what) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &metadata, TimeoutMs(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(err, what);
  return Owned<const rd_kafka_metadata_t>(metadata);
}

const rd_kafka_metadata_topic_t* FindTopic(const rd_kafka_metadata_t& metadata, std::string_view topic) {
  for (int i = 0; i < metadata.topic_cnt; ++i) {
    if (metadata.topics[i].topic == topic && metadata.topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return &metadata.topics[i];
    }
  }
  return nullptr;
}

// NotFound naming `what` unless metadata shows the partition. Asked through
// the client that is about to use the topic: besides turning a silent wait
// into a clear error, it fills that client's metadata cache, without which
// librdkafka 2.0.2 starts producing to a topic it has not seen only after
// two 500 ms timer rounds.
absl::Status CheckPartitionExists(rd_kafka_t* rk, const TopicPartition& tp, Clock::time_point deadline,
                                  std::string_view what) {
  absl::StatusOr<Owned<const rd_kafka_metadata_t>> metadata = Metadata(rk, Remaining(deadline), what);
  if (!metadata.ok()) return metadata.status();
  const rd_kafka_metadata_topic_t* found = FindTopic(**metadata, tp.topic);
  if (found == nullptr) return absl::NotFoundError(absl::StrCat(Av(what), ": topic does not exist"));
  if (tp.partition < 0 || tp.partition >= found->partition_cnt) {
    return absl::NotFoundError(absl::StrCat(Av(what), ": topic has ", found->partition_cnt, " partitions"));
  }
  return absl::OkStatus();
}

// A consumer that names `group` without joining it (no subscribe), for
// committing and reading the group's offsets.
absl::StatusOr<Owned<rd_kafka_t>> NewGroupClient(const Endpoint& endpoint, std::string_view group) {
  return NewClient(RD_KAFKA_CONSUMER, endpoint,
                   {{"group.id", std::string(group)},
                    {"enable.auto.commit", "false"},
                    {"enable.auto.offset.store", "false"},
                    // Only offsets of committed transactions, as a consumer
                    // resuming in the group would see them.
                    {"isolation.level", "read_committed"}});
}

// It never joined the group, so there is nothing to leave; closing could
// wait for an unreachable coordinator.
void DestroyGroupClient(Owned<rd_kafka_t> consumer) {
  rd_kafka_destroy_flags(consumer.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

}  // namespace

struct KafkaTestClient::Clients {
  Owned<rd_kafka_t> admin;          // admin calls and metadata
  Owned<rd_kafka_t> offsets;        // ListOffsets, read_uncommitted
  Owned<rd_kafka_t> producer;       // idempotent
  Owned<rd_kafka_t> transactional;  // initialized for transactions
};

KafkaTestClient::KafkaTestClient(std::string bootstrap, std::map<std::string, std::string> properties)
    : bootstrap_(std::move(bootstrap)), properties_(std::move(properties)), clients_(std::make_unique<Clients>()) {}

KafkaTestClient::~KafkaTestClient() = default;

absl::Status KafkaTestClient::CreateTopic(std::string_view topic, int partitions,
                                          const std::map<std::string, std::string>& configs, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string what = absl::StrCat("create topic ", Av(topic), " on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  char errstr[512];
  Owned<rd_kafka_NewTopic_t> new_topic(
      rd_kafka_NewTopic_new(std::string(topic).c_str(), partitions, 1, errstr, sizeof(errstr)));
  if (new_topic == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": ", errstr));
  for (const auto& [name, value] : configs) {
    if (rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(new_topic.get(), name.c_str(), value.c_str()); err) {
      return KafkaError(err, absl::StrCat(what, ": config ", name, "=", value));
    }
  }
  Owned<rd_kafka_queue_t> queue(rd_kafka_queue_new(*rk));
  auto options = AdminOptions(*rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
  rd_kafka_CreateTopics(*rk, topics, 1, options.get(), queue.get());
  absl::StatusOr<Owned<rd_kafka_event_t>> event = AwaitAdminResult(queue.get(), timeout, what);
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]); err) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      return KafkaError(err, what, message != nullptr ? message : "");
    }
  }
  // Creation is acknowledged by the controller; wait until the broker serves
  // metadata with a leader for every partition.
  absl::Status last = absl::OkStatus();
  do {
    absl::StatusOr<Owned<const rd_kafka_metadata_t>> metadata = Metadata(*rk, Remaining(deadline), what);
    if (metadata.ok()) {
      const rd_kafka_metadata_topic_t* found = FindTopic(**metadata, topic);
      if (found != nullptr && found->partition_cnt == partitions &&
          std::all_of(found->partitions, found->partitions + found->partition_cnt,
                      [](const rd_kafka_metadata_partition_t& p) { return p.leader >= 0; })) {
        return absl::OkStatus();
      }
      last = absl::UnavailableError(absl::StrCat(what, ": created, but metadata does not show all ", partitions,
                                                 " partitions with a leader yet"));
    } else {
      last = metadata.status();
    }
    rd_kafka_poll(*rk, 50);
  } while (Clock::now() < deadline);
  return absl::DeadlineExceededError(absl::StrCat(last.message(), " (after ", timeout.count(), " ms)"));
}

absl::Status KafkaTestClient::GrowPartitions(std::string_view topic, int total, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string what = absl::StrCat("grow topic ", Av(topic), " to ", total, " partitions on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  char errstr[512];
  Owned<rd_kafka_NewPartitions_t> grow(rd_kafka_NewPartitions_new(std::string(topic).c_str(), total, errstr, sizeof errstr));
  if (grow == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": ", errstr));
  Owned<rd_kafka_queue_t> queue(rd_kafka_queue_new(*rk));
  auto options = AdminOptions(*rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout);
  rd_kafka_NewPartitions_t* list[] = {grow.get()};
  rd_kafka_CreatePartitions(*rk, list, 1, options.get(), queue.get());
  absl::StatusOr<Owned<rd_kafka_event_t>> event = AwaitAdminResult(queue.get(), timeout, what);
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]); err) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      return KafkaError(err, what, message != nullptr ? message : "");
    }
  }
  while (Clock::now() < deadline) {
    absl::StatusOr<int> now = PartitionCount(topic, Remaining(deadline));
    if (now.ok() && *now == total) return absl::OkStatus();
    std::this_thread::sleep_for(milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat(what, ": metadata does not show the new partitions"));
}

absl::Status KafkaTestClient::SetTopicConfig(std::string_view topic, const std::map<std::string, std::string>& configs,
                                             milliseconds timeout) {
  const std::string what = absl::StrCat("alter configs of topic ", Av(topic), " on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  Owned<rd_kafka_ConfigResource_t> resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, std::string(topic).c_str()));
  for (const auto& [name, value] : configs) rd_kafka_ConfigResource_set_config(resource.get(), name.c_str(), value.c_str());
  Owned<rd_kafka_queue_t> queue(rd_kafka_queue_new(*rk));
  auto options = AdminOptions(*rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout);
  rd_kafka_ConfigResource_t* list[] = {resource.get()};
  rd_kafka_AlterConfigs(*rk, list, 1, options.get(), queue.get());
  absl::StatusOr<Owned<rd_kafka_event_t>> event = AwaitAdminResult(queue.get(), timeout, what);
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_ConfigResource_t** results =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(results[i]); err) {
      const char* message = rd_kafka_ConfigResource_error_string(results[i]);
      return KafkaError(err, what, message != nullptr ? message : "");
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaTestClient::CreateAcls(const std::vector<AclSpec>& acls, milliseconds timeout) {
  const std::string what = absl::StrCat("create ACLs on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  static const std::map<std::string, rd_kafka_ResourceType_t> kTypes = {
      {"topic", RD_KAFKA_RESOURCE_TOPIC}, {"group", RD_KAFKA_RESOURCE_GROUP},
      {"cluster", RD_KAFKA_RESOURCE_BROKER}};
  static const std::map<std::string, rd_kafka_AclOperation_t> kOperations = {
      {"read", RD_KAFKA_ACL_OPERATION_READ},
      {"write", RD_KAFKA_ACL_OPERATION_WRITE},
      {"create", RD_KAFKA_ACL_OPERATION_CREATE},
      {"describe", RD_KAFKA_ACL_OPERATION_DESCRIBE},
      {"describe_configs", RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS},
      {"alter_configs", RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS},
      {"all", RD_KAFKA_ACL_OPERATION_ALL}};
  std::vector<Owned<rd_kafka_AclBinding_t>> owned;
  std::vector<rd_kafka_AclBinding_t*> bindings;
  char errstr[512];
  for (const AclSpec& acl : acls) {
    auto type = kTypes.find(acl.resource_type);
    auto operation = kOperations.find(acl.operation);
    if (type == kTypes.end() || operation == kOperations.end()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": unknown resource type or operation in ", acl.resource_type,
                                                     " ", acl.operation));
    }
    owned.emplace_back(rd_kafka_AclBinding_new(
        type->second, acl.name.c_str(), acl.prefixed ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED : RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        acl.principal.c_str(), "*", operation->second, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof errstr));
    if (owned.back() == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": ", errstr));
    bindings.push_back(owned.back().get());
  }
  Owned<rd_kafka_queue_t> queue(rd_kafka_queue_new(*rk));
  auto options = AdminOptions(*rk, RD_KAFKA_ADMIN_OP_CREATEACLS, timeout);
  rd_kafka_CreateAcls(*rk, bindings.data(), bindings.size(), options.get(), queue.get());
  absl::StatusOr<Owned<rd_kafka_event_t>> event = AwaitAdminResult(queue.get(), timeout, what);
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_acl_result_t** results = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (const rd_kafka_error_t* error = rd_kafka_acl_result_error(results[i]); error != nullptr) {
      return KafkaError(error, what);
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaTestClient::DeleteTopic(std::string_view topic, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string what = absl::StrCat("delete topic ", Av(topic), " on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  Owned<rd_kafka_DeleteTopic_t> delete_topic(rd_kafka_DeleteTopic_new(std::string(topic).c_str()));
  Owned<rd_kafka_queue_t> queue(rd_kafka_queue_new(*rk));
  auto options = AdminOptions(*rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout);
  rd_kafka_DeleteTopic_t* topics[] = {delete_topic.get()};
  rd_kafka_DeleteTopics(*rk, topics, 1, options.get(), queue.get());
  absl::StatusOr<Owned<rd_kafka_event_t>> event = AwaitAdminResult(queue.get(), timeout, what);
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]); err) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      return KafkaError(err, what, message != nullptr ? message : "");
    }
  }
  do {
    absl::StatusOr<Owned<const rd_kafka_metadata_t>> metadata = Metadata(*rk, Remaining(deadline), what);
    if (metadata.ok() && FindTopic(**metadata, topic) == nullptr) return absl::OkStatus();
    rd_kafka_poll(*rk, 50);
  } while (Clock::now() < deadline);
  return absl::DeadlineExceededError(
      absl::StrCat(what, ": deleted, but metadata still lists it after ", timeout.count(), " ms"));
}

absl::Status KafkaTestClient::DeleteRecordsBefore(std::string_view topic, int32_t partition, int64_t before,
                                                  milliseconds timeout) {
  const std::string what =
      absl::StrCat("delete records of ", Av(topic), "[", partition, "] before offset ", before, " on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  Owned<rd_kafka_topic_partition_list_t> offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), std::string(topic).c_str(), partition)->offset = before;
  Owned<rd_kafka_DeleteRecords_t> request(rd_kafka_DeleteRecords_new(offsets.get()));
  Owned<rd_kafka_queue_t> queue(rd_kafka_queue_new(*rk));
  auto options = AdminOptions(*rk, RD_KAFKA_ADMIN_OP_DELETERECORDS, timeout);
  rd_kafka_DeleteRecords_t* requests[] = {request.get()};
  rd_kafka_DeleteRecords(*rk, requests, 1, options.get(), queue.get());
  absl::StatusOr<Owned<rd_kafka_event_t>> event = AwaitAdminResult(queue.get(), timeout, what);
  if (!event.ok()) return event.status();
  const rd_kafka_topic_partition_list_t* result =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event->get()));
  if (result == nullptr || result->cnt != 1) return absl::InternalError(absl::StrCat(what, ": no result"));
  if (result->elems[0].err) return KafkaError(result->elems[0].err, what);
  if (result->elems[0].offset != before) {
    return absl::InternalError(
        absl::StrCat(what, ": the log start is now ", result->elems[0].offset, ", not ", before));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> KafkaTestClient::ListTopics(milliseconds timeout) {
  const std::string what = absl::StrCat("list topics on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  absl::StatusOr<Owned<const rd_kafka_metadata_t>> metadata = Metadata(*rk, timeout, what);
  if (!metadata.ok()) return metadata.status();
  std::vector<std::string> topics;
  for (int i = 0; i < (*metadata)->topic_cnt; ++i) topics.emplace_back((*metadata)->topics[i].topic);
  return topics;
}

absl::StatusOr<int> KafkaTestClient::PartitionCount(std::string_view topic, milliseconds timeout) {
  const std::string what = absl::StrCat("partition count of ", Av(topic), " on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  absl::StatusOr<Owned<const rd_kafka_metadata_t>> metadata = Metadata(*rk, timeout, what);
  if (!metadata.ok()) return metadata.status();
  const rd_kafka_metadata_topic_t* found = FindTopic(**metadata, topic);
  if (found == nullptr) return absl::NotFoundError(absl::StrCat(what, ": topic does not exist"));
  return found->partition_cnt;
}

absl::StatusOr<std::map<std::string, std::string>> KafkaTestClient::TopicConfig(std::string_view topic,
                                                                                milliseconds timeout) {
  const std::string what = absl::StrCat("describe configs of topic ", Av(topic), " on ", bootstrap_);
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->admin, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, {});
  if (!rk.ok()) return rk.status();
  Owned<rd_kafka_ConfigResource_t> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, std::string(topic).c_str()));
  Owned<rd_kafka_queue_t> queue(rd_kafka_queue_new(*rk));
  auto options = AdminOptions(*rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(*rk, resources, 1, options.get(), queue.get());
  absl::StatusOr<Owned<rd_kafka_event_t>> event = AwaitAdminResult(queue.get(), timeout, what);
  if (!event.ok()) return event.status();
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event->get()), &count);
  if (count != 1) return absl::InternalError(absl::StrCat(what, ": expected 1 resource, got ", count));
  if (rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(described[0]); err) {
    const char* message = rd_kafka_ConfigResource_error_string(described[0]);
    return KafkaError(err, what, message != nullptr ? message : "");
  }
  std::map<std::string, std::string> configs;
  size_t entry_count = 0;
  const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(described[0], &entry_count);
  for (size_t i = 0; i < entry_count; ++i) {
    if (rd_kafka_ConfigEntry_source(entries[i]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) continue;
    const char* value = rd_kafka_ConfigEntry_value(entries[i]);  // null for sensitive entries
    configs[rd_kafka_ConfigEntry_name(entries[i])] = value != nullptr ? value : "";
  }
  return configs;
}

absl::Status KafkaTestClient::Produce(std::string_view topic, int32_t partition, const std::vector<Record>& records,
                                      milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const TopicPartition tp{std::string(topic), partition};
  absl::StatusOr<rd_kafka_t*> rk =
      LazyClient(clients_->producer, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, ProducerProperties(), ConfigureProducer);
  if (!rk.ok()) return rk.status();
  // librdkafka would hold records for a missing topic until the deadline.
  if (absl::Status exists = CheckPartitionExists(*rk, tp, deadline, absl::StrCat("produce to ", tp.ToString()));
      !exists.ok()) {
    return exists;
  }
  std::vector<Delivery> deliveries(records.size());
  absl::Status status = Enqueue(*rk, tp, records, deliveries, deadline);
  absl::Status delivered = AwaitDeliveries(*rk, tp, deliveries, deadline);
  if (status.ok()) status = delivered;
  if (rd_kafka_outq_len(*rk) > 0) {
    // Records still queued point at `deliveries`; drop the producer (and
    // them) before it goes out of scope.
    rd_kafka_purge(*rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    clients_->producer.reset();
  }
  return status;
}

absl::Status KafkaTestClient::ProduceTransaction(std::string_view topic, int32_t partition,
                                                 const std::vector<Record>& records, bool commit,
                                                 milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const TopicPartition tp{std::string(topic), partition};
  const std::string what = absl::StrCat("transaction on ", tp.ToString());
  if (clients_->transactional == nullptr) {
    Properties properties = ProducerProperties();
    properties.emplace_back("transactional.id", UniqueName("longhaul-test-txn"));
    properties.emplace_back("transaction.timeout.ms", "60000");
    absl::StatusOr<rd_kafka_t*> rk =
        LazyClient(clients_->transactional, RD_KAFKA_PRODUCER, Endpoint{bootstrap_, properties_}, properties, ConfigureProducer);
    if (!rk.ok()) return rk.status();
    if (Owned<rd_kafka_error_t> error(rd_kafka_init_transactions(*rk, TimeoutMs(Remaining(deadline)))); error) {
      clients_->transactional.reset();
      return KafkaError(error.get(), absl::StrCat(what, ": init_transactions"));
    }
  }
  rd_kafka_t* rk = clients_->transactional.get();
  if (absl::Status exists = CheckPartitionExists(rk, tp, deadline, what); !exists.ok()) return exists;
  if (Owned<rd_kafka_error_t> error(rd_kafka_begin_transaction(rk)); error) {
    clients_->transactional.reset();
    return KafkaError(error.get(), absl::StrCat(what, ": begin_transaction"));
  }
  std::vector<Delivery> deliveries(records.size());
  absl::Status status = Enqueue(rk, tp, records, deliveries, deadline);
  // Flush even for an abort: the records must reach the log so that the
  // abort marker has something to hide from read_committed readers.
  absl::Status delivered = AwaitDeliveries(rk, tp, deliveries, deadline);
  if (status.ok()) status = delivered;
  Owned<rd_kafka_error_t> error;
  if (status.ok() && commit) {
    error.reset(rd_kafka_commit_transaction(rk, TimeoutMs(Remaining(deadline))));
    if (error != nullptr) status = KafkaError(error.get(), absl::StrCat(what, ": commit_transaction"));
  } else {
    error.reset(rd_kafka_abort_transaction(rk, TimeoutMs(Remaining(deadline))));
    if (error != nullptr && status.ok()) status = KafkaError(error.get(), absl::StrCat(what, ": abort_transaction"));
  }
  // After any failure start over with a fresh producer (and transactional
  // id) rather than reason about the transaction state machine in a test.
  if (!status.ok() || rd_kafka_outq_len(rk) > 0) {
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    clients_->transactional.reset();
  }
  return status;
}

absl::StatusOr<std::vector<Record>> KafkaTestClient::ReadAll(std::string_view topic, int32_t partition,
                                                             Isolation isolation, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const TopicPartition tp{std::string(topic), partition};
  const bool committed = isolation == Isolation::kReadCommitted;
  const std::string what = absl::StrCat("read ", tp.ToString(), " (", committed ? "read_committed" : "read_uncommitted",
                                        ") from ", bootstrap_);
  // A fresh consumer per read with manual assignment. librdkafka 2.0.2's
  // rd_kafka_assign fails with _UNKNOWN_GROUP without a group.id, so it gets
  // a throwaway one; nothing is ever committed to it.
  absl::StatusOr<Owned<rd_kafka_t>> consumer =
      NewClient(RD_KAFKA_CONSUMER, Endpoint{bootstrap_, properties_},
                {{"group.id", UniqueName("longhaul-test-reader")},
                 {"isolation.level", committed ? "read_committed" : "read_uncommitted"},
                 {"enable.partition.eof", "true"},
                 {"auto.offset.reset", "earliest"},
                 {"enable.auto.commit", "false"},
                 {"enable.auto.offset.store", "false"},
                 {"fetch.wait.max.ms", "50"},
                 {"fetch.error.backoff.ms", "50"},
                 {"allow.auto.create.topics", "false"}});
  if (!consumer.ok()) return consumer.status();
  rd_kafka_t* rk = consumer->get();
  // An assigned consumer waits silently for a partition that does not exist.
  if (absl::Status exists = CheckPartitionExists(rk, tp, deadline, what); !exists.ok()) return exists;
  Owned<rd_kafka_topic_partition_list_t> assignment(rd_kafka_topic_partition_list_new(1));
  // Offset 0 rather than OFFSET_BEGINNING: a logical offset needs the
  // partition leader at assign time, and when librdkafka does not know it yet
  // it retries the lookup only after 500 ms. When the log starts later,
  // auto.offset.reset=earliest moves the fetch there.
  rd_kafka_topic_partition_list_add(assignment.get(), tp.topic.c_str(), partition)->offset = 0;
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment.get()); err) return KafkaError(err, what);

  std::vector<Record> records;
  absl::Status last_error = absl::OkStatus();
  absl::Status result = absl::OkStatus();
  bool at_end = false;
  while (!at_end) {
    const milliseconds left = Remaining(deadline);
    if (left.count() == 0) {
      result = absl::DeadlineExceededError(absl::StrCat(
          what, ": end not reached within ", timeout.count(), " ms; read ", records.size(), " records",
          records.empty() ? "" : absl::StrCat(" up to offset ", records.back().offset),
          last_error.ok() ? "" : absl::StrCat("; last error: ", last_error.message())));
      break;
    }
    Owned<rd_kafka_message_t> message(rd_kafka_consumer_poll(rk, TimeoutMs(std::min(left, milliseconds(100)))));
    if (message == nullptr) continue;
    switch (message->err) {
      case RD_KAFKA_RESP_ERR_NO_ERROR:
        records.push_back(ToRecord(message.get()));
        break;
      case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        at_end = true;
        break;
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        result = KafkaError(message->err, what, rd_kafka_message_errstr(message.get()));
        at_end = true;
        break;
      default:
        // Transient (broker restarting, leader moving): librdkafka retries;
        // keep the error for the deadline message.
        last_error = KafkaError(message->err, what, rd_kafka_message_errstr(message.get()));
        if (rd_kafka_fatal_error(rk, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
          result = last_error;
          at_end = true;
        }
        break;
    }
  }
  rd_kafka_consumer_close(rk);
  if (!result.ok()) return result;
  return records;
}

absl::StatusOr<int64_t> KafkaTestClient::EndOffset(std::string_view topic, int32_t partition, milliseconds timeout) {
  const std::string what = absl::StrCat("end offset of ", Av(topic), "[", partition, "] on ", bootstrap_);
  // Not rd_kafka_query_watermark_offsets: in librdkafka 2.0.2 it ignores its
  // timeout and blocks until the leader is back (librdkafka#2588, fixed in
  // 2.3.0). rd_kafka_offsets_for_times with OFFSET_END honours it. The
  // ListOffsets request carries the handle's isolation.level, hence a
  // read_uncommitted consumer handle: the answer is the high watermark, not
  // the last stable offset.
  absl::StatusOr<rd_kafka_t*> rk = LazyClient(clients_->offsets, RD_KAFKA_CONSUMER, Endpoint{bootstrap_, properties_},
                                              {{"isolation.level", "read_uncommitted"}});
  if (!rk.ok()) return rk.status();
  Owned<rd_kafka_topic_partition_list_t> partitions(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(partitions.get(), std::string(topic).c_str(), partition)->offset =
      RD_KAFKA_OFFSET_END;
  if (rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(*rk, partitions.get(), TimeoutMs(timeout)); err) {
    return KafkaError(err, what);
  }
  const rd_kafka_topic_partition_t& result = partitions->elems[0];
  if (result.err) return KafkaError(result.err, what);
  if (result.offset < 0) return absl::InternalError(absl::StrCat(what, ": broker returned offset ", result.offset));
  return result.offset;
}

// Group offsets go through a consumer that names the group but never joins
// it, not through the Admin API: librdkafka 2.0.2's
// rd_kafka_ListConsumerGroupOffsets crashes (NULL consumer group in
// rd_kafka_handle_OffsetFetch, librdkafka#5040) when the coordinator answers
// NOT_COORDINATOR, as a fresh broker does for a new group.
absl::Status KafkaTestClient::CommitGroupOffset(std::string_view group, std::string_view topic, int32_t partition,
                                                int64_t offset, milliseconds timeout) {
  const std::string what =
      absl::StrCat("commit offset ", offset, " for group ", Av(group), " on ", Av(topic), "[", partition, "]");
  absl::StatusOr<Owned<rd_kafka_t>> consumer = NewGroupClient(Endpoint{bootstrap_, properties_}, group);
  if (!consumer.ok()) return consumer.status();
  Owned<rd_kafka_queue_t> queue(rd_kafka_queue_new(consumer->get()));
  Owned<rd_kafka_topic_partition_list_t> offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), std::string(topic).c_str(), partition)->offset = offset;
  absl::Status status = absl::OkStatus();
  if (rd_kafka_resp_err_t err = rd_kafka_commit_queue(consumer->get(), offsets.get(), queue.get(), nullptr, nullptr);
      err) {
    status = KafkaError(err, what);
  } else if (Owned<rd_kafka_event_t> event(rd_kafka_queue_poll(queue.get(), TimeoutMs(timeout))); event == nullptr) {
    status = absl::DeadlineExceededError(absl::StrCat(what, ": no answer within ", timeout.count(), " ms"));
  } else if (rd_kafka_event_error(event.get())) {
    status = KafkaError(rd_kafka_event_error(event.get()), what, rd_kafka_event_error_string(event.get()));
  } else if (const rd_kafka_topic_partition_list_t* result = rd_kafka_event_topic_partition_list(event.get())) {
    for (int i = 0; i < result->cnt && status.ok(); ++i) {
      if (result->elems[i].err) status = KafkaError(result->elems[i].err, what);
    }
  }
  queue.reset();
  DestroyGroupClient(std::move(*consumer));
  return status;
}

absl::StatusOr<std::optional<int64_t>> KafkaTestClient::GroupOffset(std::string_view group, const TopicPartition& tp,
                                                                    milliseconds timeout) {
  const std::string what = absl::StrCat("committed offset of group ", Av(group), " on ", tp.ToString());
  absl::StatusOr<Owned<rd_kafka_t>> consumer = NewGroupClient(Endpoint{bootstrap_, properties_}, group);
  if (!consumer.ok()) return consumer.status();
  Owned<rd_kafka_topic_partition_list_t> offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), tp.topic.c_str(), tp.partition);
  rd_kafka_resp_err_t err = rd_kafka_committed(consumer->get(), offsets.get(), TimeoutMs(timeout));
  DestroyGroupClient(std::move(*consumer));
  if (err) return KafkaError(err, what);
  const rd_kafka_topic_partition_t& result = offsets->elems[0];
  if (result.err) return KafkaError(result.err, what);
  if (result.offset < 0) return std::optional<int64_t>();
  return std::optional<int64_t>(result.offset);
}

}  // namespace longhaul::testing
