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

}  // namespace longhaul::transport::wire
