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
// ResourceExhausted when uncompressed_size exceeds max_uncompressed_bytes or
// the decoded records would take more than max_decoded_bytes as counted by
// DecodedRecordBytes, decided before each allocation) name the data frame's
// batch, partition and what was wrong. Thread-safe.
absl::StatusOr<std::vector<Record>> DecodeRecords(const DataFrame& frame, uint64_t max_uncompressed_bytes,
                                                  uint64_t max_decoded_bytes = UINT64_MAX);

// Credit, the hub's memory bound, counts what a batch takes once decoded
// (record and header objects and their bytes), not its encoded or
// compressed size: a few KB of zstd can decode to millions of empty
// records. Both ends compute it from Record objects (the edge before it
// sends, the hub after it decodes) with these fixed figures, so they agree
// to the byte whatever their platform. The per-object figures are at least
// sizeof(Record) / sizeof(RecordHeader) on 64-bit builds.
inline constexpr uint64_t kRecordOverheadBytes = 128;
inline constexpr uint64_t kHeaderOverheadBytes = 80;
// Every batch costs at least this much, so empty batches (gaps) are not free.
inline constexpr uint64_t kMinBatchCreditBytes = 1024;
uint64_t DecodedRecordBytes(const Record& record);
// max(kMinBatchCreditBytes, sum of DecodedRecordBytes): the credit a batch
// of these records costs.
uint64_t BatchCreditCost(std::span<const Record> records);

// Bytes a record takes in the uncompressed encoding, at most (for budgets).
uint64_t EncodedSizeBound(const Record& record);

}  // namespace longhaul::transport
