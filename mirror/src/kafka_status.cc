#include "kafka_status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace longhaul::mirror {
namespace {
constexpr absl::string_view kClassPayload = "longhaul.dev/kafka-error-class";

absl::StatusCode CodeFor(KafkaErrorClass c) {
  switch (c) {
    case KafkaErrorClass::kRetriable: return absl::StatusCode::kUnavailable;
    case KafkaErrorClass::kAbortable: return absl::StatusCode::kAborted;
    case KafkaErrorClass::kFenced: return absl::StatusCode::kFailedPrecondition;
    case KafkaErrorClass::kFatal: return absl::StatusCode::kInternal;
    case KafkaErrorClass::kAuth: return absl::StatusCode::kPermissionDenied;
    case KafkaErrorClass::kConfig: return absl::StatusCode::kInvalidArgument;
    case KafkaErrorClass::kUnknownTopicOrPartition: return absl::StatusCode::kNotFound;
  }
  return absl::StatusCode::kUnknown;
}

const char* ClassName(KafkaErrorClass c) {
  switch (c) {
    case KafkaErrorClass::kRetriable: return "retriable";
    case KafkaErrorClass::kAbortable: return "abortable";
    case KafkaErrorClass::kFenced: return "fenced";
    case KafkaErrorClass::kFatal: return "fatal";
    case KafkaErrorClass::kAuth: return "auth";
    case KafkaErrorClass::kConfig: return "config";
    case KafkaErrorClass::kUnknownTopicOrPartition: return "unknown-topic";
  }
  return "unknown";
}

absl::Status Make(KafkaErrorClass c, rd_kafka_resp_err_t err, const std::string& context, const std::string& detail) {
  absl::Status s(CodeFor(c), absl::StrCat(context, ": Kafka error ", rd_kafka_err2name(err), " (", detail, ")"));
  s.SetPayload(kClassPayload, absl::Cord(absl::string_view(ClassName(c))));
  return s;
}

bool HasClass(const absl::Status& s, KafkaErrorClass c) {
  auto p = s.GetPayload(kClassPayload);
  return p.has_value() && *p == ClassName(c);
}
}  // namespace

KafkaErrorClass ClassifyKafkaError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return err == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ? KafkaErrorClass::kAuth
                                                                             : KafkaErrorClass::kFenced;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__INCONSISTENT:
    case RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
      return KafkaErrorClass::kFatal;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED:
      return KafkaErrorClass::kAuth;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PROTOCOL:
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
      // A message that timed out or was refused poisons the transaction.
      return err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? KafkaErrorClass::kAbortable : KafkaErrorClass::kConfig;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return KafkaErrorClass::kUnknownTopicOrPartition;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR_INVALID_TXN_STATE:
    case RD_KAFKA_RESP_ERR_TRANSACTION_COORDINATOR_FENCED:
      return KafkaErrorClass::kAbortable;
    default:
      // Everything else Kafka or librdkafka reports (transport, timeouts,
      // leader changes, coordinator moves, throttling) is transient.
      return KafkaErrorClass::kRetriable;
  }
}

absl::Status KafkaStatus(rd_kafka_resp_err_t err, const std::string& context) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return Make(ClassifyKafkaError(err), err, context, rd_kafka_err2str(err));
}

absl::Status TakeKafkaError(rd_kafka_error_t* error, const std::string& context) {
  if (error == nullptr) return absl::OkStatus();
  rd_kafka_resp_err_t err = rd_kafka_error_code(error);
  KafkaErrorClass c = ClassifyKafkaError(err);
  if (rd_kafka_error_is_fatal(error)) {
    c = (err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
            ? KafkaErrorClass::kFenced
            : KafkaErrorClass::kFatal;
  } else if (rd_kafka_error_txn_requires_abort(error)) {
    c = KafkaErrorClass::kAbortable;
  } else if (rd_kafka_error_is_retriable(error)) {
    c = KafkaErrorClass::kRetriable;
  }
  absl::Status s = Make(c, err, context, rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
  return s;
}

bool IsRetriable(const absl::Status& s) { return HasClass(s, KafkaErrorClass::kRetriable); }
bool IsAbortable(const absl::Status& s) { return HasClass(s, KafkaErrorClass::kAbortable); }
bool IsFenced(const absl::Status& s) { return HasClass(s, KafkaErrorClass::kFenced); }

absl::Status WithContext(const absl::Status& s, const std::string& prefix) {
  if (s.ok()) return s;
  absl::Status out(s.code(), absl::StrCat(prefix, ": ", s.message()));
  s.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

}  // namespace longhaul::mirror
