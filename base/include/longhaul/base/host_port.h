// Network addresses as people write them: "host:port" and "[v6-address]:port".
// The one parser for the config, the admin server, the link (hub listen,
// edge dial, proxy) and the tools.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace longhaul {

struct HostPort {
  std::string host;  // without the brackets of an IPv6 address
  uint16_t port = 0;

  // "host:port", with brackets around a host that has a ':' (IPv6).
  std::string ToString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// A host name ([A-Za-z0-9._-]), an IPv4 address or a bracketed IPv6 address,
// then ':' and a port from 1 (0 with `allow_port_zero`: pick a free one) to
// 65535. Errors are InvalidArgument with a reason that does not repeat the
// text ("missing :port"), for the caller to prefix with what it parsed.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text, bool allow_port_zero = false);

}  // namespace longhaul
