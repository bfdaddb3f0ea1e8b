#include "longhaul/transport/record_codec.h"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "longhaul/base/status_macros.h"
#include "wire.h"

namespace longhaul::transport {

static_assert(sizeof(void*) != 8 || (sizeof(Record) <= kRecordOverheadBytes && sizeof(RecordHeader) <= kHeaderOverheadBytes),
              "the credit's per-object figures must cover the decoded objects");

namespace {

using wire::Absl;

// Fewest bytes one record takes: offset delta, timestamp delta, key and value
// markers, header count (one byte each).
constexpr uint64_t kMinRecordBytes = 5;

void AppendNullable(const std::optional<std::string>& value, std::string* out) {
  if (!value) {
    wire::AppendUvarint(0, out);
    return;
  }
  wire::AppendUvarint(value->size() + 1, out);
  out->append(*value);
}

absl::Status ReadNullable(wire::Reader& r, std::string_view field, std::optional<std::string>* out) {
  const size_t at = r.position();
  uint64_t marker = 0;
  LH_RETURN_IF_ERROR(r.ReadUvarint(field, &marker));
  if (marker == 0) {
    out->reset();
    return absl::OkStatus();
  }
  if (marker - 1 > r.remaining()) {
    return r.Error(at, field, absl::StrCat("length ", marker - 1, " exceeds the ", r.remaining(), " bytes left"));
  }
  std::string_view bytes;
  LH_RETURN_IF_ERROR(r.ReadBytes(field, static_cast<size_t>(marker - 1), &bytes));
  out->emplace(bytes);
  return absl::OkStatus();
}

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// One context per thread: creating one costs more than compressing a small
// batch.
ZSTD_CCtx* ThreadCompressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDecompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

// Compresses `raw` into *out; false if it does not get smaller (or fails).
bool Compress(const std::string& raw, const CompressionOptions& options, std::string* out) {
  switch (options.codec) {
    case Compression::kNone: return false;
    case Compression::kZstd: {
      out->resize(ZSTD_compressBound(raw.size()));
      const size_t n = ZSTD_compressCCtx(ThreadCompressor(), out->data(), out->size(), raw.data(), raw.size(),
                                         options.zstd_level);
      if (ZSTD_isError(n) || n >= raw.size()) return false;
      out->resize(n);
      return true;
    }
    case Compression::kLz4: {
      if (raw.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return false;
      out->resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))));
      const int n = LZ4_compress_default(raw.data(), out->data(), static_cast<int>(raw.size()),
                                         static_cast<int>(out->size()));
      if (n <= 0 || static_cast<size_t>(n) >= raw.size()) return false;
      out->resize(static_cast<size_t>(n));
      return true;
    }
  }
  return false;
}


// Field names stay static (no per-record allocation); a failure is
// rewritten to name the record: "<where>: record 7 key ...".
absl::Status DecodeOneRecord(wire::Reader& r, int64_t last_offset, int64_t previous_offset, uint64_t previous_ts,
                             uint64_t* budget, Record* record) {
  const size_t at = r.position();
  uint64_t delta = 0;
  LH_RETURN_IF_ERROR(r.ReadUvarint("offset", &delta));
  const int64_t room = last_offset - previous_offset - 1;
  if (room < 0 || delta > static_cast<uint64_t>(room)) {
    return r.Error(at, "offset", absl::StrCat("lies after the batch's last offset ", last_offset));
  }
  record->offset = previous_offset + 1 + static_cast<int64_t>(delta);
  int64_t ts_delta = 0;
  LH_RETURN_IF_ERROR(r.ReadZigzag("timestamp", &ts_delta));
  record->timestamp_ms = static_cast<int64_t>(previous_ts + static_cast<uint64_t>(ts_delta));
  // Charges *budget before each allocation, so a bomb is refused before it
  // takes the memory it announces.
  auto charge = [&](size_t from, std::string_view field, uint64_t bytes) {
    if (bytes > *budget) {
      return absl::ResourceExhaustedError(
          r.Error(from, field, absl::StrCat("would take the decoded batch over its limit (", bytes, " more bytes, ",
                                            *budget, " left)"))
              .message());
    }
    *budget -= bytes;
    return absl::OkStatus();
  };
  // Key and value: ReadNullable only takes bytes that are there, so charge
  // what the marker announces once it is read.
  for (auto [field, out] : {std::pair<const char*, std::optional<std::string>*>{"key", &record->key},
                            std::pair<const char*, std::optional<std::string>*>{"value", &record->value}}) {
    const size_t from = r.position();
    LH_RETURN_IF_ERROR(ReadNullable(r, field, out));
    if (*out) LH_RETURN_IF_ERROR(charge(from, field, (*out)->size()));
  }
  uint64_t headers = 0;
  const size_t headers_at = r.position();
  // Each header takes at least two bytes.
  LH_RETURN_IF_ERROR(r.ReadUint("header count", r.remaining() / 2, &headers));
  LH_RETURN_IF_ERROR(charge(headers_at, "header count", headers * kHeaderOverheadBytes));
  record->headers.reserve(headers);
  for (uint64_t h = 0; h < headers; ++h) {
    RecordHeader header;
    std::string_view name;
    const size_t from = r.position();
    LH_RETURN_IF_ERROR(r.ReadString("header name", r.remaining(), &name));
    header.name = std::string(name);
    LH_RETURN_IF_ERROR(ReadNullable(r, "header value", &header.value));
    LH_RETURN_IF_ERROR(
        charge(from, "header", header.name.size() + (header.value ? header.value->size() : 0)));
    record->headers.push_back(std::move(header));
  }
  return absl::OkStatus();
}

absl::Status InRecord(const absl::Status& status, uint32_t index, const std::string& where) {
  std::string_view message(status.message().data(), status.message().size());
  if (message.substr(0, where.size() + 2) == where + ": ") message.remove_prefix(where.size() + 2);
  return absl::Status(status.code(), absl::StrCat(where, ": record ", index, " ", Absl(message)));
}

}  // namespace

uint64_t EncodedSizeBound(const Record& record) {
  uint64_t n = 4 * wire::kMaxVarintBytes;
  if (record.key) n += record.key->size();
  if (record.value) n += record.value->size();
  for (const auto& h : record.headers) n += 2 * wire::kMaxVarintBytes + h.name.size() + (h.value ? h.value->size() : 0);
  return n;
}

absl::Status EncodeRecords(std::span<const Record> records, const CompressionOptions& options, DataFrame* frame) {
  const std::string where = absl::StrCat("batch for ", frame->topic, "[", frame->partition, "]");
  if (records.size() > UINT32_MAX) return absl::InvalidArgumentError(absl::StrCat(where, ": too many records"));
  std::string raw;
  uint64_t reserve = 0;
  for (const Record& record : records) reserve += EncodedSizeBound(record);
  raw.reserve(reserve);
  int64_t previous_offset = frame->first_offset - 1;
  uint64_t previous_ts = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& record = records[i];
    if (record.offset <= previous_offset || record.offset > frame->last_offset) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": record ", i, " has offset ", record.offset, ", expected above ", previous_offset,
          " and at most the batch's last offset ", frame->last_offset, " (offsets must increase within the range ",
          frame->first_offset, "..", frame->last_offset, ")"));
    }
    wire::AppendUvarint(static_cast<uint64_t>(record.offset - previous_offset - 1), &raw);
    wire::AppendZigzag(static_cast<int64_t>(static_cast<uint64_t>(record.timestamp_ms) - previous_ts), &raw);
    AppendNullable(record.key, &raw);
    AppendNullable(record.value, &raw);
    wire::AppendUvarint(record.headers.size(), &raw);
    for (const RecordHeader& h : record.headers) {
      wire::AppendString(h.name, &raw);
      AppendNullable(h.value, &raw);
    }
    previous_offset = record.offset;
    previous_ts = static_cast<uint64_t>(record.timestamp_ms);
  }
  frame->record_count = static_cast<uint32_t>(records.size());
  frame->uncompressed_size = raw.size();
  std::string compressed;
  if (!raw.empty() && Compress(raw, options, &compressed)) {
    frame->compression = options.codec;
    frame->records = std::move(compressed);
  } else {
    frame->compression = Compression::kNone;
    frame->records = std::move(raw);
  }
  return absl::OkStatus();
}

uint64_t DecodedRecordBytes(const Record& record) {
  uint64_t n = kRecordOverheadBytes;
  if (record.key) n += record.key->size();
  if (record.value) n += record.value->size();
  for (const RecordHeader& h : record.headers) n += kHeaderOverheadBytes + h.name.size() + (h.value ? h.value->size() : 0);
  return n;
}

uint64_t BatchCreditCost(std::span<const Record> records) {
  uint64_t n = 0;
  for (const Record& r : records) n += DecodedRecordBytes(r);
  return std::max(n, kMinBatchCreditBytes);
}

absl::StatusOr<std::vector<Record>> DecodeRecords(const DataFrame& frame, uint64_t max_uncompressed_bytes,
                                                  uint64_t max_decoded_bytes) {
  const std::string where =
      absl::StrCat("data frame (batch ", frame.batch_id, ", ", frame.topic, "[", frame.partition, "])");
  if (frame.uncompressed_size > max_uncompressed_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(where, ": uncompressed size ", frame.uncompressed_size,
                                                     " exceeds the limit of ", max_uncompressed_bytes));
  }
  if (frame.uncompressed_size < frame.record_count * kMinRecordBytes) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": uncompressed size ", frame.uncompressed_size,
                                                   " is too small for ", frame.record_count, " records"));
  }
  std::string decompressed;
  std::string_view raw;
  switch (frame.compression) {
    case Compression::kNone:
      raw = frame.records;
      break;
    case Compression::kZstd: {
      const unsigned long long content = ZSTD_getFrameContentSize(frame.records.data(), frame.records.size());
      if (content == ZSTD_CONTENTSIZE_ERROR) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": records are not zstd data"));
      }
      if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != frame.uncompressed_size) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": zstd content size ", content,
                                                       " differs from the uncompressed size ", frame.uncompressed_size));
      }
      decompressed.resize(frame.uncompressed_size);
      const size_t n = ZSTD_decompressDCtx(ThreadDecompressor(), decompressed.data(), decompressed.size(),
                                           frame.records.data(), frame.records.size());
      if (ZSTD_isError(n)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": zstd decompression failed: ", ZSTD_getErrorName(n)));
      }
      if (n != frame.uncompressed_size) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": zstd gave ", n, " bytes, the frame announces ",
                                                       frame.uncompressed_size));
      }
      raw = decompressed;
      break;
    }
    case Compression::kLz4: {
      if (frame.uncompressed_size > static_cast<uint64_t>(INT_MAX) || frame.records.size() > INT_MAX) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": too large for lz4"));
      }
      decompressed.resize(frame.uncompressed_size);
      const int n = LZ4_decompress_safe(frame.records.data(), decompressed.data(),
                                        static_cast<int>(frame.records.size()), static_cast<int>(decompressed.size()));
      if (n < 0 || static_cast<uint64_t>(n) != frame.uncompressed_size) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": lz4 data is corrupt or does not decompress to the announced ",
                         frame.uncompressed_size, " bytes"));
      }
      raw = decompressed;
      break;
    }
  }

  wire::Reader r(where, raw);
  if (frame.record_count > max_decoded_bytes / kRecordOverheadBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(where, ": ", frame.record_count, " records would take over ",
                                                     max_decoded_bytes, " bytes decoded"));
  }
  uint64_t budget = max_decoded_bytes - uint64_t{frame.record_count} * kRecordOverheadBytes;
  std::vector<Record> records;
  records.reserve(frame.record_count);
  int64_t previous_offset = frame.first_offset - 1;
  uint64_t previous_ts = 0;
  for (uint32_t i = 0; i < frame.record_count; ++i) {
    Record record;
    absl::Status status = DecodeOneRecord(r, frame.last_offset, previous_offset, previous_ts, &budget, &record);
    if (!status.ok()) return InRecord(status, i, where);
    previous_offset = record.offset;
    previous_ts = static_cast<uint64_t>(record.timestamp_ms);
    records.push_back(std::move(record));
  }
  LH_RETURN_IF_ERROR(r.ExpectEnd());
  return records;
}

}  // namespace longhaul::transport
