// Records inside a data frame: a compact encoding (varint deltas of offsets
// and timestamps, length-prefixed keys, values and headers that keep null
// apart from empty), compressed per batch with zstd, lz4 or not at all.
// Pure functions; decoding treats its input as untrusted (size limits are
// checked before any allocation, so a decompression bomb is refused).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/transport/frame.h"

namespace longhaul::transport {

struct CompressionOptions {
  Compression codec = Compression::kZstd;
  // zstd level (1..19; negative levels trade ratio for speed). Ignored by
  // the other codecs.
  int zstd_level = 3;
};

// Fills frame->records, record_count, compression and uncompressed_size
// from `records`, which must cover frame->first_offset..frame->last_offset:
// offsets strictly increasing and inside that range (InvalidArgument
// naming the record otherwise). When compression would not make the batch
// smaller it is sent uncompressed (compression = kNone). Thread-safe.
absl::Status EncodeRecords(std::span<const Record> records, const CompressionOptions& options, DataFrame* frame);

// Decompresses and decodes frame.records. Errors (InvalidArgument, or
// ResourceExhausted when uncompressed_size exceeds
// max_uncompressed_bytes) name the data frame's batch, partition and what
// was wrong. Thread-safe.
absl::StatusOr<std::vector<Record>> DecodeRecords(const DataFrame& frame, uint64_t max_uncompressed_bytes);

// Bytes a record takes in the uncompressed encoding, at most (for budgets).
uint64_t EncodedSizeBound(const Record& record);

}  // namespace longhaul::transport
