// Command line of longhaul-gen, parsed into a plain struct so the parsing and
// its error messages are unit tested without a broker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "longhaul/soak/record_factory.h"

namespace longhaul::soak {

struct GeneratorOptions {
  std::string bootstrap;
  std::string topic;
  int32_t partitions = 3;          // used when the topic is created
  int32_t replication_factor = -1; // -1: the broker's default
  bool create_topic = true;
  std::vector<std::pair<std::string, std::string>> topic_configs;
  std::vector<std::pair<std::string, std::string>> properties;  // librdkafka producer

  std::optional<int64_t> count;          // committed records to write
  std::optional<absl::Duration> duration;
  double rate = 0;                       // records/s over all partitions; 0 = as fast as possible

  RecordMix mix;

  bool transactional = false;
  std::string transactional_id;  // default: longhaul-gen-<topic>-<run id>
  int64_t transaction_size = 100;
  double abort_ratio = 0;

  std::optional<uint64_t> seed;
  std::optional<uint32_t> run_id;
  absl::Duration progress_interval = absl::Seconds(5);
  absl::Duration timeout = absl::ZeroDuration();  // 0: derived (see DeadlineFor)
  bool help = false;
};

// Parses argv[1..]. Errors name the flag and what was expected.
absl::StatusOr<GeneratorOptions> ParseGeneratorOptions(const std::vector<std::string>& args);

// The hard bound on a run: --timeout, else duration + 2 min, else 10 min.
absl::Duration EffectiveTimeout(const GeneratorOptions& options);

extern const char kGeneratorUsage[];

}  // namespace longhaul::soak
