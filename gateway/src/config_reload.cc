#include "config_reload.h"

#include "absl/strings/str_cat.h"

namespace longhaul::gateway {
namespace {

template <typename Map, typename Fn>
void CompareMaps(const std::string& prefix, const Map& running, const Map& fresh, std::vector<std::string>* out,
                 Fn compare_entry) {
  for (const auto& [name, value] : running) {
    auto it = fresh.find(name);
    if (it == fresh.end()) {
      out->push_back(absl::StrCat(prefix, ".", name, " (removed)"));
    } else {
      compare_entry(absl::StrCat(prefix, ".", name), value, it->second);
    }
  }
  for (const auto& [name, value] : fresh) {
    if (!running.count(name)) out->push_back(absl::StrCat(prefix, ".", name, " (added)"));
  }
}

}  // namespace

std::vector<std::string> ChangesNeedingRestart(const config::Config& running, const config::Config& fresh) {
  std::vector<std::string> out;
  auto field = [&out](const std::string& path, bool changed) {
    if (changed) out.push_back(path);
  };
  CompareMaps("clusters", running.clusters, fresh.clusters, &out,
              [&](const std::string& at, const config::ClusterConfig& a, const config::ClusterConfig& b) {
                field(at + ".bootstrap", a.bootstrap != b.bootstrap);
                field(at + ".properties", a.properties != b.properties);
                field(at + ".consumer", a.consumer != b.consumer);
                field(at + ".producer", a.producer != b.producer);
                field(at + ".admin", a.admin != b.admin);
              });
  CompareMaps("links", running.links, fresh.links, &out,
              [&](const std::string& at, const config::LinkConfig& a, const config::LinkConfig& b) {
                field(at + ".edge", a.edge.has_value() != b.edge.has_value());
                if (a.edge && b.edge) {
                  const auto &x = *a.edge, &y = *b.edge;
                  field(at + ".edge (hub, server_name, proxy, connections)",
                        x.hubs != y.hubs || x.server_name != y.server_name || x.proxy != y.proxy ||
                            x.proxy_authorization != y.proxy_authorization || x.connections != y.connections);
                  field(at + ".edge (ca_file, cert_file, key_file)",
                        x.ca_file != y.ca_file || x.cert_file != y.cert_file || x.key_file != y.key_file);
                  field(at + ".edge (compression, buffer_bytes, heartbeat_interval, dead_link_timeout)",
                        x.compression != y.compression || x.compression_level != y.compression_level ||
                            x.buffer_bytes != y.buffer_bytes || x.heartbeat_interval != y.heartbeat_interval ||
                            x.dead_link_timeout != y.dead_link_timeout);
                }
                field(at + ".hub", a.hub.has_value() != b.hub.has_value());
                if (a.hub && b.hub) {
                  const auto &x = *a.hub, &y = *b.hub;
                  field(at + ".hub.listen", x.listen != y.listen);
                  field(at + ".hub (ca_file, cert_file, key_file, require_client_cert)",
                        x.ca_file != y.ca_file || x.cert_file != y.cert_file || x.key_file != y.key_file ||
                            x.require_client_cert != y.require_client_cert);
                  field(at + ".hub.identities", x.identities != y.identities);
                  field(at + ".hub.receive_window_bytes", x.receive_window_bytes != y.receive_window_bytes);
                }
              });
  CompareMaps("pipelines", running.pipelines, fresh.pipelines, &out,
              [&](const std::string& at, const config::PipelineConfig& a, const config::PipelineConfig& b) {
                field(at + ".source", a.source != b.source);
                field(at + ".target", a.target != b.target);
                field(at + ".via", a.via != b.via);
                field(at + ".topics", a.topics.include() != b.topics.include() ||
                                          a.topics.exclude() != b.topics.exclude());
                field(at + ".rename", a.rename != b.rename);
                field(at + ".lanes", a.lanes != b.lanes);
                field(at + ".delivery", a.delivery != b.delivery);
                field(at + ".commit_interval", a.commit_interval != b.commit_interval);
                field(at + ".min_commit_interval", a.min_commit_interval != b.min_commit_interval);
                field(at + ".max_transaction_bytes", a.max_transaction_bytes != b.max_transaction_bytes);
                field(at + ".start", a.start != b.start);
                field(at + ".discovery_interval", a.discovery_interval != b.discovery_interval);
                field(at + ".sync_topic_configs", a.sync_topic_configs != b.sync_topic_configs);
                field(at + ".groups", a.groups.filter.include() != b.groups.filter.include() ||
                                          a.groups.filter.exclude() != b.groups.filter.exclude() ||
                                          a.groups.interval != b.groups.interval);
                field(at + ".offset_syncs.retention", a.offset_sync_retention != b.offset_sync_retention);
              });
  field("worker.drain_timeout", running.worker.drain_timeout != fresh.worker.drain_timeout);
  field("worker.buffer_bytes", running.worker.buffer_bytes != fresh.worker.buffer_bytes);
  field("admin.listen", running.admin.listen != fresh.admin.listen);
  field("admin.per_partition_metrics", running.admin.per_partition_metrics != fresh.admin.per_partition_metrics);
  return out;
}

}  // namespace longhaul::gateway
