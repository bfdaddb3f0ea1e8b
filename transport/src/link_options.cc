#include "longhaul/transport/link_options.h"

#include "absl/strings/str_cat.h"
#include "longhaul/transport/link_metrics.h"

namespace longhaul::transport {
namespace {

absl::Status Invalid(const char* who, const char* field, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(who, ": ", field, " ", problem));
}

absl::Status ValidateWindow(const char* who, const WindowOptions& w) {
  if (w.min_bytes == 0) return Invalid(who, "window.min_bytes", "must be > 0");
  if (w.max_bytes < w.min_bytes) {
    return Invalid(who, "window.max_bytes", absl::StrCat(w.max_bytes, " is below window.min_bytes ", w.min_bytes));
  }
  if (!(w.gain >= 1.0 && w.gain <= 16.0)) return Invalid(who, "window.gain", absl::StrCat("must be 1..16, got ", w.gain));
  if (w.filter_window.count() <= 0) return Invalid(who, "window.filter_window", "must be > 0");
  return absl::OkStatus();
}

absl::Status ValidateTls(const char* who, const TlsFiles& tls, bool need_own_cert) {
  if (tls.ca_file.empty()) return Invalid(who, "tls.ca_file", "is required (the CA that verifies the peer)");
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return Invalid(who, tls.cert_file.empty() ? "tls.cert_file" : "tls.key_file",
                   "is required together with the other of tls.cert_file / tls.key_file");
  }
  if (need_own_cert && tls.cert_file.empty()) return Invalid(who, "tls.cert_file", "is required");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateEdgeLinkOptions(const EdgeLinkOptions& o) {
  const char* who = "edge link";
  if (o.hubs.empty()) return Invalid(who, "hubs", "needs at least one hub address");
  if (o.hubs.size() > kMaxHubAddresses) {
    return Invalid(who, "hubs", absl::StrCat("lists ", o.hubs.size(), " addresses, at most ", kMaxHubAddresses));
  }
  for (size_t i = 0; i < o.hubs.size(); ++i) {
    if (o.hubs[i].host.empty()) return Invalid(who, "hubs", absl::StrCat("entry ", i, " has no host"));
    if (o.hubs[i].port == 0) {
      return Invalid(who, "hubs", absl::StrCat("entry ", i, " (", o.hubs[i].host, ") has no port"));
    }
  }
  if (o.hub_path.empty() || o.hub_path[0] != '/') return Invalid(who, "hub_path", "must start with '/'");
  if (absl::Status s = ValidateTls(who, o.tls, false); !s.ok()) return s;
  if (o.proxy && (o.proxy->host.empty() || o.proxy->port == 0)) {
    return Invalid(who, "proxy", "needs both host and port");
  }
  if (o.pipeline.empty() || o.pipeline.size() > kMaxNameBytes) {
    return Invalid(who, "pipeline", absl::StrCat("must be 1..", kMaxNameBytes, " bytes"));
  }
  if (o.edge_name.size() > kMaxNameBytes) return Invalid(who, "edge_name", "is too long");
  if (o.lane < -1) return Invalid(who, "lane", absl::StrCat("must be -1 (all lanes) or >= 0, got ", o.lane));
  if (o.connections < 1 || o.connections > 1024) {
    return Invalid(who, "connections", absl::StrCat("must be 1..1024, got ", o.connections));
  }
  if (o.max_batch_bytes == 0) return Invalid(who, "max_batch_bytes", "must be > 0");
  if (o.buffer_budget_bytes < o.max_batch_bytes) {
    return Invalid(who, "buffer_budget_bytes",
                   absl::StrCat(o.buffer_budget_bytes, " is below max_batch_bytes ", o.max_batch_bytes));
  }
  if (o.max_frame_bytes < 1024) return Invalid(who, "max_frame_bytes", "must be at least 1024");
  if (o.compression.codec == Compression::kZstd && (o.compression.zstd_level < -7 || o.compression.zstd_level > 22)) {
    return Invalid(who, "compression.zstd_level", absl::StrCat("must be -7..22, got ", o.compression.zstd_level));
  }
  if (absl::Status s = ValidateWindow(who, o.window); !s.ok()) return s;
  if (o.classes.size() > kMaxPriorityClasses) {
    return Invalid(who, "classes", absl::StrCat("lists ", o.classes.size(), ", at most ", kMaxPriorityClasses));
  }
  for (size_t i = 0; i < o.classes.size(); ++i) {
    const PriorityClass& c = o.classes[i];
    if (c.name.empty() || c.name.size() > 64) {
      return Invalid(who, "classes", absl::StrCat("entry ", i, " needs a name of 1..64 bytes"));
    }
    if (c.weight < 1 || c.weight > 1000) {
      return Invalid(who, "classes", absl::StrCat("class '", c.name, "' has weight ", c.weight, ", must be 1..1000"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (o.classes[j].name == c.name) return Invalid(who, "classes", absl::StrCat("class '", c.name, "' is listed twice"));
    }
  }
  if (o.rate_limit_bits_per_second != 0 && o.rate_limit_bits_per_second < 8'000) {
    return Invalid(who, "rate_limit_bits_per_second",
                   absl::StrCat("must be 0 (no cap) or at least 8000, got ", o.rate_limit_bits_per_second));
  }
  if (o.heartbeat_interval.count() <= 0) return Invalid(who, "heartbeat_interval", "must be > 0");
  if (o.dead_link_timeout <= o.heartbeat_interval) {
    return Invalid(who, "dead_link_timeout", "must be longer than heartbeat_interval");
  }
  if (o.connect_timeout.count() <= 0) return Invalid(who, "connect_timeout", "must be > 0");
  if (o.reconnect_initial.count() <= 0 || o.reconnect_max < o.reconnect_initial) {
    return Invalid(who, "reconnect_initial", "must be > 0 and not above reconnect_max");
  }
  if (o.socket_buffer_bytes < 0) return Invalid(who, "socket_buffer_bytes", "must be >= 0");
  if (o.report_interval.count() <= 0) return Invalid(who, "report_interval", "must be > 0");
  return absl::OkStatus();
}

std::string HubAddress::ToString() const {
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

absl::Status ValidateIdentityRules(const std::vector<IdentityRule>& rules) {
  const char* who = "hub server";
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string& id = rules[i].identity;
    if (id.empty()) return Invalid(who, "identities", absl::StrCat("entry ", i, " has an empty identity"));
    const size_t star = id.find('*');
    if (star != std::string::npos && (star + 1 != id.size() || star == 0 || id[star - 1] != '/')) {
      return Invalid(who, "identities",
                     absl::StrCat("entry ", i, " (", id, "): '*' may only end a URI prefix, as in longhaul://fleet/*"));
    }
    if (rules[i].pipelines.empty()) {
      return Invalid(who, "identities", absl::StrCat("entry ", i, " (", id, ") lists no pipelines"));
    }
    for (const std::string& p : rules[i].pipelines) {
      if (p.empty()) return Invalid(who, "identities", absl::StrCat("entry ", i, " (", id, ") has an empty pipeline"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHubServerOptions(const HubServerOptions& o) {
  const char* who = "hub server";
  if (o.listen.empty()) return Invalid(who, "listen", "is required");
  if (o.path.empty() || o.path[0] != '/') return Invalid(who, "path", "must start with '/'");
  if (o.tls.cert_file.empty() || o.tls.key_file.empty()) {
    return Invalid(who, o.tls.cert_file.empty() ? "tls.cert_file" : "tls.key_file", "is required");
  }
  if (o.require_client_cert && o.tls.ca_file.empty()) {
    return Invalid(who, "tls.ca_file", "is required when require_client_cert is on (it verifies the edges)");
  }
  if (absl::Status s = ValidateIdentityRules(o.identities); !s.ok()) return s;
  if (o.max_batch_bytes == 0) return Invalid(who, "max_batch_bytes", "must be > 0");
  if (o.receive_window_bytes < o.max_batch_bytes) {
    return Invalid(who, "receive_window_bytes",
                   absl::StrCat(o.receive_window_bytes, " is below max_batch_bytes ", o.max_batch_bytes,
                                " (a full batch could never be sent)"));
  }
  if (o.max_frame_bytes < 1024) return Invalid(who, "max_frame_bytes", "must be at least 1024");
  if (o.handshake_timeout.count() <= 0) return Invalid(who, "handshake_timeout", "must be > 0");
  if (o.dead_link_timeout.count() <= 0) return Invalid(who, "dead_link_timeout", "must be > 0");
  if (o.accept_timeout.count() <= 0) return Invalid(who, "accept_timeout", "must be > 0");
  if (o.max_pending_handshakes < 1) return Invalid(who, "max_pending_handshakes", "must be >= 1");
  if (o.max_pending_handshakes_per_address < 1) {
    return Invalid(who, "max_pending_handshakes_per_address", "must be >= 1");
  }
  if (o.max_hello_frame_bytes < 1024 || o.max_hello_frame_bytes > o.max_frame_bytes) {
    return Invalid(who, "max_hello_frame_bytes",
                   absl::StrCat("must be 1024..max_frame_bytes (", o.max_frame_bytes, "), got ", o.max_hello_frame_bytes));
  }
  if (o.max_records_per_batch < 1) return Invalid(who, "max_records_per_batch", "must be >= 1");
  if (o.max_partitions_per_session < 1) return Invalid(who, "max_partitions_per_session", "must be >= 1");
  if (o.max_outbound_bytes < (uint64_t{1} << 20)) return Invalid(who, "max_outbound_bytes", "must be at least 1 MiB");
  if (o.max_sessions < 1) return Invalid(who, "max_sessions", "must be >= 1");
  if (o.max_sessions_per_identity < 1) return Invalid(who, "max_sessions_per_identity", "must be >= 1");
  if (o.io_threads < 1 || o.io_threads > 64) return Invalid(who, "io_threads", "must be 1..64");
  if (o.socket_buffer_bytes < 0) return Invalid(who, "socket_buffer_bytes", "must be >= 0");
  return absl::OkStatus();
}

std::string_view RefusalReasonName(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::kTls: return "tls";
    case RefusalReason::kProtocol: return "protocol";
    case RefusalReason::kBadFrame: return "bad_frame";
    case RefusalReason::kIdentity: return "identity";
    case RefusalReason::kHandshakes: return "handshakes";
    case RefusalReason::kSessions: return "sessions";
    case RefusalReason::kHub: return "hub";
    case RefusalReason::kCredit: return "credit";
    case RefusalReason::kBatchSize: return "batch_size";
    case RefusalReason::kRecords: return "records";
    case RefusalReason::kOffsets: return "offsets";
    case RefusalReason::kPartitions: return "partitions";
    case RefusalReason::kOutboundQueue: return "outbound_queue";
  }
  return "unknown";
}

void RttHistogram::Add(double ms) {
  size_t i = 0;
  while (i < kBoundsMs.size() && ms > kBoundsMs[i]) ++i;
  ++buckets[i];
  ++count;
  sum_ms += ms;
}

void RttHistogram::Merge(const RttHistogram& other) {
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
  count += other.count;
  sum_ms += other.sum_ms;
}

}  // namespace longhaul::transport
