#include "run_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <set>
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "longhaul/base/clock.h"
#include "longhaul/base/logging.h"
#include "longhaul/config/config.h"
#include "longhaul/gateway/admin_server.h"
#include "longhaul/metrics/registry.h"
#include "longhaul/mirror/pipeline_runner.h"
#include "longhaul/mirror/offset_translation.h"
#include "build_info.h"
#include "certificate_metrics.h"
#include "config_reload.h"
#include "service_notify.h"
#include "status_json.h"
#include "translation_json.h"

namespace longhaul::gateway {
namespace {

using std::chrono::milliseconds;

struct Totals {
  int64_t records = 0;
  int64_t lag_records = 0;
  double lag_seconds = 0;
  int lanes = 0;
};

Totals Sum(const mirror::PipelineStatus& st) {
  Totals t;
  for (const auto& p : st.partitions) {
    t.records += p.records_total;
    t.lag_records += p.lag_records;
    t.lag_seconds = std::max(t.lag_seconds, p.lag_seconds);
  }
  t.lanes = static_cast<int>(st.lanes_owned.size());
  return t;
}

// What the admin server shows: the pipelines' status, with throughput
// computed between consecutive requests.
// One runner of this process: a direct pipeline, or the edge or hub half
// of a pipeline via a link.
struct Half {
  std::string pipeline;
  enum Kind { kDirect, kEdge, kHub } kind;
  std::unique_ptr<mirror::PipelineRunner> runner;
};
const char* KindName(Half::Kind kind) {
  return kind == Half::kDirect ? "direct" : kind == Half::kEdge ? "edge" : "hub";
}

// The runners and the config in force; a reload replaces runners while the
// admin server's threads read them.
struct Running {
  mutable std::mutex mu;
  std::shared_ptr<const config::Config> config;  // the last applied
  std::vector<Half> halves;
};

class ProcessStatus final : public StatusSource {
 public:
  explicit ProcessStatus(const Running* running)
      : running_(running), worker_id_(absl::StrCat(Hostname(), "-", getpid())) {}

  std::string StatusJson() override {
    std::vector<mirror::PipelineStatus> all = Snapshot();
    Sample current{SystemClock::Instance().Now(), {}, {}};
    for (const auto& st : all) {
      int64_t r = 0, b = 0;
      for (const auto& p : st.partitions) {
        r += p.records_total;
        b += p.bytes_total;
      }
      current.records.push_back(r);
      current.bytes.push_back(b);
    }
    std::lock_guard<std::mutex> lock(mu_);
    // A reload changed the set of pipelines: earlier samples no longer line up.
    if (newer_ && newer_->records.size() != current.records.size()) older_.reset(), newer_.reset();
    // Rates against a sample at least a second old, so that rapid polling
    // (several browsers) does not turn into noise.
    if (!newer_ || current.at - newer_->at >= std::chrono::seconds(1)) {
      older_ = newer_;
      newer_ = current;
    }
    const Sample& base = older_ ? *older_ : current;
    double secs = std::chrono::duration<double>(current.at - base.at).count();
    return gateway::StatusJson(all, worker_id_, secs, base.records, base.bytes);
  }

  bool Ready(std::string* reason) override { return PipelinesReady(Snapshot(), reason); }

  // Reads the group on the source and the offset syncs on the target, as
  // `longhaul offsets translate` does; both clusters are in the config
  // whatever this process's role.
  absl::StatusOr<std::string> TranslateOffsetsJson(const std::string& pipeline, const std::string& group) override {
    std::shared_ptr<const config::Config> config;
    {
      std::lock_guard<std::mutex> lock(running_->mu);
      config = running_->config;
    }
    auto translation = mirror::TranslateGroupOffsets(*config, pipeline, group);
    if (!translation.ok()) return translation.status();
    return GroupTranslationJson(pipeline, group, *translation);
  }

 private:
  static std::string Hostname() {
    char buf[256] = {0};
    gethostname(buf, sizeof buf - 1);
    return buf;
  }
  std::vector<mirror::PipelineStatus> Snapshot() const {
    std::vector<mirror::PipelineStatus> all;
    std::lock_guard<std::mutex> lock(running_->mu);
    for (const Half& h : running_->halves) all.push_back(h.runner->Status());
    return all;
  }
  const Running* running_;
  std::string worker_id_;
  struct Sample {
    SteadyTime at;
    std::vector<int64_t> records, bytes;
  };
  std::mutex mu_;
  std::optional<Sample> older_, newer_;
};

void ApplyConfigLogLevel(const config::Config& config, const CommonOptions& opts) {
  if (opts.log_level_from_command_line) return;
  LogLevel level = LogLevel::kInfo;  // the default when the file does not say
  if (!config.worker.log_level.empty() && !ParseLogLevel(config.worker.log_level, &level)) return;
  SetLogLevel(level);
  // Visible only when the level is debug: proof the switch took effect.
  LogDebug("log level applied", {{"log_level", config.worker.log_level.empty() ? "info" : config.worker.log_level}});
}

// The runners of `pipeline` this process runs in `role`, except hub halves
// (created by the LinkHub of the pipeline's link, at start only).
absl::StatusOr<std::vector<Half>> CreateHalves(const config::Config& config, const std::string& pipeline, Role role,
                                               metrics::Registry* registry) {
  std::vector<Half> out;
  const config::PipelineConfig& p = config.pipelines.at(pipeline);
  if (RunsDirect(p, role)) {
    auto runner = mirror::CreatePipelineRunner(config, pipeline, registry);
    if (!runner.ok()) return runner.status();
    out.push_back(Half{pipeline, Half::kDirect, std::move(*runner)});
  } else if (RunsEdge(p, role)) {
    auto runner = mirror::CreateEdgeRunner(config, pipeline, registry);
    if (!runner.ok()) return runner.status();
    out.push_back(Half{pipeline, Half::kEdge, std::move(*runner)});
  }
  return out;
}

// Drains runners in parallel, each within `deadline`.
void StopAll(std::vector<Half>& halves, SteadyTime deadline) {
  std::vector<std::thread> stoppers;
  for (Half& h : halves) stoppers.emplace_back([&h, deadline] { h.runner->Stop(deadline); });
  for (auto& t : stoppers) t.join();
}

struct ReloadMetrics {
  metrics::Family<metrics::Counter>* reloads;
  metrics::Gauge* restart_pending;
};

// SIGHUP: re-read the file. Invalid: keep everything, say why (the
// loader's message names file:line:col and the key). Valid: apply what
// PlanReload allows: live settings in place, restarts of the pipelines
// whose incompatible settings changed (the others untouched), added and
// removed pipelines; name what waits for a process restart.
void ReloadConfig(const config::Config& started, Running& running, const CommonOptions& opts,
                  std::map<std::string, std::unique_ptr<mirror::LinkHub>>& hubs, metrics::Registry* registry,
                  const ReloadMetrics& m) {
  auto fresh_or = config::LoadConfigFile(opts.config_file);
  if (!fresh_or.ok()) {
    m.reloads->WithLabels({"rejected"}).Increment();
    LogError("config reload refused: the new file is invalid; the running config is kept",
             {{"config", opts.config_file}, {"error", std::string(fresh_or.status().message())}});
    return;
  }
  auto fresh = std::make_shared<const config::Config>(*std::move(fresh_or));
  for (const std::string& warning : fresh->warnings) LogWarn("config", {{"warning", warning}});
  std::shared_ptr<const config::Config> applied;
  {
    std::lock_guard<std::mutex> lock(running.mu);
    applied = running.config;
  }
  const ReloadPlan plan = PlanReload(started, *applied, *fresh, opts.role);
  ApplyConfigLogLevel(*fresh, opts);
  std::vector<std::string> failures;

  for (const std::string& link : plan.identities) {
    auto hub = hubs.find(link);
    if (hub == hubs.end()) continue;
    if (absl::Status s = hub->second->UpdateIdentities(fresh->links.at(link).hub->identities); !s.ok()) {
      failures.push_back(std::string(s.message()));
    }
  }
  // Only this thread changes the list of halves: reading it needs no lock.
  for (const std::string& name : plan.apply_live) {
    for (Half& h : running.halves) {
      if (h.pipeline == name) h.runner->ApplyLive(fresh->pipelines.at(name));
    }
  }

  // Restarts and removals: take the old halves out, drain them together,
  // then start the new ones.
  std::set<std::string> replace(plan.restart.begin(), plan.restart.end());
  replace.insert(plan.stop.begin(), plan.stop.end());
  std::vector<Half> old;
  {
    std::lock_guard<std::mutex> lock(running.mu);
    for (auto it = running.halves.begin(); it != running.halves.end();) {
      if (replace.count(it->pipeline) && it->kind != Half::kHub) {
        old.push_back(std::move(*it));
        it = running.halves.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const Half& h : old) {
    LogInfo(std::find(plan.stop.begin(), plan.stop.end(), h.pipeline) != plan.stop.end()
                ? "pipeline removed from the config: draining it"
                : "pipeline settings changed: draining it to start it again",
            {{"pipeline", h.pipeline}, {"role", KindName(h.kind)}});
  }
  StopAll(old, SystemClock::Instance().Now() + started.worker.drain_timeout);
  old.clear();
  std::vector<std::string> starting = plan.restart;
  starting.insert(starting.end(), plan.start.begin(), plan.start.end());
  // What runs from now on. A pipeline that could not be started is left
  // out, so the next reload sees it as added and tries again.
  auto now_applied = std::make_shared<config::Config>(*fresh);
  for (const std::string& name : starting) {
    auto halves = CreateHalves(*fresh, name, opts.role, registry);
    if (!halves.ok()) {
      failures.push_back(absl::StrCat("pipeline '", name, "' not started: ", halves.status().message()));
      now_applied->pipelines.erase(name);
      continue;
    }
    for (Half& h : *halves) {
      h.runner->Start();
      LogInfo("pipeline started with the reloaded config", {{"pipeline", name}, {"role", KindName(h.kind)}});
      std::lock_guard<std::mutex> lock(running.mu);
      running.halves.push_back(std::move(h));
    }
  }
  {
    std::lock_guard<std::mutex> lock(running.mu);
    running.config = std::move(now_applied);
  }

  m.restart_pending->Set(plan.needs_process_restart.empty() ? 0 : 1);
  if (!failures.empty()) {
    m.reloads->WithLabels({"failed"}).Increment();
    LogError("config reload: part of the new config could not be applied",
             {{"config", opts.config_file}, {"errors", absl::StrJoin(failures, "; ")}});
  } else {
    m.reloads->WithLabels({"applied"}).Increment();
  }
  LogInfo("config reloaded", {{"config", opts.config_file},
                              {"applied", plan.applied.empty() ? "nothing changed" : absl::StrJoin(plan.applied, ", ")},
                              {"pipelines_restarted", absl::StrJoin(plan.restart, ",")},
                              {"pipelines_started", absl::StrJoin(plan.start, ",")},
                              {"pipelines_stopped", absl::StrJoin(plan.stop, ",")},
                              {"log_level", fresh->worker.log_level.empty() ? "info" : fresh->worker.log_level}});
  if (!plan.needs_process_restart.empty()) {
    LogWarn("config reloaded; these changes take effect only after a restart",
            {{"config", opts.config_file}, {"changes", absl::StrJoin(plan.needs_process_restart, ", ")}});
  }
}

}  // namespace

int RunCommand(const CommonOptions& opts) {
  auto loaded = config::LoadConfigFile(opts.config_file);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
    return 1;
  }
  // The config the process started with: what its listeners, budgets and
  // hub halves keep until a restart (reloads compare against it).
  const auto started = std::make_shared<const config::Config>(*std::move(loaded));
  const config::Config* config = started.get();
  ApplyConfigLogLevel(*config, opts);
  for (const std::string& warning : config->warnings) LogWarn("config", {{"warning", warning}});
  // Signals are taken synchronously by this thread only; every thread
  // started below inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  metrics::Registry registry;
  const BuildInfo& build = GetBuildInfo();
  registry
      .AddGauge("longhaul_build_info", "Always 1; the labels say which build runs.",
                {"version", "revision", "librdkafka", "openssl", "boost"})
      .WithLabels({build.version, build.revision, build.librdkafka, build.openssl, build.boost})
      .Set(1);
  auto& reloads = registry.AddCounter(
      "longhaul_config_reloads_total",
      "Config re-reads on SIGHUP: applied (valid; taken over as far as it can be without a process restart), "
      "rejected (invalid; the running config kept), failed (valid, but a pipeline could not be started "
      "again).",
      {"result"});
  for (const char* result : {"applied", "rejected", "failed"}) reloads.WithLabels({result});
  ReloadMetrics reload_metrics{
      &reloads, &registry
                     .AddGauge("longhaul_config_restart_pending",
                               "1 when the config file has changes only a process restart applies (logged on "
                               "reload), else 0.",
                               {})
                     .WithLabels({})};
  Running running;
  running.config = started;
  std::vector<Half>& halves = running.halves;
  // The hub end of each link this process serves, created before the hub
  // halves that register with it; it starts accepting edges after them.
  std::map<std::string, std::unique_ptr<mirror::LinkHub>> hubs;
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  };
  for (const auto& [name, pipeline] : config->pipelines) {
    if (pipeline.via.empty() && !RunsDirect(pipeline, opts.role)) {
      LogInfo("direct pipeline not run in this role (only with --role all)", {{"pipeline", name}});
      continue;
    }
    if (RunsHub(pipeline, opts.role)) {
      auto& hub = hubs[pipeline.via];
      if (!hub) {
        auto created = mirror::LinkHub::Create(*config, pipeline.via, &registry);
        if (!created.ok()) return fail(created.status());
        hub = std::move(*created);
      }
      auto runner = hub->CreatePipelineRunner(name);
      if (!runner.ok()) return fail(runner.status());
      halves.push_back(Half{name, Half::kHub, std::move(*runner)});
    }
    auto created = CreateHalves(*config, name, opts.role, &registry);
    if (!created.ok()) return fail(created.status());
    for (Half& h : *created) halves.push_back(std::move(h));
  }
  // The link files of the pipelines at start (a reload that adds a link
  // needs a restart for its certificates to show here).
  metrics::CollectorHandle certificate_expiry =
      AddCertificateExpiryMetrics(registry, *config, opts.role != Role::kHub, opts.role != Role::kEdge);
  if (halves.empty()) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        opts.config_file, ": nothing to run in this role (no pipeline with via for --role edge|hub)")));
  }
  LogInfo("longhaul starting", {{"version", kLonghaulVersion},
                                {"revision", build.revision},
                                {"config", opts.config_file},
                                {"role", opts.role == Role::kAll ? "all" : opts.role == Role::kEdge ? "edge" : "hub"},
                                {"pipelines", static_cast<unsigned long>(halves.size())}});
  for (auto& [link, hub] : hubs) {
    if (absl::Status s = hub->Start(); !s.ok()) return fail(s);
  }
  for (Half& h : halves) h.runner->Start();
  ProcessStatus status(&running);
  auto admin = AdminServer::Start(config->admin.listen, &registry, &status);
  if (!admin.ok()) {
    // Replication does not depend on the admin server; say so loudly and go on.
    LogError("admin server not started", {{"listen", config->admin.listen},
                                          {"error", std::string(admin.status().message())}});
  } else {
    LogInfo("status page", {{"url", absl::StrCat("http://", (*admin)->address(), "/")}});
  }

  // Under a Type=notify systemd unit: started (the admin server and every
  // pipeline are up; lanes are taken over asynchronously).
  NotifyService("READY=1");

  const bool interactive = isatty(STDERR_FILENO);
  SteadyTime last_report = SystemClock::Instance().Now();
  std::map<std::pair<std::string, std::string>, int64_t> last_records;  // (pipeline, role) -> records
  int signal_number = 0;
  while (true) {
    timespec tick{1, 0};
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGHUP) {
      // systemd's ExecReload and `kill -HUP` alike; the unit is "reloading"
      // until this returns (pipelines that restart drain first).
      NotifyService("RELOADING=1");
      ReloadConfig(*started, running, opts, hubs, &registry, reload_metrics);
      NotifyService("READY=1");
      continue;
    }
    if (sig > 0) {
      signal_number = sig;
      break;
    }
    SteadyTime now = SystemClock::Instance().Now();
    if (interactive && now - last_report >= std::chrono::seconds(5)) {
      double secs = std::chrono::duration<double>(now - last_report).count();
      std::lock_guard<std::mutex> lock(running.mu);
      for (const Half& h : halves) {
        mirror::PipelineStatus st = h.runner->Status();
        Totals t = Sum(st);
        int64_t& last = last_records[{st.name, st.role}];
        std::fprintf(stderr, "%s  %s: %.0f rec/s, %lld replicated, lag %lld records / %.1f s, lanes %d/%d%s%s\n",
                     absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()).c_str(), st.name.c_str(),
                     std::max<double>(0, (t.records - last) / secs), static_cast<long long>(t.records),
                     static_cast<long long>(t.lag_records), t.lag_seconds, t.lanes, st.lanes_total,
                     st.last_error.empty() ? "" : ", error: ", st.last_error.c_str());
        last = t.records;
      }
      last_report = now;
    }
  }
  SteadyTime deadline = SystemClock::Instance().Now() + config->worker.drain_timeout;
  // The unit's TimeoutStopSec covers the default drain; a longer
  // drain_timeout asks systemd for the time it needs (+ the watchdog's 2 s
  // and a margin) so it is not killed mid-commit.
  NotifyService(StoppingState(config->worker.drain_timeout + milliseconds(5000)));
  LogInfo("draining", {{"signal", strsignal(signal_number)},
                       {"timeout_ms", static_cast<long long>(config->worker.drain_timeout.count())}});
  // Stop pipelines in parallel so each gets the whole drain budget; a second
  // thread watches the deadline in case a Kafka call blocks beyond it.
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    while (!done.load()) {
      if (SystemClock::Instance().Now() > deadline + milliseconds(2000)) {
        LogError("drain timed out; exiting");
        std::fflush(stderr);
        _exit(0);
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  });
  StopAll(halves, deadline);
  // After the pipelines: their lanes acknowledged what they committed while
  // draining, over sessions that were still open.
  for (auto& [link, hub] : hubs) hub->Stop();
  done = true;
  watchdog.join();
  if (admin.ok()) (*admin)->Stop();
  LogInfo("stopped");
  return 0;
}

}  // namespace longhaul::gateway
