#include "offset_translator.h"

#include <algorithm>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "longhaul/base/logging.h"
#include "longhaul/offsets/lane.h"

namespace longhaul::mirror {

using offsets::OffsetSegment;

// One request being searched for in the offset-sync history. Windows are
// read newest first; within the history the answer is the earliest segment
// that ends after the offset, and the search may stop once it has seen a
// segment ending at or before the offset (everything before is older still)
// or a candidate containing the offset.
struct OffsetTranslator::Search {
  size_t request = 0;
  TopicPartition tp;
  int64_t offset = 0;
  std::optional<OffsetSegment> candidate;  // earliest segment ending after `offset` so far
  bool done = false;
  bool history_complete = false;  // not done, and the offset-sync history was never truncated
  // Within the window being read.
  std::optional<OffsetSegment> window_candidate;
  bool window_saw_earlier = false;

  void Consider(absl::Span<const OffsetSegment> segments) {
    for (const OffsetSegment& s : segments) {
      if (s.source_end() <= offset) {
        window_saw_earlier = true;
      } else if (!window_candidate) {
        window_candidate = s;
        break;  // later segments of the record end later still
      }
    }
  }
  void EndWindow() {
    if (window_candidate) candidate = window_candidate;
    if (window_saw_earlier || Contains()) done = true;
    window_candidate.reset();
    window_saw_earlier = false;
  }
  bool Contains() const { return candidate && candidate->source_start <= offset; }
  int64_t Target() const { return candidate->target_start + std::max<int64_t>(0, offset - candidate->source_start); }
};

namespace {

std::optional<OffsetSegment> FirstEndingAfter(absl::Span<const OffsetSegment> segments, int64_t offset) {
  for (const OffsetSegment& s : segments) {
    if (s.source_end() > offset) return s;
  }
  return std::nullopt;
}

// One past the newest replicated record, from the index and the checkpoint; -1 if none is known.
int64_t EndOfReplicatedTarget(const offsets::OffsetIndex& index, const offsets::Checkpoint* cp) {
  int64_t end = cp != nullptr ? cp->next_target_offset : -1;
  if (!index.empty()) {
    auto r = index.Translate(*index.end_source_offset());
    if (r.ok()) end = std::max(end, r->target_offset);
  }
  return end;
}

}  // namespace

int OffsetTranslator::LaneOf(const TopicPartition& tp) const {
  return static_cast<int>(offsets::LaneOf(tp.topic, tp.partition, pipeline_.lanes));
}

OffsetTranslator::OffsetTranslator(const config::PipelineConfig& pipeline, std::unique_ptr<OffsetSyncReader> reader,
                                   std::unique_ptr<SourceProbe> probe, OffsetTranslatorOptions options)
    : pipeline_(pipeline), reader_(std::move(reader)), probe_(std::move(probe)), options_(options) {}

// Appends a transaction's segments to the partition's index when they are
// newer than what it holds. Committed transactions of a partition come in
// order on both sides, so older ones are already indexed (or deliberately
// below its floor). Anything else means the history is not what we think:
// start the index over from these segments, which never claims more than
// it saw.
void OffsetTranslator::Extend(const TopicPartition& tp, absl::Span<const OffsetSegment> segments) {
  auto it = indices_.find(tp);
  if (it == indices_.end() || segments.empty()) return;
  offsets::OffsetIndex& index = *it->second;
  if (auto end = index.end_source_offset(); end && segments.back().source_end() <= *end) return;
  absl::Status s = index.Add(segments);
  if (s.ok()) return;
  LogWarn("offset-sync history of a partition is out of order; restarting its index",
          {{"pipeline", pipeline_.name}, {"partition", tp.ToString()}, {"error", std::string(s.message())}});
  it->second = std::make_unique<offsets::OffsetIndex>(options_.max_segments_per_partition);
  it->second->Add(segments).IgnoreError();  // a fresh index takes any well-formed list
}

// Brings a lane up to date. The order matters for exactness: the offset-sync
// read starts at a position taken *before* the checkpoint read (the previous
// call's end, or on the first call the current end), so every transaction
// committed after that position is fed to the indices, in order, and the
// newest checkpoint (whose own offset-sync record may not be readable yet:
// the commit markers of one transaction reach partitions one by one) adds
// at most the transaction right after them.
absl::Status OffsetTranslator::Refresh(int lane) {
  LaneState& ls = lanes_[lane];
  if (ls.started) {
    // Retention deleted records we have not read yet (nobody asked about
    // this lane for that long): appending what follows would bridge the
    // hole. Start the lane's indices over from the current end.
    auto bounds = reader_->SyncBounds(lane);
    if (!bounds.ok()) return bounds.status();
    if (bounds->low > ls.sync_position) {
      LogWarn("offset-sync records expired before they were read; restarting the lane's translation indices",
              {{"pipeline", pipeline_.name}, {"lane", lane}});
      for (auto& [tp, index] : indices_) {
        if (LaneOf(tp) == lane) index = std::make_unique<offsets::OffsetIndex>(options_.max_segments_per_partition);
      }
      ls.started = false;
    }
  }
  if (!ls.started) {
    auto end = reader_->ReadSyncs(lane, OffsetSyncReader::kFromEnd, std::numeric_limits<int64_t>::max(),
                                  [](int64_t, const offsets::OffsetSyncRecord&) {});
    if (!end.ok()) return end.status();
    ls.sync_position = *end;
    ls.started = true;
  }
  auto cp_end = reader_->ReadCheckpoints(lane, ls.checkpoint_position,
                                         [&](const TopicPartition& tp, const offsets::Checkpoint* cp) {
                                           if (cp == nullptr) {
                                             ls.checkpoints.erase(tp);
                                           } else {
                                             NoteLost(tp, cp->lost);
                                             ls.checkpoints[tp] = *cp;
                                           }
                                         });
  if (!cp_end.ok()) return cp_end.status();
  ls.checkpoint_position = *cp_end;
  auto sync_end = reader_->ReadSyncs(lane, ls.sync_position, std::numeric_limits<int64_t>::max(),
                                     [&](int64_t, const offsets::OffsetSyncRecord& r) {
                                       NoteLost(TopicPartition{r.topic, r.partition}, r.lost);
                                       Extend(TopicPartition{r.topic, r.partition}, r.segments);
                                     });
  if (!sync_end.ok()) return sync_end.status();
  ls.sync_position = *sync_end;
  for (const auto& [tp, cp] : ls.checkpoints) Extend(tp, cp.segments);
  return absl::OkStatus();
}

void OffsetTranslator::NoteLost(const TopicPartition& tp, absl::Span<const offsets::LostRange> ranges) {
  if (ranges.empty()) return;
  std::vector<offsets::LostRange>& known = lost_[tp];
  for (const offsets::LostRange& r : ranges) {
    if (std::find(known.begin(), known.end(), r) == known.end()) known.push_back(r);
  }
  std::sort(known.begin(), known.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (known.size() > kMaxLostRanges) known.erase(known.begin(), known.end() - kMaxLostRanges);
}

const offsets::LostRange* OffsetTranslator::LostRangeAt(const TopicPartition& tp, int64_t offset) const {
  auto it = lost_.find(tp);
  if (it == lost_.end()) return nullptr;
  for (const offsets::LostRange& r : it->second) {
    if (r.first <= offset && offset < r.end) return &r;
  }
  return nullptr;
}

absl::StatusOr<std::vector<PartitionTranslation>> OffsetTranslator::Translate(
    const std::vector<std::pair<TopicPartition, int64_t>>& requests) {
  std::set<int> lanes;
  for (const auto& [tp, offset] : requests) {
    if (offset < 0) {
      return absl::InvalidArgumentError(absl::StrCat("cannot translate offset ", offset, " of ", tp.ToString()));
    }
    if (std::count_if(requests.begin(), requests.end(), [&](const auto& r) { return r.first == tp; }) > 1) {
      return absl::InvalidArgumentError(absl::StrCat(tp.ToString(), " appears more than once in one request"));
    }
    lanes.insert(LaneOf(tp));
    // Indices exist before the lane is read, so that the read feeds them.
    auto& index = indices_[tp];
    if (!index) index = std::make_unique<offsets::OffsetIndex>(options_.max_segments_per_partition);
  }
  for (int lane : lanes) {
    if (absl::Status s = Refresh(lane); !s.ok()) return s;
  }

  std::vector<PartitionTranslation> out(requests.size());
  std::vector<std::unique_ptr<Search>> searches;
  std::map<int, std::vector<Search*>> searches_by_lane;
  std::vector<std::pair<size_t, int64_t>> beyond;  // request, replicated end (source)
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& [tp, o] = requests[i];
    int lane = LaneOf(tp);
    PartitionTranslation& t = out[i];
    t.source_topic = tp.topic;
    t.partition = tp.partition;
    t.source_offset = o;
    t.target_topic = pipeline_.TargetTopic(tp.topic);
    const LaneState& ls = lanes_[lane];
    auto cp_it = ls.checkpoints.find(tp);
    const offsets::Checkpoint* cp = cp_it == ls.checkpoints.end() ? nullptr : &cp_it->second;
    const offsets::OffsetIndex& index = *indices_[tp];
    int64_t end_target = EndOfReplicatedTarget(index, cp);
    int64_t replicated_end = std::max<int64_t>(cp ? cp->next_source_offset : 0, index.end_source_offset().value_or(0));
    if (end_target < 0) {
      t.status = TranslationStatus::kNotReplicated;
      t.detail = cp == nullptr ? "no checkpoint for the partition: nothing of it is replicated yet"
                               : "no record of the partition is replicated yet";
      t.replicated_source_offset = cp ? cp->next_source_offset : -1;
      continue;
    }
    t.replicated_source_offset = replicated_end;
    if (o >= replicated_end) {
      // Everything replicated is before o: the end of what is replicated,
      // exact unless the source has records in [replicated_end, o).
      t.target_offset = end_target;
      t.status = TranslationStatus::kExact;
      if (o > replicated_end) beyond.emplace_back(i, replicated_end);
      continue;
    }
    if (!index.empty() && *index.lowest_indexed_source_offset() <= o) {
      auto r = index.Translate(o);
      if (!r.ok()) return r.status();
      t.target_offset = r->beyond_replicated ? end_target : r->target_offset;
      t.status = TranslationStatus::kExact;
      continue;
    }
    auto search = std::make_unique<Search>();
    search->request = i;
    search->tp = tp;
    search->offset = o;
    // The newest transaction may not be readable in the offset-sync topic yet.
    if (cp != nullptr) search->candidate = FirstEndingAfter(cp->segments, o);
    if (search->Contains()) search->done = true;
    searches_by_lane[lane].push_back(search.get());
    searches.push_back(std::move(search));
  }

  for (auto& [lane, lane_searches] : searches_by_lane) {
    if (absl::Status s = SearchHistory(lane, lane_searches); !s.ok()) return s;
  }

  // Questions only the source can answer, asked in one call: is there a
  // record between the replicated end and a group's offset past it, and is
  // there one between an offset older than the retained history and the
  // oldest segment that history still has.
  std::vector<std::pair<TopicPartition, int64_t>> probes;
  for (auto& [i, replicated_end] : beyond) probes.emplace_back(requests[i].first, replicated_end);
  std::vector<Search*> need_probe;
  for (auto& search : searches) {
    PartitionTranslation& t = out[search->request];
    if (search->done) {
      // The history holds the answer, or proves nothing after the offset
      // is replicated.
      t.status = TranslationStatus::kExact;
      if (search->candidate) {
        t.target_offset = search->Target();
      } else {
        const LaneState& ls = lanes_[LaneOf(search->tp)];
        auto cp_it = ls.checkpoints.find(search->tp);
        t.target_offset =
            EndOfReplicatedTarget(*indices_[search->tp], cp_it == ls.checkpoints.end() ? nullptr : &cp_it->second);
      }
    } else if (search->history_complete) {
      // Nothing was ever deleted from the history: the candidate is the
      // first record ever replicated at or after the offset.
      if (search->candidate) {
        t.status = TranslationStatus::kExact;
        t.target_offset = search->Target();
      } else {
        t.status = TranslationStatus::kNotReplicated;
        t.detail = "no record at or after the offset is replicated yet";
      }
    } else if (search->candidate) {
      probes.emplace_back(search->tp, search->offset);
      need_probe.push_back(search.get());
    } else {
      t.status = TranslationStatus::kHistoryExpired;
      t.detail = "the retained offset-sync history has no segment of the partition";
    }
  }
  std::map<TopicPartition, int64_t> next_record;
  if (!probes.empty()) {
    auto r = probe_->NextRecord(probes);
    if (!r.ok()) return r.status();
    next_record = std::move(*r);
  }
  for (auto& [i, replicated_end] : beyond) {
    auto it = next_record.find(requests[i].first);
    int64_t next = it == next_record.end() ? replicated_end : it->second;
    if (next < requests[i].second) {
      PartitionTranslation& t = out[i];
      t.status = TranslationStatus::kReplicationBehind;
      t.detail = absl::StrCat("replicated up to source offset ", replicated_end, " but the source has a record at ",
                              next, ", before the group's offset; a consumer at target offset ", t.target_offset,
                              " would see the records from there again once they are replicated");
    }
  }
  for (Search* search : need_probe) {
    PartitionTranslation& t = out[search->request];
    auto it = next_record.find(search->tp);
    if (it != next_record.end() && it->second >= search->candidate->source_start) {
      // The source has nothing between the offset and the oldest retained
      // segment: that segment's first record is the answer.
      t.status = TranslationStatus::kExact;
      t.target_offset = search->Target();
    } else {
      t.status = TranslationStatus::kHistoryExpired;
      t.detail = absl::StrCat(
          "the offset is older than the retained offset-sync history (its oldest segment of the partition starts at "
          "source offset ",
          search->candidate->source_start, ") and the source still has records before that; raise "
          "offset_syncs.retention");
    }
  }
  // Inside a range lost at the source: where the group goes on is right,
  // but it is not "exact": the records from the offset to the range's end
  // exist nowhere.
  for (size_t i = 0; i < requests.size(); ++i) {
    PartitionTranslation& t = out[i];
    if (t.status != TranslationStatus::kExact) continue;
    const offsets::LostRange* lost = LostRangeAt(requests[i].first, requests[i].second);
    if (lost == nullptr) continue;
    t.status = TranslationStatus::kSourceGap;
    t.detail = absl::StrCat("source offsets ", lost->first, "..", lost->end - 1,
                            " were deleted at the source before they were copied (on_source_gap: skip); the group "
                            "never sees source records ", requests[i].second, "..", lost->end - 1,
                            " and goes on at the first record copied after them");
  }
  return out;
}

// Reads the lane's offset-sync partition backwards in growing windows
// until each search is decided or the retained history is exhausted. Reads
// per window are sequential; memory is O(1) per search.
absl::Status OffsetTranslator::SearchHistory(int lane, std::vector<Search*>& searches) {
  auto bounds = reader_->SyncBounds(lane);
  if (!bounds.ok()) return bounds.status();
  std::map<TopicPartition, std::vector<Search*>> by_tp;
  for (Search* s : searches) {
    if (!s->done) by_tp[s->tp].push_back(s);
  }
  int64_t hi = lanes_[lane].sync_position;
  int64_t window = options_.first_window;
  int64_t read = 0;
  while (!by_tp.empty() && hi > bounds->low) {
    int64_t lo = std::max(bounds->low, hi - window);
    auto r = reader_->ReadSyncs(lane, lo, hi, [&](int64_t, const offsets::OffsetSyncRecord& rec) {
      auto it = by_tp.find(TopicPartition{rec.topic, rec.partition});
      if (it == by_tp.end()) return;
      NoteLost(it->first, rec.lost);
      for (Search* s : it->second) s->Consider(rec.segments);
    });
    if (!r.ok()) return r.status();
    read += hi - lo;
    for (auto it = by_tp.begin(); it != by_tp.end();) {
      for (Search* s : it->second) s->EndWindow();
      std::erase_if(it->second, [](Search* s) { return s->done; });
      it = it->second.empty() ? by_tp.erase(it) : std::next(it);
    }
    hi = lo;
    window = std::min(window * 2, options_.max_window);
  }
  // Offsets at 0 were never deleted: the history is the whole history.
  for (Search* s : searches) s->history_complete = !s->done && bounds->low == 0;
  LogDebug("searched offset-sync history", {{"pipeline", pipeline_.name}, {"lane", lane},
                                            {"records", static_cast<long long>(read)}});
  return absl::OkStatus();
}

}  // namespace longhaul::mirror
