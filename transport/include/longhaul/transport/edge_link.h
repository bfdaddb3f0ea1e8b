// The edge end of the long-haul link: dials the hub (WebSocket over TLS 1.3,
// mutual TLS, optionally through an HTTP CONNECT proxy) on several parallel
// connections, ships record batches, and keeps every batch until the hub
// has acknowledged its commit. The implementation (BeastEdgeLink) keeps
// Boost and OpenSSL out of this header.
//
// Exactly-once contract with the caller (the edge's source reader):
//  - read a partition only from where an on_resume seek says, or from the
//    configured start when the hub does not know the partition yet;
//  - hand over batches per partition in order, each starting where the last
//    one ended (OutgoingBatch::first_offset); the link refuses a gap;
//  - on a seek, reposition the partition and drop records not yet handed
//    over; a SendBatch that raced with the seek fails with
//    FailedPrecondition and is dropped too (it will be read again).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/base/clock.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/transport/frame.h"
#include "longhaul/transport/link_metrics.h"
#include "longhaul/transport/link_options.h"

namespace longhaul::transport {

struct OutgoingBatch {
  TopicPartition partition;
  std::vector<Record> records;
  // The range the batch covers: first_offset is where the reader stood
  // before the batch (so compaction gaps before the first record are
  // covered), last_offset the offset it stands at after it, minus one.
  // Defaults (-1): the first and last record's offsets. An empty batch with
  // both set just moves the partition forward over a gap.
  int64_t first_offset = -1;
  int64_t last_offset = -1;
};

// Generations and hubs: the hub issues this link instance a generation in
// its first resume; every later hello (any connection, any reconnect) says
// it. ErrorFrame kAborted ("unknown generation", e.g. another hub instance)
// makes the link forget it and say hello with 0 at once; kFailedPrecondition
// "stale generation..." stops it for good (LinkState::kFailed). With several
// hub addresses all connections dial the same hub and move together on a
// dial or TLS failure or ErrorFrame kUnavailable (EdgeLinkOptions::hubs).

// A (re)connect of one connection finished: the hub said where its
// partitions resume.
struct ResumeEvent {
  int connection = 0;
  // Partitions the reader must reposition to the given offset (first resume
  // of a partition, or the link dropped what it held because the hub's
  // position differs). Partitions not listed continue where they are.
  std::vector<PartitionOffset> seek;
  // The hub's committed next offset of every partition on this connection.
  std::vector<PartitionOffset> committed;
};

struct AckEvent {
  int connection = 0;
  // Batches the hub committed (by ack, or found committed at a resume). The
  // link has forgotten them.
  std::vector<uint64_t> batch_ids;
  // Next offset after the commit, per partition the ack touched.
  std::vector<PartitionOffset> committed;
};

enum class LinkState {
  kDown,
  kUp,
  // Stopped for good: the hub said a newer instance of this edge took over
  // ("stale generation"). The link does not redial (that would fence the
  // newer instance in turn); SendBatch answers Cancelled. The owner should
  // mark its pipeline failed and Stop() the link.
  kFailed,
};

// Callbacks run on the link's I/O thread, one at a time. They must not
// block or call Stop(); they may call SendBatch / CanSend.
struct EdgeLinkCallbacks {
  std::function<void(const ResumeEvent&)> on_resume;
  std::function<void(const AckEvent&)> on_ack;
  // kUp when every connection has resumed; kDown when one is lost (`why`
  // says how: refused certificate, dead link, hub error, ...); kFailed once,
  // when the link stops for good (see LinkState).
  std::function<void(LinkState state, const absl::Status& why)> on_state;
  // The buffer has room again after CanSend returned false or SendBatch was
  // refused for lack of budget: resume paused partitions.
  std::function<void()> on_writable;
};

class EdgeLink {
 public:
  // Validates the options and loads the TLS files (errors name the field or
  // file), then starts dialling on its own I/O thread. `clock` (borrowed,
  // must outlive the link) times heartbeats, RTT and the window.
  static absl::StatusOr<std::unique_ptr<EdgeLink>> Start(EdgeLinkOptions options, EdgeLinkCallbacks callbacks,
                                                         const Clock* clock = &SystemClock::Instance());

  virtual ~EdgeLink() = default;

  // True if a batch of about `bytes` (encoded size; uncompressed is a safe
  // upper bound) fits in the buffer budget now. When false, on_writable
  // fires once room is back. Thread-safe.
  virtual bool CanSend(uint64_t bytes) = 0;

  // Encodes and compresses on the calling thread, then queues the batch for
  // its partition's connection (sent once connected and resumed, within the
  // hub's credit and the in-flight window). Returns the batch id that acks
  // will carry. Errors:
  //   InvalidArgument     malformed batch (offsets, too large), says which
  //   FailedPrecondition  does not start where the partition's previous
  //                       batch or seek ended (names the expected offset)
  //   ResourceExhausted   buffer budget full: wait for on_writable
  //   Cancelled           after Stop()
  // Thread-safe.
  virtual absl::StatusOr<uint64_t> SendBatch(OutgoingBatch batch) = 0;

  // The edge's own view of its partitions, for the hub (the shore sees the
  // backlog that has not reached it). Latest wins; connection 0 sends it
  // after each of its resumes and every report_interval. The link fills
  // buffered_bytes and buffer_budget_bytes itself. InvalidArgument for a
  // malformed report (bad or repeated partition, a value below -1).
  // Thread-safe.
  virtual absl::Status SetReport(ReportFrame report) = 0;

  // Bytes retained (queued and unacknowledged).
  virtual uint64_t BufferedBytes() = 0;

  // Sends close frames, closes every connection and joins the I/O thread.
  // Unacknowledged batches are dropped (the hub's resume points cover
  // them). Idempotent; the destructor calls it.
  virtual void Stop() = 0;

  virtual EdgeLinkMetrics Metrics() = 0;
};

}  // namespace longhaul::transport
