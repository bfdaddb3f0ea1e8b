// Makes the generator's records: a seeded, reproducible mix of keys (null,
// empty, random bytes), headers (none, repeated names, null and empty values),
// value sizes and timestamps, with the value in the payload layout of
// payload.h. Pure: the caller passes the wall time and owns all I/O.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "longhaul/base/topic_partition.h"
#include "longhaul/soak/payload.h"

namespace longhaul::soak {

enum class SizeDistribution { kUniform, kLogUniform };

// Ratios are probabilities in [0, 1] per record.
struct RecordMix {
  size_t min_value_size = 50;  // raised to kPayloadHeaderSize if smaller
  size_t max_value_size = 2000;
  SizeDistribution size_distribution = SizeDistribution::kUniform;
  double large_value_ratio = 0.0;
  size_t large_value_size = 900'000;  // under the 1 MB default message limits
  double null_key_ratio = 0.1;
  double empty_key_ratio = 0.1;
  size_t max_key_size = 64;
  double no_headers_ratio = 0.25;
  int max_headers = 4;
  double null_header_value_ratio = 0.2;
  double old_timestamp_ratio = 0.0;  // create times 1 h to 6 days in the past
  double tombstone_ratio = 0.0;      // null values; matched by content only
};

class RecordFactory {
 public:
  RecordFactory(const RecordMix& mix, uint64_t seed, uint32_t run_id);

  // The record with generator sequence `sequence` of `partition`. `flags` are
  // PayloadFlags; `now_ms` is the wall time used for "current" timestamps.
  // Tombstones (null value) carry the identity in the key instead.
  Record Make(int32_t partition, uint64_t sequence, uint8_t flags, int64_t now_ms);

  uint32_t run_id() const { return run_id_; }

 private:
  bool Chance(double ratio);
  size_t ValueSize();
  std::string RandomBytes(size_t n);

  RecordMix mix_;
  uint32_t run_id_;
  std::mt19937_64 rng_;
  std::string pool_;  // random bytes that fillers, keys and headers are cut from
};

}  // namespace longhaul::soak
