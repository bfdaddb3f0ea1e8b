// Private to longhaul_transport: varint primitives and the bounds-checked
// reader shared by the frame and record codecs. Format: transport/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "longhaul/base/varint.h"
#include "absl/strings/string_view.h"

// Abseil 20220623 has no RETURN_IF_ERROR; private to this library.
#define LH_TRANSPORT_RETURN_IF_ERROR(expr)                     \
  do {                                                          \
    if (::absl::Status lh_status_ = (expr); !lh_status_.ok()) \
      return lh_status_;                                        \
  } while (false)

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

// Reads untrusted bytes left to right. Every error is InvalidArgument of the
// form "<what>: <field> <problem> at byte <base + offset>", where `what`
// names the frame ("data frame") and `base` is where `data` starts in it.
class Reader {
 public:
  Reader(std::string_view what, std::string_view data, size_t base = 0)
      : what_(what), data_(data), base_(base) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  absl::Status ReadByte(std::string_view field, uint8_t* out);
  // Canonical LEB128 only: at most 10 bytes, no overflow, no redundant
  // trailing 0x00 group.
  absl::Status ReadUvarint(std::string_view field, uint64_t* out);
  // An unsigned varint in [0, max].
  absl::Status ReadUint(std::string_view field, uint64_t max, uint64_t* out);
  // A zig-zag varint (any int64).
  absl::Status ReadZigzag(std::string_view field, int64_t* out);
  absl::Status ReadBytes(std::string_view field, size_t n, std::string_view* out);
  // uvarint length (at most max_len) + bytes.
  absl::Status ReadString(std::string_view field, size_t max_len, std::string_view* out);
  std::string_view Rest();
  absl::Status ExpectEnd() const;

  absl::Status Error(size_t at, std::string_view field, std::string_view problem) const;

 private:
  std::string_view what_;
  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
};

}  // namespace longhaul::transport::wire
