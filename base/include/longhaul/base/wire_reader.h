// The bounds-checked reader of every Longhaul binary format (link frames in
// transport/, checkpoint and offset-sync values in offsets/): untrusted
// bytes are read left to right, and every error says which value, which
// field and at which byte, never more than the input holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "longhaul/base/varint.h"

namespace longhaul::wire {

// Names a field in errors: "lane", or "segment 3 length" for the field
// `name` of the `index`-th `item`.
struct Field {
  Field(const char* name) : name(name) {}  // NOLINT: implicit, as call sites pass "lane"
  Field(std::string_view name) : name(name) {}  // NOLINT
  Field(std::string_view name, int64_t index, std::string_view item = "segment")
      : name(name), index(index), item(item) {}
  std::string ToString() const;

  std::string_view name;
  int64_t index = -1;  // -1: not part of a list
  std::string_view item;
};

// Every error is InvalidArgument "<what>: <field> <problem> at byte <n>",
// where `what` names the value ("data frame", "checkpoint value") and n is
// counted from the start of that value: `base` is where `data` starts in it.
class Reader {
 public:
  Reader(std::string_view what, std::string_view data, size_t base = 0) : what_(what), data_(data), base_(base) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  absl::Status ReadByte(Field field, uint8_t* out);
  // Canonical LEB128 only: at most 10 bytes, no overflow past 64 bits, no
  // redundant trailing 0x00 group.
  absl::Status ReadUvarint(Field field, uint64_t* out);
  // An unsigned varint in [0, max].
  absl::Status ReadUint(Field field, uint64_t max, uint64_t* out);
  // An unsigned varint in [0, max] as int64 (max >= 0).
  absl::Status ReadInt(Field field, int64_t max, int64_t* out);
  // A zig-zag varint in [min, INT64_MAX].
  absl::Status ReadZigzag(Field field, int64_t* out, int64_t min = std::numeric_limits<int64_t>::min());
  absl::Status ReadBytes(Field field, size_t n, std::string_view* out);
  // uvarint length (at most max_len) + bytes.
  absl::Status ReadString(Field field, size_t max_len, std::string_view* out);
  // Everything not read yet; the reader is then at the end.
  std::string_view Rest();
  absl::Status ExpectEnd() const;

  // "<what>: <field> <problem> at byte <at>", `at` a position in `data`.
  absl::Status Error(size_t at, Field field, std::string_view problem) const;
  absl::Status Error(size_t at, std::string_view problem) const;

 private:
  std::string_view what_;
  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
};

}  // namespace longhaul::wire
