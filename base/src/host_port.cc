#include "longhaul/base/host_port.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace longhaul {
namespace {
bool IsHostChar(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }
}  // namespace

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text, bool allow_port_zero) {
  if (text.empty()) return absl::InvalidArgumentError("empty address");
  std::string_view host;
  std::string_view port;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("unclosed '[' in an IPv6 address");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return absl::InvalidArgumentError("missing :port after the IPv6 address");
    }
    port = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return absl::InvalidArgumentError("missing :port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return absl::InvalidArgumentError("IPv6 addresses need brackets, like [::1]:9092");
    }
    if (!std::all_of(host.begin(), host.end(), IsHostChar)) {
      return absl::InvalidArgumentError("invalid character in host name");
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("missing host");
  int number = -1;
  if (!port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), absl::ascii_isdigit)) {
    std::from_chars(port.data(), port.data() + port.size(), number);
  }
  if (number < (allow_port_zero ? 0 : 1) || number > 65535) {
    return absl::InvalidArgumentError(allow_port_zero ? "port must be 0 to 65535" : "port must be 1 to 65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(number)};
}

}  // namespace longhaul
