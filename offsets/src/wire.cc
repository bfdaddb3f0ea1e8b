#include "wire.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "longhaul/base/status_macros.h"

namespace longhaul::offsets::wire {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

}  // namespace

absl::Status ReadFormatByte(Reader& reader, uint8_t expected, int max_version, int* version) {
  uint8_t byte = 0;
  if (absl::Status s = reader.ReadByte({"format byte"}, &byte); !s.ok()) {
    return reader.Error(0, absl::StrFormat("empty value (expected format byte 0x%02X)", expected));
  }
  const uint8_t kind = byte & 0xF0;
  const int read_version = byte & 0x0F;
  if (kind == (expected & 0xF0) && read_version >= (expected & 0x0F) && read_version <= max_version) {
    if (version != nullptr) *version = read_version;
    return absl::OkStatus();
  }
  if (kind == (expected & 0xF0)) {
    return reader.Error(0, absl::StrFormat(
                               "unsupported format version %d (byte 0x%02X); this build reads "
                               "version %d (0x%02X) to %d (0x%02X)",
                               read_version, byte, expected & 0x0F, expected, max_version,
                               (expected & 0xF0) | max_version));
  }
  const char* other = kind == kCheckpointKind   ? " (a checkpoint value)"
                      : kind == kOffsetSyncKind ? " (an offset-sync value)"
                                                : "";
  return reader.Error(0, absl::StrFormat("format byte 0x%02X%s is not the expected 0x%02X", byte,
                                         other, expected));
}

absl::Status ValidateSegments(absl::Span<const OffsetSegment> segments) {
  for (size_t i = 0; i < segments.size(); ++i) {
    const OffsetSegment& s = segments[i];
    const auto bad = [&](absl::string_view problem) {
      return absl::InvalidArgumentError(absl::StrCat(
          "segment ", i, " {source_start ", s.source_start, ", target_start ", s.target_start,
          ", length ", s.length, "} ", problem));
    };
    if (s.source_start < 0 || s.target_start < 0) return bad("has a negative offset");
    if (s.length < 1) return bad("is empty (length must be >= 1)");
    if (s.length > kInt64Max - s.source_start || s.length > kInt64Max - s.target_start) {
      return bad("ends beyond the int64 range");
    }
    if (i > 0) {
      const OffsetSegment& p = segments[i - 1];
      if (s.source_start < p.source_end() || s.target_start < p.target_end()) {
        return bad(absl::StrCat("overlaps or precedes the previous segment, which ends at source ",
                                p.source_end(), ", target ", p.target_end()));
      }
    }
  }
  return absl::OkStatus();
}

void AppendSegments(absl::Span<const OffsetSegment> segments, std::string* out) {
  AppendUvarint(segments.size(), out);
  const OffsetSegment* prev = nullptr;
  for (const OffsetSegment& s : segments) {
    // Successive segments of one partition are close together: the gaps are
    // small numbers where the absolute offsets would take up to 9 bytes.
    AppendUvarint(static_cast<uint64_t>(prev ? s.source_start - prev->source_end() : s.source_start), out);
    AppendUvarint(static_cast<uint64_t>(prev ? s.target_start - prev->target_end() : s.target_start), out);
    AppendUvarint(static_cast<uint64_t>(s.length), out);
    prev = &s;
  }
}

absl::Status ReadSegments(Reader& reader, std::vector<OffsetSegment>* out) {
  out->clear();
  const size_t count_at = reader.position();
  uint64_t count = 0;
  if (absl::Status s = reader.ReadUvarint({"segment count"}, &count); !s.ok()) return s;
  // Bounds the reserve() below by the input size, whatever the count says.
  if (count > reader.remaining() / kMinSegmentBytes) {
    return reader.Error(count_at, {"segment count"},
                        absl::StrCat(count, " is more than the ", reader.remaining(),
                                     " remaining bytes can hold (each segment takes at least ",
                                     kMinSegmentBytes, ")"));
  }
  out->reserve(count);
  int64_t source_end = 0;  // of the previous segment; the first is absolute
  int64_t target_end = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const int64_t index = static_cast<int64_t>(i);
    const bool first = i == 0;
    OffsetSegment seg;
    int64_t source_delta = 0;
    int64_t target_delta = 0;
    if (absl::Status s = reader.ReadInt({first ? "source_start" : "source gap", index},
                                        kInt64Max - source_end, &source_delta);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = reader.ReadInt({first ? "target_start" : "target gap", index},
                                        kInt64Max - target_end, &target_delta);
        !s.ok()) {
      return s;
    }
    seg.source_start = source_end + source_delta;
    seg.target_start = target_end + target_delta;
    const size_t at = reader.position();
    if (absl::Status s = reader.ReadInt(
            {"length", index}, kInt64Max - std::max(seg.source_start, seg.target_start), &seg.length);
        !s.ok()) {
      return s;
    }
    if (seg.length == 0) return reader.Error(at, {"length", index}, "is 0 (must be >= 1)");
    source_end = seg.source_end();
    target_end = seg.target_end();
    out->push_back(seg);
  }
  return absl::OkStatus();
}

absl::Status ValidateLostRanges(absl::Span<const LostRange> ranges) {
  int64_t previous_end = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const LostRange& r = ranges[i];
    const auto bad = [&](absl::string_view problem) {
      return absl::InvalidArgumentError(
          absl::StrCat("lost range ", i, " [", r.first, ", ", r.end, ") ", problem));
    };
    if (r.first < 0) return bad("has a negative offset");
    if (r.end <= r.first) return bad("is empty (end must be after first)");
    if (i > 0 && r.first < previous_end) return bad("starts before the previous range ends");
    previous_end = r.end;
  }
  return absl::OkStatus();
}

void AppendLostRanges(absl::Span<const LostRange> ranges, std::string* out) {
  AppendUvarint(ranges.size(), out);
  int64_t previous_end = 0;
  for (const LostRange& r : ranges) {
    AppendUvarint(static_cast<uint64_t>(r.first - previous_end), out);
    AppendUvarint(static_cast<uint64_t>(r.end - r.first), out);
    previous_end = r.end;
  }
}

absl::Status ReadLostRanges(Reader& reader, std::vector<LostRange>* out) {
  out->clear();
  const size_t count_at = reader.position();
  uint64_t count = 0;
  if (absl::Status s = reader.ReadUvarint({"lost range count"}, &count); !s.ok()) return s;
  // Version 2 is written only with a lost range: one encoding per value.
  if (count == 0) return reader.Error(count_at, {"lost range count"}, "is 0 (a value without lost ranges is version 1)");
  if (count > reader.remaining() / 2) {
    return reader.Error(count_at, {"lost range count"},
                        absl::StrCat(count, " is more than the ", reader.remaining(),
                                     " remaining bytes can hold (each range takes at least 2)"));
  }
  out->reserve(count);
  int64_t previous_end = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const int64_t index = static_cast<int64_t>(i);
    int64_t start_delta = 0, length = 0;
    LH_RETURN_IF_ERROR(
        reader.ReadInt({i == 0 ? "first" : "gap", index, "lost range"}, kInt64Max - previous_end, &start_delta));
    const int64_t first = previous_end + start_delta;
    const size_t length_at = reader.position();
    LH_RETURN_IF_ERROR(reader.ReadInt({"length", index, "lost range"}, kInt64Max - first, &length));
    if (length < 1) return reader.Error(length_at, {"length", index, "lost range"}, "is 0 (must be >= 1)");
    out->push_back(LostRange{first, first + length});
    previous_end = first + length;
  }
  return absl::OkStatus();
}

}  // namespace longhaul::offsets::wire
