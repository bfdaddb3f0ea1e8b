// What an operator watches, against real brokers: /metrics parsed by the
// real Prometheus parser while lag falls to zero and rises during a target
// outage; /livez and /readyz through that outage; the live page in headless
// Chromium against /api/v1/status; the deploy/ dashboard and alert rules
// against the names a real scrape exports; no secret in the logs.
//
// Python helpers (run with Debian's /usr/bin/python3, which has
// prometheus_client and yaml): observability/parse_metrics.py,
// observability/check_deploy.py, ../browser/live_page.py.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/unique_name.h"
#include "admin_http.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-prometheus-client and python3-yaml

fs::path SourceDir() { return fs::path(LONGHAUL_SOURCE_DIR) / "tests" / "integration"; }
fs::path DeployDir() { return SourceDir().parent_path().parent_path() / "deploy"; }

// Where screenshots and scrapes are kept for people to look at:
// $LONGHAUL_TEST_ARTIFACTS (set by scripts/test), else the build directory.
fs::path ArtifactDir() {
  const char* env = std::getenv("LONGHAUL_TEST_ARTIFACTS");
  fs::path dir = env && *env ? fs::path(env) : fs::path(LonghaulBinary()).parent_path().parent_path() / "test-artifacts";
  fs::create_directories(dir);
  return dir;
}


// Runs one of the Python helpers; returns its output, or an error with it.
absl::StatusOr<std::string> RunPython(const fs::path& script, std::vector<std::string> args,
                                      milliseconds timeout = seconds(60)) {
  args.insert(args.begin(), script.string());
  auto child = ChildProcess::Spawn(kPython, std::move(args));
  if (!child.ok()) return child.status();
  std::optional<int> code = (*child)->WaitForExit(timeout);
  if (code != 0) {
    return absl::InternalError(absl::StrCat(script.filename().string(), " exited with ",
                                            code ? std::to_string(*code) : "a timeout", ":\n", (*child)->Output()));
  }
  return (*child)->Output();
}

// ---- /metrics as the Prometheus parser reads it ----

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Scrape {
  std::string text;
  std::map<std::string, std::string> types;  // family (as prometheus_client names it) -> type
  std::vector<Sample> samples;

  // Samples named `name` whose labels include every pair of `match`.
  std::vector<const Sample*> Find(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    std::vector<const Sample*> out;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        ok = ok && it != s.labels.end() && it->second == v;
      }
      if (ok) out.push_back(&s);
    }
    return out;
  }
  std::optional<double> Value(const std::string& name, const std::map<std::string, std::string>& match) const {
    auto found = Find(name, match);
    if (found.size() != 1) return std::nullopt;
    return found[0]->value;
  }
  double Sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double sum = 0;
    for (const Sample* s : Find(name, match)) sum += s->value;
    return sum;
  }
  double Max(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double max = 0;
    for (const Sample* s : Find(name, match)) max = std::max(max, s->value);
    return max;
  }
};

std::string Describe(const Scrape& s) {
  std::string out;
  for (const auto& sample : s.samples) {
    if (sample.name.find("_bucket") != std::string::npos) continue;
    absl::StrAppend(&out, "\n  ", sample.name, "{");
    for (const auto& [k, v] : sample.labels) absl::StrAppend(&out, k, "=", v, ",");
    absl::StrAppend(&out, "} ", sample.value);
  }
  return out;
}

absl::StatusOr<Scrape> ScrapeMetrics(int port) {
  auto reply = HttpGet(port, "/metrics");
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) return absl::InternalError(absl::StrCat("/metrics answered ", reply->status));
  if (reply->content_type != "text/plain; version=0.0.4; charset=utf-8") {
    return absl::InternalError(absl::StrCat("/metrics content type is '", reply->content_type, "'"));
  }
  fs::path file = fs::path(::testing::TempDir()) / absl::StrCat("scrape-", getpid(), "-", port, ".txt");
  std::ofstream(file) << reply->body;
  auto parsed = RunPython(SourceDir() / "observability" / "parse_metrics.py", {file.string()});
  fs::remove(file);
  if (!parsed.ok()) return parsed.status();
  Scrape scrape;
  scrape.text = std::move(reply->body);
  for (absl::string_view line : absl::StrSplit(*parsed, '\n', absl::SkipEmpty())) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols[0] == "F" && cols.size() == 3) {
      scrape.types[cols[1]] = cols[2];
    } else if (cols[0] == "S" && cols.size() == 4) {
      Sample s;
      s.name = cols[1];
      for (absl::string_view kv : absl::StrSplit(cols[2], ',', absl::SkipEmpty())) {
        std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
        s.labels.insert(std::move(p));
      }
      if (!absl::SimpleAtod(cols[3], &s.value)) return absl::DataLossError(absl::StrCat("bad value: ", line));
      scrape.samples.push_back(std::move(s));
    }
  }
  return scrape;
}

// Every partition of `topic` is at `end` on the source, replicated to it,
// with no lag in records or seconds.
bool CaughtUp(const Scrape& s, const std::string& topic, int partitions, int64_t end) {
  for (int p = 0; p < partitions; ++p) {
    std::map<std::string, std::string> at = {{"topic", topic}, {"partition", std::to_string(p)}};
    if (s.Value("longhaul_source_end_offset", at) != end || s.Value("longhaul_replicated_offset", at) != end ||
        s.Value("longhaul_lag_records", at) != 0 || s.Value("longhaul_lag_seconds", at) != 0) {
      return false;
    }
  }
  return true;
}

// Records created now (lag in seconds is measured from create times).
std::vector<Record> FreshRecords(int count, int seed) {
  std::vector<Record> out(count);
  const int64_t now_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int i = 0; i < count; ++i) {
    out[i].key = absl::StrCat("key-", seed, "-", i);
    out[i].value = std::string(100 + i % 50, static_cast<char>('a' + (seed + i) % 26));
    out[i].timestamp_ms = now_ms;
  }
  return out;
}

// A worker replicating `topic` (already on the source) from the shared
// clusters, under a pipeline name no other test or earlier run uses.
struct SharedRun {
  std::string pipeline;
  std::unique_ptr<ChildProcess> worker;
  int port = 0;
};

SharedRun StartOnSharedClusters(const std::vector<std::string>& topics, const std::string& rename,
                                const std::string& extra_admin_config = "") {
  SharedRun run;
  PipelineSpec spec;
  spec.name = UniqueName("obs");
  spec.include = topics;
  spec.rename = rename;
  spec.lanes = 2;
  std::string config =
      WriteConfig(KafkaClusters::SharedSourceBootstrap(), KafkaClusters::SharedTargetBootstrap(), spec);
  if (!extra_admin_config.empty()) std::ofstream(config, std::ios::app) << extra_admin_config;
  run.pipeline = spec.name;
  run.worker = StartLonghaul(config);
  if (run.worker) run.port = AdminPort(*run.worker);
  return run;
}

// ---- the tests ----

TEST(Observability, LagFallsToZeroWhenCaughtUpAndRisesWhileTheTargetIsDown) {
  auto clusters = KafkaClusters::Start({"source", "target"});
  ASSERT_NE(clusters, nullptr);
  KafkaTestClient source(clusters->Bootstrap("source"));
  const std::string topic = "watched";
  constexpr int kPartitions = 3, kFirst = 400, kDuringOutage = 250;
  ASSERT_TRUE(source.CreateTopic(topic, kPartitions).ok());
  for (int p = 0; p < kPartitions; ++p) ASSERT_TRUE(source.Produce(topic, p, FreshRecords(kFirst, p)).ok());

  PipelineSpec spec;
  spec.name = "watched";
  spec.include = {topic};
  spec.lanes = 2;
  auto worker = StartLonghaul(WriteConfig(clusters->Bootstrap("source"), clusters->Bootstrap("target"), spec));
  ASSERT_NE(worker, nullptr);
  const int port = AdminPort(*worker);
  ASSERT_GT(port, 0) << "no status page url in the log: " << worker->Describe();

  // /livez is probed on every poll below; it must never be anything but 200.
  int livez_failures = 0;
  auto poll = [&](const std::function<bool(const Scrape&)>& condition, Scrape* last) {
    if (HttpStatus(port, "/livez") != 200) ++livez_failures;
    auto s = ScrapeMetrics(port);
    EXPECT_TRUE(s.ok()) << s.status();  // a scrape that does not parse is a failure at once
    if (!s.ok()) return false;
    *last = std::move(*s);
    return condition(*last);
  };

  Scrape last;
  ASSERT_TRUE(WaitFor([&] { return poll([&](const Scrape& s) { return CaughtUp(s, topic, kPartitions, kFirst); },
                                        &last); },
                      seconds(60), milliseconds(500)))
      << "lag did not fall to zero; last scrape:" << Describe(last) << "\nworker: " << worker->Describe();
  EXPECT_EQ(last.Sum("longhaul_records_replicated_total", {{"topic", topic}}), kPartitions * kFirst);
  EXPECT_EQ(last.Value("longhaul_lanes_owned", {{"pipeline", "watched"}}), 2);
  EXPECT_TRUE(WaitFor([&] { return HttpStatus(port, "/readyz") == 200; }, seconds(10)));

  // Target down; the source keeps receiving records.
  ASSERT_TRUE(clusters->Stop("target").ok());
  for (int p = 0; p < kPartitions; ++p) {
    ASSERT_TRUE(source.Produce(topic, p, FreshRecords(kDuringOutage, 10 + p)).ok());
  }
  std::string not_ready;
  EXPECT_TRUE(WaitFor(
      [&] {
        if (HttpStatus(port, "/livez") != 200) ++livez_failures;
        auto r = HttpGet(port, "/readyz");
        if (r.ok()) not_ready = r->body;
        return r.ok() && r->status == 503;
      },
      seconds(30), milliseconds(500)))
      << "/readyz stayed ready with the target down; worker: " << worker->Describe();
  EXPECT_THAT(not_ready, HasSubstr("target"));

  // Lag in records is exactly what was written since; lag in seconds grows.
  const int64_t end = kFirst + kDuringOutage;
  EXPECT_TRUE(WaitFor(
      [&] {
        return poll(
            [&](const Scrape& s) {
              for (int p = 0; p < kPartitions; ++p) {
                std::map<std::string, std::string> at = {{"topic", topic}, {"partition", std::to_string(p)}};
                if (s.Value("longhaul_source_end_offset", at) != end ||
                    s.Value("longhaul_lag_records", at) != kDuringOutage ||
                    !(s.Value("longhaul_lag_seconds", at).value_or(0) > 0)) {
                  return false;
                }
              }
              return true;
            },
            &last);
      },
      seconds(60), milliseconds(1000)))
      << "lag did not rise while the target was down; last scrape:" << Describe(last)
      << "\nworker: " << worker->Describe();
  const double lag_seconds_before = last.Max("longhaul_lag_seconds", {{"topic", topic}});
  EXPECT_TRUE(WaitFor([&] { return poll([&](const Scrape& s) {
                                          return s.Max("longhaul_lag_seconds", {{"topic", topic}}) >=
                                                 lag_seconds_before + 2;
                                        }, &last); },
                      seconds(15), milliseconds(1000)))
      << "lag in seconds is not rising: was " << lag_seconds_before << ", now "
      << last.Max("longhaul_lag_seconds", {{"topic", topic}});
  auto status = HttpGet(port, "/api/v1/status");
  ASSERT_TRUE(status.ok());
  EXPECT_THAT(status->body, HasSubstr("\"target_reachable\":false"));
  EXPECT_THAT(status->body, HasSubstr(absl::StrCat("\"lag_records\":", kPartitions * kDuringOutage)));

  // Target back: ready again, and the lag falls to zero.
  ASSERT_TRUE(clusters->Restart("target").ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        if (HttpStatus(port, "/livez") != 200) ++livez_failures;
        return HttpStatus(port, "/readyz") == 200;
      },
      seconds(60), milliseconds(500)))
      << "/readyz did not recover; worker: " << worker->Describe();
  EXPECT_TRUE(WaitFor([&] { return poll([&](const Scrape& s) { return CaughtUp(s, topic, kPartitions, end); },
                                        &last); },
                      seconds(60), milliseconds(1000)))
      << "lag did not fall back to zero; last scrape:" << Describe(last) << "\nworker: " << worker->Describe();
  // Each record counted once, though lanes were lost and taken again.
  EXPECT_EQ(last.Sum("longhaul_records_replicated_total", {{"topic", topic}}), kPartitions * end);
  EXPECT_EQ(livez_failures, 0) << "/livez must not depend on Kafka";

  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

TEST(Observability, MetricsFollowTheTextFormatAndDeployFilesUseOnlyExportedNames) {
  KafkaTestClient source(KafkaClusters::SharedSourceBootstrap());
  const std::string topic = UniqueName("metrics");
  // A time retention (the test brokers keep records forever), so that the
  // time left before retention deletes uncopied records is exported too.
  ASSERT_TRUE(source.CreateTopic(topic, 2, {{"retention.ms", "604800000"}}).ok());
  for (int p = 0; p < 2; ++p) ASSERT_TRUE(source.Produce(topic, p, FreshRecords(300, p)).ok());
  SharedRun run = StartOnSharedClusters({topic}, "{topic}");
  ASSERT_NE(run.worker, nullptr);
  ASSERT_GT(run.port, 0) << run.worker->Describe();

  Scrape s;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto got = ScrapeMetrics(run.port);
        EXPECT_TRUE(got.ok()) << got.status();
        if (!got.ok()) return false;
        s = std::move(*got);
        return CaughtUp(s, topic, 2, 300) && !s.Find("longhaul_checkpoint_age_seconds").empty();
      },
      seconds(60), milliseconds(500)))
      << Describe(s) << "\n" << run.worker->Describe();

  // Every family the issue asks for, with its type (prometheus_client names
  // counter families without _total).
  const std::map<std::string, std::string> expected_types = {
      {"longhaul_build_info", "gauge"},
      {"longhaul_lanes_owned", "gauge"},
      {"longhaul_lanes", "gauge"},
      {"longhaul_checkpoint_age_seconds", "gauge"},
      {"longhaul_source_end_offset", "gauge"},
      {"longhaul_replicated_offset", "gauge"},
      {"longhaul_lag_records", "gauge"},
      {"longhaul_lag_seconds", "gauge"},
      {"longhaul_records_replicated", "counter"},
      {"longhaul_bytes_replicated", "counter"},
      {"longhaul_replication_latency_seconds", "histogram"},
      {"longhaul_transaction_commit_seconds", "histogram"},
      {"longhaul_backpressure_seconds", "counter"},
      {"longhaul_transactions", "counter"},
      {"longhaul_errors", "counter"},
  };
  for (const auto& [family, type] : expected_types) {
    EXPECT_EQ(s.types[family], type) << family;
  }
  const std::map<std::string, std::string> here = {{"pipeline", run.pipeline}};
  EXPECT_EQ(s.Value("longhaul_lanes", here), 2);
  EXPECT_EQ(s.Value("longhaul_lanes_owned", here), 2);
  EXPECT_EQ(s.Find("longhaul_build_info").size(), 1u);
  EXPECT_EQ(s.Sum("longhaul_records_replicated_total", {{"topic", topic}}), 600);
  // key-N-M plus a 100..149 byte value per record, summed exactly.
  double bytes = 0;
  for (int p = 0; p < 2; ++p) {
    for (const Record& r : FreshRecords(300, p)) bytes += r.key->size() + r.value->size();
  }
  EXPECT_EQ(s.Sum("longhaul_bytes_replicated_total", {{"topic", topic}}), bytes);
  // Latency is observed once per record, commit time once per transaction.
  EXPECT_EQ(s.Value("longhaul_replication_latency_seconds_count", here), 600);
  EXPECT_EQ(s.Value("longhaul_transaction_commit_seconds_count", here), s.Value("longhaul_transactions_total", here));
  EXPECT_GE(s.Value("longhaul_transactions_total", here).value_or(0), 1);
  std::set<std::string> reasons;
  for (const Sample* e : s.Find("longhaul_errors_total", here)) reasons.insert(e->labels.at("reason"));
  EXPECT_EQ(reasons, (std::set<std::string>{"checkpoint_read", "discovery", "fenced", "lane_group", "source_read",
                                            "target_write", "transaction_abort"}));
  for (const Sample* lag : s.Find("longhaul_lag_records", here)) {
    EXPECT_EQ(lag->labels.size(), 4u) << "pipeline, role, topic, partition";
    EXPECT_EQ(lag->labels.at("role"), "direct");
  }

  // The dashboard and the alert rules against what this process exports.
  fs::path scrape_file = ArtifactDir() / "metrics-scrape.txt";
  std::ofstream(scrape_file) << s.text;
  auto checked = RunPython(SourceDir() / "observability" / "check_deploy.py",
                           {"--scrape", scrape_file.string(), "--deploy", DeployDir().string(),
                            // The link's families: checked against an edge and a hub (link_outage_test).
                            "--names", "^(?!longhaul_link_|longhaul_tls_)"});
  EXPECT_TRUE(checked.ok()) << checked.status();
  if (checked.ok()) std::cout << *checked;

  run.worker->Kill(SIGTERM);
  EXPECT_EQ(run.worker->WaitForExit(seconds(40)), 0) << run.worker->Describe();
}

TEST(Observability, PerPartitionSwitchOffDropsThePartitionLabel) {
  KafkaTestClient source(KafkaClusters::SharedSourceBootstrap());
  const std::string topic = UniqueName("per-topic");
  ASSERT_TRUE(source.CreateTopic(topic, 3).ok());
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(source.Produce(topic, p, FreshRecords(50 * (p + 1), p)).ok());
  SharedRun run = StartOnSharedClusters({topic}, "{topic}", "  per_partition_metrics: false\n");
  ASSERT_NE(run.worker, nullptr);
  ASSERT_GT(run.port, 0) << run.worker->Describe();

  // One series per topic, summed over its partitions: 50 + 100 + 150.
  Scrape s;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto got = ScrapeMetrics(run.port);
        if (!got.ok()) return false;
        s = std::move(*got);
        return s.Value("longhaul_replicated_offset", {{"topic", topic}}) == 300 &&
               s.Value("longhaul_lag_records", {{"topic", topic}}) == 0;
      },
      seconds(60), milliseconds(500)))
      << Describe(s) << "\n" << run.worker->Describe();
  for (const char* name : {"longhaul_source_end_offset", "longhaul_replicated_offset", "longhaul_lag_records",
                           "longhaul_lag_seconds", "longhaul_records_replicated_total",
                           "longhaul_bytes_replicated_total"}) {
    auto series = s.Find(name, {{"topic", topic}});
    ASSERT_EQ(series.size(), 1u) << name;
    EXPECT_EQ(series[0]->labels.count("partition"), 0u) << name;
  }
  run.worker->Kill(SIGTERM);
  EXPECT_EQ(run.worker->WaitForExit(seconds(40)), 0) << run.worker->Describe();
}

TEST(LivePage, ShowsEveryPartitionWithTheNumbersOfTheStatusApiInHeadlessChromium) {
  KafkaTestClient source(KafkaClusters::SharedSourceBootstrap());
  const std::string orders = UniqueName("orders"), payments = UniqueName("payments");
  ASSERT_TRUE(source.CreateTopic(orders, 4).ok());
  ASSERT_TRUE(source.CreateTopic(payments, 2).ok());
  for (int p = 0; p < 4; ++p) ASSERT_TRUE(source.Produce(orders, p, FreshRecords(1000 + 250 * p, p)).ok());
  for (int p = 0; p < 2; ++p) ASSERT_TRUE(source.Produce(payments, p, FreshRecords(40 + p, p)).ok());
  SharedRun run = StartOnSharedClusters({orders, payments}, "dr.{topic}");
  ASSERT_NE(run.worker, nullptr);
  ASSERT_GT(run.port, 0) << run.worker->Describe();

  // Compared when the numbers stand still: everything replicated.
  Scrape s;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto got = ScrapeMetrics(run.port);
        if (!got.ok()) return false;
        s = std::move(*got);
        return s.Sum("longhaul_replicated_offset", {{"topic", orders}}) == 4 * 1000 + 250 * 6 &&
               s.Sum("longhaul_replicated_offset", {{"topic", payments}}) == 81 &&
               s.Sum("longhaul_lag_records") == 0;
      },
      seconds(60), milliseconds(500)))
      << Describe(s) << "\n" << run.worker->Describe();

  fs::path shot = ArtifactDir() / "live-page.png";
  fs::remove(shot);
  auto checked = RunPython(SourceDir().parent_path() / "browser" / "live_page.py",
                           {"--url", absl::StrCat("http://127.0.0.1:", run.port, "/"), "--screenshot", shot.string()},
                           seconds(150));
  EXPECT_TRUE(checked.ok()) << checked.status();
  if (checked.ok()) {
    EXPECT_THAT(*checked, HasSubstr("\"partitions\": 6"));
    std::cout << *checked << "screenshot: " << shot << "\n";
  }
  EXPECT_TRUE(fs::exists(shot) && fs::file_size(shot) > 10'000) << shot;

  run.worker->Kill(SIGTERM);
  EXPECT_EQ(run.worker->WaitForExit(seconds(40)), 0) << run.worker->Describe();
}

TEST(LonghaulRun, NeverLogsTheSaslPasswordEvenWhenAuthenticationFails) {
  std::mt19937_64 rng(std::random_device{}());
  const std::string secret = absl::StrCat("lh-secret-", rng(), "-", rng());
  const std::string secret_file = absl::StrCat(::testing::TempDir(), "/sasl-password-", getpid());
  std::ofstream(secret_file) << secret << "\n";
  // SASL against the shared brokers' PLAINTEXT listeners: authentication
  // fails on every connection, which librdkafka reports at length. With
  // librdkafka's own debug output on (including its config dump).
  const std::string sasl = absl::StrCat(
      "    properties:\n      security.protocol: SASL_PLAINTEXT\n      sasl.mechanism: PLAIN\n"
      "      sasl.username: longhaul\n      sasl.password: \"${file:", secret_file, "}\"\n",
      "      debug: \"security,broker,conf\"\n");
  const std::string config = absl::StrCat(::testing::TempDir(), "/sasl-", getpid(), ".yaml");
  std::ofstream(config) << "clusters:\n  src:\n    bootstrap: \"" << KafkaClusters::SharedSourceBootstrap() << "\"\n"
                        << sasl << "  dst:\n    bootstrap: \"" << KafkaClusters::SharedTargetBootstrap() << "\"\n"
                        << sasl << "pipelines:\n  sasl:\n    source: src\n    target: dst\n"
                        << "    topics:\n      include: [\"x\"]\n"
                        << "admin:\n  listen: \"127.0.0.1:0\"\n";
  auto worker = ChildProcess::Spawn(LonghaulBinary(),
                                    {"run", "-c", config, "--log-format", "json", "--log-level", "debug"});
  ASSERT_TRUE(worker.ok()) << worker.status();
  ChildProcess& w = **worker;
  const int port = AdminPort(w);
  ASSERT_GT(port, 0) << w.Describe();
  // The failure is visible (logs and status), the secret is not.
  auto sasl_failed = [&] {
    for (absl::string_view line : absl::StrSplit(w.Output(), '\n')) {
      if (absl::StrContains(line, "SASL") && absl::StrContains(line, "failed")) return true;
    }
    return false;
  };
  EXPECT_TRUE(WaitFor(sasl_failed, seconds(30), milliseconds(200))) << w.Describe();
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(w.Output(), "topic discovery failed"); }, seconds(40),
                      milliseconds(200)))
      << w.Describe();
  auto status = HttpGet(port, "/api/v1/status");
  auto metrics = HttpGet(port, "/metrics");
  w.Kill(SIGTERM);
  EXPECT_EQ(w.WaitForExit(seconds(40)), 0) << w.Describe();

  const std::string out = w.Output();
  EXPECT_THAT(out, Not(HasSubstr(secret))) << w.Describe();
  ASSERT_TRUE(status.ok() && metrics.ok());
  EXPECT_THAT(status->body, HasSubstr("\"last_error\":\""));
  EXPECT_THAT(status->body, Not(HasSubstr(secret)));
  EXPECT_THAT(metrics->body, Not(HasSubstr(secret)));
  // --log-format json: one object per line with ts, level and msg first.
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    ++lines;
    EXPECT_TRUE(absl::StartsWith(line, "{\"ts\":\"") && absl::StrContains(line, "\",\"level\":\"") &&
                absl::StrContains(line, "\",\"msg\":\"") && absl::EndsWith(line, "}"))
        << "not a JSON log line: " << line;
  }
  EXPECT_GT(lines, 10);
  fs::remove(secret_file);
}

}  // namespace
}  // namespace longhaul::testing
