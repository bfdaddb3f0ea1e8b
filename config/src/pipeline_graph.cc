#include "longhaul/config/pipeline_graph.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace longhaul::config {
namespace {

constexpr size_t kMaxCycles = 256;
constexpr size_t kMaxCycleLength = 16;

// Pipelines that can be walked: both ends known.
std::vector<const PipelineConfig*> Walkable(const std::map<std::string, PipelineConfig>& pipelines) {
  std::vector<const PipelineConfig*> out;
  for (const auto& [name, p] : pipelines) {
    if (!p.source.empty() && !p.target.empty()) out.push_back(&p);
  }
  return out;
}

// Simple cycles (no cluster visited twice), each found once: from its
// first pipeline in name order, through pipelines later in that order.
class CycleFinder {
 public:
  explicit CycleFinder(std::vector<const PipelineConfig*> pipelines) : p_(std::move(pipelines)) {}

  std::vector<std::vector<const PipelineConfig*>> Find() {
    for (size_t start = 0; start < p_.size() && cycles_.size() < kMaxCycles; ++start) {
      path_ = {start};
      clusters_ = {p_[start]->source};
      Extend(start);
    }
    return std::move(cycles_);
  }

 private:
  void Extend(size_t start) {
    const std::string& at = p_[path_.back()]->target;
    if (at == p_[start]->source) {
      std::vector<const PipelineConfig*> cycle;
      for (size_t i : path_) cycle.push_back(p_[i]);
      cycles_.push_back(std::move(cycle));
      return;
    }
    if (path_.size() == kMaxCycleLength || clusters_.count(at)) return;
    clusters_.insert(at);
    for (size_t next = start + 1; next < p_.size() && cycles_.size() < kMaxCycles; ++next) {
      if (p_[next]->source != at) continue;
      path_.push_back(next);
      Extend(start);
      path_.pop_back();
    }
    clusters_.erase(at);
  }

  std::vector<const PipelineConfig*> p_;
  std::vector<size_t> path_;
  std::set<std::string> clusters_;
  std::vector<std::vector<const PipelineConfig*>> cycles_;
};

// One example record going round `cycle` from position `first`: true (and
// the trail) when it comes back to the cluster it started from, or, on a
// cycle of one pipeline, is copied a second time.
std::optional<std::string> WalkRound(const std::vector<const PipelineConfig*>& cycle, size_t first,
                                     const std::string& topic) {
  const size_t k = cycle.size();
  const size_t loop_after = k == 1 ? 2 : k;
  // Provenance as the record's headers would carry it: header name ->
  // clusters visited. Absent: the record has no such header.
  std::map<std::string, std::set<std::string>> provenance;
  std::string name = topic;
  std::string trail = absl::StrCat("'", name, "' on '", cycle[first]->source, "'");
  for (size_t written = 0; written < loop_after;) {
    const PipelineConfig& p = *cycle[(first + written) % k];
    if (!p.topics.Matches(name)) return std::nullopt;
    auto header = provenance.find(p.provenance_header);
    if (header != provenance.end() && header->second.count(p.target)) return std::nullopt;
    if (p.stamps_provenance) {
      if (header == provenance.end()) header = provenance.emplace(p.provenance_header, std::set{p.source}).first;
      header->second.insert(p.target);
    }
    name = p.TargetTopic(name, "edge");
    absl::StrAppend(&trail, " -> '", name, "' on '", p.target, "' (", p.name, ")");
    ++written;
  }
  return trail;
}

// Splits at '|' outside groups and classes.
std::vector<std::string> TopLevelAlternatives(const std::string& pattern) {
  std::vector<std::string> out(1);
  int depth = 0;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      out.back() += pattern.substr(i, 2);
      ++i;
      continue;
    }
    if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      out.emplace_back();
      continue;
    }
    out.back() += c;
  }
  return out;
}

// One string along one path through a pattern without top-level '|'.
std::string OnePath(const std::string& alt) {
  std::string out;
  std::string last;  // the piece written last, for a counted repeat
  // Per open group: whether the rest of it is skipped (after its first '|').
  std::vector<bool> skipping;
  auto skipped = [&] {
    for (bool s : skipping) {
      if (s) return true;
    }
    return false;
  };
  for (size_t i = 0; i < alt.size(); ++i) {
    const char c = alt[i];
    if (c == '(') {
      skipping.push_back(false);
      if (alt.compare(i + 1, 2, "?:") == 0) i += 2;
      continue;
    }
    if (c == ')') {
      if (!skipping.empty()) skipping.pop_back();
      continue;
    }
    if (c == '|') {
      if (!skipping.empty()) skipping.back() = true;
      continue;
    }
    if (c == '[') {  // a class: its first member (or 'x' for a negated one)
      size_t j = i + 1;
      std::string member;
      if (j < alt.size() && alt[j] == '^') {
        member = "x";
        ++j;
      }
      for (; j < alt.size() && alt[j] != ']'; ++j) {
        if (member.empty()) member = alt[j] == '\\' && j + 1 < alt.size() ? std::string(1, alt[j + 1]) : std::string(1, alt[j]);
        if (alt[j] == '\\') ++j;
      }
      i = j;
      last = member;
      if (!skipped()) out += member;
      continue;
    }
    if (c == '{') {  // a counted repeat of the last piece: at least its minimum
      size_t end = alt.find('}', i);
      if (end == std::string::npos) end = alt.size();
      const int least = std::atoi(alt.substr(i + 1, end - i - 1).c_str());
      if (!skipped() && out.size() >= last.size()) {
        if (least == 0) {
          out.resize(out.size() - last.size());
        } else {
          for (int n = 1; n < least && n < 64; ++n) out += last;
        }
      }
      i = end;
      continue;
    }
    if (c == '*' || c == '+' || c == '?' || c == '^' || c == '$') continue;
    std::string piece(1, c);
    if (c == '.') piece = "x";
    if (c == '\\' && i + 1 < alt.size()) {
      const char e = alt[++i];
      switch (e) {
        case 'd': piece = "0"; break;
        case 'w': piece = "a"; break;
        case 'D': case 'W': case 'S': piece = "x"; break;
        case 's': case 'b': case 'B': piece.clear(); break;
        default: piece = std::string(1, e);
      }
    }
    last = piece;
    if (!skipped()) out += piece;
  }
  return out;
}

}  // namespace

std::set<std::string> PipelinesOnCycles(const std::map<std::string, PipelineConfig>& pipelines) {
  const std::vector<const PipelineConfig*> walkable = Walkable(pipelines);
  std::set<std::string> out;
  for (const PipelineConfig* p : walkable) {
    // Breadth-first from the target over clusters, looking for the source.
    std::set<std::string> seen{p->target};
    std::vector<std::string> frontier{p->target};
    bool found = p->target == p->source;
    while (!found && !frontier.empty()) {
      std::vector<std::string> next;
      for (const std::string& cluster : frontier) {
        for (const PipelineConfig* q : walkable) {
          if (q->source != cluster || seen.count(q->target)) continue;
          if (q->target == p->source) found = true;
          seen.insert(q->target);
          next.push_back(q->target);
        }
      }
      frontier = std::move(next);
    }
    if (found) out.insert(p->name);
  }
  return out;
}

std::vector<OpenCycle> FindOpenCycles(const std::map<std::string, PipelineConfig>& pipelines) {
  std::vector<OpenCycle> out;
  for (const auto& cycle : CycleFinder(Walkable(pipelines)).Find()) {
    std::optional<OpenCycle> open;
    for (size_t first = 0; first < cycle.size() && !open; ++first) {
      for (const std::string& pattern : cycle[first]->topics.include()) {
        for (const std::string& topic : ExampleTopicNames(pattern)) {
          if (auto trail = WalkRound(cycle, first, topic)) {
            open.emplace();
            for (size_t i = 0; i < cycle.size(); ++i) open->pipelines.push_back(cycle[(first + i) % cycle.size()]->name);
            open->trail = std::move(*trail);
            break;
          }
        }
        if (open) break;
      }
    }
    if (open) out.push_back(std::move(*open));
  }
  return out;
}

std::vector<std::string> ExampleTopicNames(const std::string& pattern) {
  std::vector<std::string> out;
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    return out;
  }
  for (const std::string& alt : TopLevelAlternatives(pattern)) {
    std::string name = OnePath(alt);
    if (name.empty() || !std::regex_match(name, re)) continue;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

}  // namespace longhaul::config
