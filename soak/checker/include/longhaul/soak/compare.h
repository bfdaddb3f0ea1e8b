// The exactly-once checker's comparison, pure and I/O free: records are
// reduced to fixed-size summaries (hashes, sizes, the generator's identity)
// and a source partition's committed sequence is compared with the target
// partition's, record by record. The readers that feed it live in the
// longhaul-check executable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "longhaul/base/topic_partition.h"

namespace longhaul::soak {

enum class CheckMode {
  kExactlyOnce,   // target == committed source, record by record
  kAtLeastOnce,   // duplicates tolerated; loss, corruption, reordering not
};

// How a record's value was recognised.
enum class SummaryKind : uint8_t {
  kContent,          // not from the generator (or a tombstone): matched by content
  kGenerated,        // generator payload with a valid checksum: matched by identity
  kGeneratedCorrupt, // generator magic, but a field or the checksum is wrong
};

// What the comparison keeps of a record: 64 bytes whatever the record size,
// so millions of records fit in memory. Null key/value have size -1.
struct RecordSummary {
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  uint64_t value_hash = 0;
  uint64_t sequence = 0;        // generator fields, when kind != kContent
  uint32_t key_hash = 0;
  uint32_t headers_hash = 0;    // names, values, null vs empty, order, repeats
  int32_t key_size = -1;
  int32_t value_size = -1;
  uint32_t run_id = 0;
  uint32_t payload_partition = 0;
  SummaryKind kind = SummaryKind::kContent;
  uint8_t payload_flags = 0;
  bool id_parsed = false;       // run_id, payload_partition, sequence, flags are set
};

// A record as borrowed bytes, so readers summarise without copying values.
struct RecordView {
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
};

RecordSummary Summarize(const RecordView& record);
RecordSummary Summarize(const Record& record);

struct Finding {
  enum class Kind { kMissing, kDuplicated, kOutOfOrder, kCorrupted, kExtra, kSourceInvalid };
  Kind kind;
  int64_t source_offset = -1;  // -1 when there is no source record
  int64_t target_offset = -1;  // -1 when there is no target record
  std::string detail;
};
const char* FindingKindName(Finding::Kind kind);

struct PartitionReport {
  int32_t partition = 0;
  CheckMode mode = CheckMode::kExactlyOnce;
  int64_t expected = 0;      // committed source records
  int64_t found = 0;         // target records = ok + duplicated + corrupted + extra
  int64_t ok = 0;            // first copy of a source record, bytes equal
  int64_t missing = 0;       // source records with no copy (intact or not) in the target
  int64_t duplicated = 0;    // further byte-equal copies of a source record
  int64_t out_of_order = 0;  // first copies that must move to restore source order
  int64_t corrupted = 0;     // copies whose key, value, headers or timestamp differ, or
                             // whose generator checksum fails
  int64_t extra = 0;         // target records matching no source record (e.g. aborted)
  int64_t source_invalid = 0;  // source records failing the generator checksum (a warning)
  std::vector<Finding> examples;  // the first few of each kind

  // No loss, corruption, reordering or unknown record; no duplicate in
  // exactly-once mode.
  bool Passed() const;
  PartitionReport& operator+=(const PartitionReport& other);  // sums counts only
};

struct CompareOptions {
  size_t max_examples_per_kind = 5;
};

// Compares one source partition's committed records (in offset order) with
// the target partition's. See soak/README.md for how records are matched.
PartitionReport CompareStreams(std::span<const RecordSummary> source, std::span<const RecordSummary> target,
                               CheckMode mode, const CompareOptions& options = {});
PartitionReport CompareStreams(const std::vector<Record>& source, const std::vector<Record>& target, CheckMode mode,
                               const CompareOptions& options = {});

// Collects summaries per partition for one source/target topic pair and
// compares partition p of the source with partition p of the target.
class TopicComparison {
 public:
  // Makes partitions [0, n) appear in the report even when empty.
  void DeclarePartitions(int32_t n);
  // Capacity hints (e.g. from end offsets), so millions of summaries do not
  // cost twice their size while vectors grow.
  void ReserveSource(int32_t partition, size_t n) { partitions_[partition].source.reserve(n); }
  void ReserveTarget(int32_t partition, size_t n) { partitions_[partition].target.reserve(n); }
  void AddSource(int32_t partition, const RecordSummary& record) { partitions_[partition].source.push_back(record); }
  void AddTarget(int32_t partition, const RecordSummary& record) { partitions_[partition].target.push_back(record); }
  int64_t source_records() const;
  int64_t target_records() const;

  std::vector<PartitionReport> Compare(CheckMode mode, const CompareOptions& options = {}) const;

 private:
  struct Streams {
    std::vector<RecordSummary> source;
    std::vector<RecordSummary> target;
  };
  std::map<int32_t, Streams> partitions_;
};

}  // namespace longhaul::soak
