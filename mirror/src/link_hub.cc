// LinkHub: the hub end of one link in this process (pipeline_runner.h).
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "hub_router.h"
#include "longhaul/base/logging.h"
#include "longhaul/mirror/pipeline_runner.h"
#include "longhaul/transport/edge_link.h"
#include "longhaul/transport/hub_server.h"
#include "source_side.h"

namespace longhaul::mirror {
namespace {

class LinkHubImpl final : public LinkHub {
 public:
  LinkHubImpl(const config::Config& config, const config::LinkConfig& link, metrics::Registry* registry)
      : config_(config),
        link_(link),
        registry_(registry),
        router_(std::make_unique<HubRouter>(link.name, link.hub ? link.hub->forget_edges_after
                                                                : EdgeBacklogLimits{}.forget_after)),
        collector_(registry->AddCollector([this](metrics::CollectorSink& sink) { Collect(sink); })) {}

  ~LinkHubImpl() override {
    collector_.Reset();
    Stop();
  }

  absl::StatusOr<std::unique_ptr<PipelineRunner>> CreatePipelineRunner(const std::string& name) override {
    auto it = config_.pipelines.find(name);
    if (it == config_.pipelines.end()) {
      return absl::NotFoundError(absl::StrCat("no pipeline named '", name, "' in ", config_.file));
    }
    if (it->second.via != link_.name) {
      return absl::InvalidArgumentError(
          absl::StrCat("pipeline '", name, "' does not run via link '", link_.name, "'"));
    }
    if (started_) return absl::FailedPreconditionError("hub halves must be created before the hub starts");
    // The hub's copy of the pipeline: the edge resolves where a partition
    // the hub does not know starts, and the hub takes what the edge sends
    // first, so its lanes always start "earliest" (they never look for a
    // latest offset they have no way to read).
    config::Config hub_config = config_;
    config::PipelineConfig& p = hub_config.pipelines.at(name);
    p.start = config::StartPosition::kEarliest;
    std::shared_ptr<HubPipeline> hub_pipeline = router_->AddPipeline(p);
    return MakeLanePipelineRunner(hub_config, name, registry_, MakeHubSourceSide(hub_pipeline, router_.get()));
  }

  absl::Status Start() override {
    const config::LinkHubConfig& h = *link_.hub;
    transport::HubServerOptions o;
    o.listen = h.listen;
    o.tls.ca_file = h.ca_file;
    o.tls.cert_file = h.cert_file;
    o.tls.key_file = h.key_file;
    o.require_client_cert = h.require_client_cert;
    for (const auto& [identity, pipelines] : h.identities) o.identities.push_back({identity, pipelines});
    o.receive_window_bytes = static_cast<uint64_t>(h.receive_window_bytes);
    o.identity_match = h.identity_uri_only ? transport::IdentityMatch::kUri : o.identity_match;
    o.tls.crl_file = h.crl_file;
    o.max_sessions = static_cast<int>(h.max_sessions);
    o.max_sessions_per_identity = static_cast<int>(h.max_sessions_per_identity);
    o.max_pending_handshakes_per_address = static_cast<int>(h.max_pending_handshakes_per_address);
    o.max_records_per_batch = static_cast<uint32_t>(h.max_records_per_batch);
    o.max_outbound_bytes = static_cast<uint64_t>(h.max_outbound_bytes);
    // Edges send batches of up to EdgeLinkOptions::max_batch_bytes (8 MiB by
    // default); the hub must take them and grant credit for at least one.
    const uint64_t edge_max_batch = transport::EdgeLinkOptions{}.max_batch_bytes;
    if (o.receive_window_bytes < edge_max_batch) {
      return absl::InvalidArgumentError(absl::StrCat("links.", link_.name, ".hub.receive_window_bytes: ",
                                                     o.receive_window_bytes, " is less than the largest batch an "
                                                     "edge sends (", edge_max_batch, " bytes)"));
    }
    o.max_batch_bytes = std::max(edge_max_batch, std::min<uint64_t>(o.max_batch_bytes, o.receive_window_bytes));
    if (absl::Status s = transport::ValidateHubServerOptions(o); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("links.", link_.name, ".hub: ", s.message()));
    }
    auto server = transport::HubServer::Start(o, router_.get());
    if (!server.ok()) {
      return absl::Status(server.status().code(),
                          absl::StrCat("links.", link_.name, ".hub: ", server.status().message()));
    }
    server_ = std::move(*server);
    router_->SetServer(server_.get());
    started_ = true;
    LogInfo("hub listening for edges", {{"link", link_.name}, {"address", server_->address()}});
    return absl::OkStatus();
  }

  void Stop() override {
    if (!server_) return;
    router_->SetServer(nullptr);
    server_->Stop();
    server_.reset();
  }

  std::string address() const override { return server_ ? server_->address() : std::string(); }

  absl::Status UpdateIdentities(const std::map<std::string, std::vector<std::string>>& identities) override {
    if (!server_) return absl::FailedPreconditionError(absl::StrCat("links.", link_.name, ".hub: not started"));
    std::vector<transport::IdentityRule> rules;
    for (const auto& [identity, pipelines] : identities) rules.push_back({identity, pipelines});
    if (absl::Status s = server_->UpdateIdentities(std::move(rules)); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("links.", link_.name, ".hub.identities: ", s.message()));
    }
    return absl::OkStatus();
  }

 private:
  // Link-wide counters (all pipelines of the link).
  void Collect(metrics::CollectorSink& sink) const {
    auto m = router_->Metrics();
    if (!m) return;
    const std::string& link = link_.name;
    // One family per quantity in both roles (role="edge" from the edges'
    // pipelines, role="hub" here, for the whole link); docs/observability.md
    // lists the names before 0.5.
    auto counter = [&](const char* name, const char* help, double v) {
      sink.AddCounter(name, help, {{"link", link}, {"role", "hub"}}, v);
    };
    counter("longhaul_link_bytes_uncompressed_total",
            "Record bytes over the link before compression (edge: shipped; hub: received, after decompression).",
            static_cast<double>(m->bytes_uncompressed));
    counter("longhaul_link_wire_bytes_total",
            "Bytes of data frames on the wire (edge: written, resends included; hub: received).",
            static_cast<double>(m->wire_bytes_received));
    counter("longhaul_link_batches_received_total", "Batches the hub handed to its lanes.",
            static_cast<double>(m->batches_received));
    counter("longhaul_link_duplicate_batches_total",
            "Batches an edge sent again that were committed already (dropped and acknowledged).",
            static_cast<double>(m->duplicate_batches));
    counter("longhaul_link_sessions_accepted_total", "Edge sessions the hub accepted.",
            static_cast<double>(m->sessions_started));
    counter("longhaul_link_bad_frames_total", "Sessions closed for a malformed frame.",
            static_cast<double>(m->bad_frames));
    sink.AddGauge("longhaul_link_connections_open", "Edge connections open on the hub (all pipelines).",
                  {{"link", link}, {"role", "hub"}}, static_cast<double>(m->sessions.size()));
    // One family for every refusal, by the server (before or at hello:
    // pipeline "" until a hello passed the identity rules) and by a
    // pipeline (a batch it may not write). Reasons are listed in
    // docs/edge-and-hub.md; the common ones are always exported.
    std::map<std::pair<std::string, std::string>, uint64_t> refused = m->refusals;
    for (const char* reason : {"tls", "protocol", "identity", "hub"}) refused.try_emplace({"", reason}, 0);
    for (const auto& [key, n] : router_->Refusals()) refused[key] += n;
    for (const auto& [key, n] : refused) {
      sink.AddCounter("longhaul_link_refused_total",
                      "Edge connections refused or sessions closed by the hub, by pipeline and reason (tls, "
                      "protocol, bad_frame, identity, handshakes, sessions, hub, credit, batch_size, records, "
                      "offsets, partitions, outbound_queue, and the pipeline's own: topic, internal_topic, "
                      "partition_cap, topic_cap, offsets, overlap, gap, identity, stale_generation, "
                      "unknown_generation, not_served).",
                      {{"link", link}, {"pipeline", key.first}, {"role", "hub"}, {"reason", key.second}},
                      static_cast<double>(n));
    }
  }

  const config::Config config_;
  const config::LinkConfig link_;
  metrics::Registry* const registry_;
  std::unique_ptr<HubRouter> router_;
  std::unique_ptr<transport::HubServer> server_;
  bool started_ = false;
  metrics::CollectorHandle collector_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LinkHub>> LinkHub::Create(const config::Config& config, const std::string& link,
                                                         metrics::Registry* registry) {
  auto it = config.links.find(link);
  if (it == config.links.end()) return absl::NotFoundError(absl::StrCat("no link named '", link, "' in ", config.file));
  if (!it->second.hub) {
    return absl::InvalidArgumentError(absl::StrCat("links.", link, ": no hub section, so this process cannot be its hub"));
  }
  return std::unique_ptr<LinkHub>(new LinkHubImpl(config, it->second, registry));
}

}  // namespace longhaul::mirror
