#include "longhaul/soak/linkemu_options.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "longhaul/soak/flag_table.h"
#include "longhaul/soak/link_profile.h"

namespace longhaul::soak {
namespace {

absl::Status Usage(std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(why), " (see longhaul-linkemu --help)"));
}

FlagTable::ValueSetter PositiveSeconds(double* target) {
  return [target](absl::string_view flag, absl::string_view value) -> absl::Status {
    double x;
    if (!absl::SimpleAtod(value, &x) || !(x >= 0) || x > 3600) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": '", value, "' is not a number of seconds (0-3600)"));
    }
    *target = x;
    return absl::OkStatus();
  };
}

}  // namespace

std::string ControlPathFor(const std::string& name) { return absl::StrCat("/run/longhaul-linkemu/", name, ".sock"); }

absl::StatusOr<LinkemuOptions> ParseLinkemuOptions(const std::vector<std::string>& args) {
  LinkemuOptions o;
  if (args.empty()) return Usage("name a command: profiles, setup, teardown, run, ctl, selftest");
  const std::string& cmd = args[0];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    o.help = true;
    return o;
  }
  using C = LinkemuOptions::Command;
  if (cmd == "profiles") o.command = C::kProfiles;
  else if (cmd == "setup") o.command = C::kSetup;
  else if (cmd == "teardown") o.command = C::kTeardown;
  else if (cmd == "run") o.command = C::kRun;
  else if (cmd == "ctl") o.command = C::kCtl;
  else if (cmd == "selftest") o.command = C::kSelftest;
  else return Usage(absl::StrCat("unknown command '", cmd, "'"));

  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (o.command == C::kCtl) {
    // Options first, then the command words (which are not flags).
    size_t i = 0;
    std::vector<std::string> flags;
    while (i < rest.size() && absl::StartsWith(rest[i], "--")) {
      flags.push_back(rest[i]);
      if (rest[i].find('=') == std::string::npos && i + 1 < rest.size()) flags.push_back(rest[++i]);
      ++i;
    }
    o.ctl_command = absl::StrJoin(rest.begin() + i, rest.end(), " ");
    rest = flags;
    if (o.ctl_command.empty()) return Usage("ctl: give a command: status, profile NAME, cut [DURATION], restore");
  }

  FlagTable t;
  std::string profile_list;
  bool name_given = false;
  t.Switch("--help", [&] { o.help = true; });
  t.Switch("-h", [&] { o.help = true; });
  t.Value("--name", [&](absl::string_view, absl::string_view v) {
    o.name = std::string(v);
    name_given = true;
    return absl::OkStatus();
  });
  if (o.command == C::kRun || o.command == C::kSelftest || o.command == C::kProfiles) {
    t.Value("--profile", StringInto(&profile_list));
  }
  if (o.command == C::kRun || o.command == C::kSetup) {
    t.Value("--edge-addr", StringInto(&o.edge_addr));
    t.Value("--hub-addr", StringInto(&o.hub_addr));
  }
  if (o.command == C::kRun) {
    t.Value("--duration", DurationInto(&o.duration));
    t.Switch("--setup", [&] { o.setup = true; });
    t.Value("--owner-pid", IntInto(&o.owner_pid, 1));
    t.Value("--status-interval", DurationInto(&o.status_interval));
  }
  if (o.command == C::kRun || o.command == C::kCtl) t.Value("--control", StringInto(&o.control));
  if (o.command == C::kRun || o.command == C::kSelftest) t.Value("--seed", IntInto(&o.seed, 0));
  if (o.command == C::kSelftest) {
    t.Value("--probe-seconds", PositiveSeconds(&o.probe_seconds));
    t.Value("--probe-rate", IntInto(&o.probe_rate, 1));
    t.Switch("--no-tcp", [&] { o.tcp = false; });
    t.Value("--cut-seconds", PositiveSeconds(&o.cut_seconds));
  }
  if (absl::Status s = t.Parse(rest); !s.ok()) return s;
  if (o.help) return o;

  if (!profile_list.empty()) {
    if (profile_list == "all") o.profiles = BuiltinProfileNames();
    else o.profiles = absl::StrSplit(profile_list, ',', absl::SkipEmpty());
  }
  if (o.command == C::kRun && o.profiles.size() != 1) return Usage("run: --profile takes one profile");
  if (o.command == C::kSelftest && o.profiles.empty()) return Usage("selftest: --profile P (or all) is required");
  if (o.command == C::kRun && o.duration <= absl::ZeroDuration()) return Usage("run: --duration must be positive");
  if ((o.command == C::kSetup || o.command == C::kTeardown) && !name_given) {
    return Usage(absl::StrCat(cmd, ": --name is required (namespaces NAME-edge and NAME-hub)"));
  }
  if (o.command == C::kSelftest && !name_given) o.name = "";  // the caller picks a unique one
  if (o.control.empty()) o.control = ControlPathFor(o.name);
  return o;
}

std::string LinkemuUsage() {
  return R"(longhaul-linkemu: an emulated long link between two network namespaces

  longhaul-linkemu profiles [--profile P]
      Lists the built-in profiles (lan, ocean, geo-satellite, mobile).
  longhaul-linkemu setup --name N [--edge-addr 10.201.0.1] [--hub-addr 10.201.0.2]
      Creates namespaces N-edge and N-hub joined by TUN devices lh0 (replacing
      leftovers), raises their TCP buffer limits and enables bbr.
  longhaul-linkemu teardown --name N
      Deletes both namespaces.
  longhaul-linkemu run --name N --profile P [--duration 1h] [--setup] [--control PATH]
                       [--seed S] [--owner-pid PID] [--status-interval 30s]
      Forwards packets between the namespaces through the profile until the
      duration, SIGINT/SIGTERM/SIGHUP, or the owner process exits. --setup
      creates the namespaces first and deletes them on exit. Prints a `ready`
      line on stdout once forwarding. P is a built-in name or a profile file.
  longhaul-linkemu ctl (--name N | --control PATH) COMMAND
      Sends a command to a running emulator: status | profile P | cut [DURATION] | restore
  longhaul-linkemu selftest --profile P[,P...]|all [--seed S] [--probe-seconds 10]
                            [--probe-rate 2000] [--no-tcp] [--cut-seconds 2]
      Measures round trip, loss, TCP throughput and a cut on throw-away
      namespaces and compares them with the profile. Exit 0 all within
      tolerance, 1 not, 77 not root (skipped).

Needs root (network namespaces, TUN). The control socket defaults to
/run/longhaul-linkemu/N.sock.
)";
}

}  // namespace longhaul::soak
