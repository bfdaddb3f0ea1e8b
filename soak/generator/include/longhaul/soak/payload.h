// The generator's record value layout: a fixed 61-byte ASCII prefix (magic,
// run id, partition, sequence, filler length, flags, CRC32C) followed by
// filler bytes. The checker parses it to identify records precisely; the
// layout is documented in soak/README.md and must not change without bumping
// the magic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace longhaul::soak {

// Layout, all numbers lowercase hex, fixed width, fields separated by ' ':
//   [0,4)   "LHG1"                  magic and layout version
//   [5,13)  run id                  8 hex digits
//   [14,22) partition               8 hex digits
//   [23,39) sequence                16 hex digits, per partition and run
//   [40,48) filler length           8 hex digits
//   [49,51) flags                   2 hex digits (PayloadFlags)
//   [52,60) CRC32C                  8 hex digits, of bytes [0,52) then the filler
//   [60]    '\n'
//   [61,..) filler                  `filler length` arbitrary bytes
inline constexpr std::string_view kPayloadMagic = "LHG1";
inline constexpr size_t kPayloadHeaderSize = 61;

enum PayloadFlags : uint8_t {
  // The record was written in a transaction the generator then aborted: a
  // read_committed reader must never see it.
  kPayloadFromAbortedTransaction = 0x01,
};

struct PayloadId {
  uint32_t run_id = 0;
  uint32_t partition = 0;
  uint64_t sequence = 0;
  uint8_t flags = 0;
  friend bool operator==(const PayloadId&, const PayloadId&) = default;
};

// Builds a value of exactly max(size, kPayloadHeaderSize) bytes; `filler`
// supplies the bytes after the header (it is repeated or cut to fit).
std::string EncodePayload(const PayloadId& id, size_t size, std::string_view filler);

// Writes the header for `id` into value[0, kPayloadHeaderSize) and checksums
// value[kPayloadHeaderSize, end) as the filler. `value` must be at least
// kPayloadHeaderSize long; used by the generator to avoid a copy.
void SealPayload(const PayloadId& id, std::string& value);

enum class PayloadParse {
  kNotGenerated,  // no magic: an arbitrary record, compare by content
  kValid,
  kCorrupt,       // magic present but a field or the checksum is wrong
};

struct ParsedPayload {
  PayloadParse result = PayloadParse::kNotGenerated;
  PayloadId id;       // set when result != kNotGenerated and the fields parsed
  bool id_parsed = false;
  std::string error;  // why kCorrupt
};

// Never fails on arbitrary input: bytes from the network are classified, not
// asserted on.
ParsedPayload ParsePayload(std::optional<std::string_view> value);

// CRC32C (Castagnoli), as used by Kafka record batches. `crc` is the running
// value for chaining; start with 0.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace longhaul::soak
