// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum every
// link frame carries. Portable slice-by-8, no CPU-specific instructions, so
// the same bytes give the same value on every edge and hub.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace longhaul::transport {

// Extends `crc` (the value returned for the bytes before; 0 to start) over
// `data`. Crc32c(Crc32c(0, a), b) == Crc32c(0, a + b). Thread-safe, pure.
uint32_t Crc32c(uint32_t crc, const void* data, size_t size);

inline uint32_t Crc32c(std::string_view data) { return Crc32c(0, data.data(), data.size()); }

}  // namespace longhaul::transport
