// The verdict of `longhaul-linkemu selftest`: what the emulator delivered
// (measured by probes and TCP transfers between the namespaces) next to what
// the profile promises, with the tolerances of soak/emulator/README.md#self-test: mean round trip within
// 10 %, loss within a factor of 2, TCP throughput capped near the rate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "longhaul/soak/link_profile.h"

namespace longhaul::soak {

struct SelftestMeasurement {
  // UDP probes edge -> hub -> edge.
  int64_t probes_sent = 0;
  int64_t probes_at_hub = 0;   // arrived at the echo server
  int64_t probes_back = 0;     // echoes that came back
  std::vector<double> rtt_ms;  // one per echo that came back
  // Plain TCP transfers, goodput after the ramp-up; 0 = not measured.
  // The cap is judged on `tcp_flows` parallel flows per direction; one flow
  // edge -> hub is reported for information.
  int tcp_flows = 1;
  double tcp_edge_to_hub_bps = 0;
  double tcp_hub_to_edge_bps = 0;
  double tcp_single_flow_bps = 0;
  std::string tcp_single_flow_info;
  std::string congestion_control;
  // TCP_INFO of each sender: retransmissions and what limited it.
  std::string tcp_edge_to_hub_info;
  std::string tcp_hub_to_edge_info;
  // Packets the kernels dropped before the forwarder read them (a full TUN
  // queue: the forwarder was not scheduled in time).
  int64_t tun_queue_drops = 0;
  // Packets the kernel dropped from its input backlogs meanwhile (machine-wide).
  int64_t backlog_drops = 0;
  // A cut made through the control socket.
  double cut_seconds = 0;
  int64_t cut_probes_sent = 0;  // sent while the link was cut
  int64_t cut_probes_back = 0;  // of those, echoes that came back (must be 0)
  int64_t after_probes_sent = 0;  // sent after the link came back
  int64_t after_probes_back = 0;
};

struct SelftestRow {
  std::string metric;
  std::string profile;
  std::string measured;
  std::string verdict;
  bool ok = true;
};

std::vector<SelftestRow> EvaluateSelftest(const LinkProfile& profile, const SelftestMeasurement& m);

// A fixed-width table, then "selftest PASSED|FAILED profile=NAME".
std::string RenderSelftest(const LinkProfile& profile, const std::vector<SelftestRow>& rows);

bool SelftestPassed(const std::vector<SelftestRow>& rows);

}  // namespace longhaul::soak
