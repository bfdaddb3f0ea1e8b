// Private to longhaul_offsets: the varint primitives, the bounds-checked
// reader and the segment-list encoding shared by the checkpoint and
// offset-sync codecs. Format reference: offsets/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "longhaul/base/varint.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/segment.h"

// Abseil 20220623 has no RETURN_IF_ERROR; private to this library.
#define LH_OFFSETS_RETURN_IF_ERROR(expr)                 \
  do {                                                   \
    if (::absl::Status lh_status_ = (expr); !lh_status_.ok()) \
      return lh_status_;                                 \
  } while (false)

namespace longhaul::offsets::wire {

// Leading byte of a value: high nibble = record kind, low nibble = format
// version. Neither kind is printable ASCII, so text or JSON produced to the
// topic by mistake is reported as foreign, and a value of the other kind is
// named as such.
inline constexpr uint8_t kCheckpointKind = 0xC0;
inline constexpr uint8_t kOffsetSyncKind = 0xD0;
inline constexpr uint8_t kCheckpointV1 = kCheckpointKind | 1;
inline constexpr uint8_t kOffsetSyncV1 = kOffsetSyncKind | 1;
// Version 2 of both: version 1 followed by a list of lost source ranges
// (written only when there is one, so values without stay version 1).
inline constexpr uint8_t kCheckpointV2 = kCheckpointKind | 2;
inline constexpr uint8_t kOffsetSyncV2 = kOffsetSyncKind | 2;

// Fewest bytes one encoded segment takes (three one-byte varints).
inline constexpr size_t kMinSegmentBytes = 3;

using ::longhaul::AppendUvarint;
using ::longhaul::AppendZigzag;
using ::longhaul::DecodeUvarint;
using ::longhaul::kMaxVarintBytes;
using ::longhaul::VarintError;
using ::longhaul::ZigzagDecode;

// Names a field in errors: "next_source_offset", or "segment 3 length" when
// segment >= 0 ("lost range 0 length" with item "lost range").
struct Field {
  const char* name;
  int64_t segment = -1;
  const char* item = "segment";  // what `segment` counts: "segment 3 length", "lost range 0 length"
};

// Reads untrusted bytes left to right. Every error is InvalidArgument of the
// form "<what>: <problem> at byte <offset>".
class Reader {
 public:
  Reader(const char* what, std::string_view data) : what_(what), data_(data) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  absl::Status ReadByte(Field field, uint8_t* out);
  // Canonical LEB128 only: at most 10 bytes, no overflow past 64 bits, no
  // redundant trailing 0x00 group.
  absl::Status ReadUvarint(Field field, uint64_t* out);
  // An unsigned varint in [0, max].
  absl::Status ReadInt(Field field, int64_t max, int64_t* out);
  // A zig-zag varint in [min, INT64_MAX].
  absl::Status ReadZigzag(Field field, int64_t min, int64_t* out);
  absl::Status ReadBytes(Field field, size_t n, std::string_view* out);
  absl::Status ExpectEnd() const;

  // "<what>: <field> <problem> at byte <at>".
  absl::Status Error(size_t at, Field field, absl::string_view problem) const;
  absl::Status Error(size_t at, absl::string_view problem) const;

 private:
  const char* what_;
  std::string_view data_;
  size_t pos_ = 0;
};

// Checks the leading byte against `expected` (kind and version 1) or a later
// version up to `max_version` of the same kind, storing the version read;
// else says which of "empty", "another record kind", "unsupported version"
// applies.
absl::Status ReadFormatByte(Reader& reader, uint8_t expected, int max_version = 1, int* version = nullptr);

// Lost source ranges (version 2): count >= 1, then per range the start
// (the first absolute, the others as the gap after the previous end) and
// the length >= 1; ordered and disjoint.
absl::Status ValidateLostRanges(absl::Span<const LostRange> ranges);
void AppendLostRanges(absl::Span<const LostRange> ranges, std::string* out);
absl::Status ReadLostRanges(Reader& reader, std::vector<LostRange>* out);

// OK if every segment is well formed (starts >= 0, length >= 1, ends fit in
// int64) and each starts at or after the previous one's end on both sides;
// otherwise InvalidArgument naming the first offending segment.
absl::Status ValidateSegments(absl::Span<const OffsetSegment> segments);

// Appends count + segments, each delta-encoded against the previous one's
// end. Precondition: ValidateSegments(segments).ok().
void AppendSegments(absl::Span<const OffsetSegment> segments, std::string* out);
// Reads what AppendSegments wrote into *out (replacing its contents),
// rejecting counts the remaining input cannot hold and anything
// ValidateSegments would reject.
absl::Status ReadSegments(Reader& reader, std::vector<OffsetSegment>* out);

}  // namespace longhaul::offsets::wire
