// Private to longhaul_transport: which certificate may feed which pipeline
// and under what edge name (pure; the hub server calls it at each hello
// with the rules in force then). The name, used by the mirror in topic
// names and checkpoint keys, is the last path segment of the URI SAN that
// matched a rule, else the CN, and must be 1..64 of [A-Za-z0-9._-].
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/transport/link_options.h"

namespace longhaul::transport {

struct PeerIdentity {
  std::string common_name;
  std::vector<std::string> uri_sans;
  // How the hub names it in logs and errors: the first URI SAN, else the CN.
  std::string Display() const { return uri_sans.empty() ? common_name : uri_sans.front(); }
};

// The edge name if a rule lets `peer` feed `pipeline`; PermissionDenied
// otherwise, naming the identity and the pipeline, or the unusable name.
absl::StatusOr<std::string> AuthoriseEdge(const std::vector<IdentityRule>& rules, IdentityMatch match,
                                          const PeerIdentity& peer, std::string_view pipeline);

// True for 1..64 characters of [A-Za-z0-9._-] (and not "." or "..").
bool IsUsableEdgeName(std::string_view name);

// "longhaul://edge/ship-7?x#y" -> "ship-7"; "" when the path ends in '/'.
std::string_view LastPathSegment(std::string_view uri);

}  // namespace longhaul::transport
