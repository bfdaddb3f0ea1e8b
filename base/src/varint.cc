#include "longhaul/base/varint.h"

namespace longhaul {

void AppendUvarint(uint64_t value, std::string* out) {
  char buf[kMaxVarintBytes];
  size_t n = 0;
  while (value >= 0x80) {
    buf[n++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  buf[n++] = static_cast<char>(value);
  out->append(buf, n);
}

void AppendZigzag(int64_t value, std::string* out) {
  AppendUvarint((static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63), out);
}

VarintError DecodeUvarint(std::string_view data, size_t* pos, uint64_t* out) {
  uint64_t value = 0;
  for (size_t i = 0; i < kMaxVarintBytes; ++i) {
    if (*pos >= data.size()) return VarintError::kTruncated;
    const uint8_t byte = static_cast<uint8_t>(data[(*pos)++]);
    // The 10th group holds bit 63 only; anything more is overlong.
    if (i == kMaxVarintBytes - 1 && byte > 1) return VarintError::kOverlong;
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) return VarintError::kNotMinimal;
      *out = value;
      return VarintError::kNone;
    }
  }
  // Unreachable: the 10th byte either ends the varint or fails above.
  return VarintError::kOverlong;
}

}  // namespace longhaul
