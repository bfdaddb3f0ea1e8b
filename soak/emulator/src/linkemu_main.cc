// longhaul-linkemu: two network namespaces (edge, hub) joined through TUN
// devices by this process, which applies a link profile per direction. See
// soak/emulator/README.md.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "longhaul/soak/link_model.h"
#include "longhaul/soak/link_profile.h"
#include "longhaul/soak/linkemu_options.h"
#include "longhaul/soak/selftest_report.h"
#include "namespaces.h"
#include "selftest.h"
#include "tun_forwarder.h"

namespace longhaul::soak {
namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitSkipped = 77;

int Fail(int code, const absl::Status& s) {
  std::fprintf(stderr, "longhaul-linkemu: error: %s\n", std::string(s.message()).c_str());
  return code;
}

bool NeedRoot(const char* what) {
  if (geteuid() == 0) return true;
  std::fprintf(stderr, "longhaul-linkemu: %s needs root (network namespaces and TUN devices)\n", what);
  return false;
}

int Profiles(const LinkemuOptions& o) {
  std::vector<std::string> names = o.profiles.empty() ? BuiltinProfileNames() : o.profiles;
  for (const std::string& n : names) {
    auto p = LoadLinkProfile(n);
    if (!p.ok()) return Fail(kExitUsage, p.status());
    std::printf("%s", DescribeLinkProfile(*p).c_str());
  }
  return kExitOk;
}

int Setup(const LinkemuOptions& o) {
  if (!NeedRoot("setup")) return kExitUsage;
  auto plan = PlanNamespaces(o.name, o.edge_addr, o.hub_addr);
  if (!plan.ok()) return Fail(kExitUsage, plan.status());
  std::string notes;
  if (absl::Status s = CreateNamespaces(*plan, &notes); !s.ok()) return Fail(kExitFailed, s);
  std::fprintf(stderr, "%s", notes.c_str());
  std::printf("longhaul-linkemu: namespaces edge=%s (%s) hub=%s (%s) device=%s\n", plan->edge_ns.c_str(),
              plan->edge_addr.c_str(), plan->hub_ns.c_str(), plan->hub_addr.c_str(), plan->device.c_str());
  return kExitOk;
}

int Teardown(const LinkemuOptions& o) {
  if (!NeedRoot("teardown")) return kExitUsage;
  auto plan = PlanNamespaces(o.name, "", "");
  if (!plan.ok()) return Fail(kExitUsage, plan.status());
  if (absl::Status s = DestroyNamespaces(*plan); !s.ok()) return Fail(kExitFailed, s);
  return kExitOk;
}

int Ctl(const LinkemuOptions& o) {
  auto reply = SendControlCommand(o.control, o.ctl_command);
  if (!reply.ok()) return Fail(kExitFailed, reply.status());
  std::printf("%s\n", reply->c_str());
  return reply->rfind("ok", 0) == 0 ? kExitOk : kExitFailed;
}

int RunLink(const LinkemuOptions& o) {
  if (!NeedRoot("run")) return kExitUsage;
  auto profile = LoadLinkProfile(o.profiles[0]);
  if (!profile.ok()) return Fail(kExitUsage, profile.status());
  auto plan = PlanNamespaces(o.name, o.edge_addr, o.hub_addr);
  if (!plan.ok()) return Fail(kExitUsage, plan.status());

  // Signals arrive through a descriptor the loop polls; block them first so
  // none is lost between setup and the loop.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&signals, s);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sig_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sig_fd < 0) return Fail(kExitFailed, absl::InternalError("signalfd failed"));

  if (o.setup) {
    std::string notes;
    if (absl::Status s = CreateNamespaces(*plan, &notes); !s.ok()) return Fail(kExitFailed, s);
    std::fprintf(stderr, "%s", notes.c_str());
  }
  int code = kExitOk;
  {
    auto edge = OpenTun(plan->edge_ns, plan->device);
    auto hub = edge.ok() ? OpenTun(plan->hub_ns, plan->device) : edge;
    auto control = hub.ok() ? ListenControlSocket(o.control) : absl::StatusOr<int>(hub.status());
    if (!control.ok()) {
      code = Fail(kExitFailed, control.status());
    } else {
      const SteadyTime start = std::chrono::steady_clock::now();
      LinkModel model(*profile, o.seed, start);
      TunForwarder forwarder(*edge, *hub, &model);
      ForwarderOptions fo;
      fo.deadline = start + absl::ToChronoNanoseconds(o.duration);
      fo.stop_fd = sig_fd;
      fo.control_fd = *control;
      fo.owner_pid = static_cast<pid_t>(o.owner_pid);
      fo.status_interval = absl::ToChronoNanoseconds(o.status_interval);
      // The kernel activates a TUN device's queue asynchronously once it has a
      // reader (link watch, up to a second); packets sent before then are
      // dropped by the kernel. Forward for a moment before saying ready.
      {
        ForwarderOptions settle = fo;
        settle.deadline = std::min(fo.deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(1500));
        settle.status_interval = Nanos(0);
        auto why = forwarder.Run(settle);
        if (!why.ok() || *why != "duration reached") {
          std::fprintf(stderr, "longhaul-linkemu: stopped while starting: %s\n",
                       why.ok() ? why->c_str() : std::string(why.status().message()).c_str());
        }
      }
      std::printf("longhaul-linkemu: ready name=%s edge_ns=%s hub_ns=%s edge_addr=%s hub_addr=%s profile=%s "
                  "control=%s duration=%s\n",
                  o.name.c_str(), plan->edge_ns.c_str(), plan->hub_ns.c_str(), plan->edge_addr.c_str(),
                  plan->hub_addr.c_str(), profile->name.c_str(), o.control.c_str(),
                  absl::FormatDuration(o.duration).c_str());
      std::fflush(stdout);
      std::fprintf(stderr, "%s", DescribeLinkProfile(*profile).c_str());
      auto why = forwarder.Run(fo);
      const std::string status = model.StatusLine(std::chrono::steady_clock::now());
      if (!why.ok()) {
        code = Fail(kExitFailed, why.status());
      } else {
        std::printf("longhaul-linkemu: stopped (%s) %s write_errors=%lld\n", why->c_str(), status.c_str(),
                    static_cast<long long>(forwarder.write_errors()));
      }
      close(*control);
      unlink(o.control.c_str());
    }
    if (edge.ok()) close(*edge);
    if (hub.ok() && edge.ok()) close(*hub);
  }
  if (o.setup) {
    if (absl::Status s = DestroyNamespaces(*plan); !s.ok()) code = Fail(kExitFailed, s);
  }
  return code;
}

int Selftest(const LinkemuOptions& o) {
  if (!NeedRoot("selftest")) return kExitSkipped;
  bool all_ok = true;
  for (const std::string& name : o.profiles) {
    auto profile = LoadLinkProfile(name);
    if (!profile.ok()) return Fail(kExitUsage, profile.status());
    SelftestOptions so;
    so.name = o.name.empty() ? absl::StrCat("lhst", getpid()) : o.name;
    so.seed = o.seed;
    so.probe_seconds = o.probe_seconds;
    so.probe_rate = static_cast<int>(o.probe_rate);
    so.tcp = o.tcp;
    so.cut_seconds = o.cut_seconds;
    std::printf("== %s", DescribeLinkProfile(*profile).c_str());
    std::fflush(stdout);
    auto m = MeasureProfile(*profile, so);
    if (!m.ok()) return Fail(kExitFailed, m.status());
    std::vector<SelftestRow> rows = EvaluateSelftest(*profile, *m);
    std::printf("%s\n", RenderSelftest(*profile, rows).c_str());
    std::fflush(stdout);
    all_ok = all_ok && SelftestPassed(rows);
  }
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace
}  // namespace longhaul::soak

int main(int argc, char** argv) {
  using namespace longhaul::soak;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto o = ParseLinkemuOptions(args);
  if (!o.ok()) {
    std::fprintf(stderr, "longhaul-linkemu: %s\n", std::string(o.status().message()).c_str());
    return kExitUsage;
  }
  if (o->help) {
    std::printf("%s", LinkemuUsage().c_str());
    return kExitOk;
  }
  switch (o->command) {
    case LinkemuOptions::Command::kProfiles: return Profiles(*o);
    case LinkemuOptions::Command::kSetup: return Setup(*o);
    case LinkemuOptions::Command::kTeardown: return Teardown(*o);
    case LinkemuOptions::Command::kRun: return RunLink(*o);
    case LinkemuOptions::Command::kCtl: return Ctl(*o);
    case LinkemuOptions::Command::kSelftest: return Selftest(*o);
  }
  return kExitUsage;
}
