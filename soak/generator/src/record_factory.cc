#include "longhaul/soak/record_factory.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "longhaul/base/check.h"

namespace longhaul::soak {
namespace {
constexpr size_t kPoolSize = 1 << 20;
constexpr const char* kHeaderNames[] = {"lh-trace", "lh-a", "lh-b", "content-type"};
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kSixDaysMs = 6 * 24 * kHourMs;
}  // namespace

RecordFactory::RecordFactory(const RecordMix& mix, uint64_t seed, uint32_t run_id)
    : mix_(mix), run_id_(run_id), rng_(seed) {
  mix_.min_value_size = std::max(mix_.min_value_size, kPayloadHeaderSize);
  mix_.max_value_size = std::max(mix_.max_value_size, mix_.min_value_size);
  pool_.resize(kPoolSize);
  for (size_t i = 0; i < kPoolSize; i += 8) {
    uint64_t word = rng_();
    std::memcpy(pool_.data() + i, &word, 8);
  }
}

bool RecordFactory::Chance(double ratio) {
  if (ratio <= 0) return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < ratio;
}

size_t RecordFactory::ValueSize() {
  if (Chance(mix_.large_value_ratio)) return std::max(mix_.large_value_size, kPayloadHeaderSize);
  if (mix_.size_distribution == SizeDistribution::kLogUniform) {
    double lo = std::log(static_cast<double>(mix_.min_value_size));
    double hi = std::log(static_cast<double>(mix_.max_value_size) + 1);
    auto size = static_cast<size_t>(std::exp(std::uniform_real_distribution<double>(lo, hi)(rng_)));
    return std::clamp(size, mix_.min_value_size, mix_.max_value_size);
  }
  return std::uniform_int_distribution<size_t>(mix_.min_value_size, mix_.max_value_size)(rng_);
}

// Cut from the pool at a random offset, wrapping around: cheap even for 1 MB.
std::string RecordFactory::RandomBytes(size_t n) {
  std::string out;
  out.reserve(n);
  size_t pos = std::uniform_int_distribution<size_t>(0, kPoolSize - 1)(rng_);
  while (out.size() < n) {
    size_t take = std::min(n - out.size(), kPoolSize - pos);
    out.append(pool_, pos, take);
    pos = 0;
  }
  return out;
}

Record RecordFactory::Make(int32_t partition, uint64_t sequence, uint8_t flags, int64_t now_ms) {
  LH_CHECK(partition >= 0);
  Record record;
  record.timestamp_ms = now_ms;
  if (Chance(mix_.old_timestamp_ratio))
    record.timestamp_ms = now_ms - std::uniform_int_distribution<int64_t>(kHourMs, kSixDaysMs)(rng_);

  if (Chance(mix_.no_headers_ratio)) {
    // no headers at all
  } else {
    int count = std::uniform_int_distribution<int>(1, std::max(1, mix_.max_headers))(rng_);
    for (int i = 0; i < count; ++i) {
      RecordHeader header;
      header.name = kHeaderNames[std::uniform_int_distribution<int>(0, std::size(kHeaderNames) - 1)(rng_)];
      if (!Chance(mix_.null_header_value_ratio))
        header.value = Chance(0.15) ? std::string() : RandomBytes(std::uniform_int_distribution<int>(1, 32)(rng_));
      record.headers.push_back(std::move(header));
    }
  }

  if (Chance(mix_.tombstone_ratio)) {
    // A tombstone has no value to carry the identity, so the key does; the
    // checker matches tombstones by content.
    record.key = absl::StrFormat("tombstone %08x %08x %016x %02x", run_id_, partition, sequence, flags);
    return record;
  }
  if (Chance(mix_.null_key_ratio)) {
    // null key
  } else if (Chance(mix_.empty_key_ratio)) {
    record.key = std::string();
  } else {
    record.key = RandomBytes(std::uniform_int_distribution<size_t>(1, std::max<size_t>(1, mix_.max_key_size))(rng_));
  }

  std::string value = RandomBytes(ValueSize());
  SealPayload(PayloadId{run_id_, static_cast<uint32_t>(partition), sequence, flags}, value);
  record.value = std::move(value);
  return record;
}

}  // namespace longhaul::soak
