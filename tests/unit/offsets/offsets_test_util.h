// Shared helpers for the offsets unit tests: readable gtest printing of the
// offsets value types, an independent varint writer for hand-built
// malformed input, and fixed-seed generators for property-style loops.
#pragma once

#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/offset_index.h"
#include "longhaul/offsets/offset_sync.h"
#include "longhaul/offsets/segment.h"

namespace longhaul::offsets {

inline void PrintTo(const OffsetSegment& s, std::ostream* os) {
  *os << "{src " << s.source_start << ", tgt " << s.target_start << ", len " << s.length << "}";
}
inline void PrintTo(const TranslateResult& r, std::ostream* os) {
  *os << "{target " << r.target_offset << (r.before_index ? ", before_index" : "")
      << (r.beyond_replicated ? ", beyond_replicated" : "") << "}";
}
inline void PrintTo(const Checkpoint& c, std::ostream* os) {
  *os << "{next_src " << c.next_source_offset << ", next_tgt " << c.next_target_offset
      << ", time " << c.commit_time_ms << ", lane " << c.lane << ", " << c.segments.size()
      << " segments}";
}
inline void PrintTo(const OffsetSyncRecord& r, std::ostream* os) {
  *os << "{" << r.topic << "[" << r.partition << "], time " << r.commit_time_ms << ", "
      << r.segments.size() << " segments}";
}

namespace testing_util {

// Written independently of the library so that format tests do not just
// compare the encoder with itself.
inline std::string Uvarint(uint64_t v) {
  std::string out;
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    if (v != 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (v != 0);
  return out;
}
inline std::string Zigzag(int64_t v) {
  return Uvarint(v >= 0 ? static_cast<uint64_t>(v) * 2 : static_cast<uint64_t>(-(v + 1)) * 2 + 1);
}

// Ordered, well-formed segments with magnitudes from tiny to near
// INT64_MAX, gaps of zero or more on either side (possibly both zero, which
// the codecs must keep as given).
inline std::vector<OffsetSegment> RandomSegments(std::mt19937_64& rng, size_t max_count) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  static constexpr int64_t kScales[] = {3, 1000, int64_t{1} << 32, int64_t{1} << 60};
  const int64_t scale = kScales[rng() % 4];
  const auto upto = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n + 1)); };
  std::vector<OffsetSegment> out;
  const size_t count = rng() % (max_count + 1);
  int64_t source = upto(scale);
  int64_t target = upto(scale);
  for (size_t i = 0; i < count; ++i) {
    const int64_t length = 1 + upto(scale);
    if (length > kMax - source || length > kMax - target) break;
    out.push_back({source, target, length});
    source += length;
    target += length;
    const int64_t source_gap = upto(scale);
    const int64_t target_gap = upto(scale);
    if (source_gap > kMax - source || target_gap > kMax - target) break;
    source += source_gap;
    target += target_gap;
  }
  return out;
}

inline Checkpoint RandomCheckpoint(std::mt19937_64& rng) {
  Checkpoint c;
  c.segments = RandomSegments(rng, 40);
  const int64_t source_end = c.segments.empty() ? 0 : c.segments.back().source_end();
  const int64_t target_end = c.segments.empty() ? 0 : c.segments.back().target_end();
  c.next_source_offset =
      source_end + (source_end < (int64_t{1} << 62) ? static_cast<int64_t>(rng() % 5) : 0);
  c.next_target_offset = rng() % 3 == 0 ? -1 : target_end;
  c.commit_time_ms = rng() % 4 == 0 ? -1 : static_cast<int64_t>(rng() >> 1);
  c.lane = static_cast<int32_t>(rng() % 3 == 0 ? rng() >> 33 : rng() % 64);
  // Sometimes a lost source range (format version 2) between the last
  // segment and the resume point.
  if (rng() % 4 == 0 && source_end < (int64_t{1} << 62)) {
    const int64_t first = source_end + static_cast<int64_t>(rng() % 3);
    c.next_source_offset = first + 1 + static_cast<int64_t>(rng() % 100'000);
    c.lost = {{first, c.next_source_offset}};
  }
  return c;
}

inline OffsetSyncRecord RandomOffsetSync(std::mt19937_64& rng) {
  static constexpr char kTopicChars[] = "abcxyzABC019._-";
  OffsetSyncRecord r;
  const size_t topic_length = 1 + rng() % (rng() % 8 == 0 ? kMaxTopicLength : 20);
  for (size_t i = 0; i < topic_length; ++i) r.topic.push_back(kTopicChars[rng() % 15]);
  r.partition = static_cast<int32_t>(rng() % 3 == 0 ? rng() >> 33 : rng() % 100);
  r.segments = RandomSegments(rng, 40);
  r.commit_time_ms = rng() % 4 == 0 ? -1 : static_cast<int64_t>(rng() >> 1);
  if (rng() % 4 == 0) {
    const int64_t first = static_cast<int64_t>(rng() % 1'000'000);
    r.lost = {{first, first + 1 + static_cast<int64_t>(rng() % 1000)}};
    if (rng() % 2 == 0) r.lost.push_back({r.lost[0].end + static_cast<int64_t>(rng() % 10), r.lost[0].end + 2000});
  }
  return r;
}

}  // namespace testing_util
}  // namespace longhaul::offsets
