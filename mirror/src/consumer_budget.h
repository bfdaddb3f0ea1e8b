// How much a lane's source consumer may prefetch, derived from the lane's
// share of worker.buffer_bytes. librdkafka's queued.max.messages.kbytes
// counts record payloads only, but every prefetched record also costs an op
// (~250 B) and keeps its fetch response buffer alive, and one fetch may
// parse max.partition.fetch.bytes per partition into the queue at once: at
// 100-byte records a payload budget costs ~4x itself in RSS. So the budget
// also caps the record count and the size of a fetch. Pure logic; private
// to mirror/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace longhaul::mirror {

struct ConsumerPrefetch {
  // Apply over the operator's consumer properties (they replace them).
  std::map<std::string, std::string> properties;
  // Properties the operator set above the budget, lowered to it ("key: from -> to").
  std::vector<std::string> lowered;
};

// The consumer settings that keep one lane's prefetch near
// `lane_budget_bytes` of payload and a small multiple of it in memory: the
// budget for queued payload, a record count that caps small records (where
// the per-record overhead dominates), and fetches small enough that one
// response cannot overshoot by much.
// `user` are the operator's consumer properties: a value within the budget
// is kept, a larger one is lowered (raise worker.buffer_bytes to allow it).
ConsumerPrefetch SizeConsumerPrefetch(int64_t lane_budget_bytes, const std::map<std::string, std::string>& user);

}  // namespace longhaul::mirror
