// SIGHUP in `longhaul run`: what a re-read config changes. The running
// pipelines keep the config they started with; of a new valid file only the
// log level is applied at once, and every other difference is named so the
// operator knows a restart is needed for it (docs/operations.md, "Reload").
#pragma once

#include <string>
#include <vector>

#include "longhaul/config/config.h"

namespace longhaul::gateway {

// The settings that differ between `running` and `fresh`, as config key
// paths with what changed ("pipelines.p.topics (include/exclude)",
// "pipelines.q (added)"), in key order. worker.log_level is not listed (a
// reload applies it). Empty: nothing but the log level changed.
std::vector<std::string> ChangesNeedingRestart(const config::Config& running, const config::Config& fresh);

}  // namespace longhaul::gateway
