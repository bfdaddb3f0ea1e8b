// LEB128 varints and zig-zag, the integer encoding of every Longhaul binary
// format (checkpoints and offset syncs in offsets/, link frames in
// transport/). Decoding accepts the canonical form only, so that one value
// has exactly one encoding and a checksum over it means something.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace longhaul {

// Longest LEB128 encoding of a uint64.
inline constexpr size_t kMaxVarintBytes = 10;

void AppendUvarint(uint64_t value, std::string* out);
// Zig-zag maps small negative numbers to small unsigned ones.
void AppendZigzag(int64_t value, std::string* out);

inline int64_t ZigzagDecode(uint64_t raw) { return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1)); }

enum class VarintError {
  kNone,
  kTruncated,    // the input ends inside the varint
  kOverlong,     // more than 64 bits
  kNotMinimal,   // a redundant trailing 0x00 group
};

// Decodes the varint at data[*pos]. On success stores it in *out, moves
// *pos past it and returns kNone; otherwise leaves *out alone (and *pos
// somewhere inside the varint) and says what is wrong.
VarintError DecodeUvarint(std::string_view data, size_t* pos, uint64_t* out);

}  // namespace longhaul
