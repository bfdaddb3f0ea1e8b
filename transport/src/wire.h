// Private to longhaul_transport: the encoding helpers shared by the frame
// and record codecs (the reader is base/'s wire::Reader). Format: transport/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "longhaul/base/varint.h"
#include "longhaul/base/wire_reader.h"
#include "absl/strings/string_view.h"

namespace longhaul::transport::wire {

// absl::string_view is not std::string_view in this Abseil build.
inline absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

using ::longhaul::AppendUvarint;
using ::longhaul::AppendZigzag;
using ::longhaul::DecodeUvarint;
using ::longhaul::kMaxVarintBytes;
using ::longhaul::VarintError;
using ::longhaul::ZigzagDecode;
// uvarint length + bytes.
void AppendString(std::string_view value, std::string* out);
void AppendBigEndian32(uint32_t value, std::string* out);
uint32_t LoadBigEndian32(const char* p);
void StoreBigEndian32(uint32_t value, char* p);

using ::longhaul::wire::Field;
using ::longhaul::wire::Reader;

}  // namespace longhaul::transport::wire
