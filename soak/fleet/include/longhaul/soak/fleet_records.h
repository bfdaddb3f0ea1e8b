// The fleet simulator's records and their verification, pure (no I/O): what
// simulated edge E writes as record `sequence` of partition p, and how a
// target record is judged against that. The value is a generator payload
// (soak/generator/payload.h: run id, partition, sequence, CRC32C over the
// whole value); the key and headers are rebuilt from (edge, partition,
// sequence, timestamp); the create timestamp travels in a header too, so the
// checker can tell that the target kept it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "longhaul/base/topic_partition.h"
#include "longhaul/soak/compare.h"

namespace longhaul::soak {

// Header carrying the record's create timestamp (decimal milliseconds).
inline constexpr absl::string_view kFleetTimestampHeader = "lh-fleet-ts";

// The run id of edge `edge` in run `run_tag`: distinct per edge, so a record
// that lands in another edge's topic is recognised as not belonging there.
uint32_t FleetRunId(absl::string_view run_tag, absl::string_view edge);

// Record `sequence` of `partition` of edge `edge`; its offset is `sequence`
// (the simulated source log is dense from 0). `value_size` is raised to the
// payload header (61 bytes).
Record MakeFleetRecord(absl::string_view edge, uint32_t run_id, int32_t partition, int64_t sequence,
                       int64_t timestamp_ms, size_t value_size);

// "{edge}.{topic}"-style names: every "{edge}" and "{topic}" replaced.
std::string ExpandFleetPattern(absl::string_view pattern, absl::string_view edge, absl::string_view topic);

// Verifies one target partition of one edge against the `expected` records
// [0, expected) the simulator generated for it. Feed the target records in
// offset order.
class FleetPartitionVerifier {
 public:
  FleetPartitionVerifier(std::string edge, uint32_t run_id, int32_t partition, int64_t expected);

  void Observe(const RecordView& record);
  // Counts records never seen as missing; call once, after the last Observe.
  void Finish();

  int32_t partition() const { return partition_; }
  int64_t expected() const { return expected_; }
  int64_t found() const { return found_; }
  int64_t ok() const { return ok_; }
  int64_t missing() const { return missing_; }
  int64_t duplicated() const { return duplicated_; }
  int64_t out_of_order() const { return out_of_order_; }
  int64_t corrupted() const { return corrupted_; }
  int64_t extra() const { return extra_; }
  bool passed() const {
    return missing_ == 0 && duplicated_ == 0 && out_of_order_ == 0 && corrupted_ == 0 && extra_ == 0 &&
           ok_ == expected_;
  }
  // The first few findings, each naming target offset, sequence and what is wrong.
  const std::vector<std::string>& examples() const { return examples_; }

 private:
  void Note(std::string text);

  std::string edge_;
  uint32_t run_id_;
  int32_t partition_;
  int64_t expected_;
  std::vector<bool> seen_;
  int64_t highest_seen_ = -1;
  int64_t found_ = 0, ok_ = 0, missing_ = 0, duplicated_ = 0, out_of_order_ = 0, corrupted_ = 0, extra_ = 0;
  std::vector<std::string> examples_;
};

}  // namespace longhaul::soak
