// Private to longhaul_transport: one hub-side session's protocol as a
// sans-I/O state machine (hello, accept/resume, data admission with
// per-partition ordering and duplicate removal, acks, credit, pongs, dead
// link). The Beast shell feeds it messages and the time and writes what it
// queues. Not thread-safe: the shell calls it on the session's strand.
//
// Everything in a message is hostile: no value from the wire reaches a
// CHECK or an overflow; each violation is an error that ends this session
// only, with the reason to count. Memory is bounded by what is allocated:
// credit counts decoded bytes (BatchCreditCost), a batch's record count is
// capped before decoding, frames before the hello was accepted are small,
// and the queue of frames for the edge is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "longhaul/base/clock.h"
#include "longhaul/transport/frame.h"
#include "longhaul/transport/hub_server.h"
#include "longhaul/transport/link_metrics.h"

namespace longhaul::transport {

struct HubEngineOptions {
  uint64_t receive_window_bytes = uint64_t{64} << 20;
  uint64_t max_batch_bytes = uint64_t{16} << 20;
  FrameLimits limits;
  // Frames before the hello (only hello is allowed) are at most this.
  size_t max_hello_frame_bytes = size_t{64} << 10;
  uint32_t max_records_per_batch = 250'000;
  uint32_t max_partitions = 100'000;
  uint64_t max_outbound_bytes = uint64_t{16} << 20;
  std::chrono::nanoseconds dead_link_timeout{std::chrono::seconds(30)};
};

// The engine's knobs from the server's options (one mapping, used by the
// server and the tests).
HubEngineOptions EngineOptionsFrom(const HubServerOptions& options);

class HubSessionEngine {
 public:
  enum class State { kAwaitHello, kAwaitAccept, kStreaming };

  explicit HubSessionEngine(HubEngineOptions options, SteadyTime now);

  struct Inbound {
    std::optional<HelloFrame> hello;    // the hello arrived
    std::optional<ReceivedBatch> batch;  // a batch for the writer
    std::optional<ReportFrame> report;   // the edge's report, for the writer
    bool duplicate = false;             // a committed batch came again: acked, dropped
    bool peer_closed = false;           // graceful close frame
    std::string close_reason;
    // Not OK: close the session with this error (bad frame, protocol
    // violation, the edge's error frame). bad_frame tells a malformed frame;
    // refusal says why when the edge broke a rule (not for its own error or
    // close frames).
    absl::Status error;
    bool bad_frame = false;
    std::optional<RefusalReason> refusal;
  };
  Inbound OnMessage(std::string_view message, SteadyTime now, int64_t wall_ms);

  // The largest message the shell may read next: small until a hello
  // arrived (set it as the WebSocket read limit before each read; the shell
  // checks the hello's identity before it reads again).
  size_t max_message_bytes() const;

  // The handler's answer to hello: queues resume and the first credit.
  void Accept(const std::vector<PartitionOffset>& resume, uint64_t generation);
  // The writer committed these batches: queues an ack (with how long the
  // oldest of them was held here) and more credit.
  void Ack(const std::vector<uint64_t>& batch_ids, const std::vector<PartitionOffset>& committed, SteadyTime now);

  // Next queued frame to write, if any.
  std::shared_ptr<const std::string> NextFrame();
  // DeadlineExceeded when nothing arrived for dead_link_timeout;
  // ResourceExhausted when the frames queued for the edge exceed
  // max_outbound_bytes (it does not read them).
  absl::Status OnTick(SteadyTime now);
  uint64_t queued_bytes() const { return queued_bytes_; }

  State state() const { return state_; }
  // Fills the counters of `m` (not identity fields).
  void FillMetrics(HubSessionMetrics* m) const;

 private:
  struct PartitionState {
    int64_t committed_next = -1;  // -1: unknown
    int64_t next_expected = -1;
  };
  struct Outstanding {
    uint64_t cost = 0;
    SteadyTime received_at;
  };
  void AdmitData(DataFrame frame, SteadyTime now, Inbound* in);
  void Queue(const Frame& frame);
  void QueueCredit();
  uint64_t CreditLeft() const { return options_.receive_window_bytes + released_ - received_cost_; }
  absl::Status OutboundStatus() const;

  HubEngineOptions options_;
  State state_ = State::kAwaitHello;
  absl::flat_hash_map<TopicPartition, PartitionState> partitions_;
  absl::flat_hash_map<uint64_t, Outstanding> outstanding_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  uint64_t queued_bytes_ = 0;
  uint64_t received_cost_ = 0;  // credit bytes the edge has used
  uint64_t released_ = 0;       // credit bytes given back (acked, duplicates)
  SteadyTime last_received_;
  HubSessionMetrics counters_;
};

}  // namespace longhaul::transport
