// librdkafka set-up shared by the soak and bench tools (longhaul-gen,
// longhaul-check, longhaul-fleet): a client from a list of properties with
// errors that name the property, the error mapping, and timeouts. Tool
// code only; the gateway's librdkafka code lives in mirror/.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace longhaul::soak {

using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// Destroys the client (a consumer is closed first).
struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const;
};
using RdKafkaClient = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

// Applies `properties` in order (later ones win) to `conf`, which may carry
// callbacks already, and creates the client; `conf` is consumed either way.
// Errors (InvalidArgument) start with `who` ("target consumer") and name the
// property librdkafka refused.
absl::StatusOr<RdKafkaClient> NewRdKafkaClient(rd_kafka_type_t type, rd_kafka_conf_t* conf,
                                               const KafkaProperties& properties, std::string_view who);

// "<context>: <ERR_NAME>: <text>". NotFound for an unknown topic or
// partition, PermissionDenied for authorization and authentication,
// Unavailable for the rest: librdkafka retries those itself, and the
// tools wait or retry on them.
absl::Status RdKafkaErrorStatus(rd_kafka_resp_err_t err, std::string_view context);

// A librdkafka timeout argument: `d` clamped to [0, 1 h] in milliseconds.
int TimeoutMs(absl::Duration d);

}  // namespace longhaul::soak
