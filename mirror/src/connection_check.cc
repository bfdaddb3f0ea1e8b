#include "longhaul/mirror/connection_check.h"

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "kafka_admin.h"
#include "kafka_client.h"
#include "kafka_status.h"
#include "pipeline_state.h"
#include "topic_discovery.h"

namespace longhaul::mirror {
namespace {

using std::chrono::milliseconds;
using Severity = ConnectionFinding::Severity;

// At most this many topics of a pipeline are probed one by one (READ,
// configs); the rest share their ACLs in practice, and a broad regex over a
// big cluster must not turn validation into minutes of requests.
constexpr size_t kMaxProbedTopics = 20;

// A pattern with no regex syntax is a topic name: it can be asked for by
// name even when the principal may not list it.
bool IsLiteralName(const std::string& pattern) {
  // '.' is left out: it is common in topic names, and "a.b" matches the
  // topic "a.b" itself, so asking for that name is right.
  return !pattern.empty() && pattern.find_first_of("\\^$|?*+()[]{}") == std::string::npos;
}

bool IsAuthFailure(const absl::Status& s) { return s.code() == absl::StatusCode::kPermissionDenied; }

class Checker {
 public:
  Checker(const config::Config& config, milliseconds timeout) : config_(config), timeout_(timeout) {}

  std::vector<ConnectionFinding> Run() {
    for (const auto& [name, cluster] : config_.clusters) {
      NameCluster(cluster.bootstrap, name);
      const std::string subject = absl::StrCat("cluster '", name, "'");
      auto admin = KafkaAdmin::Create(cluster.ClientProperties(config::ClientRole::kAdmin), subject);
      if (!admin.ok()) {
        Add(Severity::kError, subject, std::string(admin.status().message()));
        continue;
      }
      if (absl::Status s = (*admin)->CheckConnection(timeout_); !s.ok()) {
        Add(Severity::kError, subject, std::string(s.message()));
        continue;
      }
      Add(Severity::kOk, subject, absl::StrCat("reachable at ", cluster.bootstrap, ", authenticated"));
      admins_[name] = std::move(*admin);
    }
    for (const auto& [name, pipeline] : config_.pipelines) CheckPipeline(pipeline);
    return std::move(findings_);
  }

 private:
  void Add(Severity severity, std::string subject, std::string message) {
    // Errors of KafkaAdmin already start with the subject.
    if (message.rfind(subject + ": ", 0) == 0) message.erase(0, subject.size() + 2);
    findings_.push_back(ConnectionFinding{severity, std::move(subject), std::move(message)});
  }
  void Missing(const std::string& subject, const std::string& acl, const absl::Status& why) {
    Add(Severity::kMissing, subject, absl::StrCat(acl, " (", why.message(), ")"));
  }

  void CheckPipeline(const config::PipelineConfig& p) {
    auto source_admin = admins_.find(p.source);
    auto target_admin = admins_.find(p.target);
    const std::string source_subject = absl::StrCat("pipeline '", p.name, "' on source cluster '", p.source, "'");
    const std::string target_subject = absl::StrCat("pipeline '", p.name, "' on target cluster '", p.target, "'");
    if (source_admin == admins_.end() || target_admin == admins_.end()) {
      Add(Severity::kNotChecked, absl::StrCat("pipeline '", p.name, "'"),
          "permissions not checked: a cluster of the pipeline did not answer (see above)");
      return;
    }
    KafkaAdmin& source = *source_admin->second;
    KafkaAdmin& target = *target_admin->second;
    const PipelineNames names(p);

    // ---- source: DESCRIBE (listing), READ, DESCRIBE_CONFIGS ----
    auto listed = source.Topics(timeout_);
    if (!listed.ok()) {
      Add(Severity::kError, source_subject, std::string(listed.status().message()));
      return;
    }
    std::map<std::string, int> topics = SelectTopics(p, *listed);
    for (const std::string& pattern : p.topics.include()) {
      if (!IsLiteralName(pattern) || topics.count(pattern) || !p.topics.Matches(pattern)) continue;
      // Not listed: absent, or hidden from this principal.
      auto partitions = source.TopicPartitions(pattern, timeout_);
      if (IsAuthFailure(partitions.status())) {
        Missing(source_subject, absl::StrCat("DESCRIBE on TOPIC (LITERAL) '", pattern, "'"), partitions.status());
      } else if (partitions.ok()) {
        topics[pattern] = *partitions;
      } else {
        Add(Severity::kNotChecked, source_subject,
            absl::StrCat("source topic '", pattern, "' does not exist (yet): ", partitions.status().message()));
      }
    }
    if (topics.empty()) {
      Add(Severity::kNotChecked, source_subject,
          "no source topic matches topics.include that this principal may DESCRIBE; READ not checked");
    }
    size_t probed = 0;
    for (const auto& [topic, partitions] : topics) {
      if (probed++ == kMaxProbedTopics) {
        Add(Severity::kNotChecked, source_subject,
            absl::StrCat("READ and configs of ", topics.size() - kMaxProbedTopics, " more topics not probed"));
        break;
      }
      absl::Status read = ProbeRead(p, topic);
      if (IsAuthFailure(read)) {
        Missing(source_subject, absl::StrCat("READ on TOPIC (LITERAL) '", topic, "'"), read);
      } else if (!read.ok()) {
        Add(Severity::kError, source_subject, std::string(read.message()));
      } else {
        Add(Severity::kOk, source_subject, absl::StrCat("DESCRIBE and READ on topic '", topic, "'"));
      }
      if (p.sync_topic_configs) {
        auto configs = source.ExplicitTopicConfigs(topic, timeout_);
        if (IsAuthFailure(configs.status())) {
          Missing(source_subject, absl::StrCat("DESCRIBE_CONFIGS on TOPIC (LITERAL) '", topic, "'"),
                  configs.status());
        }
      }
    }

    // ---- target: topics (CREATE, configs), internal topics, ids, groups ----
    auto target_listed = target.Topics(timeout_);
    if (!target_listed.ok()) {
      Add(Severity::kError, target_subject, std::string(target_listed.status().message()));
      return;
    }
    std::map<std::string, int> wanted;  // target topic -> partitions
    for (const auto& [topic, partitions] : topics) wanted[p.TargetTopic(topic)] = partitions;
    wanted[names.checkpoint_topic] = p.lanes;
    wanted[names.offset_sync_topic] = p.lanes;
    probed = 0;
    std::vector<std::string> existing;  // target topics that exist: WRITE is probed on them
    for (const auto& [topic, partitions] : wanted) {
      if (probed++ == kMaxProbedTopics) break;
      if (!target_listed->count(topic)) {
        absl::Status create = target.ValidateCreateTopic(topic, partitions, p.replication_factor, timeout_);
        if (IsAuthFailure(create)) {
          Missing(target_subject, absl::StrCat("CREATE on TOPIC (LITERAL) '", topic, "' or on the CLUSTER"), create);
        } else if (!create.ok()) {
          Add(Severity::kError, target_subject, std::string(create.message()));
        } else {
          Add(Severity::kOk, target_subject, absl::StrCat("CREATE of topic '", topic, "' (validate only)"));
        }
        continue;
      }
      if (p.sync_topic_configs && topic != names.checkpoint_topic && topic != names.offset_sync_topic) {
        auto configs = target.ExplicitTopicConfigs(topic, timeout_);
        if (IsAuthFailure(configs.status())) {
          Missing(target_subject, absl::StrCat("DESCRIBE_CONFIGS on TOPIC (LITERAL) '", topic, "'"),
                  configs.status());
        } else if (configs.ok()) {
          absl::Status alter = target.ValidateAlterTopicConfigs(topic, *configs, timeout_);
          if (IsAuthFailure(alter)) {
            Missing(target_subject, absl::StrCat("ALTER_CONFIGS on TOPIC (LITERAL) '", topic, "'"), alter);
          }
        }
      }
      existing.push_back(topic);
    }
    absl::Status txn = ProbeTransactionalId(p, names);
    for (const std::string& topic : existing) {
      if (!txn.ok()) {
        Add(Severity::kNotChecked, target_subject,
            absl::StrCat("WRITE on topic '", topic, "' (probed through the transactional id '",
                         names.transactional_id_prefix, "validate', which this principal may not use)"));
        continue;
      }
      absl::Status write = ProbeWrite(p, names, topic);
      if (IsAuthFailure(write)) {
        Missing(target_subject, absl::StrCat("WRITE on TOPIC (LITERAL) '", topic, "'"), write);
      } else if (write.code() == absl::StatusCode::kDeadlineExceeded) {
        Add(Severity::kNotChecked, target_subject, std::string(write.message()));
      } else if (!write.ok()) {
        Add(Severity::kError, target_subject, std::string(write.message()));
      } else {
        Add(Severity::kOk, target_subject, absl::StrCat("WRITE on topic '", topic, "' (no record written)"));
      }
    }
    if (p.delivery == config::Delivery::kExactlyOnce) {
      if (IsAuthFailure(txn)) {
        Missing(target_subject,
                absl::StrCat("WRITE on TRANSACTIONAL_ID (PREFIXED) '", names.transactional_id_prefix, "'"), txn);
      } else if (!txn.ok()) {
        Add(Severity::kError, target_subject, std::string(txn.message()));
      } else {
        Add(Severity::kOk, target_subject,
            absl::StrCat("WRITE on transactional ids '", names.transactional_id_prefix, "*'"));
      }
    }
    absl::Status group = ProbeGroupDescribe(config_.Cluster(p.target), names.lane_group, names.checkpoint_topic);
    if (IsAuthFailure(group)) {
      Missing(target_subject, absl::StrCat("READ on GROUP (LITERAL) '", names.lane_group, "'"), group);
    } else if (!group.ok()) {
      Add(Severity::kError, target_subject, std::string(group.message()));
    } else {
      Add(Severity::kOk, target_subject,
          absl::StrCat("DESCRIBE on group '", names.lane_group, "' (READ itself is checked only by joining)"));
    }
  }

  // Fetches from partition 0 of `topic`: the broker checks READ before it
  // answers, with records or with nothing.
  absl::Status ProbeRead(const config::PipelineConfig& p, const std::string& topic) {
    const config::ClusterConfig& cluster = config_.Cluster(p.source);
    const std::string what = absl::StrCat("source cluster '", cluster.name, "': reading topic '", topic, "'");
    auto conf = MakeConf({{"group.id", PipelineNames(p).lane_group + ".reader"},
                          {"client.id", "longhaul-validate"},
                          {"enable.auto.commit", "false"},
                          {"enable.partition.eof", "true"},
                          {"isolation.level", "read_committed"}},
                         cluster.ClientProperties(config::ClientRole::kConsumer), what);
    if (!conf.ok()) return conf.status();
    auto rk = MakeClient(RD_KAFKA_CONSUMER, std::move(*conf), what);
    if (!rk.ok()) return rk.status();
    PartitionList list = MakePartitionList(1);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_resp_err_t err = rd_kafka_assign(rk->get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaStatus(err, what);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    absl::Status result = absl::DeadlineExceededError(absl::StrCat(what, ": no answer within ", timeout_.count(), " ms"));
    while (std::chrono::steady_clock::now() < deadline) {
      KafkaMessage m(rd_kafka_consumer_poll(rk->get(), 200));
      if (!m) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        result = absl::OkStatus();
        break;
      }
      result = KafkaStatus(m->err, what);
      if (IsAuthFailure(result)) break;
    }
    rd_kafka_assign(rk->get(), nullptr);
    return result;
  }

  // init_transactions with an id of the pipeline's prefix that no lane uses.
  absl::Status ProbeTransactionalId(const config::PipelineConfig& p, const PipelineNames& names) {
    const config::ClusterConfig& cluster = config_.Cluster(p.target);
    const std::string id = names.transactional_id_prefix + "validate";
    const std::string what = absl::StrCat("target cluster '", cluster.name, "': init_transactions with id '", id, "'");
    auto conf = MakeConf({{"transactional.id", id}, {"client.id", "longhaul-validate"}},
                         cluster.ClientProperties(config::ClientRole::kProducer), what);
    if (!conf.ok()) return conf.status();
    auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(*conf), what);
    if (!rk.ok()) return rk.status();
    rd_kafka_error_t* error = rd_kafka_init_transactions(rk->get(), static_cast<int>(timeout_.count()));
    // A refused id makes the producer fatally failed, which TakeKafkaError
    // reports as such; here it is the answer to the question asked.
    if (error != nullptr && rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
      absl::Status denied = absl::PermissionDeniedError(absl::StrCat(what, ": ", rd_kafka_error_string(error)));
      rd_kafka_error_destroy(error);
      return denied;
    }
    return TakeKafkaError(error, what);
  }

  // WRITE on an existing target topic without writing a record: the
  // pipeline's probe transactional id adds partition 0 of the topic to a
  // transaction, which the broker authorises as a write (AddPartitionsToTxn
  // needs WRITE on the topic). The one record that made librdkafka ask is
  // held back (linger) and purged before it is ever sent, and the
  // transaction is aborted: the partition gets an abort marker (a control
  // record no consumer sees), never a record. librdkafka tells when the
  // partition's registration was answered only in its eos debug log
  // (ADDPARTS lines); that only ends the wait. The verdict is commit's error:
  // TOPIC_AUTHORIZATION_FAILED, or a complaint about the purged record.
  absl::Status ProbeWrite(const config::PipelineConfig& p, const PipelineNames& names, const std::string& topic) {
    const config::ClusterConfig& cluster = config_.Cluster(p.target);
    const std::string id = names.transactional_id_prefix + "validate";
    const std::string what = absl::StrCat("target cluster '", cluster.name, "': adding topic '", topic,
                                          "' to a transaction of id '", id, "'");
    auto conf = MakeConf({{"transactional.id", id},
                          {"client.id", "longhaul-validate"},
                          {"linger.ms", "60000"},
                          {"message.timeout.ms", "120000"},
                          {"transaction.timeout.ms", "120000"},
                          {"debug", "eos"}},
                         cluster.ClientProperties(config::ClientRole::kProducer), what);
    if (!conf.ok()) return conf.status();
    std::atomic<bool> answered{false};
    rd_kafka_conf_set_opaque(conf->get(), &answered);
    rd_kafka_conf_set_log_cb(conf->get(), [](const rd_kafka_t* rk, int, const char* fac, const char* buf) {
      if (fac == nullptr || buf == nullptr || std::string_view(fac) != "ADDPARTS") return;
      const std::string_view line(buf);
      if (line.find("registered with transaction") != std::string_view::npos ||
          line.find("Failed to add partition") != std::string_view::npos) {
        static_cast<std::atomic<bool>*>(rd_kafka_opaque(rk))->store(true);
      }
    });
    // The refusal is the answer here, not an error to log.
    rd_kafka_conf_set_error_cb(conf->get(), [](rd_kafka_t*, int, const char*, void*) {});
    auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(*conf), what);
    if (!rk.ok()) return rk.status();
    const int timeout_ms = static_cast<int>(timeout_.count());
    if (absl::Status s = TakeKafkaError(rd_kafka_init_transactions(rk->get(), timeout_ms), what); !s.ok()) return s;
    if (absl::Status s = TakeKafkaError(rd_kafka_begin_transaction(rk->get()), what); !s.ok()) return s;
    rd_kafka_resp_err_t err = rd_kafka_producev(rk->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                                RD_KAFKA_V_VALUE(nullptr, 0), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(err, what);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (!answered.load() && std::chrono::steady_clock::now() < deadline) rd_kafka_poll(rk->get(), 50);
    rd_kafka_purge(rk->get(), RD_KAFKA_PURGE_F_QUEUE);
    rd_kafka_poll(rk->get(), 0);
    rd_kafka_error_t* error = rd_kafka_commit_transaction(rk->get(), timeout_ms);
    absl::Status result = absl::OkStatus();
    if (error != nullptr && rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      result = absl::PermissionDeniedError(absl::StrCat(what, ": ", rd_kafka_error_string(error)));
    } else if (!answered.load()) {
      result = absl::DeadlineExceededError(absl::StrCat("WRITE on topic '", topic,
                                                        "' not checked: the transaction coordinator did not answer "
                                                        "within ", timeout_.count(), " ms"));
    }
    if (error != nullptr) {
      // After a refused partition the coordinator refuses the abort too
      // (INVALID_TXN_STATE); the next init_transactions of the id clears it.
      if (rd_kafka_error_txn_requires_abort(error) && result.ok()) {
        if (rd_kafka_error_t* aborted = rd_kafka_abort_transaction(rk->get(), timeout_ms)) {
          rd_kafka_error_destroy(aborted);
        }
      }
      rd_kafka_error_destroy(error);
    }
    return result;
  }

  // OffsetFetch for `group`: the broker checks DESCRIBE on the group.
  absl::Status ProbeGroupDescribe(const config::ClusterConfig& cluster, const std::string& group,
                                  const std::string& topic) {
    const std::string what = absl::StrCat("target cluster '", cluster.name, "': reading offsets of group '", group, "'");
    auto conf = MakeConf({{"group.id", group}, {"client.id", "longhaul-validate"}, {"enable.auto.commit", "false"}},
                         cluster.ClientProperties(config::ClientRole::kConsumer), what);
    if (!conf.ok()) return conf.status();
    auto rk = MakeClient(RD_KAFKA_CONSUMER, std::move(*conf), what);
    if (!rk.ok()) return rk.status();
    PartitionList list = MakePartitionList(1);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), 0);
    rd_kafka_resp_err_t err = rd_kafka_committed(rk->get(), list.get(), static_cast<int>(timeout_.count()));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
    // The topic may not exist yet: that answer still came after the check.
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
      return absl::OkStatus();
    }
    return KafkaStatus(err, what);
  }

  const config::Config& config_;
  const milliseconds timeout_;
  std::map<std::string, std::unique_ptr<KafkaAdmin>> admins_;
  std::vector<ConnectionFinding> findings_;
};

}  // namespace

std::string_view ToString(ConnectionFinding::Severity severity) {
  switch (severity) {
    case Severity::kOk:
      return "ok";
    case Severity::kNotChecked:
      return "not checked";
    case Severity::kMissing:
      return "MISSING ACL";
    case Severity::kError:
      return "ERROR";
  }
  return "unknown";
}

std::vector<ConnectionFinding> CheckConnections(const config::Config& config, milliseconds timeout) {
  return Checker(config, timeout).Run();
}

}  // namespace longhaul::mirror
