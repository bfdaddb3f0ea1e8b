// Allocation accounting for the offsets module: the builder's common case
// allocates nothing, and an OffsetIndex stays within the bytes per segment
// that offsets/README.md promises. This file replaces global operator
// new/delete for the whole offsets_unit_tests binary to count live bytes;
// counting is cheap and always on.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "longhaul/offsets/offset_index.h"
#include "longhaul/offsets/segment.h"
#include "longhaul/testing/status_matchers.h"

namespace {

std::atomic<long long> g_live_bytes{0};
std::atomic<long long> g_allocations{0};
// Room in front of each block to remember its size, keeping max alignment.
constexpr size_t kHeader = alignof(std::max_align_t);

void* Allocate(size_t size) {
  void* block = std::malloc(size + kHeader);
  if (block == nullptr) throw std::bad_alloc();
  *static_cast<size_t*>(block) = size;
  g_live_bytes += static_cast<long long>(size);
  ++g_allocations;
  return static_cast<char*>(block) + kHeader;
}

void Free(void* p) {
  if (p == nullptr) return;
  void* block = static_cast<char*>(p) - kHeader;
  g_live_bytes -= static_cast<long long>(*static_cast<size_t*>(block));
  std::free(block);
}

}  // namespace

void* operator new(size_t size) { return Allocate(size); }
void* operator new[](size_t size) { return Allocate(size); }
void operator delete(void* p) noexcept { Free(p); }
void operator delete[](void* p) noexcept { Free(p); }
void operator delete(void* p, size_t) noexcept { Free(p); }
void operator delete[](void* p, size_t) noexcept { Free(p); }

namespace longhaul::offsets {
namespace {

using ::longhaul::testing::IsOk;

TEST(SegmentBuilder, ContiguousTransactionDoesNotAllocate) {
  SegmentBuilder builder;
  const long long before = g_allocations.load();
  for (int64_t i = 0; i < 1'000'000; ++i) builder.Add(5000 + i, 90000 + i);
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_EQ(builder.segments().size(), 1u);
}

TEST(SegmentBuilder, GappyTransactionsStopAllocatingOnceCapacityIsWarm) {
  SegmentBuilder builder;
  const auto transaction = [&] {
    builder.Clear();
    for (int64_t i = 0; i < 1000; ++i) builder.Add(i * 2, i);  // compacted: every other offset
  };
  transaction();
  const long long before = g_allocations.load();
  transaction();
  transaction();
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_EQ(builder.segments().size(), 1000u);
}

// offsets/README.md: at most 25 bytes per segment plus under 1 KiB per index
// (allocator bookkeeping not included), also after long eviction churn.
TEST(OffsetIndex, StaysWithinTheDocumentedBytesPerSegment) {
  constexpr size_t kSegments = 100'000;
  const long long before = g_live_bytes.load();
  {
    OffsetIndex index(kSegments);
    int64_t source = 0;
    for (size_t i = 0; i < 10 * kSegments; ++i) {
      ASSERT_THAT(index.Add({{source, source, 3}}), IsOk());
      source += 4;  // a gap, so nothing merges
      if (i == kSegments - 1 || i == 10 * kSegments - 1) {
        ASSERT_EQ(index.size(), kSegments);
        const long long used = g_live_bytes.load() - before;
        EXPECT_LE(used, static_cast<long long>(25 * kSegments + 1024)) << "after " << i + 1;
        std::printf("OffsetIndex: %lld bytes for %zu segments after %zu adds\n", used, kSegments,
                    i + 1);
      }
    }
  }
  EXPECT_EQ(g_live_bytes.load(), before);
}

}  // namespace
}  // namespace longhaul::offsets
