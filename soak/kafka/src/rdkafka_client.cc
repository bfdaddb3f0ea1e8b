#include "longhaul/soak/rdkafka_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace longhaul::soak {
namespace {
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

void RdKafkaDeleter::operator()(rd_kafka_t* rk) const {
  if (rk == nullptr) return;
  if (rd_kafka_type(rk) == RD_KAFKA_CONSUMER) rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

absl::StatusOr<RdKafkaClient> NewRdKafkaClient(rd_kafka_type_t type, rd_kafka_conf_t* conf,
                                               const KafkaProperties& properties, std::string_view who) {
  char errstr[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat(Absl(who), " property ", key, ": ", errstr));
    }
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new takes it only on success
    return absl::InvalidArgumentError(absl::StrCat("cannot create the ", Absl(who), ": ", errstr));
  }
  return RdKafkaClient(rk);
}

absl::Status RdKafkaErrorStatus(rd_kafka_resp_err_t err, std::string_view context) {
  std::string message = absl::StrCat(Absl(context), ": ", rd_kafka_err2name(err), ": ", rd_kafka_err2str(err));
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::NotFoundError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return absl::PermissionDeniedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

int TimeoutMs(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, 3'600'000));
}

}  // namespace longhaul::soak
