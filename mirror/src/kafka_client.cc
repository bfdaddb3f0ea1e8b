#include "kafka_client.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "kafka_status.h"
#include "longhaul/base/logging.h"

namespace longhaul::mirror {
namespace {

// What librdkafka's callbacks know of a client beyond its handle: what it is
// for, which cluster of the config it talks to, and the last connection
// error it reported (an operator's first question when a cluster refuses us).
struct ClientInfo {
  std::string what;
  std::string cluster;
  std::string last_connection_error;
};

struct ClientRegistry {
  std::mutex mu;
  std::map<const rd_kafka_t*, ClientInfo> clients;
  std::map<std::string, std::string> cluster_by_bootstrap;
};

ClientRegistry& Registry() {
  static auto* registry = new ClientRegistry();  // never destroyed: callbacks may run at exit
  return *registry;
}

void Unregister(const rd_kafka_t* rk) {
  ClientRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.clients.erase(rk);
}

// What names a client in a log line ("" while unknown).
struct ClientNames {
  std::string cluster;
  std::string what;
};
ClientNames NamesOf(const rd_kafka_t* rk) {
  ClientRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.clients.find(rk);
  if (it == r.clients.end()) return {};
  return {it->second.cluster, it->second.what};
}

// Errors that say why a connection failed, as opposed to the generic "all
// brokers down" that follows them.
bool ExplainsConnectionFailure(rd_kafka_resp_err_t e) {
  switch (e) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
      return true;
    default:
      return false;
  }
}

void RecordConnectionError(const rd_kafka_t* rk, std::string error) {
  ClientRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (auto it = r.clients.find(rk); it != r.clients.end()) it->second.last_connection_error = std::move(error);
}

void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // librdkafka reports why a broker connection failed (TLS handshake,
  // SASL login, refused) in a FAIL log line, not through the error callback.
  if (level <= 4 && fac != nullptr && std::string_view(fac) == "FAIL" && buf != nullptr) {
    RecordConnectionError(rk, buf);
  }
  // syslog levels: 0..3 error, 4 warning, 5..6 info, 7 debug. librdkafka is
  // chatty at info level; we keep its info as our debug.
  LogLevel ours = level <= 3 ? LogLevel::kError : level == 4 ? LogLevel::kWarn : LogLevel::kDebug;
  if (!LogEnabled(ours)) return;
  ClientNames names = NamesOf(rk);
  Log(ours, buf, {{"client", rd_kafka_name(rk)}, {"cluster", names.cluster}, {"of", names.what}, {"facility", fac}});
}

void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void*) {
  auto e = static_cast<rd_kafka_resp_err_t>(err);
  if (ExplainsConnectionFailure(e) && reason != nullptr) {
    RecordConnectionError(rk, absl::StrCat(rd_kafka_err2name(e), ": ", reason));
  }
  // Transport errors repeat while a broker is down; keep them at warn. A
  // refused login or certificate is an operator's to fix: error.
  const bool operator_must_act = e == RD_KAFKA_RESP_ERR__FATAL || e == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
                                 e == RD_KAFKA_RESP_ERR__SSL || e == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED;
  ClientNames names = NamesOf(rk);
  Log(operator_must_act ? LogLevel::kError : LogLevel::kWarn, "kafka client error",
      {{"client", rd_kafka_name(rk)}, {"cluster", names.cluster}, {"of", names.what},
       {"error", rd_kafka_err2name(e)}, {"reason", reason != nullptr ? reason : ""}});
}

}  // namespace

void KafkaDeleter::operator()(rd_kafka_t* rk) const {
  Unregister(rk);
  // Destroying a consumer that is still in a group would block on a rebalance
  // that nobody serves; NO_CONSUMER_CLOSE skips that, callers close explicitly.
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

void NameCluster(const std::string& bootstrap_servers, const std::string& cluster) {
  ClientRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.cluster_by_bootstrap[bootstrap_servers] = cluster;
}

std::string LastConnectionError(const rd_kafka_t* rk) {
  ClientRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.clients.find(rk);
  return it == r.clients.end() ? "" : it->second.last_connection_error;
}

void InstallLogCallbacks(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(conf, LogCallback);
  rd_kafka_conf_set_error_cb(conf, ErrorCallback);
}

absl::StatusOr<KafkaConf> MakeConf(const Properties& defaults, const Properties& user, const std::string& what) {
  KafkaConf conf(rd_kafka_conf_new());
  char errstr[512];
  auto set = [&](const std::string& key, const std::string& value, bool from_user) -> absl::Status {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": librdkafka property '", key, "'",
                                                     from_user ? " (from the config file)" : "", " rejected: ",
                                                     errstr));
    }
    return absl::OkStatus();
  };
  for (const auto& [k, v] : defaults) {
    if (user.count(k)) continue;
    if (auto s = set(k, v, false); !s.ok()) return s;
  }
  for (const auto& [k, v] : user) {
    if (auto s = set(k, v, true); !s.ok()) return s;
  }
  InstallLogCallbacks(conf.get());
  return conf;
}

absl::StatusOr<KafkaHandle> MakeClient(rd_kafka_type_t type, KafkaConf conf, const std::string& what) {
  char errstr[512];
  char bootstrap[1024] = "";
  size_t bootstrap_size = sizeof bootstrap;
  if (rd_kafka_conf_get(conf.get(), "bootstrap.servers", bootstrap, &bootstrap_size) != RD_KAFKA_CONF_OK) {
    bootstrap[0] = '\0';
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": cannot create Kafka client: ", errstr));
  conf.release();  // owned by rk now
  {
    ClientRegistry& r = Registry();
    std::lock_guard<std::mutex> lock(r.mu);
    ClientInfo& info = r.clients[rk];
    info.what = what;
    if (auto it = r.cluster_by_bootstrap.find(bootstrap); it != r.cluster_by_bootstrap.end()) {
      info.cluster = it->second;
    }
  }
  return KafkaHandle(rk);
}

PartitionList MakePartitionList(int capacity) { return PartitionList(rd_kafka_topic_partition_list_new(capacity)); }

absl::StatusOr<std::map<std::string, int>> ListTopics(rd_kafka_t* rk, int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(err, "listing topics");
  std::map<std::string, int> topics;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    topics[t.topic] = t.partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  return topics;
}

}  // namespace longhaul::mirror
