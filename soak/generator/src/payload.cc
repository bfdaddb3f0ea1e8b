#include "longhaul/soak/payload.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace longhaul::soak {
namespace {

constexpr size_t kRunIdPos = 5, kPartitionPos = 14, kSequencePos = 23, kLengthPos = 40, kFlagsPos = 49,
                 kCrcPos = 52, kNewlinePos = 60;

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

uint32_t Crc32cPortable(const unsigned char* p, size_t n, uint32_t crc) {
  for (size_t i = 0; i < n; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(const unsigned char* p, size_t n, uint32_t crc) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

void PutHex(std::string& out, size_t pos, uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out[pos + i] = kDigits[v & 0xf];
    v >>= 4;
  }
}

std::optional<uint64_t> GetHex(std::string_view in, size_t pos, int digits) {
  uint64_t v = 0;
  for (int i = 0; i < digits; ++i) {
    char c = in[pos + i];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

uint32_t PayloadCrc(std::string_view value) {
  uint32_t crc = Crc32c(value.substr(0, kCrcPos));
  return Crc32c(value.substr(kPayloadHeaderSize), crc);
}

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  crc = ~crc;
#if defined(__x86_64__)
  if (kHaveSse42) return ~Crc32cHardware(p, data.size(), crc);
#endif
  return ~Crc32cPortable(p, data.size(), crc);
}

void SealPayload(const PayloadId& id, std::string& value) {
  LH_CHECK(value.size() >= kPayloadHeaderSize);
  std::memcpy(value.data(), kPayloadMagic.data(), kPayloadMagic.size());
  for (size_t pos : {size_t{4}, kPartitionPos - 1, kSequencePos - 1, kLengthPos - 1, kFlagsPos - 1, kCrcPos - 1})
    value[pos] = ' ';
  value[kNewlinePos] = '\n';
  PutHex(value, kRunIdPos, id.run_id, 8);
  PutHex(value, kPartitionPos, id.partition, 8);
  PutHex(value, kSequencePos, id.sequence, 16);
  PutHex(value, kLengthPos, value.size() - kPayloadHeaderSize, 8);
  PutHex(value, kFlagsPos, id.flags, 2);
  PutHex(value, kCrcPos, PayloadCrc(value), 8);
}

std::string EncodePayload(const PayloadId& id, size_t size, std::string_view filler) {
  std::string value(std::max(size, kPayloadHeaderSize), '\0');
  if (!filler.empty()) {
    for (size_t pos = kPayloadHeaderSize; pos < value.size(); pos += filler.size())
      std::memcpy(value.data() + pos, filler.data(), std::min(filler.size(), value.size() - pos));
  }
  SealPayload(id, value);
  return value;
}

ParsedPayload ParsePayload(std::optional<std::string_view> maybe_value) {
  ParsedPayload out;
  if (!maybe_value || maybe_value->size() < kPayloadMagic.size() ||
      maybe_value->substr(0, kPayloadMagic.size()) != kPayloadMagic)
    return out;
  std::string_view value = *maybe_value;
  out.result = PayloadParse::kCorrupt;
  if (value.size() < kPayloadHeaderSize) {
    out.error = absl::StrCat("value has the generator magic but only ", value.size(), " bytes (header is ",
                             kPayloadHeaderSize, ")");
    return out;
  }
  auto run = GetHex(value, kRunIdPos, 8);
  auto partition = GetHex(value, kPartitionPos, 8);
  auto sequence = GetHex(value, kSequencePos, 16);
  auto length = GetHex(value, kLengthPos, 8);
  auto flags = GetHex(value, kFlagsPos, 2);
  auto crc = GetHex(value, kCrcPos, 8);
  if (!run || !partition || !sequence || !length || !flags || !crc) {
    out.error = "generator header has a non-hex field";
    return out;
  }
  out.id = PayloadId{static_cast<uint32_t>(*run), static_cast<uint32_t>(*partition), *sequence,
                     static_cast<uint8_t>(*flags)};
  out.id_parsed = true;
  if (*length != value.size() - kPayloadHeaderSize) {
    out.error = absl::StrCat("generator header says ", *length, " filler bytes, value has ",
                             value.size() - kPayloadHeaderSize);
    return out;
  }
  uint32_t actual = PayloadCrc(value);
  if (actual != *crc) {
    out.error = absl::StrCat("generator checksum mismatch: header ", absl::Hex(*crc, absl::kZeroPad8), ", computed ",
                             absl::Hex(actual, absl::kZeroPad8));
    return out;
  }
  out.result = PayloadParse::kValid;
  return out;
}

}  // namespace longhaul::soak
