#include "longhaul/offsets/checkpoint.h"

#include <algorithm>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"
#include "longhaul/base/status_macros.h"
#include "wire.h"

namespace longhaul::offsets {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
// Quoted in key errors; a key is untrusted and may be long or binary.
constexpr size_t kKeyQuoteLimit = 300;

bool ValidKeyPart(std::string_view part) {
  return !part.empty() && part.find('/') == std::string_view::npos;
}

// Why a checkpoint would not round-trip through DecodeCheckpoint, or OK.
absl::Status CheckpointProblem(const Checkpoint& c) {
  if (c.next_source_offset < 0) return absl::InvalidArgumentError("next_source_offset < 0");
  if (c.next_target_offset < -1) return absl::InvalidArgumentError("next_target_offset < -1");
  if (c.commit_time_ms < -1) return absl::InvalidArgumentError("commit_time_ms < -1");
  if (c.lane < 0) return absl::InvalidArgumentError("lane < 0");
  LH_RETURN_IF_ERROR(wire::ValidateSegments(c.segments));
  LH_RETURN_IF_ERROR(wire::ValidateLostRanges(c.lost));
  if (!c.lost.empty() && c.lost.back().end > c.next_source_offset) {
    return absl::InvalidArgumentError(absl::StrCat("the last lost range ends at source offset ", c.lost.back().end,
                                                   ", after next_source_offset ", c.next_source_offset));
  }
  if (!c.segments.empty()) {
    const OffsetSegment& last = c.segments.back();
    if (last.source_end() > c.next_source_offset) {
      return absl::InvalidArgumentError(
          absl::StrCat("the last segment ends at source offset ", last.source_end(),
                       ", after next_source_offset ", c.next_source_offset));
    }
    if (c.next_target_offset >= 0 && last.target_end() > c.next_target_offset) {
      return absl::InvalidArgumentError(
          absl::StrCat("the last segment ends at target offset ", last.target_end(),
                       ", after next_target_offset ", c.next_target_offset));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeCheckpointKey(const CheckpointKey& key) {
  LH_CHECK(ValidKeyPart(key.source_cluster));
  LH_CHECK(ValidKeyPart(key.topic));
  LH_CHECK(key.topic.size() <= kMaxTopicLength);
  LH_CHECK(key.partition >= 0);
  if (!key.edge.empty()) {
    LH_CHECK(ValidKeyPart(key.edge));
    return absl::StrCat(key.source_cluster, "/", key.edge, "/", key.topic, "/", key.partition);
  }
  return absl::StrCat(key.source_cluster, "/", key.topic, "/", key.partition);
}

absl::StatusOr<CheckpointKey> DecodeCheckpointKey(std::string_view text) {
  const auto bad = [&](size_t at, absl::string_view problem) {
    const bool cut = text.size() > kKeyQuoteLimit;
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint key \"", absl::CHexEscape(absl::string_view(text.data(), std::min(text.size(), kKeyQuoteLimit))),
                     cut ? "...\"" : "\"", ": ", problem, " at byte ", at));
  };
  const size_t slash1 = text.find('/');
  if (slash1 == std::string_view::npos) {
    return bad(text.size(), "expected <source_cluster>/<topic>/<partition>, found no '/'");
  }
  size_t slash2 = text.find('/', slash1 + 1);
  if (slash2 == std::string_view::npos) {
    return bad(text.size(), "expected <source_cluster>/<topic>/<partition>, found one '/'");
  }
  // A third '/' means the key has an edge part: <cluster>/<edge>/<topic>/<partition>.
  size_t edge_end = std::string_view::npos;
  if (const size_t slash3 = text.find('/', slash2 + 1); slash3 != std::string_view::npos) {
    if (const size_t slash4 = text.find('/', slash3 + 1); slash4 != std::string_view::npos) {
      return bad(slash4, "unexpected fourth '/' (cluster, edge and topic names cannot contain '/')");
    }
    edge_end = slash2;
    slash2 = slash3;
  }
  const std::string_view cluster = text.substr(0, slash1);
  std::string_view edge;
  size_t topic_at = slash1 + 1;
  if (edge_end != std::string_view::npos) {
    edge = text.substr(slash1 + 1, edge_end - slash1 - 1);
    if (edge.empty()) return bad(slash1 + 1, "edge is empty");
    topic_at = edge_end + 1;
  }
  const std::string_view topic = text.substr(topic_at, slash2 - topic_at);
  const std::string_view digits = text.substr(slash2 + 1);
  const size_t digits_at = slash2 + 1;
  if (cluster.empty()) return bad(0, "source cluster is empty");
  if (topic.empty()) return bad(topic_at, "topic is empty");
  if (topic.size() > kMaxTopicLength) {
    return bad(topic_at, absl::StrCat("topic is ", topic.size(), " bytes, longer than Kafka's ",
                                      kMaxTopicLength));
  }
  if (digits.empty()) return bad(digits_at, "partition is empty");
  int64_t partition = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    const char c = digits[i];
    if (c < '0' || c > '9') {
      return bad(digits_at + i, "partition has a character other than a decimal digit");
    }
    partition = partition * 10 + (c - '0');
    if (partition > kInt32Max) return bad(digits_at, "partition exceeds the int32 range");
  }
  // One text per key: "07" and "7" would be two compaction keys.
  if (digits.size() > 1 && digits[0] == '0') return bad(digits_at, "partition has a leading zero");
  return CheckpointKey{std::string(cluster), std::string(topic), static_cast<int32_t>(partition),
                       std::string(edge)};
}

void EncodeCheckpoint(const Checkpoint& checkpoint, std::string* out) {
  LH_CHECK(CheckpointProblem(checkpoint).ok());
  out->reserve(out->size() + 1 + 5 * wire::kMaxVarintBytes +
               checkpoint.segments.size() * 3 * wire::kMaxVarintBytes);
  out->push_back(static_cast<char>(checkpoint.lost.empty() ? wire::kCheckpointV1 : wire::kCheckpointV2));
  wire::AppendUvarint(static_cast<uint64_t>(checkpoint.next_source_offset), out);
  wire::AppendZigzag(checkpoint.next_target_offset, out);
  wire::AppendZigzag(checkpoint.commit_time_ms, out);
  wire::AppendUvarint(static_cast<uint64_t>(checkpoint.lane), out);
  wire::AppendSegments(checkpoint.segments, out);
  if (!checkpoint.lost.empty()) wire::AppendLostRanges(checkpoint.lost, out);
}

absl::StatusOr<Checkpoint> DecodeCheckpoint(std::string_view value) {
  wire::Reader reader("checkpoint value", value);
  int version = 1;
  LH_RETURN_IF_ERROR(wire::ReadFormatByte(reader, wire::kCheckpointV1, /*max_version=*/2, &version));
  Checkpoint c;
  LH_RETURN_IF_ERROR(reader.ReadInt({"next_source_offset"}, kInt64Max, &c.next_source_offset));
  LH_RETURN_IF_ERROR(reader.ReadZigzag({"next_target_offset"}, &c.next_target_offset, -1));
  LH_RETURN_IF_ERROR(reader.ReadZigzag({"commit_time_ms"}, &c.commit_time_ms, -1));
  int64_t lane = 0;
  LH_RETURN_IF_ERROR(reader.ReadInt({"lane"}, kInt32Max, &lane));
  c.lane = static_cast<int32_t>(lane);
  const size_t segments_at = reader.position();
  LH_RETURN_IF_ERROR(wire::ReadSegments(reader, &c.segments));
  if (version >= 2) LH_RETURN_IF_ERROR(wire::ReadLostRanges(reader, &c.lost));
  LH_RETURN_IF_ERROR(reader.ExpectEnd());
  // Segments are ordered by construction; what is left is their agreement
  // with the resume point.
  if (absl::Status s = CheckpointProblem(c); !s.ok()) {
    return reader.Error(segments_at, std::string(s.message()));
  }
  return c;
}

}  // namespace longhaul::offsets
