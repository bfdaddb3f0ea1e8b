// The link protocol's frames (edge <-> hub) and their binary codec: pure
// functions, no I/O. One frame travels in one WebSocket binary message; the
// layout is documented byte by byte in transport/README.md. Decoding treats
// its input as untrusted: a malformed frame gives a Status naming the frame
// type and what was wrong (truncated, oversized, unknown type, wrong
// version, bad checksum, a bad field and its byte), never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/base/topic_partition.h"

namespace longhaul::transport {

// The version every frame header carries. A peer refuses frames of another
// version with FailedPrecondition. Version 2 added hub-issued generations
// (hello, resume) and the edge's report frame.
inline constexpr uint8_t kProtocolVersion = 2;
// Magic "LH", version, type, payload length (u32 big endian).
inline constexpr size_t kFrameHeaderBytes = 8;
// CRC32C (big endian) over the header and the payload.
inline constexpr size_t kFrameTrailerBytes = 4;
inline constexpr size_t kFrameOverheadBytes = kFrameHeaderBytes + kFrameTrailerBytes;
inline constexpr size_t kDefaultMaxFrameBytes = size_t{64} << 20;
// Kafka's own limit on topic name length.
inline constexpr size_t kMaxTopicBytes = 249;
// Pipeline and edge names, error and close messages.
inline constexpr size_t kMaxNameBytes = 255;
inline constexpr size_t kMaxMessageBytes = 4096;

enum class FrameType : uint8_t {
  kHello = 1,   // edge -> hub, first frame of a connection
  kResume = 2,  // hub -> edge, answers hello: where each partition resumes
  kData = 3,    // edge -> hub, one compressed record batch
  kAck = 4,     // hub -> edge, batches durably committed
  kCredit = 5,  // hub -> edge, bytes the hub can take
  kPing = 6,    // either way
  kPong = 7,    // answers ping
  kError = 8,   // either way, then the sender closes the connection
  kClose = 9,   // either way, graceful end of the connection
  kReport = 10,  // edge -> hub, the edge's own view of its partitions and buffer
};
inline constexpr uint8_t kMaxFrameType = 10;

// "hello", "resume", ... "close".
std::string_view FrameTypeName(FrameType type);

enum class Compression : uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };
// "none", "zstd", "lz4".
std::string_view CompressionName(Compression compression);
// Inverse of CompressionName; InvalidArgument naming the accepted values.
absl::StatusOr<Compression> ParseCompression(std::string_view name);

// A partition and a source offset: in resume frames the next offset the hub
// needs, in acks the next offset after what it has committed.
struct PartitionOffset {
  TopicPartition partition;
  int64_t offset = 0;
  friend bool operator==(const PartitionOffset&, const PartitionOffset&) = default;
};

struct HelloFrame {
  uint32_t protocol_version = kProtocolVersion;
  std::string pipeline;
  // The lane this link feeds, or -1 for every lane of the pipeline.
  int32_t lane = -1;
  // Fencing without clocks: 0 asks the hub for a generation (a new link
  // instance); otherwise the generation a hub issued to this link instance
  // (link_id) in a resume frame. The hub fences older generations of the
  // same edge and refuses ones it never issued (docs/edge-and-hub.md).
  uint64_t generation = 0;
  // Random per EdgeLink instance: ties its parallel connections together.
  uint64_t link_id = 0;
  uint32_t connection_index = 0;
  uint32_t connection_count = 1;
  // Display name. The identity the hub trusts comes from the certificate.
  std::string edge_name;
  friend bool operator==(const HelloFrame&, const HelloFrame&) = default;
};

struct ResumeFrame {
  // The generation the hub issued to (or confirmed for) this link instance;
  // the edge says hello with it on every later connection and reconnect.
  uint64_t generation = 0;
  // Per partition the hub knows: the next source offset it needs (what it
  // has committed ends just before). Partitions it does not know are absent.
  std::vector<PartitionOffset> next_offsets;
  friend bool operator==(const ResumeFrame&, const ResumeFrame&) = default;
};

// One batch of one partition. It covers the source offsets [first_offset,
// last_offset]: its records have offsets inside that range, strictly
// increasing, and any offset of the range without a record is a gap in the
// source (compaction, transaction markers). After it, the partition
// continues at last_offset + 1.
struct DataFrame {
  uint64_t batch_id = 0;
  std::string topic;
  int32_t partition = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  uint32_t record_count = 0;
  Compression compression = Compression::kNone;
  uint64_t uncompressed_size = 0;
  // The records, encoded (see record_codec.h) and compressed.
  std::string records;
  friend bool operator==(const DataFrame&, const DataFrame&) = default;
};

struct AckFrame {
  // Batches whose records are durably committed on the target.
  std::vector<uint64_t> batch_ids;
  // Per partition touched by those batches: next offset after the commit.
  std::vector<PartitionOffset> committed;
  // The longest any of these batches waited at the hub between arriving
  // and this ack (microseconds): the commit part of the ack latency, which
  // the edge's window must cover on top of the network round trip.
  uint64_t hold_us = 0;
  friend bool operator==(const AckFrame&, const AckFrame&) = default;
};

struct CreditFrame {
  // Cumulative: total bytes (uncompressed record bytes) the edge may have
  // sent on this connection since hello. Never decreases.
  uint64_t total_bytes = 0;
  friend bool operator==(const CreditFrame&, const CreditFrame&) = default;
};

struct PingFrame {
  uint64_t sequence = 0;
  // Sender's monotonic clock; only the sender interprets it.
  int64_t sent_ns = 0;
  friend bool operator==(const PingFrame&, const PingFrame&) = default;
};

struct PongFrame {
  uint64_t sequence = 0;
  int64_t ping_sent_ns = 0;  // echoed from the ping
  int64_t responder_wall_ms = 0;  // the answering side's wall clock
  friend bool operator==(const PongFrame&, const PongFrame&) = default;
};

struct ErrorFrame {
  absl::StatusCode code = absl::StatusCode::kUnknown;  // never kOk
  std::string message;
  friend bool operator==(const ErrorFrame&, const ErrorFrame&) = default;
};

struct CloseFrame {
  std::string reason;
  friend bool operator==(const CloseFrame&, const CloseFrame&) = default;
};

// One partition as the edge sees it (-1 where unknown).
struct PartitionReport {
  TopicPartition partition;
  int64_t end_offset = -1;        // source end (read_committed high watermark)
  int64_t committed_offset = -1;  // next offset the hub has acknowledged as committed
  int64_t oldest_unsent_timestamp_ms = -1;  // create time of the oldest record not yet acknowledged; -1: none
  int64_t log_start_offset = -1;  // source log start (retention)
  int64_t lost_records = 0;       // records lost to retention before the edge could read them (cumulative)
  friend bool operator==(const PartitionReport&, const PartitionReport&) = default;
};

// The edge's backlog as it sees it, sent after every resume and every report
// interval, so the shore sees what has not reached it yet.
struct ReportFrame {
  int64_t wall_ms = 0;  // the edge's wall clock when it made the report
  uint64_t buffered_bytes = 0;
  uint64_t buffer_budget_bytes = 0;
  std::vector<PartitionReport> partitions;
  friend bool operator==(const ReportFrame&, const ReportFrame&) = default;
};

// Alternatives are in FrameType order (index = type - 1).
using Frame = std::variant<HelloFrame, ResumeFrame, DataFrame, AckFrame, CreditFrame, PingFrame, PongFrame,
                           ErrorFrame, CloseFrame, ReportFrame>;

FrameType TypeOf(const Frame& frame);

struct FrameLimits {
  // Largest whole frame (header, payload, checksum) accepted.
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
};

// Appends the encoded frame to *out. Our own values must be valid (CHECKed:
// names within their limits, offsets >= 0, first_offset <= last_offset <
// INT64_MAX (so that last_offset + 1 never overflows), an
// ErrorFrame code other than kOk, no partition twice in a list). Lists are
// written sorted (partitions by topic then number, batch ids ascending), so
// the encoding of a value is unique. Pure, thread-safe.
void AppendFrame(const Frame& frame, std::string* out);
std::string EncodeFrame(const Frame& frame);

struct FrameHeader {
  FrameType type = FrameType::kHello;
  uint32_t payload_size = 0;
  size_t frame_size() const { return kFrameOverheadBytes + payload_size; }
};

// Checks the first kFrameHeaderBytes of `bytes` (magic, version, type,
// length against the limit) without looking further.
absl::StatusOr<FrameHeader> DecodeFrameHeader(std::string_view bytes, const FrameLimits& limits = {});

// Decodes exactly one frame occupying all of `bytes`. Errors, each naming
// the frame type once the type byte was read:
//   InvalidArgument     truncated, trailing bytes, not a longhaul frame (bad
//                       magic), unknown type, a malformed field ("<type>
//                       frame: <field> <problem> at byte N")
//   FailedPrecondition  another protocol version
//   ResourceExhausted   larger than limits.max_frame_bytes
//   DataLoss            bad checksum
// Only canonical encodings are accepted: whatever decodes re-encodes to the
// identical bytes. Pure, thread-safe.
absl::StatusOr<Frame> DecodeFrame(std::string_view bytes, const FrameLimits& limits = {});

}  // namespace longhaul::transport
