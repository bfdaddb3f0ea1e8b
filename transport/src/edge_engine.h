// Private to longhaul_transport: one edge connection's protocol as a sans-I/O
// state machine. The Beast shell feeds it received messages and the time,
// asks it for the next frame to write, and tells it when the transport came
// up or went down; the engine never touches a socket or reads a clock, so
// every rule (resume, acks, credit, window, heartbeats, dead link) is unit
// tested with a manual clock.
//
// Not thread-safe: the shell serializes calls (the link's mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "flow_control.h"
#include "longhaul/base/clock.h"
#include "longhaul/transport/frame.h"
#include "longhaul/transport/link_metrics.h"

namespace longhaul::transport {

// The connection (of `connections`) that carries a partition: a mix of the
// frozen StableTopicPartitionHash. Mixed, so that with as many connections
// as lanes a lane's partitions still spread over all connections (the lane
// is the same hash modulo the lane count).
uint32_t ConnectionOf(const TopicPartition& partition, uint32_t connections);

// A batch the link holds until the hub acknowledges it.
struct PendingBatch {
  uint64_t id = 0;
  TopicPartition partition;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  uint32_t record_count = 0;
  uint64_t uncompressed_bytes = 0;
  uint64_t credit_cost = 0;  // BatchCreditCost(records): what the hub charges
  uint64_t compressed_bytes = 0;
  std::shared_ptr<const std::string> frame;  // the encoded data frame
  // Its traffic class (EdgeEngineOptions::class_weights; out of range: the
  // last). A partition keeps the class of its first batch.
  uint32_t priority_class = 0;
  SteadyTime enqueued_at{};
  // State on the current connection.
  bool sent = false;
  bool ever_sent = false;
  DeliveryWindow::SendStamp stamp;
};

struct EdgeEngineOptions {
  HelloFrame hello;  // connection_index / count set; generation given per connect
  WindowOptions window;
  std::chrono::nanoseconds heartbeat_interval{std::chrono::seconds(1)};
  std::chrono::nanoseconds dead_link_timeout{std::chrono::seconds(15)};
  // How often the latest report (SetReport) goes out while streaming; it
  // also goes right after each resume.
  std::chrono::nanoseconds report_interval{std::chrono::seconds(5)};
  FrameLimits limits;
  // The weight of each traffic class (EdgeLinkOptions::classes); empty: one
  // class.
  std::vector<uint32_t> class_weights;
  // The link-wide rate cap, shared by its connections (null: none).
  RateLimiter* rate_limiter = nullptr;
};

// One traffic class on one connection, as Snapshot reports it.
struct EdgeClassSnapshot {
  uint64_t queued_batches = 0;  // retained and not sent on this connection
  uint64_t queued_bytes = 0;
  SteadyTime oldest_queued{};   // when the oldest of them was enqueued (queued_batches > 0)
  uint64_t bytes_sent = 0;      // data frame bytes written, resends included
};

// How a connection's session ended, as far as the link's choice of hub,
// generation and retry is concerned.
enum class SessionEnd {
  // Dial, proxy, TLS or WebSocket failure, or the hub said "not served here"
  // (ErrorFrame kUnavailable): try the next hub address.
  kHubUnavailable,
  // The hub does not know the generation we said hello with (kAborted):
  // say hello again with 0 at once.
  kUnknownGeneration,
  // A newer instance of this edge took over (kFailedPrecondition "stale
  // generation"): stop for good.
  kStaleGeneration,
  // Anything else (link lost, dead link, other hub errors): back off and
  // redial the same hub.
  kOther,
};

// What an error frame from the hub asks of the link.
SessionEnd ClassifyHubError(const ErrorFrame& error);

// Link-wide state shared by the connections of one EdgeLink instance: which
// hub they all dial, and the generation they say hello with. Pure (no I/O,
// no clock), not thread-safe (the shell holds its lock).
class EdgeLinkPlan {
 public:
  explicit EdgeLinkPlan(size_t hub_count);

  // What a connection dials now; kept with its session and handed back.
  struct Dial {
    size_t hub = 0;
    uint64_t move = 0;  // the plan's move count when dialled
    uint64_t generation = 0;
  };
  Dial Next() const { return Dial{hub_, moves_, generation_}; }

  enum class Retry { kNow, kBackOff, kNever };
  // A session dialled as `dialled` ended this way. Moves to the next hub
  // (kHubUnavailable on the current hub), forgets the generation
  // (kUnknownGeneration), or stops for good (kStaleGeneration); says when
  // the connection should dial again.
  Retry OnSessionEnded(const Dial& dialled, SessionEnd end);
  // A session dialled as `dialled` resumed with the hub's generation (0: the
  // hub issues none; keep saying 0). False when the link has moved to
  // another hub meanwhile: close that session, it is on the wrong hub.
  bool OnResumed(const Dial& dialled, uint64_t generation);

  size_t hub() const { return hub_; }
  uint64_t moves() const { return moves_; }
  uint64_t generation() const { return generation_; }
  bool stopped() const { return stopped_; }

 private:
  const size_t hub_count_;
  size_t hub_ = 0;
  uint64_t moves_ = 0;
  // Moves since the last resume: a whole round of them means back off.
  size_t failed_moves_ = 0;
  uint64_t generation_ = 0;
  bool stopped_ = false;
};

struct EdgeEngineCounters {
  uint64_t batches_sent = 0;
  uint64_t batches_resent = 0;
  uint64_t batches_acked = 0;
  uint64_t records_sent = 0;
  uint64_t bytes_uncompressed = 0;
  uint64_t bytes_compressed = 0;
  uint64_t wire_bytes_sent = 0;
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  RttHistogram rtt;
  double last_rtt_ms = 0;
};

class EdgeConnectionEngine {
 public:
  enum class State { kDisconnected, kAwaitResume, kStreaming };

  explicit EdgeConnectionEngine(EdgeEngineOptions options);

  // ---- the caller's side ----
  // Takes a batch of a partition this connection carries (batch ids must be
  // unique; their order does not matter). FailedPrecondition if it does not
  // start where the partition's last batch (or the last seek) ended.
  absl::Status Enqueue(PendingBatch batch);
  uint64_t retained_bytes() const { return retained_bytes_; }

  // ---- transport lifecycle ----
  // The transport is up (TLS and WebSocket done): returns the hello frame,
  // saying hello with `generation` (EdgeLinkPlan).
  std::string OnConnected(SteadyTime now, uint64_t generation);
  // The transport is gone: frames in flight count as not sent; credit and
  // the control queue are dropped. Retained batches stay.
  void OnDisconnected(SteadyTime now);
  State state() const { return state_; }

  // ---- inbound ----
  struct Inbound {
    // Set when this message was the resume frame.
    bool resumed = false;
    uint64_t generation = 0;  // the resume's
    std::vector<PartitionOffset> seek;
    std::vector<PartitionOffset> committed;
    // Batches forgotten because the hub committed them (ack or resume).
    std::vector<uint64_t> acked;
    std::vector<PartitionOffset> ack_offsets;
    // Retained bytes released (acked, or dropped at a resume).
    uint64_t freed_bytes = 0;
    // Not OK: close the connection with this error (bad frame, hub error,
    // unexpected frame, hub closed); `end` says what the link does next.
    absl::Status error;
    SessionEnd end = SessionEnd::kOther;
  };
  Inbound OnMessage(std::string_view message, SteadyTime now);

  // ---- outbound ----
  struct Outbound {
    std::shared_ptr<const std::string> bytes;
    bool is_data = false;
    bool is_close = false;  // the last frame of the connection
  };
  // The next frame to write, control frames first; data only once resumed,
  // in order, within credit and window. Nothing when all must wait.
  std::optional<Outbound> NextFrame(SteadyTime now);
  // Queues a close frame (graceful stop) ahead of everything else; no data
  // goes after it.
  void QueueClose(std::string reason);
  // The latest report for the hub (the link's own view of its backlog):
  // replaces any earlier one. Sent right after each resume and then every
  // report_interval while streaming. `report` must be valid for
  // EncodeFrame (the shell checks).
  void SetReport(const ReportFrame& report);

  // ---- time ----
  // Queues a ping when one is due; DeadlineExceeded when nothing arrived
  // from the hub for dead_link_timeout.
  absl::Status OnTick(SteadyTime now);

  const EdgeEngineCounters& counters() const { return counters_; }
  uint64_t reports_sent() const { return reports_sent_; }
  EdgeConnectionMetrics Snapshot(SteadyTime now) const;
  // Per traffic class, in class order.
  std::vector<EdgeClassSnapshot> ClassSnapshot() const;
  // When the rate cap lets the next data frame go (time_point::max() when
  // nothing waits for it): the shell wakes its writer then.
  SteadyTime rate_ready_at() const { return rate_ready_at_; }
  const WaitTracker& credit_wait() const { return credit_wait_; }
  const WaitTracker& window_wait() const { return window_wait_; }
  const DeliveryWindow& window() const { return window_; }
  size_t retained_batches() const;

 private:
  // One traffic class's retained batches. Within a class, batches go in
  // enqueue order; between classes, by start-time fair queuing: the class
  // with the smallest start tag goes next, and a sent frame moves its
  // class's tag on by bytes / weight.
  struct ClassQueue {
    uint32_t weight = 1;
    // Retained batches by enqueue sequence (send order).
    std::map<uint64_t, PendingBatch> retained;
    // Batches with a smaller sequence were sent on the current connection.
    uint64_t send_cursor = 0;
    // Where the class's next frame would start in virtual time.
    double next_tag = 0;
    uint64_t bytes_sent = 0;
  };
  struct Location {
    uint32_t priority_class = 0;
    uint64_t sequence = 0;
  };
  struct PartitionCursor {
    int64_t expected_next = -1;  // the offset its next batch must start at (-1 unknown)
    uint32_t priority_class = 0;
  };

  bool Owns(const TopicPartition& tp) const;
  void ApplyResume(const ResumeFrame& resume, Inbound* in);
  void ApplyAck(const AckFrame& ack, SteadyTime now, Inbound* in);
  void Forget(ClassQueue& queue, std::map<uint64_t, PendingBatch>::iterator it, Inbound* in, bool acked);
  void QueueReportIfDue(SteadyTime now);
  // The class whose turn it is (the smallest start tag among classes with a
  // batch not yet sent on this connection), or nullptr.
  ClassQueue* NextClass();

  EdgeEngineOptions options_;
  State state_ = State::kDisconnected;
  std::vector<ClassQueue> classes_;
  // Start tag of the frame last sent: a class that was idle starts here, so
  // it neither banks share while idle nor jumps the queue forever.
  double virtual_time_ = 0;
  absl::flat_hash_map<uint64_t, Location> location_of_;  // by batch id
  uint64_t next_sequence_ = 1;
  uint64_t retained_bytes_ = 0;
  SteadyTime rate_ready_at_ = SteadyTime::max();
  // A close frame is queued: no more data.
  bool closing_ = false;
  absl::flat_hash_map<TopicPartition, PartitionCursor> partitions_;
  std::vector<std::shared_ptr<const std::string>> control_;
  DeliveryWindow window_;
  CreditLedger credit_;
  WaitTracker credit_wait_;
  WaitTracker window_wait_;
  SteadyTime last_received_{};
  SteadyTime last_ping_{};
  uint64_t ping_sequence_ = 0;
  // The latest report, encoded; due after a resume, then every interval.
  std::shared_ptr<const std::string> report_;
  bool report_due_ = false;
  SteadyTime last_report_{};
  uint64_t reports_sent_ = 0;
  EdgeEngineCounters counters_;
};

}  // namespace longhaul::transport
