// `longhaul validate --connect`: connects to every cluster of a config as
// the config's own principals would, and checks that each pipeline may do
// what it needs there, naming the ACL that is missing. Side effects are kept
// to what cannot be avoided: topic creation is asked with validate_only, the
// transactional-id check initialises a probe id of the pipeline's prefix
// (never a lane's own id, which would fence a running worker), and WRITE on
// an existing target topic is probed by adding its partition 0 to a probe
// transaction that is then aborted: no record is written, the partition
// gets one abort marker (a control record no consumer sees).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "longhaul/config/config.h"

namespace longhaul::mirror {

struct ConnectionFinding {
  enum class Severity { kOk, kNotChecked, kMissing, kError };
  Severity severity = Severity::kOk;
  // "cluster 'src'" or "pipeline 'p' on target cluster 'dst'".
  std::string subject;
  // What was checked and what came of it. For kMissing: the ACL, as
  // "WRITE on TRANSACTIONAL_ID (PREFIXED) 'longhaul.p.lane-'"; for kError:
  // the cluster's error (authentication, TLS, unreachable).
  std::string message;
};

// One line per finding: "ok", "not checked", "MISSING ACL" or "ERROR".
std::string_view ToString(ConnectionFinding::Severity severity);

// Checks every cluster (reachable, authenticated) and then every pipeline
// whose clusters answered:
//   source: DESCRIBE and READ on each matched topic (literal include
//           patterns are asked for by name, so a topic the principal may not
//           see is still named), DESCRIBE_CONFIGS when topic configs sync;
//   target: CREATE for target topics and internal topics that do not exist
//           yet (validate_only), DESCRIBE_CONFIGS and ALTER_CONFIGS on existing
//           target topics when configs sync, WRITE on the pipeline's
//           transactional-id prefix (exactly-once pipelines), DESCRIBE on the
//           lane group and on synced consumer groups.
//           WRITE on existing target and internal topics (through the probe
//           id; not checked when that id is refused, and for topics that do
//           not exist yet, where CREATE is checked).
// Blocks; each request is bounded by `timeout`.
// Pipelines that run via a link are checked like direct ones (this process
// may be only one of their halves: run it where each cluster is reachable).
std::vector<ConnectionFinding> CheckConnections(const config::Config& config, std::chrono::milliseconds timeout);

}  // namespace longhaul::mirror
