// What a re-read config changes for a running process (SIGHUP in `longhaul
// run`): every setting that differs, by its key path, with what it takes to
// apply it. Pure: two Configs in, a plan out. The table of keys and their
// effect is in docs/operations.md ("Reload"); the unit tests in
// tests/unit/config/config_diff_test.cc pin it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "longhaul/config/config.h"

namespace longhaul::config {

enum class ReloadEffect {
  // Applied to the running pipelines in place (no lane stops).
  kLive,
  // The pipelines concerned drain and start again with the new settings;
  // the others keep running untouched.
  kPipelineRestart,
  // Only a process restart applies it; until then the old value stays.
  kProcessRestart,
};
std::string_view ToString(ReloadEffect effect);  // "live", "pipeline restart", "process restart"

struct ConfigChange {
  std::string key;  // "pipelines.p.topics", "clusters.b.bootstrap", "links.l.hub.identities"
  ReloadEffect effect = ReloadEffect::kLive;
  friend bool operator==(const ConfigChange&, const ConfigChange&) = default;
};

struct ConfigDiff {
  // Every changed key, in key order (clusters, links, pipelines, worker,
  // admin). A cluster's change is listed once under clusters.<c>; the
  // pipelines it makes restart are in `restart`.
  std::vector<ConfigChange> changes;
  // Pipelines in both files with a changed live key (whether or not they
  // also restart).
  std::set<std::string> live;
  // Pipelines in both files that must drain and start again: one of their
  // own restart keys changed, or their source or target cluster's settings,
  // or (for a `via` pipeline) its link's edge section.
  std::set<std::string> restart;
  std::set<std::string> added;
  std::set<std::string> removed;
  // Links whose hub identity rules changed (applied live to the hub).
  std::set<std::string> identities;

  bool empty() const { return changes.empty(); }
  // The keys with `effect`, in order.
  std::vector<std::string> Keys(ReloadEffect effect) const;
};

// Compares the running config with a freshly loaded one. Both must have
// passed validation.
ConfigDiff DiffConfigs(const Config& running, const Config& fresh);

// `running` with the live keys of `fresh` taken over (topics, topic_configs,
// sync_topic_configs, groups, discovery_interval, lag_thresholds,
// max_partitions, max_topics); every other field of `running` kept. The
// running pipeline's own adjustments (a hub's `start`) therefore survive.
PipelineConfig WithLiveSettings(const PipelineConfig& running, const PipelineConfig& fresh);

}  // namespace longhaul::config
