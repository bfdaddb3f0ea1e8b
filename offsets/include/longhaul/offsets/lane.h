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

// The lane of every partition of edge `edge` in a pipeline fed by many
// edges (edge affinity: one edge, one lane, one hub). FNV-1a 64 as above
// over the edge name's bytes then one 0x01 byte, % lanes. FROZEN: an
// edge's checkpoints live in its lane's checkpoint partition.
// Precondition (LH_CHECK): lanes >= 1.
uint32_t LaneOfEdge(std::string_view edge, int lanes);

}  // namespace longhaul::offsets
