#include "longhaul/transport/frame.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "longhaul/base/check.h"
#include "longhaul/base/status_macros.h"
#include "longhaul/transport/crc32c.h"
#include "wire.h"

namespace longhaul::transport {
namespace {

using wire::Absl;
using wire::Reader;

constexpr char kMagic0 = 'L';
constexpr char kMagic1 = 'H';
constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
constexpr uint64_t kInt32Max = static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
constexpr uint32_t kMaxConnections = 1024;
constexpr int64_t kInt64MaxSigned = std::numeric_limits<int64_t>::max();

// ---- encoding ----

void AppendPartitionList(const std::vector<PartitionOffset>& list, std::string* out) {
  std::vector<const PartitionOffset*> sorted;
  sorted.reserve(list.size());
  for (const auto& p : list) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(),
            [](const PartitionOffset* a, const PartitionOffset* b) { return a->partition < b->partition; });
  // Group by topic: count of topics, then per topic its partitions.
  size_t topics = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i == 0 || sorted[i]->partition.topic != sorted[i - 1]->partition.topic) ++topics;
  }
  wire::AppendUvarint(topics, out);
  for (size_t i = 0; i < sorted.size();) {
    const std::string& topic = sorted[i]->partition.topic;
    LH_CHECK(!topic.empty() && topic.size() <= kMaxTopicBytes);
    size_t j = i;
    while (j < sorted.size() && sorted[j]->partition.topic == topic) ++j;
    wire::AppendString(topic, out);
    wire::AppendUvarint(j - i, out);
    for (size_t k = i; k < j; ++k) {
      LH_CHECK(sorted[k]->partition.partition >= 0 && sorted[k]->offset >= 0);
      LH_CHECK(k == i || sorted[k]->partition.partition != sorted[k - 1]->partition.partition);
      wire::AppendUvarint(static_cast<uint64_t>(sorted[k]->partition.partition), out);
      wire::AppendUvarint(static_cast<uint64_t>(sorted[k]->offset), out);
    }
    i = j;
  }
}

std::string_view Clip(const std::string& s, size_t max) {
  return std::string_view(s).substr(0, max);
}

struct PayloadEncoder {
  std::string* out;

  void operator()(const HelloFrame& f) const {
    LH_CHECK(!f.pipeline.empty() && f.pipeline.size() <= kMaxNameBytes && f.edge_name.size() <= kMaxNameBytes);
    LH_CHECK(f.lane >= -1 && f.connection_count >= 1 && f.connection_count <= kMaxConnections &&
             f.connection_index < f.connection_count && f.protocol_version <= 255);
    wire::AppendUvarint(f.protocol_version, out);
    wire::AppendString(f.pipeline, out);
    wire::AppendZigzag(f.lane, out);
    wire::AppendUvarint(f.generation, out);
    wire::AppendUvarint(f.link_id, out);
    wire::AppendUvarint(f.connection_index, out);
    wire::AppendUvarint(f.connection_count, out);
    wire::AppendString(f.edge_name, out);
  }
  void operator()(const ResumeFrame& f) const {
    wire::AppendUvarint(f.generation, out);
    AppendPartitionList(f.next_offsets, out);
  }
  void operator()(const DataFrame& f) const {
    LH_CHECK(!f.topic.empty() && f.topic.size() <= kMaxTopicBytes && f.partition >= 0);
    LH_CHECK(f.first_offset >= 0 && f.last_offset >= f.first_offset && f.last_offset < kInt64MaxSigned);
    const uint64_t span = static_cast<uint64_t>(f.last_offset - f.first_offset);
    LH_CHECK(f.record_count <= span + 1);
    LH_CHECK(f.record_count > 0 || (f.uncompressed_size == 0 && f.records.empty() &&
                                    f.compression == Compression::kNone));
    LH_CHECK(f.compression != Compression::kNone || f.uncompressed_size == f.records.size());
    wire::AppendUvarint(f.batch_id, out);
    wire::AppendString(f.topic, out);
    wire::AppendUvarint(static_cast<uint64_t>(f.partition), out);
    wire::AppendUvarint(static_cast<uint64_t>(f.first_offset), out);
    wire::AppendUvarint(span, out);
    wire::AppendUvarint(f.record_count, out);
    out->push_back(static_cast<char>(f.compression));
    wire::AppendUvarint(f.uncompressed_size, out);
    out->append(f.records);
  }
  void operator()(const AckFrame& f) const {
    std::vector<uint64_t> ids = f.batch_ids;
    std::sort(ids.begin(), ids.end());
    LH_CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
    wire::AppendUvarint(ids.size(), out);
    for (size_t i = 0; i < ids.size(); ++i) wire::AppendUvarint(i == 0 ? ids[0] : ids[i] - ids[i - 1] - 1, out);
    AppendPartitionList(f.committed, out);
    wire::AppendUvarint(f.hold_us, out);
  }
  void operator()(const CreditFrame& f) const { wire::AppendUvarint(f.total_bytes, out); }
  void operator()(const PingFrame& f) const {
    wire::AppendUvarint(f.sequence, out);
    wire::AppendZigzag(f.sent_ns, out);
  }
  void operator()(const PongFrame& f) const {
    wire::AppendUvarint(f.sequence, out);
    wire::AppendZigzag(f.ping_sent_ns, out);
    wire::AppendZigzag(f.responder_wall_ms, out);
  }
  void operator()(const ErrorFrame& f) const {
    LH_CHECK(f.code != absl::StatusCode::kOk && static_cast<int>(f.code) <= 16);
    wire::AppendUvarint(static_cast<uint64_t>(f.code), out);
    wire::AppendString(Clip(f.message, kMaxMessageBytes), out);
  }
  void operator()(const CloseFrame& f) const { wire::AppendString(Clip(f.reason, kMaxMessageBytes), out); }
  void operator()(const ReportFrame& f) const {
    wire::AppendZigzag(f.wall_ms, out);
    wire::AppendUvarint(f.buffered_bytes, out);
    wire::AppendUvarint(f.buffer_budget_bytes, out);
    std::vector<const PartitionReport*> sorted;
    sorted.reserve(f.partitions.size());
    for (const auto& p : f.partitions) sorted.push_back(&p);
    std::sort(sorted.begin(), sorted.end(),
              [](const PartitionReport* a, const PartitionReport* b) { return a->partition < b->partition; });
    wire::AppendUvarint(sorted.size(), out);
    for (size_t i = 0; i < sorted.size(); ++i) {
      const PartitionReport& p = *sorted[i];
      LH_CHECK(!p.partition.topic.empty() && p.partition.topic.size() <= kMaxTopicBytes && p.partition.partition >= 0);
      LH_CHECK(i == 0 || sorted[i - 1]->partition < p.partition);
      wire::AppendString(p.partition.topic, out);
      wire::AppendUvarint(static_cast<uint64_t>(p.partition.partition), out);
      wire::AppendZigzag(p.end_offset, out);
      wire::AppendZigzag(p.committed_offset, out);
      wire::AppendZigzag(p.oldest_unsent_timestamp_ms, out);
      wire::AppendZigzag(p.log_start_offset, out);
      wire::AppendZigzag(p.lost_records, out);
    }
  }
};

// ---- decoding ----

absl::Status ReadPartitionList(Reader& r, std::vector<PartitionOffset>* out) {
  uint64_t topics = 0;
  // Each topic takes at least 3 bytes (name length, a name byte, a count).
  LH_RETURN_IF_ERROR(r.ReadUint("topic count", r.remaining() / 3, &topics));
  std::string_view previous_topic;
  for (uint64_t t = 0; t < topics; ++t) {
    std::string_view topic;
    const size_t topic_at = r.position();
    LH_RETURN_IF_ERROR(r.ReadString("topic", kMaxTopicBytes, &topic));
    if (topic.empty()) return r.Error(topic_at, "topic", "is empty");
    if (t > 0 && !(previous_topic < topic)) {
      return r.Error(topic_at, "topic", "is out of order (topics must be sorted and distinct)");
    }
    previous_topic = topic;
    uint64_t n = 0;
    const size_t n_at = r.position();
    // Each partition takes at least 2 bytes.
    LH_RETURN_IF_ERROR(r.ReadUint("partition count", r.remaining() / 2, &n));
    if (n == 0) return r.Error(n_at, "partition count", "is zero");
    int64_t previous_partition = -1;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t partition = 0, offset = 0;
      const size_t p_at = r.position();
      LH_RETURN_IF_ERROR(r.ReadUint("partition", kInt32Max, &partition));
      if (static_cast<int64_t>(partition) <= previous_partition) {
        return r.Error(p_at, "partition", absl::StrCat(partition, " is out of order (must be ascending and distinct)"));
      }
      previous_partition = static_cast<int64_t>(partition);
      LH_RETURN_IF_ERROR(r.ReadUint("offset", kInt64Max, &offset));
      out->push_back(PartitionOffset{TopicPartition{std::string(topic), static_cast<int32_t>(partition)},
                                     static_cast<int64_t>(offset)});
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeHello(Reader& r, HelloFrame* f) {
  uint64_t v = 0;
  LH_RETURN_IF_ERROR(r.ReadUint("protocol version", 255, &v));
  f->protocol_version = static_cast<uint32_t>(v);
  std::string_view s;
  size_t at = r.position();
  LH_RETURN_IF_ERROR(r.ReadString("pipeline", kMaxNameBytes, &s));
  if (s.empty()) return r.Error(at, "pipeline", "is empty");
  f->pipeline = std::string(s);
  int64_t lane = 0;
  at = r.position();
  LH_RETURN_IF_ERROR(r.ReadZigzag("lane", &lane));
  if (lane < -1 || lane > static_cast<int64_t>(kInt32Max)) {
    return r.Error(at, "lane", absl::StrCat(lane, " is out of range (-1 for all lanes, else 0..2^31-1)"));
  }
  f->lane = static_cast<int32_t>(lane);
  LH_RETURN_IF_ERROR(r.ReadUvarint("generation", &f->generation));
  LH_RETURN_IF_ERROR(r.ReadUvarint("link id", &f->link_id));
  uint64_t index = 0, count = 0;
  at = r.position();
  LH_RETURN_IF_ERROR(r.ReadUint("connection index", kMaxConnections - 1, &index));
  const size_t count_at = r.position();
  LH_RETURN_IF_ERROR(r.ReadUint("connection count", kMaxConnections, &count));
  if (count == 0) return r.Error(count_at, "connection count", "is zero");
  if (index >= count) {
    return r.Error(at, "connection index", absl::StrCat(index, " is not below the connection count ", count));
  }
  f->connection_index = static_cast<uint32_t>(index);
  f->connection_count = static_cast<uint32_t>(count);
  LH_RETURN_IF_ERROR(r.ReadString("edge name", kMaxNameBytes, &s));
  f->edge_name = std::string(s);
  return absl::OkStatus();
}

absl::Status DecodeData(Reader& r, DataFrame* f) {
  LH_RETURN_IF_ERROR(r.ReadUvarint("batch id", &f->batch_id));
  std::string_view topic;
  size_t at = r.position();
  LH_RETURN_IF_ERROR(r.ReadString("topic", kMaxTopicBytes, &topic));
  if (topic.empty()) return r.Error(at, "topic", "is empty");
  f->topic = std::string(topic);
  uint64_t partition = 0, first = 0, span = 0, count = 0, size = 0;
  LH_RETURN_IF_ERROR(r.ReadUint("partition", kInt32Max, &partition));
  f->partition = static_cast<int32_t>(partition);
  // The partition continues at last_offset + 1, which must fit an int64:
  // last_offset stays below INT64_MAX.
  LH_RETURN_IF_ERROR(r.ReadUint("first offset", kInt64Max - 1, &first));
  LH_RETURN_IF_ERROR(r.ReadUint("offset span", kInt64Max - 1 - first, &span));
  f->first_offset = static_cast<int64_t>(first);
  f->last_offset = static_cast<int64_t>(first + span);
  at = r.position();
  LH_RETURN_IF_ERROR(r.ReadUint("record count", std::numeric_limits<uint32_t>::max(), &count));
  if (count > span + 1) {  // span <= INT64_MAX: no overflow
    return r.Error(at, "record count",
                   absl::StrCat(count, " exceeds the ", span + 1, " offsets of the range ", first, "..", first + span));
  }
  f->record_count = static_cast<uint32_t>(count);
  uint8_t codec = 0;
  at = r.position();
  LH_RETURN_IF_ERROR(r.ReadByte("compression", &codec));
  if (codec > static_cast<uint8_t>(Compression::kLz4)) {
    return r.Error(at, "compression", absl::StrCat("code ", codec, " is unknown (0 none, 1 zstd, 2 lz4)"));
  }
  f->compression = static_cast<Compression>(codec);
  at = r.position();
  LH_RETURN_IF_ERROR(r.ReadUvarint("uncompressed size", &size));
  f->uncompressed_size = size;
  std::string_view records = r.Rest();
  if (count == 0 && (size != 0 || !records.empty() || f->compression != Compression::kNone)) {
    return r.Error(at, "uncompressed size", "must be 0 with no record bytes and no compression in an empty batch");
  }
  if (f->compression == Compression::kNone && size != records.size()) {
    return r.Error(at, "uncompressed size",
                   absl::StrCat(size, " differs from the ", records.size(), " uncompressed record bytes"));
  }
  f->records = std::string(records);
  return absl::OkStatus();
}

absl::Status DecodeAck(Reader& r, AckFrame* f) {
  uint64_t n = 0;
  LH_RETURN_IF_ERROR(r.ReadUint("batch id count", r.remaining(), &n));
  f->batch_ids.reserve(n);
  uint64_t previous = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    const size_t at = r.position();
    LH_RETURN_IF_ERROR(r.ReadUvarint("batch id", &v));
    uint64_t id = v;
    if (i > 0) {
      if (v >= std::numeric_limits<uint64_t>::max() - previous) return r.Error(at, "batch id", "delta overflows");
      id = previous + v + 1;
    }
    f->batch_ids.push_back(id);
    previous = id;
  }
  LH_RETURN_IF_ERROR(ReadPartitionList(r, &f->committed));
  return r.ReadUvarint("hold time", &f->hold_us);
}

// A list of (-1 allowed) offsets and counts: zig-zag varints, at least -1.
absl::Status ReadReportValue(Reader& r, std::string_view field, int64_t* out) {
  const size_t at = r.position();
  LH_RETURN_IF_ERROR(r.ReadZigzag(field, out));
  if (*out < -1) return r.Error(at, field, absl::StrCat(*out, " is below -1 (unknown)"));
  return absl::OkStatus();
}

absl::Status DecodeReport(Reader& r, ReportFrame* f) {
  LH_RETURN_IF_ERROR(r.ReadZigzag("wall time", &f->wall_ms));
  LH_RETURN_IF_ERROR(r.ReadUvarint("buffered bytes", &f->buffered_bytes));
  LH_RETURN_IF_ERROR(r.ReadUvarint("buffer budget bytes", &f->buffer_budget_bytes));
  uint64_t n = 0;
  // Each partition takes at least 8 bytes (topic length and byte, partition, five values).
  LH_RETURN_IF_ERROR(r.ReadUint("partition count", r.remaining() / 8, &n));
  f->partitions.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    PartitionReport p;
    std::string_view topic;
    const size_t at = r.position();
    LH_RETURN_IF_ERROR(r.ReadString("topic", kMaxTopicBytes, &topic));
    if (topic.empty()) return r.Error(at, "topic", "is empty");
    uint64_t partition = 0;
    LH_RETURN_IF_ERROR(r.ReadUint("partition", kInt32Max, &partition));
    p.partition = TopicPartition{std::string(topic), static_cast<int32_t>(partition)};
    if (i > 0 && !(f->partitions.back().partition < p.partition)) {
      return r.Error(at, "partition", absl::StrCat(p.partition.ToString(), " is out of order (must be sorted and distinct)"));
    }
    LH_RETURN_IF_ERROR(ReadReportValue(r, "end offset", &p.end_offset));
    LH_RETURN_IF_ERROR(ReadReportValue(r, "committed offset", &p.committed_offset));
    LH_RETURN_IF_ERROR(ReadReportValue(r, "oldest unsent timestamp", &p.oldest_unsent_timestamp_ms));
    LH_RETURN_IF_ERROR(ReadReportValue(r, "log start offset", &p.log_start_offset));
    LH_RETURN_IF_ERROR(ReadReportValue(r, "lost records", &p.lost_records));
    f->partitions.push_back(std::move(p));
  }
  return absl::OkStatus();
}

absl::Status DecodePayload(FrameType type, Reader& r, Frame* out) {
  switch (type) {
    case FrameType::kHello: {
      HelloFrame f;
      LH_RETURN_IF_ERROR(DecodeHello(r, &f));
      *out = std::move(f);
      break;
    }
    case FrameType::kResume: {
      ResumeFrame f;
      LH_RETURN_IF_ERROR(r.ReadUvarint("generation", &f.generation));
      LH_RETURN_IF_ERROR(ReadPartitionList(r, &f.next_offsets));
      *out = std::move(f);
      break;
    }
    case FrameType::kData: {
      DataFrame f;
      LH_RETURN_IF_ERROR(DecodeData(r, &f));
      *out = std::move(f);
      break;
    }
    case FrameType::kAck: {
      AckFrame f;
      LH_RETURN_IF_ERROR(DecodeAck(r, &f));
      *out = std::move(f);
      break;
    }
    case FrameType::kCredit: {
      CreditFrame f;
      LH_RETURN_IF_ERROR(r.ReadUvarint("total bytes", &f.total_bytes));
      *out = f;
      break;
    }
    case FrameType::kPing: {
      PingFrame f;
      LH_RETURN_IF_ERROR(r.ReadUvarint("sequence", &f.sequence));
      LH_RETURN_IF_ERROR(r.ReadZigzag("sent time", &f.sent_ns));
      *out = f;
      break;
    }
    case FrameType::kPong: {
      PongFrame f;
      LH_RETURN_IF_ERROR(r.ReadUvarint("sequence", &f.sequence));
      LH_RETURN_IF_ERROR(r.ReadZigzag("ping sent time", &f.ping_sent_ns));
      LH_RETURN_IF_ERROR(r.ReadZigzag("responder wall time", &f.responder_wall_ms));
      *out = f;
      break;
    }
    case FrameType::kError: {
      ErrorFrame f;
      uint64_t code = 0;
      const size_t at = r.position();
      LH_RETURN_IF_ERROR(r.ReadUint("code", 16, &code));
      if (code == 0) return r.Error(at, "code", "is 0 (OK), which is not an error");
      f.code = static_cast<absl::StatusCode>(code);
      std::string_view message;
      LH_RETURN_IF_ERROR(r.ReadString("message", kMaxMessageBytes, &message));
      f.message = std::string(message);
      *out = std::move(f);
      break;
    }
    case FrameType::kClose: {
      CloseFrame f;
      std::string_view reason;
      LH_RETURN_IF_ERROR(r.ReadString("reason", kMaxMessageBytes, &reason));
      f.reason = std::string(reason);
      *out = std::move(f);
      break;
    }
    case FrameType::kReport: {
      ReportFrame f;
      LH_RETURN_IF_ERROR(DecodeReport(r, &f));
      *out = std::move(f);
      break;
    }
  }
  return r.ExpectEnd();
}

std::string FrameName(FrameType type) { return absl::StrCat(Absl(FrameTypeName(type)), " frame"); }

}  // namespace

std::string_view FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kHello: return "hello";
    case FrameType::kResume: return "resume";
    case FrameType::kData: return "data";
    case FrameType::kAck: return "ack";
    case FrameType::kCredit: return "credit";
    case FrameType::kPing: return "ping";
    case FrameType::kPong: return "pong";
    case FrameType::kError: return "error";
    case FrameType::kClose: return "close";
    case FrameType::kReport: return "report";
  }
  return "unknown";
}

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "none";
    case Compression::kZstd: return "zstd";
    case Compression::kLz4: return "lz4";
  }
  return "unknown";
}

absl::StatusOr<Compression> ParseCompression(std::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "zstd") return Compression::kZstd;
  if (name == "lz4") return Compression::kLz4;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression '", Absl(name), "' (expected none, zstd or lz4)"));
}

FrameType TypeOf(const Frame& frame) { return static_cast<FrameType>(frame.index() + 1); }

void AppendFrame(const Frame& frame, std::string* out) {
  const size_t start = out->size();
  out->push_back(kMagic0);
  out->push_back(kMagic1);
  out->push_back(static_cast<char>(kProtocolVersion));
  out->push_back(static_cast<char>(TypeOf(frame)));
  out->append(4, '\0');
  std::visit(PayloadEncoder{out}, frame);
  const size_t payload = out->size() - start - kFrameHeaderBytes;
  LH_CHECK(payload <= std::numeric_limits<uint32_t>::max());
  wire::StoreBigEndian32(static_cast<uint32_t>(payload), out->data() + start + 4);
  wire::AppendBigEndian32(Crc32c(0, out->data() + start, out->size() - start), out);
}

std::string EncodeFrame(const Frame& frame) {
  std::string out;
  AppendFrame(frame, &out);
  return out;
}

absl::StatusOr<FrameHeader> DecodeFrameHeader(std::string_view bytes, const FrameLimits& limits) {
  if (bytes.size() < 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame truncated: ", bytes.size(), " bytes, a frame header needs ", kFrameHeaderBytes));
  }
  if (bytes[0] != kMagic0 || bytes[1] != kMagic1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "not a longhaul frame: magic is 0x%02x%02x, expected 0x4c48 (\"LH\")", static_cast<uint8_t>(bytes[0]),
        static_cast<uint8_t>(bytes[1])));
  }
  const uint8_t version = static_cast<uint8_t>(bytes[2]);
  const uint8_t type_byte = static_cast<uint8_t>(bytes[3]);
  if (version != kProtocolVersion) {
    const std::string type = (type_byte >= 1 && type_byte <= kMaxFrameType)
                                 ? FrameName(static_cast<FrameType>(type_byte))
                                 : absl::StrCat("frame of type ", type_byte);
    return absl::FailedPreconditionError(absl::StrCat(type, ": unsupported protocol version ", version,
                                                      " (this side speaks version ", kProtocolVersion, ")"));
  }
  if (type_byte < 1 || type_byte > kMaxFrameType) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame of unknown type ", type_byte, " (known types are 1..", kMaxFrameType, ")"));
  }
  const FrameType type = static_cast<FrameType>(type_byte);
  if (bytes.size() < kFrameHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(FrameName(type), " truncated: ", bytes.size(),
                                                   " bytes, the header needs ", kFrameHeaderBytes));
  }
  FrameHeader header{type, wire::LoadBigEndian32(bytes.data() + 4)};
  if (header.frame_size() > limits.max_frame_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(FrameName(type), " of ", header.frame_size(),
                                                     " bytes exceeds the limit of ", limits.max_frame_bytes));
  }
  return header;
}

absl::StatusOr<Frame> DecodeFrame(std::string_view bytes, const FrameLimits& limits) {
  absl::StatusOr<FrameHeader> header = DecodeFrameHeader(bytes, limits);
  if (!header.ok()) return header.status();
  const std::string name = FrameName(header->type);
  const size_t size = header->frame_size();
  if (bytes.size() < size) {
    return absl::InvalidArgumentError(absl::StrCat(name, " truncated: the header announces ", header->payload_size,
                                                   " payload bytes (", size, " in all), got ", bytes.size()));
  }
  if (bytes.size() > size) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", bytes.size() - size, " trailing bytes after the ",
                                                   size, " bytes the header announces"));
  }
  const uint32_t expected = wire::LoadBigEndian32(bytes.data() + size - kFrameTrailerBytes);
  const uint32_t actual = Crc32c(0, bytes.data(), size - kFrameTrailerBytes);
  if (expected != actual) {
    return absl::DataLossError(
        absl::StrFormat("%s: bad checksum (CRC32C of the %d bytes is 0x%08x, the frame says 0x%08x)", name,
                        size - kFrameTrailerBytes, actual, expected));
  }
  Reader reader(name, bytes.substr(kFrameHeaderBytes, header->payload_size), kFrameHeaderBytes);
  Frame frame;
  LH_RETURN_IF_ERROR(DecodePayload(header->type, reader, &frame));
  return frame;
}

}  // namespace longhaul::transport
