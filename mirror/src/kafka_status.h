// The one place where librdkafka errors become absl::Status. Every error is
// classified (retriable, fenced, fatal, abortable, auth, config) and the
// Kafka error name is kept in the message so operators can search for it.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string_view>

#include "absl/status/status.h"

namespace longhaul::mirror {

enum class KafkaErrorClass {
  kRetriable,  // transient: broker down, timeout, leader change; retry the same call
  kAbortable,  // the open transaction must be aborted, then work redone
  kFenced,     // another owner took over (producer fenced); drop the lane
  kFatal,      // the client handle is unusable; recreate it
  kAuth,       // authentication/authorization; retry slowly, operator must act
  kConfig,     // wrong configuration or request; operator must act
  kUnknownTopicOrPartition,
};

KafkaErrorClass ClassifyKafkaError(rd_kafka_resp_err_t err);

// "context: Kafka error NAME (description)" with an absl code matching the class.
absl::Status KafkaStatus(rd_kafka_resp_err_t err, const std::string& context);

// Consumes (destroys) `error`, which may be null (then returns OK). Transactional
// API errors carry their own retriable/abortable/fatal flags, which win.
absl::Status TakeKafkaError(rd_kafka_error_t* error, const std::string& context);

// Classes recovered from a Status produced above (kept in the code and a payload).
bool IsRetriable(const absl::Status& status);
bool IsAbortable(const absl::Status& status);
bool IsFenced(const absl::Status& status);

// `status` with "prefix: " before its message; code and payloads (the class
// above) kept.
absl::Status WithContext(const absl::Status& status, const std::string& prefix);

}  // namespace longhaul::mirror
