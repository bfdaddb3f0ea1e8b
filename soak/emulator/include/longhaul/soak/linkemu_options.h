// Command line of longhaul-linkemu (see soak/emulator/README.md):
//
//   longhaul-linkemu profiles [--profile P]
//   longhaul-linkemu setup    --name N [--edge-addr A] [--hub-addr B]
//   longhaul-linkemu teardown --name N
//   longhaul-linkemu run      --name N --profile P [--duration 1h] [--setup]
//                             [--control PATH] [--seed S] [--owner-pid PID]
//                             [--status-interval 30s] [--edge-addr A] [--hub-addr B]
//   longhaul-linkemu ctl      --name N | --control PATH  COMMAND...
//   longhaul-linkemu selftest --profile P[,P...]|all [--name N] [--seed S]
//                             [--probe-seconds 10] [--probe-rate 2000] [--no-tcp]
//                             [--cut-seconds 2]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace longhaul::soak {

struct LinkemuOptions {
  enum class Command { kProfiles, kSetup, kTeardown, kRun, kCtl, kSelftest };
  Command command = Command::kProfiles;
  bool help = false;
  std::string name = "lh";
  std::vector<std::string> profiles;  // run: one; selftest: one or more; profiles: filter
  std::string edge_addr = "10.201.0.1";
  std::string hub_addr = "10.201.0.2";
  absl::Duration duration = absl::Hours(1);
  bool setup = false;
  std::string control;  // default: ControlPathFor(name)
  uint64_t seed = 1;
  int64_t owner_pid = 0;
  absl::Duration status_interval = absl::Seconds(30);
  std::string ctl_command;  // ctl: the words after the options, joined
  double probe_seconds = 10;
  int64_t probe_rate = 2000;
  bool tcp = true;
  double cut_seconds = 2;
};

// /run/longhaul-linkemu/NAME.sock
std::string ControlPathFor(const std::string& name);

// args excludes the program name. Errors name the flag and what was wrong.
absl::StatusOr<LinkemuOptions> ParseLinkemuOptions(const std::vector<std::string>& args);

std::string LinkemuUsage();

}  // namespace longhaul::soak
