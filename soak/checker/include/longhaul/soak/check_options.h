// Command line of longhaul-check, parsed into a plain struct so the parsing and
// its error messages are unit tested without a broker.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "longhaul/soak/compare.h"

namespace longhaul::soak {

struct TopicPair {
  std::string source;
  std::string target;
  friend bool operator==(const TopicPair&, const TopicPair&) = default;
};

struct CheckOptions {
  std::string source_bootstrap;
  std::string target_bootstrap;  // defaults to source_bootstrap
  std::vector<TopicPair> topics;
  std::vector<std::pair<std::string, std::string>> source_properties;  // librdkafka consumer
  std::vector<std::pair<std::string, std::string>> target_properties;
  CheckMode mode = CheckMode::kExactlyOnce;
  absl::Duration wait_until_complete = absl::ZeroDuration();  // 0: check once
  absl::Duration read_timeout = absl::Minutes(2);  // reaching a snapshot's end offsets
  absl::Duration progress_interval = absl::Seconds(5);
  size_t max_examples = 5;
  bool json = false;
  bool help = false;
};

// Parses argv[1..]. --source-topic/--target-topic pair up in order (a source
// topic without a target keeps its name); --topic-map SRC=DST adds a pair.
absl::StatusOr<CheckOptions> ParseCheckOptions(const std::vector<std::string>& args);

extern const char kCheckUsage[];

}  // namespace longhaul::soak
