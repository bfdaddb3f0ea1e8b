// The checker's verdict over all topic pairs, and its two renderings: a text
// table per partition with a totals line, and JSON for scripts.
#pragma once

#include <string>
#include <vector>

#include "longhaul/soak/compare.h"

namespace longhaul::soak {

struct TopicPairReport {
  std::string source_topic;
  std::string target_topic;
  std::vector<PartitionReport> partitions;
  std::vector<std::string> notes;  // e.g. partition count mismatch
};

struct CheckReport {
  CheckMode mode = CheckMode::kExactlyOnce;
  std::vector<TopicPairReport> topics;

  PartitionReport Totals() const;
  bool Passed() const;
};

const char* CheckModeName(CheckMode mode);

// One table per topic pair, examples of each violation under it, then
// "TOTAL ... PASS|FAIL".
std::string FormatTable(const CheckReport& report);
std::string FormatJson(const CheckReport& report);
// One line for progress while waiting: matched/expected and what is off.
std::string FormatProgress(const CheckReport& report);

}  // namespace longhaul::soak
