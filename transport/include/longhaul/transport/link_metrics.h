// Link metrics as plain snapshots (copied out under a lock, no library
// types), so the gateway can render them as Prometheus metrics or in the
// status API without the transport knowing about either.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace longhaul::transport {

// Round-trip times (ping -> pong) in buckets with these upper bounds in
// milliseconds; the last bucket is everything above (+Inf). Counts are per
// bucket, not cumulative.
struct RttHistogram {
  static constexpr std::array<double, 14> kBoundsMs = {0.5, 1,   2,   5,    10,   20,   50,
                                                        100, 200, 400, 800, 1600, 3200, 6400};
  std::array<uint64_t, kBoundsMs.size() + 1> buckets{};
  uint64_t count = 0;
  double sum_ms = 0;

  void Add(double ms);
  void Merge(const RttHistogram& other);
};

struct EdgeConnectionMetrics {
  int index = 0;
  bool up = false;
  double last_rtt_ms = 0;
  uint64_t window_bytes = 0;          // current in-flight limit (BDP estimate)
  double delivery_rate_bytes_per_s = 0;
  uint64_t credit_available_bytes = 0;
  uint64_t frames_in_flight = 0;      // data frames sent and not acknowledged
  uint64_t bytes_in_flight = 0;       // their wire bytes
  uint64_t batches_queued = 0;        // retained, not (re)sent yet
  std::string congestion_control;     // what the kernel took, e.g. "bbr"
};

// One traffic class of the edge link (EdgeLinkOptions::classes), summed
// over the connections.
struct EdgeClassMetrics {
  std::string name;
  uint32_t weight = 1;
  uint64_t queued_batches = 0;       // retained and not yet sent on their connection
  uint64_t queued_bytes = 0;
  double oldest_queued_seconds = 0;  // how long the oldest of them has waited (0: none)
  uint64_t bytes_sent = 0;           // data frame bytes written, resends included
};

struct EdgeLinkMetrics {
  bool up = false;                    // every connection has resumed
  int connections_up = 0;
  uint64_t connects = 0;              // successful (re)connects, all connections
  uint64_t reconnects = 0;            // connects after a loss
  uint64_t disconnects = 0;
  uint64_t connect_failures = 0;
  uint64_t batches_sent = 0;          // first sends
  uint64_t batches_resent = 0;        // sent again after a reconnect
  uint64_t batches_acked = 0;         // acknowledged, by ack or by resume
  uint64_t records_sent = 0;          // in first sends
  uint64_t bytes_uncompressed = 0;    // encoded records before compression (first sends)
  uint64_t bytes_compressed = 0;      // after compression (first sends)
  uint64_t wire_bytes_sent = 0;       // every data frame written, resends included
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t frames_in_flight = 0;
  uint64_t bytes_in_flight = 0;
  uint64_t buffered_bytes = 0;        // retained (queued + in flight)
  uint64_t buffer_budget_bytes = 0;
  uint64_t budget_refusals = 0;       // SendBatch refused for lack of budget
  uint64_t credit_waits = 0;          // times a batch waited for hub credit
  double credit_wait_seconds = 0;
  uint64_t window_waits = 0;          // times a batch waited for the window
  double window_wait_seconds = 0;
  RttHistogram rtt;
  std::string last_error;             // why the last connection failed or dropped
  std::string hub;                    // "host:port" of the hub the link dials or streams to
  uint64_t hub_moves = 0;             // times the link moved to the next hub address
  uint64_t generation = 0;            // issued by the hub; 0 before the first resume
  bool failed = false;                // stopped for good (stale generation)
  uint64_t reports_sent = 0;          // report frames sent
  std::vector<EdgeConnectionMetrics> connections;
  std::vector<EdgeClassMetrics> classes;  // at least one ("default" when none are configured)
  uint64_t rate_limit_bits_per_second = 0;  // 0: no cap

  // bytes_uncompressed / bytes_compressed, 1 when nothing was sent.
  double compression_ratio() const {
    return bytes_compressed == 0 ? 1.0 : static_cast<double>(bytes_uncompressed) / bytes_compressed;
  }
};

// Per connected edge connection (one hello).
struct HubSessionMetrics {
  uint64_t session_id = 0;
  std::string identity;               // from the client certificate
  std::string edge_name;
  std::string pipeline;
  int32_t lane = -1;
  uint32_t connection_index = 0;
  std::string peer;                   // "ip:port"
  bool streaming = false;             // accepted by the handler
  uint64_t batches_received = 0;
  uint64_t records_received = 0;
  uint64_t bytes_uncompressed = 0;
  uint64_t wire_bytes_received = 0;
  uint64_t duplicate_batches = 0;     // already committed: dropped and acknowledged
  uint64_t batches_acked = 0;
  uint64_t credit_outstanding_bytes = 0;  // received, not yet acknowledged
};

// Why the hub refused a connection or closed a session for what the edge
// did: the `reason` label of longhaul_link_refused_total.
enum class RefusalReason {
  kTls,            // "tls": TLS handshake failed (no or untrusted certificate, revoked, not TLS)
  kProtocol,       // "protocol": bad WebSocket upgrade, no hello, a frame out of turn, another version
  kBadFrame,       // "bad_frame": a malformed frame (truncated, bad checksum, bad field, too large)
  kIdentity,       // "identity": the certificate may not feed the pipeline, or gives no usable edge name
  kHandshakes,     // "handshakes": too many handshakes in progress (in all or from the address)
  kSessions,       // "sessions": too many sessions (in all or of the identity)
  kHub,            // "hub": the handler refused the hello or did not answer in time
  kCredit,         // "credit": more data than the credit granted
  kBatchSize,      // "batch_size": a batch above max_batch_bytes
  kRecords,        // "records": a batch with more records than max_records_per_batch
  kOffsets,        // "offsets": a batch that skips or repeats offsets, or cannot be continued
  kPartitions,     // "partitions": more partitions on one session than max_partitions_per_session
  kOutboundQueue,  // "outbound_queue": the edge does not read what the hub sends
};
std::string_view RefusalReasonName(RefusalReason reason);

struct HubMetrics {
  uint64_t connections_accepted = 0;  // TCP accepts
  uint64_t accept_errors = 0;         // accept() failed (EMFILE and the like); the hub backs off
  uint64_t sessions_started = 0;      // hellos accepted by the handler
  // Per (pipeline, reason name): refusals and sessions closed for what the
  // edge did. The pipeline is "" before a hello named one the certificate
  // may feed (so an edge cannot make up label values).
  std::map<std::pair<std::string, std::string>, uint64_t> refusals;
  // Totals of some reasons (older names, kept for the exporters).
  uint64_t refused_tls = 0;           // TLS handshake failed (no/untrusted cert, not TLS)
  uint64_t refused_protocol = 0;      // bad WebSocket upgrade, bad or missing hello
  uint64_t refused_identity = 0;      // certificate identity may not feed the pipeline
  // Always 0: fencing moved to the handler (mirror's HubPipeline); remove once
  // mirror/src/link_hub.cc no longer exports it.
  uint64_t refused_fenced = 0;
  uint64_t refused_by_handler = 0;    // handler Reject()ed or timed out
  uint64_t sessions_closed = 0;
  uint64_t bad_frames = 0;            // sessions closed for a malformed frame
  uint64_t duplicate_batches = 0;     // already committed: dropped and acknowledged
  uint64_t batches_received = 0;      // delivered to the handler
  uint64_t bytes_uncompressed = 0;
  uint64_t wire_bytes_received = 0;
  std::vector<HubSessionMetrics> sessions;  // live sessions
};

}  // namespace longhaul::transport
