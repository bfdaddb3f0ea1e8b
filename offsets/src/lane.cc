#include "longhaul/offsets/lane.h"

#include "longhaul/base/check.h"

namespace longhaul::offsets {
namespace {

// FNV-1a 64 parameters (FROZEN, see lane.h).
constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t Mix(uint64_t hash, uint8_t byte) { return (hash ^ byte) * kFnvPrime; }

}  // namespace

uint64_t StableTopicPartitionHash(std::string_view topic, int32_t partition) {
  uint64_t hash = kFnvOffsetBasis;
  for (char c : topic) hash = Mix(hash, static_cast<uint8_t>(c));
  hash = Mix(hash, 0);
  const uint32_t p = static_cast<uint32_t>(partition);
  hash = Mix(hash, static_cast<uint8_t>(p >> 24));
  hash = Mix(hash, static_cast<uint8_t>(p >> 16));
  hash = Mix(hash, static_cast<uint8_t>(p >> 8));
  hash = Mix(hash, static_cast<uint8_t>(p));
  return hash;
}

uint32_t LaneOf(std::string_view topic, int32_t partition, int lanes) {
  LH_CHECK(lanes >= 1);
  return static_cast<uint32_t>(StableTopicPartitionHash(topic, partition) %
                               static_cast<uint64_t>(lanes));
}

uint32_t LaneOfEdge(std::string_view edge, int lanes) {
  LH_CHECK(lanes >= 1);
  uint64_t hash = kFnvOffsetBasis;
  for (char c : edge) hash = Mix(hash, static_cast<uint8_t>(c));
  hash = Mix(hash, 1);
  return static_cast<uint32_t>(hash % static_cast<uint64_t>(lanes));
}

}  // namespace longhaul::offsets
