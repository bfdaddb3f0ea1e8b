#include "longhaul/base/wire_reader.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "longhaul/base/status_macros.h"

namespace longhaul::wire {
namespace {
// absl::string_view is not std::string_view in this Abseil build.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

std::string Field::ToString() const {
  if (index < 0) return std::string(name);
  return absl::StrCat(Absl(item), " ", index, " ", Absl(name));
}

absl::Status Reader::Error(size_t at, Field field, std::string_view problem) const {
  return absl::InvalidArgumentError(
      absl::StrCat(Absl(what_), ": ", field.ToString(), " ", Absl(problem), " at byte ", base_ + at));
}

absl::Status Reader::Error(size_t at, std::string_view problem) const {
  return absl::InvalidArgumentError(absl::StrCat(Absl(what_), ": ", Absl(problem), " at byte ", base_ + at));
}

absl::Status Reader::ReadByte(Field field, uint8_t* out) {
  if (pos_ >= data_.size()) return Error(pos_, field, "truncated (input ends)");
  *out = static_cast<uint8_t>(data_[pos_++]);
  return absl::OkStatus();
}

absl::Status Reader::ReadUvarint(Field field, uint64_t* out) {
  const size_t start = pos_;
  switch (DecodeUvarint(data_, &pos_, out)) {
    case VarintError::kNone:
      return absl::OkStatus();
    case VarintError::kTruncated:
      return Error(start, field, "truncated varint (input ends)");
    case VarintError::kOverlong:
      break;
    case VarintError::kNotMinimal:
      return Error(start, field, "varint is not minimally encoded");
  }
  return Error(start, field, "varint is overlong (more than 64 bits)");
}

absl::Status Reader::ReadUint(Field field, uint64_t max, uint64_t* out) {
  const size_t start = pos_;
  uint64_t value = 0;
  LH_RETURN_IF_ERROR(ReadUvarint(field, &value));
  if (value > max) return Error(start, field, absl::StrCat(value, " exceeds the maximum ", max));
  *out = value;
  return absl::OkStatus();
}

absl::Status Reader::ReadInt(Field field, int64_t max, int64_t* out) {
  const size_t start = pos_;
  uint64_t value = 0;
  LH_RETURN_IF_ERROR(ReadUvarint(field, &value));
  // Say so when the value would be negative as int64 (a likely corruption or
  // attack), rather than only that it exceeds the maximum.
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Error(start, field, absl::StrCat(value, " is out of range (negative as int64)"));
  }
  if (static_cast<int64_t>(value) > max) return Error(start, field, absl::StrCat(value, " exceeds the maximum ", max));
  *out = static_cast<int64_t>(value);
  return absl::OkStatus();
}

absl::Status Reader::ReadZigzag(Field field, int64_t* out, int64_t min) {
  const size_t start = pos_;
  uint64_t raw = 0;
  LH_RETURN_IF_ERROR(ReadUvarint(field, &raw));
  const int64_t value = ZigzagDecode(raw);
  if (value < min) {
    return Error(start, field, value < 0 ? absl::StrCat(value, " is negative (the minimum is ", min, ")")
                                         : absl::StrCat(value, " is below the minimum ", min));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status Reader::ReadBytes(Field field, size_t n, std::string_view* out) {
  if (n > remaining()) {
    return Error(pos_, field, absl::StrCat("is truncated (", n, " bytes declared, ", remaining(), " left)"));
  }
  *out = data_.substr(pos_, n);
  pos_ += n;
  return absl::OkStatus();
}

absl::Status Reader::ReadString(Field field, size_t max_len, std::string_view* out) {
  const size_t start = pos_;
  uint64_t len = 0;
  LH_RETURN_IF_ERROR(ReadUvarint(field, &len));
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
  return Error(pos_, absl::StrCat(remaining(), " trailing bytes after the value"));
}

}  // namespace longhaul::wire
