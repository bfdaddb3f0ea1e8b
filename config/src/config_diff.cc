#include "longhaul/config/config_diff.h"

#include "absl/strings/str_cat.h"

namespace longhaul::config {
namespace {

bool SameFilter(const TopicFilter& a, const TopicFilter& b) {
  return a.include() == b.include() && a.exclude() == b.exclude();
}

// Collects changes under one prefix ("pipelines.p") with their effect.
class Changes {
 public:
  Changes(std::vector<ConfigChange>* out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}
  // Records `key` when `changed`; returns `changed`.
  bool Add(const std::string& key, bool changed, ReloadEffect effect) {
    if (changed) out_->push_back(ConfigChange{absl::StrCat(prefix_, ".", key), effect});
    return changed;
  }

 private:
  std::vector<ConfigChange>* out_;
  std::string prefix_;
};

// True when a cluster's client settings differ (every client of it must be
// created again). Secrets are compared by value: a rotated password file
// read again on reload restarts the pipelines that use the cluster.
bool DiffCluster(const ClusterConfig& a, const ClusterConfig& b, Changes& c) {
  constexpr ReloadEffect r = ReloadEffect::kPipelineRestart;
  bool any = false;
  any |= c.Add("bootstrap", a.bootstrap != b.bootstrap, r);
  any |= c.Add("properties", a.properties != b.properties, r);
  any |= c.Add("consumer", a.consumer != b.consumer, r);
  any |= c.Add("producer", a.producer != b.producer, r);
  any |= c.Add("admin", a.admin != b.admin, r);
  return any;
}

// The edge section: every setting shapes the edge's link, so the edge
// halves of the link's pipelines restart (a new link resumes from the
// hub's committed offsets, so nothing is lost or repeated).
bool DiffEdge(const LinkEdgeConfig& x, const LinkEdgeConfig& y, Changes& c) {
  constexpr ReloadEffect r = ReloadEffect::kPipelineRestart;
  bool any = false;
  any |= c.Add("edge.hub", x.hubs != y.hubs, r);
  any |= c.Add("edge.server_name", x.server_name != y.server_name, r);
  any |= c.Add("edge.ca_file", x.ca_file != y.ca_file, r);
  any |= c.Add("edge.cert_file", x.cert_file != y.cert_file, r);
  any |= c.Add("edge.key_file", x.key_file != y.key_file, r);
  any |= c.Add("edge.proxy", x.proxy != y.proxy, r);
  any |= c.Add("edge.proxy_authorization", x.proxy_authorization != y.proxy_authorization, r);
  any |= c.Add("edge.connections", x.connections != y.connections, r);
  any |= c.Add("edge.compression", x.compression != y.compression || x.compression_level != y.compression_level, r);
  any |= c.Add("edge.buffer_bytes", x.buffer_bytes != y.buffer_bytes, r);
  any |= c.Add("edge.heartbeat_interval", x.heartbeat_interval != y.heartbeat_interval, r);
  any |= c.Add("edge.dead_link_timeout", x.dead_link_timeout != y.dead_link_timeout, r);
  any |= c.Add("edge.report_interval", x.report_interval != y.report_interval, r);
  any |= c.Add("edge.priorities", x.priorities != y.priorities, r);
  any |= c.Add("edge.rate_limit", x.rate_limit_bits_per_second != y.rate_limit_bits_per_second, r);
  return any;
}

// The hub section: one listener serves every pipeline of the link, so its
// settings need a process restart, except the identity rules, which the
// running server replaces in place. (The TLS and CRL files' contents are
// re-read on every handshake when they change on disk; only their paths
// are fixed.)
void DiffHub(const LinkHubConfig& x, const LinkHubConfig& y, Changes& c) {
  constexpr ReloadEffect p = ReloadEffect::kProcessRestart;
  c.Add("hub.listen", x.listen != y.listen, p);
  c.Add("hub.ca_file", x.ca_file != y.ca_file, p);
  c.Add("hub.cert_file", x.cert_file != y.cert_file, p);
  c.Add("hub.key_file", x.key_file != y.key_file, p);
  c.Add("hub.crl_file", x.crl_file != y.crl_file, p);
  c.Add("hub.require_client_cert", x.require_client_cert != y.require_client_cert, p);
  c.Add("hub.identities", x.identities != y.identities, ReloadEffect::kLive);
  c.Add("hub.identity_match", x.identity_uri_only != y.identity_uri_only, p);
  c.Add("hub.receive_window_bytes", x.receive_window_bytes != y.receive_window_bytes, p);
  c.Add("hub.max_sessions", x.max_sessions != y.max_sessions, p);
  c.Add("hub.max_sessions_per_identity", x.max_sessions_per_identity != y.max_sessions_per_identity, p);
  c.Add("hub.max_pending_handshakes_per_address",
        x.max_pending_handshakes_per_address != y.max_pending_handshakes_per_address, p);
  c.Add("hub.max_records_per_batch", x.max_records_per_batch != y.max_records_per_batch, p);
  c.Add("hub.max_outbound_bytes", x.max_outbound_bytes != y.max_outbound_bytes, p);
}

// Returns {live changed, restart needed} for one pipeline's own keys.
std::pair<bool, bool> DiffPipeline(const PipelineConfig& a, const PipelineConfig& b, Changes& c) {
  constexpr ReloadEffect r = ReloadEffect::kPipelineRestart;
  constexpr ReloadEffect l = ReloadEffect::kLive;
  bool restart = false;
  restart |= c.Add("source", a.source != b.source, r);
  restart |= c.Add("target", a.target != b.target, r);
  restart |= c.Add("via", a.via != b.via, r);
  bool live = c.Add("topics", !SameFilter(a.topics, b.topics), l);
  restart |= c.Add("rename", a.rename != b.rename, r);
  restart |= c.Add("edges", a.edges != b.edges, r);
  restart |= c.Add("edge_header", a.edge_header != b.edge_header, r);
  live |= c.Add("max_partitions", a.max_partitions != b.max_partitions, l);
  live |= c.Add("max_topics", a.max_topics != b.max_topics, l);
  restart |= c.Add("lanes", a.lanes != b.lanes, r);
  restart |= c.Add("delivery", a.delivery != b.delivery, r);
  restart |= c.Add("commit_interval", a.commit_interval != b.commit_interval, r);
  restart |= c.Add("min_commit_interval", a.min_commit_interval != b.min_commit_interval, r);
  restart |= c.Add("max_transaction_bytes", a.max_transaction_bytes != b.max_transaction_bytes, r);
  restart |= c.Add("start", a.start != b.start, r);
  live |= c.Add("discovery_interval", a.discovery_interval != b.discovery_interval, l);
  live |= c.Add("sync_topic_configs", a.sync_topic_configs != b.sync_topic_configs, l);
  live |= c.Add("topic_configs", !SameFilter(a.topic_configs, b.topic_configs), l);
  restart |= c.Add("replication_factor", a.replication_factor != b.replication_factor, r);
  live |= c.Add("groups", !SameFilter(a.groups.filter, b.groups.filter) || a.groups.interval != b.groups.interval, l);
  restart |= c.Add("offset_syncs.retention", a.offset_sync_retention != b.offset_sync_retention, r);
  restart |= c.Add("on_source_gap", a.on_source_gap != b.on_source_gap, r);
  live |= c.Add("lag_thresholds", a.lagging_after != b.lagging_after || a.stalled_after != b.stalled_after, l);
  return {live, restart};
}

}  // namespace

std::string_view ToString(ReloadEffect effect) {
  switch (effect) {
    case ReloadEffect::kLive: return "live";
    case ReloadEffect::kPipelineRestart: return "pipeline restart";
    case ReloadEffect::kProcessRestart: return "process restart";
  }
  return "process restart";
}

std::vector<std::string> ConfigDiff::Keys(ReloadEffect effect) const {
  std::vector<std::string> out;
  for (const ConfigChange& c : changes) {
    if (c.effect == effect) out.push_back(c.key);
  }
  return out;
}

ConfigDiff DiffConfigs(const Config& running, const Config& fresh) {
  ConfigDiff d;
  std::set<std::string> changed_clusters, changed_edges;
  for (const auto& [name, a] : running.clusters) {
    auto it = fresh.clusters.find(name);
    // A removed cluster is used by no fresh pipeline; the running pipelines
    // that used it changed their source or target and restart for that.
    if (it == fresh.clusters.end()) {
      d.changes.push_back({absl::StrCat("clusters.", name, " (removed)"), ReloadEffect::kLive});
      continue;
    }
    Changes c(&d.changes, absl::StrCat("clusters.", name));
    if (DiffCluster(a, it->second, c)) changed_clusters.insert(name);
  }
  for (const auto& [name, _] : fresh.clusters) {
    if (!running.clusters.count(name)) {
      d.changes.push_back({absl::StrCat("clusters.", name, " (added)"), ReloadEffect::kLive});
    }
  }
  for (const auto& [name, a] : running.links) {
    auto it = fresh.links.find(name);
    if (it == fresh.links.end()) {
      d.changes.push_back({absl::StrCat("links.", name, " (removed)"), ReloadEffect::kLive});
      continue;
    }
    const LinkConfig& b = it->second;
    Changes c(&d.changes, absl::StrCat("links.", name));
    if (c.Add("edge", a.edge.has_value() != b.edge.has_value(), ReloadEffect::kPipelineRestart)) {
      changed_edges.insert(name);
    } else if (a.edge && DiffEdge(*a.edge, *b.edge, c)) {
      changed_edges.insert(name);
    }
    if (!c.Add("hub", a.hub.has_value() != b.hub.has_value(), ReloadEffect::kProcessRestart) && a.hub) {
      DiffHub(*a.hub, *b.hub, c);
      if (a.hub->identities != b.hub->identities) d.identities.insert(name);
    }
  }
  for (const auto& [name, _] : fresh.links) {
    if (!running.links.count(name)) {
      d.changes.push_back({absl::StrCat("links.", name, " (added)"), ReloadEffect::kLive});
    }
  }
  for (const auto& [name, a] : running.pipelines) {
    auto it = fresh.pipelines.find(name);
    if (it == fresh.pipelines.end()) {
      d.changes.push_back({absl::StrCat("pipelines.", name, " (removed)"), ReloadEffect::kPipelineRestart});
      d.removed.insert(name);
      continue;
    }
    const PipelineConfig& b = it->second;
    Changes c(&d.changes, absl::StrCat("pipelines.", name));
    auto [live, restart] = DiffPipeline(a, b, c);
    // Settings the pipeline inherits: its clusters' and its link's edge.
    restart |= changed_clusters.count(a.source) || changed_clusters.count(a.target);
    restart |= !a.via.empty() && a.via == b.via && changed_edges.count(a.via);
    if (restart) d.restart.insert(name);
    if (live) d.live.insert(name);
  }
  for (const auto& [name, _] : fresh.pipelines) {
    if (!running.pipelines.count(name)) {
      d.changes.push_back({absl::StrCat("pipelines.", name, " (added)"), ReloadEffect::kPipelineRestart});
      d.added.insert(name);
    }
  }
  Changes worker(&d.changes, "worker");
  worker.Add("drain_timeout", running.worker.drain_timeout != fresh.worker.drain_timeout,
             ReloadEffect::kProcessRestart);
  worker.Add("buffer_bytes", running.worker.buffer_bytes != fresh.worker.buffer_bytes, ReloadEffect::kProcessRestart);
  worker.Add("log_level", running.worker.log_level != fresh.worker.log_level, ReloadEffect::kLive);
  Changes admin(&d.changes, "admin");
  admin.Add("listen", running.admin.listen != fresh.admin.listen, ReloadEffect::kProcessRestart);
  admin.Add("per_partition_metrics", running.admin.per_partition_metrics != fresh.admin.per_partition_metrics,
            ReloadEffect::kProcessRestart);
  return d;
}

PipelineConfig WithLiveSettings(const PipelineConfig& running, const PipelineConfig& fresh) {
  PipelineConfig out = running;
  out.topics = fresh.topics;
  out.max_partitions = fresh.max_partitions;
  out.max_topics = fresh.max_topics;
  out.discovery_interval = fresh.discovery_interval;
  out.sync_topic_configs = fresh.sync_topic_configs;
  out.topic_configs = fresh.topic_configs;
  out.groups = fresh.groups;
  out.lagging_after = fresh.lagging_after;
  out.stalled_after = fresh.stalled_after;
  return out;
}

}  // namespace longhaul::config
