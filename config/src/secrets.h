// ${NAME} / ${file:PATH} expansion of config string values. Private to the
// config library: the loader applies it to every scalar value.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "longhaul/config/config.h"

namespace longhaul::config::internal {

struct Expanded {
  std::string value;
  // True when any ${...} was replaced: the value may hold a secret and must
  // not be shown.
  bool expanded = false;
};

// Replaces ${NAME} by the variable from `env`, ${file:PATH} by the file's
// content minus one trailing newline, and $${ by a literal ${; any other $
// is kept. InvalidArgument lists every problem in `text` ("; "-separated),
// naming variables and paths but never a value.
absl::StatusOr<Expanded> ExpandSecrets(std::string_view text, const EnvLookup& env);

// The whole content of the file at `path`. NotFound / PermissionDenied /
// Unavailable with "cannot read <what> <path>: <strerror>".
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, absl::string_view what);

}  // namespace longhaul::config::internal
