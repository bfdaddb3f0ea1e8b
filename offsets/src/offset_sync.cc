#include "longhaul/offsets/offset_sync.h"

#include <limits>

#include "longhaul/base/check.h"
#include "longhaul/base/status_macros.h"
#include "wire.h"

namespace longhaul::offsets {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

bool ValidTopic(std::string_view topic) {
  return !topic.empty() && topic.size() <= kMaxTopicLength &&
         topic.find('/') == std::string_view::npos;
}

}  // namespace

void EncodeOffsetSync(const OffsetSyncRecord& record, std::string* out) {
  LH_CHECK(ValidTopic(record.topic));
  LH_CHECK(record.partition >= 0);
  LH_CHECK(record.commit_time_ms >= -1);
  LH_CHECK(wire::ValidateSegments(record.segments).ok());
  LH_CHECK(wire::ValidateLostRanges(record.lost).ok());
  out->reserve(out->size() + 1 + 3 * wire::kMaxVarintBytes + record.topic.size() +
               record.segments.size() * 3 * wire::kMaxVarintBytes);
  out->push_back(static_cast<char>(record.lost.empty() ? wire::kOffsetSyncV1 : wire::kOffsetSyncV2));
  wire::AppendUvarint(record.topic.size(), out);
  out->append(record.topic);
  wire::AppendUvarint(static_cast<uint64_t>(record.partition), out);
  wire::AppendZigzag(record.commit_time_ms, out);
  wire::AppendSegments(record.segments, out);
  if (!record.lost.empty()) wire::AppendLostRanges(record.lost, out);
}

absl::StatusOr<OffsetSyncRecord> DecodeOffsetSync(std::string_view value) {
  wire::Reader reader("offset-sync value", value);
  int version = 1;
  LH_RETURN_IF_ERROR(wire::ReadFormatByte(reader, wire::kOffsetSyncV1, /*max_version=*/2, &version));
  OffsetSyncRecord r;
  const size_t topic_at = reader.position();
  int64_t topic_length = 0;
  LH_RETURN_IF_ERROR(reader.ReadInt({"topic length"}, kMaxTopicLength, &topic_length));
  if (topic_length == 0) return reader.Error(topic_at, {"topic length"}, "is 0");
  std::string_view topic;
  LH_RETURN_IF_ERROR(reader.ReadBytes({"topic"}, static_cast<size_t>(topic_length), &topic));
  if (const size_t slash = topic.find('/'); slash != std::string_view::npos) {
    return reader.Error(reader.position() - topic.size() + slash, {"topic"}, "contains '/'");
  }
  r.topic = std::string(topic);
  int64_t partition = 0;
  LH_RETURN_IF_ERROR(reader.ReadInt({"partition"}, kInt32Max, &partition));
  r.partition = static_cast<int32_t>(partition);
  LH_RETURN_IF_ERROR(reader.ReadZigzag({"commit_time_ms"}, &r.commit_time_ms, -1));
  LH_RETURN_IF_ERROR(wire::ReadSegments(reader, &r.segments));
  if (version >= 2) {
    LH_RETURN_IF_ERROR(wire::ReadLostRanges(reader, &r.lost));
    if (absl::Status s = wire::ValidateLostRanges(r.lost); !s.ok()) return reader.Error(reader.position(), std::string(s.message()));
  }
  LH_RETURN_IF_ERROR(reader.ExpectEnd());
  return r;
}

}  // namespace longhaul::offsets
