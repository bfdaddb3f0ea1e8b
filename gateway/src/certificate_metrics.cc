#include "certificate_metrics.h"

#include <set>
#include <string>
#include <tuple>

#include "longhaul/transport/certificate_expiry.h"

namespace longhaul::gateway {

metrics::CollectorHandle AddCertificateExpiryMetrics(metrics::Registry& registry, const config::Config& config,
                                                     bool edges, bool hubs) {
  // (link, role, kind, file), fixed at start like the links themselves.
  std::set<std::tuple<std::string, std::string, std::string, std::string>> files;
  for (const auto& [name, pipeline] : config.pipelines) {
    auto link = config.links.find(pipeline.via);
    if (pipeline.via.empty() || link == config.links.end()) continue;
    if (edges && link->second.edge) {
      const config::LinkEdgeConfig& e = *link->second.edge;
      if (!e.cert_file.empty()) files.emplace(link->first, "edge", "cert", e.cert_file);
      if (!e.ca_file.empty()) files.emplace(link->first, "edge", "ca", e.ca_file);
    }
    if (hubs && link->second.hub) {
      const config::LinkHubConfig& h = *link->second.hub;
      if (!h.cert_file.empty()) files.emplace(link->first, "hub", "cert", h.cert_file);
      if (!h.ca_file.empty()) files.emplace(link->first, "hub", "ca", h.ca_file);
    }
  }
  return registry.AddCollector([files](metrics::CollectorSink& sink) {
    for (const auto& [link, role, kind, file] : files) {
      // An unreadable file has no series: the link itself reports why it
      // cannot load it.
      auto expiry = transport::EarliestCertificateExpiry(file);
      if (!expiry.ok()) continue;
      sink.AddGauge("longhaul_tls_certificate_expiry_timestamp_seconds",
                    "When the certificate (kind=cert) or the first CA of the bundle (kind=ca) the link uses "
                    "expires (notAfter, Unix time).",
                    {{"link", link}, {"role", role}, {"kind", kind}, {"file", file}},
                    static_cast<double>(*expiry));
    }
  });
}

}  // namespace longhaul::gateway
