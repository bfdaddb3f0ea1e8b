#include "provenance.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace longhaul::mirror {
namespace {

// Config names: letters, digits, '.', '_' and '-' (config/parse_config.cc).
bool IsConfigName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

bool ProvenanceTrail::Visited(std::string_view cluster) const {
  if (origin == cluster) return true;
  return std::any_of(hops.begin(), hops.end(), [&](const auto& hop) { return hop.second == cluster; });
}

std::optional<ProvenanceTrail> ParseProvenance(std::string_view value) {
  if (value.empty() || value.size() > kMaxProvenanceBytes) return std::nullopt;
  ProvenanceTrail trail;
  bool first = true;
  for (absl::string_view part : absl::StrSplit(absl::string_view(value.data(), value.size()), ',')) {
    if (first) {
      if (!IsConfigName(std::string_view(part.data(), part.size()))) return std::nullopt;
      trail.origin = std::string(part);
      first = false;
      continue;
    }
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos) return std::nullopt;
    std::string_view pipeline(part.data(), eq);
    std::string_view cluster(part.data() + eq + 1, part.size() - eq - 1);
    if (!IsConfigName(pipeline) || !IsConfigName(cluster)) return std::nullopt;
    trail.hops.emplace_back(std::string(pipeline), std::string(cluster));
  }
  return trail;
}

std::string FormatProvenance(const ProvenanceTrail& trail) {
  std::string out = trail.origin;
  for (const auto& [pipeline, cluster] : trail.hops) {
    out.append(",").append(pipeline).append("=").append(cluster);
  }
  return out;
}

ProvenanceRule::ProvenanceRule(const config::PipelineConfig& pipeline)
    : header_(pipeline.provenance_header),
      pipeline_(pipeline.name),
      source_(pipeline.source),
      target_(pipeline.target),
      stamps_(pipeline.stamps_provenance) {}

ProvenanceRule::Decision ProvenanceRule::Decide(std::optional<std::string_view> current) const {
  Decision d;
  std::optional<ProvenanceTrail> trail;
  if (current) {
    trail = ParseProvenance(*current);
    d.malformed = !trail.has_value();
  }
  if (trail && trail->Visited(target_)) {
    d.verdict = ProvenanceVerdict::kVisited;
    return d;
  }
  if (!stamps_) return d;
  // No trail (or a broken one): the record was written by a producer of the
  // source cluster, so the source is where it comes from.
  if (!trail) trail = ProvenanceTrail{source_, {}};
  trail->hops.emplace_back(pipeline_, target_);
  d.stamp = FormatProvenance(*trail);
  return d;
}

ProvenanceVerdict ProvenanceRule::Apply(RecordHeaders* headers) const {
  if (header_.empty()) return ProvenanceVerdict::kWrite;  // no rule
  std::optional<std::string_view> value;
  std::optional<std::string_view> current;
  // A null value is a header too, just not a trail.
  if (headers->GetLast(header_, &value)) current = value.value_or(std::string_view());
  const Decision d = Decide(current);
  if (d.verdict == ProvenanceVerdict::kWrite && d.stamp) {
    if (current) headers->RemoveAll(header_);
    headers->Add(header_, *d.stamp);
  }
  return d.verdict;
}

}  // namespace longhaul::mirror
