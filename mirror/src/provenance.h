// Loop prevention for active/active: the provenance header a lane reads and
// writes on every record. Its value is the record's origin cluster followed
// by each pipeline it crossed and the cluster that pipeline wrote it to:
// "east,east-to-west=west". A lane never writes a record into a cluster its
// header names (the record has been there); with provenance stamping on it
// adds its own hop. Cluster and pipeline names are the config's (their
// charset has no ',' or '='); docs/active-active.md says why names, not
// Kafka cluster ids. Private to mirror/; the lane calls ProvenanceRule::Apply.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "longhaul/config/config.h"
#include "record_source.h"

namespace longhaul::mirror {

// Header values longer than this are not read as provenance (hostile or
// broken input); a real trail is a few dozen bytes per hop.
inline constexpr size_t kMaxProvenanceBytes = 4096;

struct ProvenanceTrail {
  std::string origin;                                      // the cluster the record was first written to
  std::vector<std::pair<std::string, std::string>> hops;  // (pipeline, cluster it wrote the record to)

  // The record has been in `cluster`: its origin, or a hop's target.
  bool Visited(std::string_view cluster) const;
  friend bool operator==(const ProvenanceTrail&, const ProvenanceTrail&) = default;
};

// nullopt for anything that is not a well-formed trail (empty, too long,
// names with characters a config name cannot have, a hop without '=').
std::optional<ProvenanceTrail> ParseProvenance(std::string_view value);
std::string FormatProvenance(const ProvenanceTrail& trail);

enum class ProvenanceVerdict {
  kWrite,    // write the record (its header updated when the pipeline stamps)
  kVisited,  // the record has been in the target cluster: do not write it
};

// One pipeline's rule. Cheap to copy; not thread-safe per instance (one per lane).
class ProvenanceRule {
 public:
  // No rule: every record is written, headers untouched.
  ProvenanceRule() = default;
  explicit ProvenanceRule(const config::PipelineConfig& pipeline);

  struct Decision {
    ProvenanceVerdict verdict = ProvenanceVerdict::kWrite;
    // The header's new value when the pipeline stamps; nullopt: leave the
    // headers as they are.
    std::optional<std::string> stamp;
    // A header of this name was present but not a trail: the record is
    // treated as native to the source cluster.
    bool malformed = false;
  };
  // `current`: the value of the record's last header of this rule's name,
  // nullopt when it has none.
  Decision Decide(std::optional<std::string_view> current) const;

  // Decide() on a record's headers. On kWrite with stamping, every header
  // of the rule's name is replaced by one with the new value, at the end.
  // On kVisited the headers are left alone.
  ProvenanceVerdict Apply(RecordHeaders* headers) const;

 private:
  std::string header_;
  std::string pipeline_;
  std::string source_;
  std::string target_;
  bool stamps_ = false;
};

}  // namespace longhaul::mirror
