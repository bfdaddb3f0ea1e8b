#include "longhaul/offsets/offset_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"
#include "longhaul/base/status_macros.h"
#include "wire.h"

namespace longhaul::offsets {
namespace {

bool Contiguous(const OffsetSegment& a, const OffsetSegment& b) {
  return b.source_start == a.source_end() && b.target_start == a.target_end();
}

}  // namespace

OffsetIndex::OffsetIndex(size_t max_segments) : max_segments_(max_segments) {
  LH_CHECK(max_segments >= 1);
}

absl::Status OffsetIndex::Add(absl::Span<const OffsetSegment> segments) {
  if (segments.empty()) return absl::OkStatus();
  LH_RETURN_IF_ERROR(wire::ValidateSegments(segments));
  if (!segments_.empty()) {
    const OffsetSegment& last = segments_.back();
    const OffsetSegment& first = segments.front();
    if (first.source_start < last.source_end() || first.target_start < last.target_end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "offset index: added segment starting at source ", first.source_start, ", target ",
          first.target_start, " overlaps the indexed range, which ends at source ",
          last.source_end(), ", target ", last.target_end()));
    }
  } else {
    floor_ = segments.front().source_start;
  }
  for (const OffsetSegment& s : segments) {
    if (!segments_.empty() && Contiguous(segments_.back(), s)) {
      segments_.back().length += s.length;
    } else {
      segments_.push_back(s);
      if (segments_.size() > max_segments_) EvictOldest();
    }
  }
  return absl::OkStatus();
}

void OffsetIndex::EvictOldest() {
  // Nothing was replicated between the evicted segment's end and the next
  // segment, so translation stays exact from the evicted end onward.
  floor_ = segments_.front().source_end();
  segments_.pop_front();
}

absl::Status OffsetIndex::LoadOlder(absl::Span<const OffsetSegment> segments) {
  if (segments_.empty()) return Add(segments);
  if (segments.empty()) return absl::OkStatus();
  LH_RETURN_IF_ERROR(wire::ValidateSegments(segments));
  const OffsetSegment& first = segments_.front();
  const OffsetSegment& last = segments.back();
  if (last.source_end() > floor_ || last.target_end() > first.target_start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "offset index: older segment ending at source ", last.source_end(), ", target ",
        last.target_end(), " overlaps the indexed range, which starts at source ", floor_,
        ", target ", first.target_start));
  }
  // Newest first, so that what the bound cuts off is the oldest.
  size_t taken = 0;
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    if (Contiguous(*it, segments_.front())) {
      segments_.front().source_start = it->source_start;
      segments_.front().target_start = it->target_start;
      segments_.front().length += it->length;
    } else if (segments_.size() < max_segments_) {
      segments_.push_front(*it);
    } else {
      if (taken == 0) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "offset index: full (", max_segments_,
            " segments); cannot load older segments below source offset ", floor_,
            "; translate old offsets with a separate OffsetIndex"));
      }
      floor_ = it->source_end();
      return absl::OkStatus();
    }
    ++taken;
  }
  floor_ = segments_.front().source_start;
  return absl::OkStatus();
}

absl::StatusOr<TranslateResult> OffsetIndex::Translate(int64_t source_offset) const {
  if (source_offset < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("offset index: cannot translate negative source offset ", source_offset));
  }
  if (segments_.empty() || source_offset < floor_) return TranslateResult{.before_index = true};
  // The first segment starting after the offset; the one before it, if any,
  // is the only one that can contain it.
  const auto next = std::upper_bound(
      segments_.begin(), segments_.end(), source_offset,
      [](int64_t o, const OffsetSegment& s) { return o < s.source_start; });
  if (next != segments_.begin()) {
    const OffsetSegment& s = *std::prev(next);
    if (source_offset < s.source_end()) {
      return TranslateResult{.target_offset = s.target_start + (source_offset - s.source_start)};
    }
  }
  if (next == segments_.end()) {
    return TranslateResult{.target_offset = segments_.back().target_end(),
                           .beyond_replicated = true};
  }
  // In a gap (or between floor_ and the first segment): nothing replicated
  // here, so the next replicated record is the next segment's first.
  return TranslateResult{.target_offset = next->target_start};
}

std::optional<int64_t> OffsetIndex::lowest_indexed_source_offset() const {
  if (segments_.empty()) return std::nullopt;
  return floor_;
}

std::optional<int64_t> OffsetIndex::end_source_offset() const {
  if (segments_.empty()) return std::nullopt;
  return segments_.back().source_end();
}

}  // namespace longhaul::offsets
