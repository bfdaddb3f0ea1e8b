// RAII ownership of librdkafka handles and the translation of our config
// (a property map per cluster and role) into rd_kafka_conf_t. Private to mirror/.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/base/topic_partition.h"

namespace longhaul::mirror {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const;
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, KafkaDeleter>;

using Properties = std::map<std::string, std::string>;

// Builds a conf from `defaults` overridden by `user` (the operator's
// properties win). Errors name the property, never its value.
absl::StatusOr<KafkaConf> MakeConf(const Properties& defaults, const Properties& user, const std::string& what);

// Creates a client; `what` names it in errors ("source consumer of pipeline
// p") and in the lines librdkafka logs through our callbacks, together with
// the cluster its bootstrap.servers was named for (NameCluster).
absl::StatusOr<KafkaHandle> MakeClient(rd_kafka_type_t type, KafkaConf conf, const std::string& what);

// Lets log lines and errors of clients made later with exactly these
// bootstrap.servers name the config's cluster. Thread-safe.
void NameCluster(const std::string& bootstrap_servers, const std::string& cluster);

// The last error that explains why `rk` could not connect or log in
// (authentication, TLS, transport, name resolution), as "NAME: reason";
// "" if none. librdkafka keeps retrying after these, so callers whose
// request then times out add this to their error. Thread-safe.
std::string LastConnectionError(const rd_kafka_t* rk);

// The librdkafka log and error callbacks route into our logger with the
// client name; installed by MakeConf.
void InstallLogCallbacks(rd_kafka_conf_t* conf);

PartitionList MakePartitionList(int capacity = 8);

// Partition counts of all topics visible on the cluster (excluding internal ones).
absl::StatusOr<std::map<std::string, int>> ListTopics(rd_kafka_t* rk, int timeout_ms);

}  // namespace longhaul::mirror
