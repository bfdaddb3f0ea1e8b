#include "config_reload.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace longhaul::gateway {
namespace {

using config::ReloadEffect;

const config::PipelineConfig* Find(const config::Config& c, const std::string& name) {
  auto it = c.pipelines.find(name);
  return it == c.pipelines.end() ? nullptr : &it->second;
}

// Runs a direct runner or an edge half here: the parts a reload can stop
// and start again on their own.
bool RunsRestartable(const config::PipelineConfig* p, Role role) {
  return p != nullptr && (RunsDirect(*p, role) || RunsEdge(*p, role));
}

}  // namespace

bool RunsDirect(const config::PipelineConfig& pipeline, Role role) {
  return pipeline.via.empty() && role == Role::kAll;
}
bool RunsEdge(const config::PipelineConfig& pipeline, Role role) {
  return !pipeline.via.empty() && role != Role::kHub;
}
bool RunsHub(const config::PipelineConfig& pipeline, Role role) {
  return !pipeline.via.empty() && role != Role::kEdge;
}

ReloadPlan PlanReload(const config::Config& started, const config::Config& applied, const config::Config& fresh,
                      Role role) {
  const config::ConfigDiff since_applied = config::DiffConfigs(applied, fresh);
  const config::ConfigDiff since_start = config::DiffConfigs(started, fresh);
  ReloadPlan plan;

  // Links whose hub end runs here (created at start, one listener each).
  std::set<std::string> hubs_here;
  for (const auto& [name, p] : started.pipelines) {
    if (RunsHub(p, role)) hubs_here.insert(p.via);
  }
  auto hub_here = [&](const std::string& pipeline) {
    const config::PipelineConfig* p = Find(started, pipeline);
    return p != nullptr && RunsHub(*p, role);
  };

  // A pipeline whose hub half runs here, or would after the change, waits
  // for a process restart as a whole (both halves keep their settings);
  // judged against the start, so the note stays until the restart.
  std::set<std::string> deferred;
  for (const std::string& name : since_start.restart) {
    const config::PipelineConfig* now = Find(fresh, name);
    if (hub_here(name) || (now != nullptr && RunsHub(*now, role))) deferred.insert(name);
  }
  for (const std::string& name : since_start.removed) {
    if (hub_here(name)) deferred.insert(name);
  }
  for (const std::string& name : since_start.added) {
    if (RunsHub(fresh.pipelines.at(name), role)) deferred.insert(name);
  }
  for (const std::string& name : deferred) {
    plan.needs_process_restart.push_back(absl::StrCat("pipelines.", name, " (its hub half runs in this process)"));
  }

  for (const std::string& name : since_applied.restart) {
    if (deferred.count(name)) continue;
    if (RunsRestartable(Find(applied, name), role) || RunsRestartable(Find(fresh, name), role)) {
      plan.restart.push_back(name);
    }
  }
  for (const std::string& name : since_applied.added) {
    if (!deferred.count(name) && RunsRestartable(Find(fresh, name), role)) plan.start.push_back(name);
  }
  for (const std::string& name : since_applied.removed) {
    if (!deferred.count(name) && RunsRestartable(Find(applied, name), role)) plan.stop.push_back(name);
  }
  const std::set<std::string> restarting(plan.restart.begin(), plan.restart.end());
  for (const std::string& name : since_applied.live) {
    const config::PipelineConfig* p = Find(applied, name);
    const bool runs_here = RunsRestartable(p, role) || hub_here(name);
    if (runs_here && !restarting.count(name)) plan.apply_live.push_back(name);
  }
  for (const std::string& link : since_applied.identities) {
    if (hubs_here.count(link)) plan.identities.push_back(link);
  }

  // Keys only a process restart applies, against what the process started
  // with; a hub section matters only where that hub runs.
  for (const config::ConfigChange& c : since_start.changes) {
    if (c.effect != ReloadEffect::kProcessRestart) continue;
    if (absl::StartsWith(c.key, "links.")) {
      bool here = false;
      for (const std::string& link : hubs_here) here |= absl::StartsWith(c.key, absl::StrCat("links.", link, ".hub"));
      if (!here) continue;
    }
    plan.needs_process_restart.push_back(c.key);
  }
  for (const std::string& link : hubs_here) {
    if (!fresh.links.count(link)) plan.needs_process_restart.push_back(absl::StrCat("links.", link, " (removed)"));
  }

  for (const config::ConfigChange& c : since_applied.changes) {
    if (c.effect == ReloadEffect::kProcessRestart) continue;
    bool held = false;
    for (const std::string& name : deferred) {
      held |= c.key == absl::StrCat("pipelines.", name, " (added)") ||
              c.key == absl::StrCat("pipelines.", name, " (removed)") ||
              (absl::StartsWith(c.key, absl::StrCat("pipelines.", name, ".")) && c.effect != ReloadEffect::kLive);
    }
    if (!held) plan.applied.push_back(c.key);
  }
  return plan;
}

}  // namespace longhaul::gateway
