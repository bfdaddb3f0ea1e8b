#include "record_source.h"

#include <librdkafka/rdkafka.h>

#include "absl/strings/cord.h"

namespace longhaul::mirror {
namespace {
constexpr absl::string_view kRestartPayload = "longhaul.dev/lane-session-restart";
}  // namespace

absl::Status SessionRestartStatus(const std::string& why) {
  absl::Status s = absl::AbortedError(why);
  s.SetPayload(kRestartPayload, absl::Cord("1"));
  return s;
}

bool IsSessionRestart(const absl::Status& status) { return status.GetPayload(kRestartPayload).has_value(); }

namespace {
rd_kafka_headers_t* Native(void* p) { return static_cast<rd_kafka_headers_t*>(p); }
}  // namespace

RecordHeaders& RecordHeaders::operator=(RecordHeaders&& other) noexcept {
  if (this != &other) {
    if (native_) rd_kafka_headers_destroy(Native(native_));
    native_ = other.native_;
    other.native_ = nullptr;
  }
  return *this;
}

RecordHeaders::~RecordHeaders() {
  if (native_) rd_kafka_headers_destroy(Native(native_));
}

RecordHeaders RecordHeaders::AdoptNative(void* native_list) {
  RecordHeaders h;
  h.native_ = native_list;
  return h;
}

RecordHeaders RecordHeaders::Of(const std::vector<RecordHeader>& headers) {
  RecordHeaders h;
  if (headers.empty()) return h;
  h.native_ = rd_kafka_headers_new(headers.size());
  for (const RecordHeader& header : headers) {
    h.Add(header.name, header.value ? std::optional<std::string_view>(*header.value) : std::nullopt);
  }
  return h;
}

size_t RecordHeaders::size() const { return native_ ? rd_kafka_header_cnt(Native(native_)) : 0; }

bool RecordHeaders::Get(size_t i, std::string_view* name, std::optional<std::string_view>* value) const {
  if (!native_) return false;
  const char* n = nullptr;
  const void* v = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_all(Native(native_), i, &n, &v, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  *name = n;
  *value = v ? std::optional<std::string_view>(std::string_view(static_cast<const char*>(v), size)) : std::nullopt;
  return true;
}

std::vector<RecordHeader> RecordHeaders::ToVector() const {
  std::vector<RecordHeader> out;
  std::string_view name;
  std::optional<std::string_view> value;
  for (size_t i = 0; Get(i, &name, &value); ++i) {
    RecordHeader h;
    h.name = std::string(name);
    if (value) h.value.emplace(*value);
    out.push_back(std::move(h));
  }
  return out;
}

bool RecordHeaders::Last(const std::string& name, std::optional<std::string_view>* value) const {
  if (!native_) return false;
  const void* v = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(Native(native_), name.c_str(), &v, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  *value = v ? std::optional<std::string_view>(std::string_view(static_cast<const char*>(v), size)) : std::nullopt;
  return true;
}

void RecordHeaders::Remove(const std::string& name) {
  if (native_) rd_kafka_header_remove(Native(native_), name.c_str());
}

void RecordHeaders::Add(std::string_view name, std::optional<std::string_view> value) {
  if (!native_) native_ = rd_kafka_headers_new(4);
  rd_kafka_header_add(Native(native_), name.data(), static_cast<ssize_t>(name.size()), value ? value->data() : nullptr,
                      value ? static_cast<ssize_t>(value->size()) : 0);
}

}  // namespace longhaul::mirror
