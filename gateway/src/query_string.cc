#include "query_string.h"

#include <optional>

#include "absl/strings/str_cat.h"

namespace longhaul::gateway {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> DecodeQueryComponent(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] != '%') {
      out += in[i];
    } else {
      const int hi = i + 2 < in.size() ? HexDigit(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexDigit(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad percent-encoding in query parameter '", std::string(in), "'"));
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

absl::StatusOr<std::string> QueryParameter(std::string_view query, std::string_view name) {
  std::optional<std::string> value;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    auto key = DecodeQueryComponent(pair.substr(0, eq));
    if (!key.ok()) return key.status();
    if (*key != name) continue;
    if (value) return absl::InvalidArgumentError(absl::StrCat("query parameter '", std::string(name), "' given twice"));
    auto decoded = DecodeQueryComponent(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!decoded.ok()) return decoded.status();
    value = std::move(*decoded);
  }
  if (!value || value->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("missing query parameter '", std::string(name), "'"));
  }
  return *value;
}

}  // namespace longhaul::gateway
