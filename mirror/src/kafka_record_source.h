// RecordSource over a read_committed librdkafka consumer with manual
// assignment (direct mode and the edge). Uses rd_kafka_consumer_poll, never
// rd_kafka_consume_batch (which skips messages with pause/seek in 2.0.x).
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "kafka_client.h"
#include "record_source.h"

namespace longhaul::mirror {

class KafkaRecordSource final : public RecordSource {
 public:
  // `properties`: the source cluster's consumer properties; `what` names the
  // client in errors.
  static absl::StatusOr<std::unique_ptr<KafkaRecordSource>> Create(const Properties& defaults,
                                                                   const Properties& properties,
                                                                   const std::string& what);
  absl::Status Assign(const std::vector<SourceAssignment>& assignment) override;
  absl::StatusOr<bool> Next(std::chrono::milliseconds wait, SourceRecordView* out, absl::Status* warning) override;
  // From the positions and the high watermarks (read_committed: last stable
  // offsets) cached from fetch responses: no request.
  bool CaughtUp() override;
  std::map<TopicPartition, EndOffsets> Offsets() override;
  absl::StatusOr<int64_t> LatestOffset(const TopicPartition& tp) override;
  // auto.offset.reset is always "error" here: librdkafka reports an offset
  // out of range instead of jumping to the log start (losing records
  // silently) or the end.
  std::vector<OutOfRange> TakeOutOfRange() override;
  absl::StatusOr<LogBounds> QueryLogBounds(const TopicPartition& tp) override;
  absl::Status Reposition(const TopicPartition& tp, std::optional<int64_t> offset) override;
  void Close() override;
  // Stops (or restarts) fetching these assigned partitions; records already
  // fetched may still arrive. The edge pauses while its link buffer is full.
  absl::Status Pause(const std::vector<TopicPartition>& partitions, bool pause);

 private:
  KafkaRecordSource(KafkaHandle rk, std::string what) : rk_(std::move(rk)), what_(std::move(what)) {}
  KafkaHandle rk_;
  std::string what_;
  KafkaMessage current_;
  std::vector<TopicPartition> assigned_;
  std::vector<int64_t> start_offsets_;  // per assigned_, -1: the earliest
  PartitionList positions_;              // assigned_, reused by CaughtUp()
  std::vector<OutOfRange> out_of_range_;
  void RebuildPositions();
  absl::StatusOr<int64_t> ListOffset(const TopicPartition& tp, int64_t logical, const char* which);
};

}  // namespace longhaul::mirror
