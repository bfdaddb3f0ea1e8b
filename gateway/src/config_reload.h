// SIGHUP in `longhaul run`: what a re-read, valid config changes in this
// process. config::DiffConfigs says, per key, whether it applies live, by a
// restart of the pipelines concerned, or only by a process restart; this
// adds what the process's role allows (a hub half is created before its
// link listens, so a pipeline whose hub half runs here cannot restart alone)
// and returns the steps run_command.cc carries out. The table of keys is in
// docs/operations.md ("Reload").
#pragma once

#include <set>
#include <string>
#include <vector>

#include "longhaul/config/config.h"
#include "longhaul/config/config_diff.h"
#include "run_command.h"

namespace longhaul::gateway {

struct ReloadPlan {
  // Pipelines whose runners (direct or edge half, or hub half) take over
  // live settings (PipelineRunner::ApplyLive).
  std::vector<std::string> apply_live;
  // Pipelines to drain and start again with the new settings (their direct
  // runner or edge half); every other pipeline keeps running untouched.
  std::vector<std::string> restart;
  // New pipelines to start here, and removed ones to drain and drop.
  std::vector<std::string> start;
  std::vector<std::string> stop;
  // Links whose hub in this process takes new identity rules.
  std::vector<std::string> identities;
  // What is not applied until the process restarts, as key paths with the
  // reason ("admin.listen", "pipelines.p (its hub half runs here)").
  std::vector<std::string> needs_process_restart;
  // Changed keys that were applied (live or by a pipeline restart), for the log.
  std::vector<std::string> applied;
};

// `started`: the config the process started with (what its process-restart
// keys and its hub halves run with). `applied`: the config of the last
// reload (or `started`), which the direct runners and edge halves run with.
// `fresh`: the new file.
ReloadPlan PlanReload(const config::Config& started, const config::Config& applied, const config::Config& fresh,
                      Role role);

// Whether this process runs a half of `pipeline` in `role`: its direct
// runner (kAll only), edge half (kEdge, kAll) or hub half (kHub, kAll).
bool RunsDirect(const config::PipelineConfig& pipeline, Role role);
bool RunsEdge(const config::PipelineConfig& pipeline, Role role);
bool RunsHub(const config::PipelineConfig& pipeline, Role role);

}  // namespace longhaul::gateway
