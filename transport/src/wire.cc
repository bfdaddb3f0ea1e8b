#include "wire.h"

#include "absl/strings/str_cat.h"

namespace longhaul::transport::wire {

void AppendString(std::string_view value, std::string* out) {
  AppendUvarint(value.size(), out);
  out->append(value);
}

void StoreBigEndian32(uint32_t value, char* p) {
  p[0] = static_cast<char>(value >> 24);
  p[1] = static_cast<char>(value >> 16);
  p[2] = static_cast<char>(value >> 8);
  p[3] = static_cast<char>(value);
}

void AppendBigEndian32(uint32_t value, std::string* out) {
  char buf[4];
  StoreBigEndian32(value, buf);
  out->append(buf, 4);
}

uint32_t LoadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 | uint32_t{u[3]};
}

absl::Status Reader::Error(size_t at, std::string_view field, std::string_view problem) const {
  return absl::InvalidArgumentError(
      absl::StrCat(Absl(what_), ": ", Absl(field), " ", Absl(problem), " at byte ", base_ + at));
}

absl::Status Reader::ReadByte(std::string_view field, uint8_t* out) {
  if (pos_ >= data_.size()) return Error(pos_, field, "truncated (frame ends)");
  *out = static_cast<uint8_t>(data_[pos_++]);
  return absl::OkStatus();
}

absl::Status Reader::ReadUvarint(std::string_view field, uint64_t* out) {
  const size_t start = pos_;
  switch (DecodeUvarint(data_, &pos_, out)) {
    case VarintError::kNone:
      return absl::OkStatus();
    case VarintError::kTruncated:
      return Error(start, field, "truncated varint (frame ends)");
    case VarintError::kOverlong:
      return Error(start, field, "varint is overlong (more than 64 bits)");
    case VarintError::kNotMinimal:
      return Error(start, field, "varint is not minimally encoded");
  }
  return Error(start, field, "varint is overlong (more than 64 bits)");
}

absl::Status Reader::ReadUint(std::string_view field, uint64_t max, uint64_t* out) {
  const size_t start = pos_;
  uint64_t value = 0;
  LH_TRANSPORT_RETURN_IF_ERROR(ReadUvarint(field, &value));
  if (value > max) return Error(start, field, absl::StrCat(value, " exceeds the maximum ", max));
  *out = value;
  return absl::OkStatus();
}

absl::Status Reader::ReadZigzag(std::string_view field, int64_t* out) {
  uint64_t raw = 0;
  LH_TRANSPORT_RETURN_IF_ERROR(ReadUvarint(field, &raw));
  *out = ZigzagDecode(raw);
  return absl::OkStatus();
}

absl::Status Reader::ReadBytes(std::string_view field, size_t n, std::string_view* out) {
  if (n > remaining()) {
    return Error(pos_, field, absl::StrCat("needs ", n, " bytes but only ", remaining(), " remain"));
  }
  *out = data_.substr(pos_, n);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status Reader::ReadString(std::string_view field, size_t max_len, std::string_view* out) {
  const size_t start = pos_;
  uint64_t len = 0;
  LH_TRANSPORT_RETURN_IF_ERROR(ReadUvarint(field, &len));
  if (len > max_len) return Error(start, field, absl::StrCat("length ", len, " exceeds the maximum ", max_len));
  return ReadBytes(field, static_cast<size_t>(len), out);
}

std::string_view Reader::Rest() {
  std::string_view rest = data_.substr(pos_);
  pos_ = data_.size();
  return rest;
}

absl::Status Reader::ExpectEnd() const {
  if (pos_ == data_.size()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(Absl(what_), ": ", remaining(), " unexpected trailing bytes at byte ",
                                                 base_ + pos_));
}

}  // namespace longhaul::transport::wire
