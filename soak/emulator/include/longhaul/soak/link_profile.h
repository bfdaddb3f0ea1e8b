// Link profiles for longhaul-linkemu: what one emulated long link does to the
// packets of each direction (delay, jitter, loss, bandwidth cap with a bounded
// queue) and when it goes dark (scheduled outages). The named profiles of
// soak/emulator/README.md are built in; others are written as `key=value` specs (see
// ParseLinkProfile and soak/profiles/).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace longhaul::soak {

using Nanos = std::chrono::nanoseconds;

// The impairment of one direction (edge -> hub or hub -> edge).
struct DirectionImpairment {
  Nanos delay{0};         // fixed one-way propagation delay
  Nanos jitter{0};        // extra delay in [0, jitter], varying smoothly (see LinkModel)
  double loss = 0;        // probability that a packet is lost on the wire, [0, 1]
  int64_t rate_bps = 0;   // bottleneck rate in bits/s of IP packets; 0 = unlimited
  int64_t queue_bytes = 0;  // bottleneck queue; packets beyond it are tail-dropped

  bool operator==(const DirectionImpairment&) const = default;
};

struct LinkProfile {
  std::string name;
  std::string description;
  DirectionImpairment edge_to_hub;
  DirectionImpairment hub_to_edge;
  // Jitter moves linearly between random targets drawn every jitter_period.
  Nanos jitter_period{std::chrono::milliseconds(500)};
  // Scheduled outages: both directions drop everything for outage_duration,
  // first at outage_first after the profile takes effect, then every
  // outage_every. outage_every == 0 means none.
  Nanos outage_every{0};
  Nanos outage_duration{0};
  Nanos outage_first{0};

  // Round trip without jitter and with the largest jitter of both directions.
  Nanos RttMin() const { return edge_to_hub.delay + hub_to_edge.delay; }
  Nanos RttMax() const { return RttMin() + edge_to_hub.jitter + hub_to_edge.jitter; }
  // The mean round trip a sparse probe sees (jitter averages half its range).
  Nanos RttMean() const { return RttMin() + (edge_to_hub.jitter + hub_to_edge.jitter) / 2; }

  bool operator==(const LinkProfile&) const = default;
};

// The names of the built-in profiles, in a stable order.
std::vector<std::string> BuiltinProfileNames();

// A built-in profile by name: lan, ocean, geo-satellite, mobile.
absl::StatusOr<LinkProfile> BuiltinProfile(std::string_view name);

// Parses a profile spec: `key=value` words separated by blanks or newlines,
// `#` starts a comment. Keys: name, description, rtt (sets both one-way
// delays to half), delay, jitter (per direction), loss (0.01 or 1%), rate
// (bits/s with k/m/g suffix, e.g. 20mbit), queue (bytes with k/m suffix, or a
// duration at the rate, e.g. 100ms), jitter_period, outage_every,
// outage_duration, outage_first. A key prefixed with `edge_to_hub.` or
// `hub_to_edge.` sets one direction only. `base=NAME` starts from a built-in
// profile. Errors name the source (e.g. a file name), the line and the key.
absl::StatusOr<LinkProfile> ParseLinkProfile(std::string_view text, std::string_view source);

// A built-in name, or else a path to a profile spec file.
absl::StatusOr<LinkProfile> LoadLinkProfile(std::string_view name_or_path);

// One line per direction plus outages, for logs and `profiles`.
std::string DescribeLinkProfile(const LinkProfile& profile);

// "150ms", "1.5s", "80us".
std::string FormatNanos(Nanos d);
// "20 Mbit/s".
std::string FormatRate(double bits_per_second);

}  // namespace longhaul::soak
