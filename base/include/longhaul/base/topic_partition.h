// Topic-partition identity and the record type that crosses module
// boundaries (reader -> link -> writer). Kept tiny and dependency-free.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace longhaul {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  // The edge a source partition comes from, in a hub pipeline fed by many
  // edges (`edges: many`): two edges' "orders[0]" are different partitions
  // there, with their own checkpoints, resume points and offset syncs.
  // Empty everywhere else. Never on the wire: the link speaks for one edge,
  // and the hub sets it from the session's edge name.
  std::string origin = {};

  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TopicPartition& tp) {
    return H::combine(std::move(h), tp.topic, tp.partition, tp.origin);
  }
  // "orders[3]", or "ship-1:orders[3]" with an origin.
  std::string ToString() const {
    return origin.empty() ? absl::StrCat(topic, "[", partition, "]")
                          : absl::StrCat(origin, ":", topic, "[", partition, "]");
  }
};

// A header keeps null apart from empty: Kafka distinguishes them.
struct RecordHeader {
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

// One Kafka record with owned bytes. Null key/value (tombstones) are
// std::nullopt, distinct from empty strings.
struct Record {
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;
  friend bool operator==(const Record&, const Record&) = default;
};

}  // namespace longhaul
