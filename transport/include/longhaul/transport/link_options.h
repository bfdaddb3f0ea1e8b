// Settings of the edge<->hub link as plain structs: what an EdgeLink dials
// and how it paces itself, what a HubServer accepts and from whom. The
// config module maps its `link:` keys onto these; tests fill them directly.
// Validate*() say precisely which field is wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "longhaul/transport/record_codec.h"

namespace longhaul::transport {

// PEM files. Re-read whenever one of them changes on disk (checked on each
// connect / accept), so certificates rotate without a restart.
struct TlsFiles {
  // CA bundle that verifies the peer (the hub's server cert on the edge,
  // edge client certs on the hub).
  std::string ca_file;
  // Our own certificate chain and its private key. On the edge they are the
  // client identity; leaving both empty sends no client certificate.
  std::string cert_file;
  std::string key_file;
  // Optional PEM file of certificate revocation lists (one per CA that
  // issues peer certificates). When set, a peer certificate is checked
  // against it (X509_V_FLAG_CRL_CHECK: the leaf; a CA with no CRL in the
  // file makes its certificates fail as "unable to get certificate CRL").
  // Re-read on change like the other files.
  std::string crl_file;
};

// The in-flight window (bytes sent and not yet acknowledged) is sized to the
// measured bandwidth-delay product: gain x max delivery rate x min ack
// latency over `filter_window`, clamped to [min_bytes, max_bytes].
struct WindowOptions {
  uint64_t initial_bytes = uint64_t{4} << 20;
  uint64_t min_bytes = uint64_t{1} << 20;
  uint64_t max_bytes = uint64_t{128} << 20;
  double gain = 2.0;
  std::chrono::milliseconds filter_window{10'000};
};

// An HTTP CONNECT proxy the edge tunnels through (TLS stays end to end).
struct ProxyOptions {
  std::string host;
  uint16_t port = 0;
  // Sent as the Proxy-Authorization header when not empty, e.g.
  // "Basic dXNlcjpwYXNz".
  std::string authorization;
};

// Most hub addresses one edge link lists.
inline constexpr size_t kMaxHubAddresses = 64;

// One hub the edge may dial: host name or address (IPv6 without brackets)
// and port.
struct HubAddress {
  std::string host;
  uint16_t port = 0;
  // "host:port", "[v6]:port".
  std::string ToString() const;
  friend bool operator==(const HubAddress&, const HubAddress&) = default;
};

// A priority class of the edge's traffic (`links.<l>.edge.priorities`):
// when the link is the bottleneck, each connection sends the classes'
// queued batches in weighted fair shares (start-time fair queuing by bytes),
// so a class with a larger weight goes first and a class with a small weight
// still moves. A class with nothing queued takes nothing and banks nothing.
struct PriorityClass {
  std::string name;
  uint32_t weight = 1;  // 1..1000
};

// Most priority classes one link has.
inline constexpr size_t kMaxPriorityClasses = 16;

struct EdgeLinkOptions {
  // The hubs, in order. Every connection of the link goes to the same hub
  // (a hub serves the edge's lane as a whole). The link starts with the
  // first; when a hub cannot be dialled, fails the TLS handshake or answers
  // "not served here" (ErrorFrame kUnavailable), all connections move to the
  // next at once, and back off only after a whole round without a resume.
  // A load-balanced name is a one-element list.
  std::vector<HubAddress> hubs;
  // The WebSocket path, the same on every hub.
  std::string hub_path = "/longhaul/v1";
  // Name checked against the hub certificate (DNS or IP SAN) and sent as
  // SNI; empty means the host of the hub being dialled.
  std::string server_name;
  TlsFiles tls;
  std::optional<ProxyOptions> proxy;

  std::string pipeline;
  int32_t lane = -1;  // -1: every lane of the pipeline
  std::string edge_name;
  // No fencing setting: the hub issues this link instance a generation in
  // its first resume, and the link says hello with it on every connection
  // and reconnect (transport/README.md, "Generations").

  // Parallel TCP connections; partitions are striped over them by a stable
  // hash, so one partition always travels on the same connection.
  int connections = 2;
  CompressionOptions compression;
  // Bytes of encoded batches the link holds (queued plus sent and not yet
  // acknowledged). SendBatch refuses beyond it; CanSend says ahead of time.
  uint64_t buffer_budget_bytes = uint64_t{256} << 20;
  // Largest batch (uncompressed record bytes) SendBatch accepts; the hub's
  // max_batch_bytes must be at least this.
  uint64_t max_batch_bytes = uint64_t{8} << 20;
  WindowOptions window;
  // The traffic classes, in order; empty means one class for everything.
  std::vector<PriorityClass> classes;
  // The class (index into `classes`) of a topic's batches; called once per
  // batch, under the link's lock, so it must be quick and must not call
  // back into the link. Null: class 0. Out of range: the last class.
  std::function<size_t(std::string_view topic)> class_of;
  // Cap on the link's data rate in bits per second on the wire, all
  // connections together (0: none). Estimated wire bytes are counted
  // (EstimatedWireBytes), control frames (acks, pings, reports) are not.
  uint64_t rate_limit_bits_per_second = 0;

  std::chrono::milliseconds heartbeat_interval{1'000};
  // No frame from the hub for this long: the connection is dead, redial.
  std::chrono::milliseconds dead_link_timeout{15'000};
  // TCP connect, proxy CONNECT, TLS and WebSocket handshakes, each.
  std::chrono::milliseconds connect_timeout{15'000};
  std::chrono::milliseconds reconnect_initial{200};
  std::chrono::milliseconds reconnect_max{30'000};
  // How often connection 0 sends the latest SetReport() to the hub (it also
  // sends it right after each of its resumes).
  std::chrono::milliseconds report_interval{5'000};

  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  // Tried with TCP_CONGESTION on each socket; silently left to the kernel's
  // default when unavailable. Empty: don't try.
  std::string congestion_control = "bbr";
  // SO_SNDBUF / SO_RCVBUF; 0 means window.max_bytes (the kernel caps it at
  // net.core.wmem_max / rmem_max).
  int socket_buffer_bytes = 0;
};

// OK, or InvalidArgument naming the field ("edge link: connections must be
// 1..1024, got 0").
absl::Status ValidateEdgeLinkOptions(const EdgeLinkOptions& options);

// Which certificate identity may feed which pipelines. `identity` matches
// the certificate's subject CN or one of its URI SANs exactly, or, ending in
// "/*", any URI SAN that starts with what comes before the "*" and has one
// more path segment ("longhaul://fleet/*" admits "longhaul://fleet/ship-7");
// `pipelines` lists pipeline names, "*" for all.
struct IdentityRule {
  std::string identity;
  std::vector<std::string> pipelines;
  friend bool operator==(const IdentityRule&, const IdentityRule&) = default;
};

// What of a certificate identity rules look at.
enum class IdentityMatch {
  kCommonNameOrUri,  // the subject CN or any URI SAN (default)
  kUri,              // URI SANs only (a CN is easier to get issued by mistake)
};

// OK, or InvalidArgument naming the entry ("hub server: identities entry 2
// (x) lists no pipelines").
absl::Status ValidateIdentityRules(const std::vector<IdentityRule>& rules);

struct HubServerOptions {
  // "host:port" or "[v6]:port"; port 0 picks a free port.
  std::string listen = "0.0.0.0:0";
  std::string path = "/longhaul/v1";
  TlsFiles tls;
  // Mutual TLS: edges must present a certificate signed by tls.ca_file. On
  // by default; turning it off also turns off the identity rules (every
  // edge may feed every pipeline, its name is the hello's edge_name) and is
  // logged as a warning.
  bool require_client_cert = true;
  // Replaced at run time by HubServer::UpdateIdentities.
  std::vector<IdentityRule> identities;
  IdentityMatch identity_match = IdentityMatch::kCommonNameOrUri;

  // Credit per connection: decoded batch bytes (record_codec.h,
  // BatchCreditCost) received and not yet acknowledged by the writer. Must
  // be >= max_batch_bytes.
  uint64_t receive_window_bytes = uint64_t{64} << 20;
  // Largest batch, uncompressed record bytes.
  uint64_t max_batch_bytes = uint64_t{16} << 20;
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  // Largest frame (and WebSocket message) read before a hello that passed
  // the identity rules: a hello is small, so nobody gets a 64 MiB frame read
  // and checksummed without a certificate-checked hello.
  size_t max_hello_frame_bytes = size_t{64} << 10;
  // Records in one batch at most (the decoded objects' count). A 1 MiB batch
  // of the smallest possible records (5 bytes each) has ~210,000.
  uint32_t max_records_per_batch = 250'000;
  // Distinct partitions one session may send (each keeps a little state).
  uint32_t max_partitions_per_session = 100'000;
  // Frames queued for an edge (pongs, acks, credit) and not yet written, in
  // bytes; an edge that does not read is closed beyond it.
  uint64_t max_outbound_bytes = uint64_t{16} << 20;

  // Sessions (TCP connections past accept) in all; more are closed at once.
  int max_sessions = 10'000;
  // Sessions of one certificate identity (an edge uses `connections` of
  // them per lane it feeds).
  int max_sessions_per_identity = 256;

  // TLS and WebSocket handshakes and the hello, each.
  std::chrono::milliseconds handshake_timeout{10'000};
  // No frame from the edge (which pings every heartbeat) for this long.
  std::chrono::milliseconds dead_link_timeout{30'000};
  // How long the handler may take to Accept or Reject a hello.
  std::chrono::milliseconds accept_timeout{60'000};
  // Connections in the TLS/WebSocket handshake at once; more are closed.
  int max_pending_handshakes = 64;
  // Of those, from one IP address (edges behind one NAT share an address).
  int max_pending_handshakes_per_address = 16;
  int io_threads = 1;
  std::string congestion_control = "bbr";
  int socket_buffer_bytes = 0;  // 0: receive_window_bytes
};

absl::Status ValidateHubServerOptions(const HubServerOptions& options);

}  // namespace longhaul::transport
