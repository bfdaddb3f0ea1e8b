#include "run_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
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
class ProcessStatus final : public StatusSource {
 public:
  ProcessStatus(const config::Config* config, const std::vector<std::unique_ptr<mirror::PipelineRunner>>* runners)
      : config_(config), runners_(runners), worker_id_(absl::StrCat(Hostname(), "-", getpid())) {}

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
    auto translation = mirror::TranslateGroupOffsets(*config_, pipeline, group);
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
    for (const auto& r : *runners_) all.push_back(r->Status());
    return all;
  }
  const config::Config* config_;
  const std::vector<std::unique_ptr<mirror::PipelineRunner>>* runners_;
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

// SIGHUP: re-read the file. Invalid: keep everything, say why. Valid: take
// over the log level; name every other change, which needs a restart (the
// pipelines keep the config they started with).
void ReloadConfig(const config::Config& running, const CommonOptions& opts, metrics::Family<metrics::Counter>& reloads) {
  auto fresh = config::LoadConfigFile(opts.config_file);
  if (!fresh.ok()) {
    reloads.WithLabels({"rejected"}).Increment();
    LogError("config reload refused: the new file is invalid; the running config is kept",
             {{"config", opts.config_file}, {"error", std::string(fresh.status().message())}});
    return;
  }
  reloads.WithLabels({"applied"}).Increment();
  ApplyConfigLogLevel(*fresh, opts);
  std::vector<std::string> changes = ChangesNeedingRestart(running, *fresh);
  if (changes.empty()) {
    LogInfo("config reloaded", {{"config", opts.config_file},
                                {"log_level", fresh->worker.log_level.empty() ? "info" : fresh->worker.log_level}});
  } else {
    LogWarn("config reloaded; these changes take effect only after a restart",
            {{"config", opts.config_file}, {"changes", absl::StrJoin(changes, ", ")}});
  }
}

}  // namespace

int RunCommand(const CommonOptions& opts) {
  auto config = config::LoadConfigFile(opts.config_file);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
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
      "Config re-reads on SIGHUP: applied (valid; the log level taken over) or rejected (invalid; the running "
      "config kept).",
      {"result"});
  reloads.WithLabels({"applied"});
  reloads.WithLabels({"rejected"});
  std::vector<std::unique_ptr<mirror::PipelineRunner>> runners;
  // The hub end of each link this process serves, created before the hub
  // halves that register with it; it starts accepting edges after them.
  std::map<std::string, std::unique_ptr<mirror::LinkHub>> hubs;
  const bool run_edges = opts.role != Role::kHub;
  const bool run_hubs = opts.role != Role::kEdge;
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  };
  for (const auto& [name, pipeline] : config->pipelines) {
    if (pipeline.via.empty()) {
      if (opts.role != Role::kAll) {
        LogInfo("direct pipeline not run in this role (only with --role all)", {{"pipeline", name}});
        continue;
      }
      auto runner = mirror::CreatePipelineRunner(*config, name, &registry);
      if (!runner.ok()) return fail(runner.status());
      runners.push_back(std::move(*runner));
      continue;
    }
    if (run_hubs) {
      auto& hub = hubs[pipeline.via];
      if (!hub) {
        auto created = mirror::LinkHub::Create(*config, pipeline.via, &registry);
        if (!created.ok()) return fail(created.status());
        hub = std::move(*created);
      }
      auto runner = hub->CreatePipelineRunner(name);
      if (!runner.ok()) return fail(runner.status());
      runners.push_back(std::move(*runner));
    }
    if (run_edges) {
      auto runner = mirror::CreateEdgeRunner(*config, name, &registry);
      if (!runner.ok()) return fail(runner.status());
      runners.push_back(std::move(*runner));
    }
  }
  metrics::CollectorHandle certificate_expiry = AddCertificateExpiryMetrics(registry, *config, run_edges, run_hubs);
  if (runners.empty()) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        opts.config_file, ": nothing to run in this role (no pipeline with via for --role edge|hub)")));
  }
  LogInfo("longhaul starting", {{"version", kLonghaulVersion},
                                {"revision", build.revision},
                                {"config", opts.config_file},
                                {"role", opts.role == Role::kAll ? "all" : opts.role == Role::kEdge ? "edge" : "hub"},
                                {"pipelines", static_cast<unsigned long>(runners.size())}});
  for (auto& [link, hub] : hubs) {
    if (absl::Status s = hub->Start(); !s.ok()) return fail(s);
  }
  for (auto& r : runners) r->Start();
  ProcessStatus status(&*config, &runners);
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
  std::vector<int64_t> last_records(runners.size(), 0);
  int signal_number = 0;
  while (true) {
    timespec tick{1, 0};
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGHUP) {
      ReloadConfig(*config, opts, reloads);
      continue;
    }
    if (sig > 0) {
      signal_number = sig;
      break;
    }
    SteadyTime now = SystemClock::Instance().Now();
    if (interactive && now - last_report >= std::chrono::seconds(5)) {
      double secs = std::chrono::duration<double>(now - last_report).count();
      for (size_t i = 0; i < runners.size(); ++i) {
        mirror::PipelineStatus st = runners[i]->Status();
        Totals t = Sum(st);
        std::fprintf(stderr, "%s  %s: %.0f rec/s, %lld replicated, lag %lld records / %.1f s, lanes %d/%d%s%s\n",
                     absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()).c_str(), st.name.c_str(),
                     (t.records - last_records[i]) / secs, static_cast<long long>(t.records),
                     static_cast<long long>(t.lag_records), t.lag_seconds, t.lanes, st.lanes_total,
                     st.last_error.empty() ? "" : ", error: ", st.last_error.c_str());
        last_records[i] = t.records;
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
  std::vector<std::thread> stoppers;
  for (auto& r : runners) stoppers.emplace_back([&r, deadline] { r->Stop(deadline); });
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
  for (auto& t : stoppers) t.join();
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
