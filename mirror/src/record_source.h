// Where a lane's records come from: the source cluster directly (direct
// mode, KafkaRecordSource) or batches that an edge shipped over the
// long-haul link (hub mode). The lane's transactional writer is the same
// for both. Private to mirror/; runs on the lane's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/base/topic_partition.h"

namespace longhaul::mirror {

// The headers of one record, owned, in order, repeats and null values kept.
// Zero copy where it matters: a Kafka source hands over the list librdkafka
// parsed (detached from the consumer's message) and the librdkafka writer
// gives that same list to its producer, so no header is copied on the way.
// Everyone else reads it through Get()/ToVector() and never sees a
// librdkafka type. Move-only; empty() when the record has no headers.
class RecordHeaders {
 public:
  RecordHeaders() = default;
  RecordHeaders(const RecordHeaders&) = delete;
  RecordHeaders& operator=(const RecordHeaders&) = delete;
  RecordHeaders(RecordHeaders&& other) noexcept : native_(other.native_) { other.native_ = nullptr; }
  RecordHeaders& operator=(RecordHeaders&& other) noexcept;
  ~RecordHeaders();

  // Takes a librdkafka header list (rd_kafka_headers_t*); nullptr: none.
  static RecordHeaders AdoptNative(void* native_list);
  // A copy of `headers` (nothing allocated when it is empty).
  static RecordHeaders Of(const std::vector<RecordHeader>& headers);

  bool empty() const { return native_ == nullptr; }
  size_t size() const;
  // The i-th header; false past the end. `value` is nullopt for a null value.
  bool Get(size_t i, std::string_view* name, std::optional<std::string_view>* value) const;
  std::vector<RecordHeader> ToVector() const;
  // Appends a header (creating the list when there was none).
  void Add(std::string_view name, std::optional<std::string_view> value);
  // The value of the last header called `name` (nullopt for a null value);
  // false when there is none.
  bool Last(const std::string& name, std::optional<std::string_view>* value) const;
  // Removes every header called `name`; the others keep their order.
  void Remove(const std::string& name);
  // Gives up the librdkafka list (nullptr when empty), for a producer that
  // takes ownership of it. Only the librdkafka writer calls this.
  void* ReleaseNative() {
    void* n = native_;
    native_ = nullptr;
    return n;
  }

 private:
  void* native_ = nullptr;  // rd_kafka_headers_t*
};

// One record as a source hands it out: key and value borrowed (valid until
// the next call to Next()), headers owned (the record's reader takes them).
struct SourceRecordView {
  const void* partition_handle = nullptr;  // stable per (topic, partition) for the source's lifetime
  const char* topic = nullptr;
  int32_t partition = 0;
  // The partition's TopicPartition::origin (an edge's name in an edges:
  // many hub pipeline), or nullptr for none.
  const char* origin = nullptr;
  int64_t offset = -1;
  int64_t timestamp_ms = 0;
  const void* key = nullptr;  // nullptr = null key
  size_t key_len = 0;
  const void* value = nullptr;  // nullptr = tombstone
  size_t value_len = 0;
  RecordHeaders headers;
};

struct SourceAssignment {
  TopicPartition partition;
  int64_t start_offset = -1;  // -1: the pipeline's start position
};

struct EndOffsets {
  int64_t end = -1;       // read_committed end of the source partition, -1 if unknown
  int64_t low = -1;       // earliest available offset, -1 if unknown
  int64_t position = -1;  // next offset the source will hand out, -1 if unknown
};

// The source could not serve `offset` of a partition (below its log start,
// or beyond its end) and stopped fetching it rather than jump elsewhere by
// itself: the reader decides (source_gap.h).
struct OutOfRange {
  TopicPartition partition;
  int64_t offset = -1;  // the offset asked for; -1 if the source did not say
};

struct LogBounds {
  int64_t start = -1;  // the earliest offset still in the log
  int64_t end = -1;    // the read_committed end
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Replaces the set of partitions and where each starts.
  virtual absl::Status Assign(const std::vector<SourceAssignment>& assignment) = 0;
  // The next record, or false when none arrived within `wait`. Transient
  // source problems are reported through `warning` (not an error: the source
  // retries by itself); a returned error ends the lane session.
  virtual absl::StatusOr<bool> Next(std::chrono::milliseconds wait, SourceRecordView* out, absl::Status* warning) = 0;
  // Whether every assigned partition has been read to its end as last seen
  // (nothing is waiting at the source). Asked when Next() ran dry, so a lane
  // can commit early instead of waiting out commit_interval. The default,
  // "don't know", keeps the lane on its interval.
  virtual bool CaughtUp() { return false; }
  // Offsets of the assigned partitions as last seen, for lag.
  virtual std::map<TopicPartition, EndOffsets> Offsets() = 0;
  // Resolves the current end of a partition (for start: latest).
  virtual absl::StatusOr<int64_t> LatestOffset(const TopicPartition& tp) = 0;
  // Partitions whose next offset the source could not serve since the last
  // call; they are not fetched until Reposition. A source whose offsets
  // cannot fall out of range (the link) has none.
  virtual std::vector<OutOfRange> TakeOutOfRange() { return {}; }
  // Asks the source for a partition's log start and end, now.
  virtual absl::StatusOr<LogBounds> QueryLogBounds(const TopicPartition& tp) {
    return absl::UnimplementedError("this source has no log bounds");
  }
  // Fetches an assigned partition again from `offset`, or (nullopt) stops
  // fetching it; the rest of the assignment is untouched.
  virtual absl::Status Reposition(const TopicPartition& tp, std::optional<int64_t> offset) {
    return absl::UnimplementedError("this source cannot reposition a partition");
  }
  // The lane session has fenced the previous owner, read its checkpoints
  // (`checkpointed`: next source offset per partition) and assigned its
  // partitions: from now on only this session commits for the lane. A hub
  // waits for this on every lane before it tells an edge where to resume.
  virtual void OnSessionReady(const std::map<TopicPartition, int64_t>& checkpointed) {}
  // Everything before these offsets is durably committed on the target
  // (a hub acknowledges it to the edge; a Kafka source ignores it). Called
  // after each transaction commit with the partitions it touched.
  virtual void OnCommitted(const std::map<TopicPartition, int64_t>& next_offsets) {}
  // Ends the source. Called once per session, after the lane aborted (on a
  // failure) or committed (on a drain) its open transaction.
  virtual void Close() = 0;
};

// The error a RecordSource returns from Next() to have the lane end its
// session on purpose (abort the open transaction, re-fence, re-read the
// checkpoints) and start a new one at once: a hub does this when records it
// delivered may no longer be committed (their edge session ended).
absl::Status SessionRestartStatus(const std::string& why);
bool IsSessionRestart(const absl::Status& status);

}  // namespace longhaul::mirror
