// Private to longhaul_offsets: the format bytes and the segment and
// lost-range list encodings shared by the checkpoint and offset-sync codecs
// (the reader itself is base/'s wire::Reader). Format reference: offsets/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "longhaul/base/varint.h"
#include "longhaul/base/wire_reader.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/segment.h"

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
using ::longhaul::kMaxVarintBytes;
using ::longhaul::wire::Field;
using ::longhaul::wire::Reader;

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
