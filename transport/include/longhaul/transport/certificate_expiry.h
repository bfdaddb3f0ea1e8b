// When the certificates a process uses expire, for the metric
// longhaul_tls_certificate_expiry_timestamp_seconds and its alert: the link
// certificates and CA bundles of both roles (docs/runbooks.md).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace longhaul::transport {

// The earliest notAfter (Unix seconds) of the PEM certificates in `file`
// (a bundle of CAs counts by its first to expire). Errors: NotFound (cannot
// open), InvalidArgument (no certificate in it; names the file).
absl::StatusOr<int64_t> EarliestCertificateExpiry(const std::string& file);

}  // namespace longhaul::transport
