#include "longhaul/soak/fleet_records.h"

#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "longhaul/soak/payload.h"

namespace longhaul::soak {
namespace {

constexpr size_t kMaxExamples = 5;

std::string_view Std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// splitmix64: a cheap, well-mixed function of the sequence for the filler.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::optional<std::string> FleetKey(absl::string_view edge, int32_t partition, int64_t sequence) {
  if (sequence % 10 == 9) return std::nullopt;  // some null keys
  return absl::StrCat(edge, "/", partition, "/", sequence);
}

std::vector<RecordHeader> FleetHeaders(absl::string_view edge, int64_t sequence, int64_t timestamp_ms) {
  std::vector<RecordHeader> headers;
  headers.push_back({std::string(kFleetTimestampHeader), absl::StrCat(timestamp_ms)});
  if (sequence % 3 == 0) {  // repeats, empty and null values, on a third of the records
    headers.push_back({"edge", std::string(edge)});
    headers.push_back({"empty", std::string()});
    headers.push_back({"null", std::nullopt});
    headers.push_back({"edge", std::string(edge)});
  }
  return headers;
}

}  // namespace

uint32_t FleetRunId(absl::string_view run_tag, absl::string_view edge) {
  return Crc32c(Std(edge), Crc32c("/", Crc32c(Std(run_tag))));
}

Record MakeFleetRecord(absl::string_view edge, uint32_t run_id, int32_t partition, int64_t sequence,
                       int64_t timestamp_ms, size_t value_size) {
  Record r;
  r.offset = sequence;
  r.timestamp_ms = timestamp_ms;
  r.key = FleetKey(edge, partition, sequence);
  std::string value(std::max(value_size, kPayloadHeaderSize), '\0');
  uint64_t bits = Mix(static_cast<uint64_t>(sequence) ^ (uint64_t{run_id} << 32));
  for (size_t i = kPayloadHeaderSize; i < value.size(); ++i) {
    if ((i - kPayloadHeaderSize) % 8 == 0) bits = Mix(bits);
    value[i] = static_cast<char>('a' + (bits >> (8 * ((i - kPayloadHeaderSize) % 8))) % 26);
  }
  SealPayload(PayloadId{run_id, static_cast<uint32_t>(partition), static_cast<uint64_t>(sequence), 0}, value);
  r.value = std::move(value);
  r.headers = FleetHeaders(edge, sequence, timestamp_ms);
  return r;
}

std::string ExpandFleetPattern(absl::string_view pattern, absl::string_view edge, absl::string_view topic) {
  return absl::StrReplaceAll(pattern, {{"{edge}", edge}, {"{topic}", topic}});
}

FleetPartitionVerifier::FleetPartitionVerifier(std::string edge, uint32_t run_id, int32_t partition,
                                               int64_t expected)
    : edge_(std::move(edge)),
      run_id_(run_id),
      partition_(partition),
      expected_(expected),
      seen_(static_cast<size_t>(std::max<int64_t>(expected, 0)), false) {}

void FleetPartitionVerifier::Note(std::string text) {
  if (examples_.size() < kMaxExamples) examples_.push_back(std::move(text));
}

void FleetPartitionVerifier::Observe(const RecordView& record) {
  ++found_;
  const std::string where = absl::StrCat("edge ", edge_, " partition ", partition_, " target offset ", record.offset);
  const ParsedPayload parsed = ParsePayload(record.value);
  if (parsed.result != PayloadParse::kValid) {
    ++corrupted_;
    Note(absl::StrCat(where, ": corrupted value (",
                      parsed.result == PayloadParse::kNotGenerated ? "not a fleet record" : parsed.error, ")"));
    return;
  }
  const int64_t seq = static_cast<int64_t>(parsed.id.sequence);
  if (parsed.id.run_id != run_id_ || static_cast<int32_t>(parsed.id.partition) != partition_ || seq >= expected_) {
    ++extra_;
    Note(absl::StrCat(where, ": extra record (run id ", absl::Hex(parsed.id.run_id), ", partition ",
                      parsed.id.partition, ", sequence ", seq, "; expected run id ", absl::Hex(run_id_),
                      ", partition ", partition_, ", sequences 0..", expected_ - 1, ")"));
    return;
  }
  // Rebuild what the edge generated and compare key, headers, timestamp.
  int64_t ts = -1;
  for (const auto& [name, value] : record.headers) {
    if (name == Std(kFleetTimestampHeader) && value) {
      if (!absl::SimpleAtoi(absl::string_view(value->data(), value->size()), &ts)) ts = -1;
      break;
    }
  }
  const Record want = MakeFleetRecord(edge_, run_id_, partition_, seq, ts, record.value->size());
  std::string wrong;
  if (ts < 0) {
    wrong = "timestamp header missing";
  } else if (record.timestamp_ms != ts) {
    wrong = absl::StrCat("timestamp ", record.timestamp_ms, " != generated ", ts);
  } else if (record.key.has_value() != want.key.has_value() || (record.key && *record.key != *want.key)) {
    wrong = "key differs";
  } else if (*record.value != *want.value) {
    wrong = "value differs";
  } else if (record.headers.size() != want.headers.size()) {
    wrong = absl::StrCat(record.headers.size(), " headers, generated ", want.headers.size());
  } else {
    for (size_t i = 0; i < want.headers.size() && wrong.empty(); ++i) {
      const auto& [name, value] = record.headers[i];
      const RecordHeader& h = want.headers[i];
      if (name != h.name || value.has_value() != h.value.has_value() || (value && *value != *h.value)) {
        wrong = absl::StrCat("header ", i, " (", h.name, ") differs");
      }
    }
  }
  if (seen_[static_cast<size_t>(seq)]) {
    ++duplicated_;
    Note(absl::StrCat(where, ": duplicate of sequence ", seq));
    return;
  }
  seen_[static_cast<size_t>(seq)] = true;
  if (!wrong.empty()) {
    ++corrupted_;
    Note(absl::StrCat(where, ": sequence ", seq, ": ", wrong));
    return;
  }
  if (seq < highest_seen_) {
    ++out_of_order_;
    Note(absl::StrCat(where, ": sequence ", seq, " after ", highest_seen_));
  } else {
    ++ok_;
  }
  highest_seen_ = std::max(highest_seen_, seq);
}

void FleetPartitionVerifier::Finish() {
  int64_t first_missing = -1;
  for (size_t i = 0; i < seen_.size(); ++i) {
    if (!seen_[i]) {
      ++missing_;
      if (first_missing < 0) first_missing = static_cast<int64_t>(i);
    }
  }
  if (missing_ > 0) {
    Note(absl::StrCat("edge ", edge_, " partition ", partition_, ": ", missing_, " of ", expected_,
                      " sequences missing, the first ", first_missing));
  }
}

}  // namespace longhaul::soak
