// Lane assignment: which of a pipeline's N lanes (one transactional.id each)
// owns a source partition. Every worker of every version must agree on it,
// and checkpoints record the lane, so the hash below is frozen: changing it
// would move partitions between transactional.ids and break fencing.
#pragma once

#include <cstdint>
#include <string_view>

namespace longhaul::offsets {

// FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over the
// topic's bytes, one 0x00 byte, then the partition as 4 big-endian bytes
// (two's complement). FROZEN: tests pin fixed vectors.
uint64_t StableTopicPartitionHash(std::string_view topic, int32_t partition);

// StableTopicPartitionHash(topic, partition) % lanes. FROZEN.
// Precondition (LH_CHECK): lanes >= 1 (config validates the lane count).
uint32_t LaneOf(std::string_view topic, int32_t partition, int lanes);

}  // namespace longhaul::offsets
