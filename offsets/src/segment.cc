#include "longhaul/offsets/segment.h"

#include "longhaul/base/check.h"

namespace longhaul::offsets {

void SegmentBuilder::Add(int64_t source_offset, int64_t target_offset) {
  if (!segments_.empty()) {
    OffsetSegment& last = segments_.back();
    if (source_offset == last.source_end() && target_offset == last.target_end()) {
      ++last.length;  // the common case: both sides advance by one
      return;
    }
    // Strictly after the previous record on both sides.
    LH_CHECK(source_offset >= last.source_end());
    LH_CHECK(target_offset >= last.target_end());
  } else {
    LH_CHECK(source_offset >= 0);
    LH_CHECK(target_offset >= 0);
  }
  segments_.push_back(OffsetSegment{source_offset, target_offset, 1});
}

}  // namespace longhaul::offsets
