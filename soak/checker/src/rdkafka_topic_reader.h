// The checker's only contact with librdkafka: a read_committed consumer with
// manual assignment that reads a topic's partitions from the beginning up to
// given end offsets and hands each record over as a borrowed RecordView.
// Uses rd_kafka_consumer_poll, not rd_kafka_consume_batch (which skips
// messages around pause/seek in librdkafka 2.0.x). Private to longhaul-check.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "longhaul/soak/compare.h"

namespace longhaul::soak {

class RdKafkaTopicReader {
 public:
  using Sink = std::function<void(int32_t partition, const RecordView& record)>;

  // `label` ("source", "target") prefixes every error message.
  static absl::StatusOr<std::unique_ptr<RdKafkaTopicReader>> Create(
      const std::string& label, const std::string& bootstrap,
      const std::vector<std::pair<std::string, std::string>>& properties);
  ~RdKafkaTopicReader();
  RdKafkaTopicReader(const RdKafkaTopicReader&) = delete;
  RdKafkaTopicReader& operator=(const RdKafkaTopicReader&) = delete;

  // NotFound when the topic does not exist, Unavailable when the cluster
  // does not answer within `timeout`.
  absl::StatusOr<int32_t> PartitionCount(const std::string& topic, absl::Duration timeout);
  // The high watermark of each partition [0, partitions).
  absl::StatusOr<std::vector<int64_t>> EndOffsets(const std::string& topic, int32_t partitions,
                                                  absl::Duration timeout);

  // Starts reading partitions [0, partitions) of `topic` from the beginning,
  // replacing any previous assignment.
  absl::Status Assign(const std::string& topic, int32_t partitions);
  // Stops fetching (positions are kept).
  absl::Status Unassign();

  // Calls `sink` for each record, in offset order per partition, until every
  // partition's read_committed position reaches ends[p] (true) or `deadline`
  // passes (false). With `stop_at_end`, records at or past ends[p] are
  // dropped, for a consistent snapshot; without, they are delivered too.
  absl::StatusOr<bool> ReadTo(const std::vector<int64_t>& ends, absl::Time deadline, bool stop_at_end,
                              const Sink& sink);

  // Next offset to read per assigned partition (-1 before the first record
  // or end-of-partition event).
  const std::vector<int64_t>& positions() const { return positions_; }
  const std::string& label() const { return label_; }

 private:
  struct Handle;
  RdKafkaTopicReader(std::string label, std::string bootstrap, std::unique_ptr<Handle> handle);

  std::string label_;
  std::string bootstrap_;
  std::unique_ptr<Handle> handle_;
  std::string topic_;
  std::vector<int64_t> positions_;
};

}  // namespace longhaul::soak
