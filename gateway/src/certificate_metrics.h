// longhaul_tls_certificate_expiry_timestamp_seconds: when each link
// certificate and CA bundle this process uses expires, read at scrape time
// so a renewed file shows at once (the link reloads it too). Alerts:
// LonghaulCertificateExpiringSoon/Critical (deploy/prometheus).
#pragma once

#include "longhaul/config/config.h"
#include "longhaul/metrics/registry.h"

namespace longhaul::gateway {

// The files of the links that pipelines run here use, in the roles this
// process runs (`edges`: the edge side, `hubs`: the hub side). The handle
// must be reset before `config` goes away.
metrics::CollectorHandle AddCertificateExpiryMetrics(metrics::Registry& registry, const config::Config& config,
                                                     bool edges, bool hubs);

}  // namespace longhaul::gateway
