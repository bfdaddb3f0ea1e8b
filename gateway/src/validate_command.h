// `longhaul validate -c FILE [--connect]`: the offline check of the config
// (every error with file:line and key, warnings for settings that defeat
// security), and with --connect the online one (every cluster reachable and
// authenticated, every pipeline's principal allowed what it needs).
#pragma once

#include <string>

namespace longhaul::gateway {

struct ValidateOptions {
  std::string config_file;
  bool connect = false;
  int timeout_ms = 10'000;  // per request, with --connect
};

// Prints to stdout (findings) and stderr (errors). Returns 0 when the file
// is valid and, with --connect, nothing is missing or failing; 1 otherwise.
int ValidateCommand(const ValidateOptions& opts);

}  // namespace longhaul::gateway
