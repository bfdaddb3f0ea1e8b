#include "identity.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace longhaul::transport {
namespace {

constexpr size_t kMaxEdgeNameBytes = 64;

bool RuleAllows(const IdentityRule& rule, std::string_view pipeline) {
  return std::any_of(rule.pipelines.begin(), rule.pipelines.end(),
                     [&](const std::string& p) { return p == "*" || p == pipeline; });
}

// A URI matches "prefix/*" when it starts with "prefix/" and what follows is
// one non-empty path segment.
bool UriMatches(std::string_view rule, std::string_view uri) {
  if (!rule.ends_with("/*")) return rule == uri;
  const std::string_view prefix = rule.substr(0, rule.size() - 1);
  if (!uri.starts_with(prefix)) return false;
  const std::string_view rest = uri.substr(prefix.size());
  return !rest.empty() && rest.find('/') == std::string_view::npos;
}

}  // namespace

std::string_view LastPathSegment(std::string_view uri) {
  const size_t end = std::min(uri.find('?'), uri.find('#'));
  if (end != std::string_view::npos) uri = uri.substr(0, end);
  const size_t slash = uri.rfind('/');
  return slash == std::string_view::npos ? uri : uri.substr(slash + 1);
}

bool IsUsableEdgeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxEdgeNameBytes || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

absl::StatusOr<std::string> AuthoriseEdge(const std::vector<IdentityRule>& rules, IdentityMatch match,
                                          const PeerIdentity& peer, std::string_view pipeline) {
  for (const IdentityRule& rule : rules) {
    if (!RuleAllows(rule, pipeline)) continue;
    std::string_view name;
    bool matched = false;
    for (const std::string& uri : peer.uri_sans) {
      if (UriMatches(rule.identity, uri)) {
        matched = true;
        name = LastPathSegment(uri);
        break;
      }
    }
    if (!matched && match == IdentityMatch::kCommonNameOrUri && !peer.common_name.empty() &&
        rule.identity == peer.common_name) {
      matched = true;
      name = peer.common_name;
    }
    if (!matched) continue;
    if (!IsUsableEdgeName(name)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "certificate identity '", peer.Display(), "' matches rule '", rule.identity, "' but its edge name '",
          std::string(name.substr(0, 80)), "' is not 1..64 characters of [A-Za-z0-9._-] (the last path segment of the URI SAN, "
          "else the CN)"));
    }
    return std::string(name);
  }
  return absl::PermissionDeniedError(absl::StrCat("certificate identity '", peer.Display(), "' may not feed pipeline '",
                                                  std::string(pipeline), "' (see the hub's identity rules",
                                                  match == IdentityMatch::kUri ? "; only URI SANs are matched" : "",
                                                  ")"));
}

}  // namespace longhaul::transport
