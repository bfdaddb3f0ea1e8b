#include "kafka_client.h"

#include "absl/strings/str_cat.h"
#include "kafka_status.h"
#include "longhaul/base/logging.h"

namespace longhaul::mirror {

void KafkaDeleter::operator()(rd_kafka_t* rk) const {
  // Destroying a consumer that is still in a group would block on a rebalance
  // that nobody serves; NO_CONSUMER_CLOSE skips that, callers close explicitly.
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

namespace {
void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // syslog levels: 0..3 error, 4 warning, 5..6 info, 7 debug. librdkafka is
  // chatty at info level; we keep its info as our debug.
  LogLevel ours = level <= 3 ? LogLevel::kError : level == 4 ? LogLevel::kWarn : LogLevel::kDebug;
  if (!LogEnabled(ours)) return;
  Log(ours, buf, {{"client", rd_kafka_name(rk)}, {"facility", fac}});
}

void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void*) {
  auto e = static_cast<rd_kafka_resp_err_t>(err);
  // Transport errors repeat while a broker is down; keep them at warn.
  LogLevel level = (e == RD_KAFKA_RESP_ERR__FATAL) ? LogLevel::kError : LogLevel::kWarn;
  Log(level, "kafka client error", {{"client", rd_kafka_name(rk)}, {"error", rd_kafka_err2name(e)}, {"reason", reason}});
}
}  // namespace

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
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, ": cannot create Kafka client: ", errstr));
  conf.release();  // owned by rk now
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
