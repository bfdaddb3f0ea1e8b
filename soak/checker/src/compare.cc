#include "longhaul/soak/compare.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "longhaul/base/check.h"
#include "longhaul/soak/payload.h"

namespace longhaul::soak {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

uint64_t HashBytes(std::string_view s) { return absl::Hash<absl::string_view>{}(AbslView(s)); }

// The two ways records are matched: generator identity, or full content.
// Different tags keep the two key spaces apart.
uint64_t IdentityKey(const RecordSummary& r) {
  return absl::Hash<std::tuple<char, uint32_t, uint32_t, uint64_t, uint8_t>>{}(
      std::make_tuple('I', r.run_id, r.payload_partition, r.sequence, r.payload_flags));
}

uint64_t ContentKey(const RecordSummary& r) {
  return absl::Hash<std::tuple<char, int64_t, uint64_t, uint32_t, uint32_t, int32_t, int32_t>>{}(
      std::make_tuple('C', r.timestamp_ms, r.value_hash, r.key_hash, r.headers_hash, r.key_size, r.value_size));
}

bool SameBytes(const RecordSummary& a, const RecordSummary& b) {
  return a.timestamp_ms == b.timestamp_ms && a.value_hash == b.value_hash && a.value_size == b.value_size &&
         a.key_hash == b.key_hash && a.key_size == b.key_size && a.headers_hash == b.headers_hash;
}

std::string SizeText(int32_t size) { return size < 0 ? "null" : size == 0 ? "empty" : absl::StrCat(size, " bytes"); }

// The generator identity of a record, for examples; offsets are reported apart.
std::string Describe(const RecordSummary& r) {
  if (!r.id_parsed) return "not a generator record";
  return absl::StrFormat("run %08x partition %d seq %d%s", r.run_id, r.payload_partition, r.sequence,
                         (r.payload_flags & kPayloadFromAbortedTransaction) ? ", aborted transaction" : "");
}

// What differs between a source record and its copy, for the report.
std::string Differences(const RecordSummary& source, const RecordSummary& target) {
  std::vector<std::string> diffs;
  if (target.kind == SummaryKind::kGeneratedCorrupt && source.kind != SummaryKind::kGeneratedCorrupt)
    diffs.push_back("generator checksum fails");
  if (source.key_size != target.key_size)
    diffs.push_back(absl::StrCat("key ", SizeText(source.key_size), " -> ", SizeText(target.key_size)));
  else if (source.key_hash != target.key_hash)
    diffs.push_back("key bytes differ");
  if (source.value_size != target.value_size)
    diffs.push_back(absl::StrCat("value ", SizeText(source.value_size), " -> ", SizeText(target.value_size)));
  else if (source.value_hash != target.value_hash)
    diffs.push_back("value bytes differ");
  if (source.headers_hash != target.headers_hash) diffs.push_back("headers differ");
  if (source.timestamp_ms != target.timestamp_ms)
    diffs.push_back(absl::StrCat("timestamp ", source.timestamp_ms, " -> ", target.timestamp_ms));
  return absl::StrJoin(diffs, ", ");
}

// Indices (into `seq`) of one longest strictly increasing subsequence.
std::vector<bool> LongestIncreasing(const std::vector<int32_t>& seq) {
  std::vector<int32_t> tails;         // tails[k]: index in seq ending the best run of length k+1
  std::vector<int32_t> parent(seq.size(), -1);
  for (size_t i = 0; i < seq.size(); ++i) {
    auto it = std::lower_bound(tails.begin(), tails.end(), seq[i],
                               [&](int32_t idx, int32_t value) { return seq[idx] < value; });
    if (it != tails.begin()) parent[i] = *(it - 1);
    if (it == tails.end()) tails.push_back(static_cast<int32_t>(i));
    else *it = static_cast<int32_t>(i);
  }
  std::vector<bool> in_run(seq.size(), false);
  for (int32_t i = tails.empty() ? -1 : tails.back(); i >= 0; i = parent[i]) in_run[i] = true;
  return in_run;
}

class Comparer {
 public:
  Comparer(std::span<const RecordSummary> source, std::span<const RecordSummary> target, CheckMode mode,
           const CompareOptions& options)
      : source_(source), target_(target), options_(options) {
    LH_CHECK(source.size() < static_cast<size_t>(INT32_MAX) && target.size() < static_cast<size_t>(INT32_MAX));
    report_.mode = mode;
    report_.expected = static_cast<int64_t>(source.size());
    report_.found = static_cast<int64_t>(target.size());
  }

  PartitionReport Run() {
    IndexSource();
    MatchByKey();
    PairByPosition();
    CountOrder();
    for (size_t j = 0; j < source_.size(); ++j) {
      if (source_matched_[j]) continue;
      ++report_.missing;
      Note(Finding::Kind::kMissing, static_cast<int64_t>(j), -1, Describe(source_[j]));
    }
    return std::move(report_);
  }

 private:
  static constexpr int32_t kUnmatched = -1;

  struct Chain {
    int32_t head = kUnmatched;  // next unmatched source index with this key
    int32_t tail = kUnmatched;
    int32_t last = kUnmatched;  // last source index handed out
  };

  void Note(Finding::Kind kind, int64_t source_index, int64_t target_index, std::string detail) {
    size_t& count = example_counts_[static_cast<int>(kind)];
    if (count >= options_.max_examples_per_kind) return;
    ++count;
    report_.examples.push_back(Finding{kind, source_index >= 0 ? source_[source_index].offset : -1,
                                       target_index >= 0 ? target_[target_index].offset : -1, std::move(detail)});
  }

  // Valid generator records are keyed by identity, everything else by content.
  void IndexSource() {
    next_.assign(source_.size(), kUnmatched);
    source_matched_.assign(source_.size(), false);
    chains_.reserve(source_.size());
    for (size_t j = 0; j < source_.size(); ++j) {
      const RecordSummary& r = source_[j];
      if (r.kind == SummaryKind::kGeneratedCorrupt) {
        ++report_.source_invalid;
        Note(Finding::Kind::kSourceInvalid, static_cast<int64_t>(j), -1,
             absl::StrCat("generator checksum fails in the source (", Describe(r), ")"));
      }
      Chain& chain = chains_[r.kind == SummaryKind::kGenerated ? IdentityKey(r) : ContentKey(r)];
      if (chain.tail == kUnmatched) chain.head = static_cast<int32_t>(j);
      else next_[chain.tail] = static_cast<int32_t>(j);
      chain.tail = static_cast<int32_t>(j);
    }
  }

  // Returns the source index for `key`: the next unmatched one, or (as a
  // duplicate) the last one handed out. kUnmatched if the key is unknown.
  std::pair<int32_t, bool> Take(uint64_t key) {
    auto it = chains_.find(key);
    if (it == chains_.end()) return {kUnmatched, false};
    Chain& chain = it->second;
    if (chain.head == kUnmatched) return {chain.last, true};
    chain.last = chain.head;
    chain.head = next_[chain.head];
    return {chain.last, false};
  }

  void MatchByKey() {
    target_source_.assign(target_.size(), kUnmatched);
    first_copy_.assign(target_.size(), false);
    for (size_t i = 0; i < target_.size(); ++i) {
      const RecordSummary& r = target_[i];
      std::pair<int32_t, bool> match{kUnmatched, false};
      switch (r.kind) {
        case SummaryKind::kGenerated:
          match = Take(IdentityKey(r));
          break;
        case SummaryKind::kContent:
          match = Take(ContentKey(r));
          break;
        case SummaryKind::kGeneratedCorrupt:
          // A faithful copy of a corrupt source record, else a corrupted copy
          // of the record its (parsed) identity names.
          match = Take(ContentKey(r));
          if (match.first == kUnmatched && r.id_parsed) match = Take(IdentityKey(r));
          break;
      }
      auto [j, repeat] = match;
      if (j == kUnmatched) continue;  // left for PairByPosition
      target_source_[i] = j;
      const RecordSummary& s = source_[j];
      if (!repeat) {
        source_matched_[j] = true;
        first_copy_[i] = true;
        if (SameBytes(s, r)) {
          ++report_.ok;
        } else {
          ++report_.corrupted;
          Note(Finding::Kind::kCorrupted, j, i, absl::StrCat(Differences(s, r), " (", Describe(s), ")"));
        }
      } else if (SameBytes(s, r)) {
        ++report_.duplicated;
        Note(Finding::Kind::kDuplicated, j, i, absl::StrCat("another copy (", Describe(s), ")"));
      } else {
        ++report_.corrupted;
        Note(Finding::Kind::kCorrupted, j, i,
             absl::StrCat("another copy, with ", Differences(s, r), " (", Describe(s), ")"));
      }
    }
  }

  // A target record matching nothing by key that sits where an unmatched
  // source record should be is that record, corrupted (a changed key,
  // header or timestamp changes the content key of an arbitrary record).
  // Valid generator records are never paired: their identity is certain.
  void PairByPosition() {
    size_t expect = 0;
    for (size_t i = 0; i < target_.size(); ++i) {
      const RecordSummary& r = target_[i];
      if (target_source_[i] != kUnmatched) {
        if (first_copy_[i]) expect = static_cast<size_t>(target_source_[i]) + 1;
        continue;
      }
      if (r.kind != SummaryKind::kGenerated && expect < source_.size() && !source_matched_[expect]) {
        target_source_[i] = static_cast<int32_t>(expect);
        first_copy_[i] = true;
        source_matched_[expect] = true;
        ++report_.corrupted;
        Note(Finding::Kind::kCorrupted, static_cast<int64_t>(expect), i,
             absl::StrCat(Differences(source_[expect], r), " (", Describe(source_[expect]), ")"));
        ++expect;
      } else if (r.kind == SummaryKind::kGeneratedCorrupt) {
        ++report_.corrupted;
        Note(Finding::Kind::kCorrupted, -1, i, absl::StrCat("generator checksum fails, matches no source record (", Describe(r), ")"));
      } else {
        ++report_.extra;
        Note(Finding::Kind::kExtra, -1, i, absl::StrCat("matches no source record (", Describe(r), ")"));
      }
    }
  }

  void CountOrder() {
    std::vector<int32_t> order;  // source index of each first copy, in target order
    std::vector<int32_t> at;     // its target index
    for (size_t i = 0; i < target_.size(); ++i) {
      if (!first_copy_[i]) continue;
      order.push_back(target_source_[i]);
      at.push_back(static_cast<int32_t>(i));
    }
    std::vector<bool> in_order = LongestIncreasing(order);
    int32_t previous = kUnmatched;
    for (size_t k = 0; k < order.size(); ++k) {
      if (!in_order[k]) {
        ++report_.out_of_order;
        std::string detail = Describe(source_[order[k]]);
        if (previous != kUnmatched) absl::StrAppend(&detail, ", after source offset ", source_[previous].offset);
        Note(Finding::Kind::kOutOfOrder, order[k], at[k], std::move(detail));
      }
      previous = order[k];
    }
  }

  std::span<const RecordSummary> source_;
  std::span<const RecordSummary> target_;
  const CompareOptions& options_;
  PartitionReport report_;
  absl::flat_hash_map<uint64_t, Chain> chains_;
  std::vector<int32_t> next_;           // source index -> next source index with the same key
  std::vector<bool> source_matched_;
  std::vector<int32_t> target_source_;  // target index -> source index, or kUnmatched
  std::vector<bool> first_copy_;
  size_t example_counts_[6] = {};
};

uint32_t Low32(uint64_t h) { return static_cast<uint32_t>(h ^ (h >> 32)); }

}  // namespace

const char* FindingKindName(Finding::Kind kind) {
  switch (kind) {
    case Finding::Kind::kMissing: return "missing";
    case Finding::Kind::kDuplicated: return "duplicated";
    case Finding::Kind::kOutOfOrder: return "out of order";
    case Finding::Kind::kCorrupted: return "corrupted";
    case Finding::Kind::kExtra: return "extra";
    case Finding::Kind::kSourceInvalid: return "source invalid";
  }
  return "unknown";
}

RecordSummary Summarize(const RecordView& record) {
  RecordSummary s;
  s.offset = record.offset;
  s.timestamp_ms = record.timestamp_ms;
  if (record.key) {
    s.key_size = static_cast<int32_t>(record.key->size());
    s.key_hash = Low32(HashBytes(*record.key));
  }
  if (record.value) {
    s.value_size = static_cast<int32_t>(record.value->size());
    s.value_hash = HashBytes(*record.value);
  }
  // Order, repeats and null versus empty all change this hash.
  uint64_t h = record.headers.size();
  for (const auto& [name, value] : record.headers) {
    h = absl::Hash<std::tuple<uint64_t, absl::string_view, bool, absl::string_view>>{}(
        std::make_tuple(h, AbslView(name), value.has_value(), value ? AbslView(*value) : absl::string_view()));
  }
  s.headers_hash = Low32(h);
  ParsedPayload payload = ParsePayload(record.value);
  if (payload.result == PayloadParse::kValid) s.kind = SummaryKind::kGenerated;
  else if (payload.result == PayloadParse::kCorrupt) s.kind = SummaryKind::kGeneratedCorrupt;
  if (payload.id_parsed) {
    s.id_parsed = true;
    s.run_id = payload.id.run_id;
    s.payload_partition = payload.id.partition;
    s.sequence = payload.id.sequence;
    s.payload_flags = payload.id.flags;
  }
  return s;
}

RecordSummary Summarize(const Record& record) {
  RecordView view;
  view.offset = record.offset;
  view.timestamp_ms = record.timestamp_ms;
  if (record.key) view.key = *record.key;
  if (record.value) view.value = *record.value;
  view.headers.reserve(record.headers.size());
  for (const RecordHeader& h : record.headers) {
    std::optional<std::string_view> value;
    if (h.value) value = *h.value;
    view.headers.emplace_back(h.name, value);
  }
  return Summarize(view);
}

bool PartitionReport::Passed() const {
  if (missing != 0 || corrupted != 0 || out_of_order != 0 || extra != 0) return false;
  return mode == CheckMode::kAtLeastOnce || duplicated == 0;
}

PartitionReport& PartitionReport::operator+=(const PartitionReport& other) {
  expected += other.expected;
  found += other.found;
  ok += other.ok;
  missing += other.missing;
  duplicated += other.duplicated;
  out_of_order += other.out_of_order;
  corrupted += other.corrupted;
  extra += other.extra;
  source_invalid += other.source_invalid;
  return *this;
}

PartitionReport CompareStreams(std::span<const RecordSummary> source, std::span<const RecordSummary> target,
                               CheckMode mode, const CompareOptions& options) {
  return Comparer(source, target, mode, options).Run();
}

PartitionReport CompareStreams(const std::vector<Record>& source, const std::vector<Record>& target, CheckMode mode,
                               const CompareOptions& options) {
  std::vector<RecordSummary> s, t;
  s.reserve(source.size());
  t.reserve(target.size());
  for (const Record& r : source) s.push_back(Summarize(r));
  for (const Record& r : target) t.push_back(Summarize(r));
  return CompareStreams(s, t, mode, options);
}

void TopicComparison::DeclarePartitions(int32_t n) {
  for (int32_t p = 0; p < n; ++p) partitions_[p];
}

int64_t TopicComparison::source_records() const {
  int64_t n = 0;
  for (const auto& [p, streams] : partitions_) n += static_cast<int64_t>(streams.source.size());
  return n;
}

int64_t TopicComparison::target_records() const {
  int64_t n = 0;
  for (const auto& [p, streams] : partitions_) n += static_cast<int64_t>(streams.target.size());
  return n;
}

std::vector<PartitionReport> TopicComparison::Compare(CheckMode mode, const CompareOptions& options) const {
  std::vector<PartitionReport> reports;
  for (const auto& [partition, streams] : partitions_) {
    reports.push_back(CompareStreams(streams.source, streams.target, mode, options));
    reports.back().partition = partition;
  }
  return reports;
}

}  // namespace longhaul::soak
