// `longhaul-linkemu selftest`: builds a throw-away namespace pair, runs the
// forwarder with a profile, and measures what it delivers: UDP echo probes
// for round trip and loss, a plain TCP transfer each way for throughput, and
// a cut through the control socket. Private to the emulator executable.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "longhaul/soak/link_profile.h"
#include "longhaul/soak/selftest_report.h"

namespace longhaul::soak {

struct SelftestOptions {
  std::string name;          // namespace prefix
  uint64_t seed = 1;
  double probe_seconds = 10;
  int probe_rate = 2000;     // probes per second
  bool tcp = true;
  double cut_seconds = 2;    // 0 = skip the cut check
};

// Measures one profile. Its scheduled outages are switched off for the
// measurement (they would distort loss and throughput); the cut check
// exercises the same drop path, and the schedule is unit-tested.
absl::StatusOr<SelftestMeasurement> MeasureProfile(const LinkProfile& profile, const SelftestOptions& options);

}  // namespace longhaul::soak
