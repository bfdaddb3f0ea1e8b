// The rendered text must be accepted by a real Prometheus parser, with every
// value and label coming back unchanged: prometheus_client's parser (run via
// /usr/bin/python3), plus a line grammar check of our own because that
// parser is lenient.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "longhaul/metrics/registry.h"

extern char** environ;

namespace longhaul::metrics {
namespace {

constexpr char kPython[] = "/usr/bin/python3";

// Prints one line per family ("F name type hex(help)") and per sample
// ("S name k=hex(v),... float.hex(value)"), hex so that escaping in the
// comparison cannot hide an escaping bug in the renderer.
constexpr char kParseScript[] = R"py(
import sys
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:
    print("prometheus_client not importable: %s" % e)
    sys.exit(77)
text = open(sys.argv[1], encoding="utf-8").read()
for family in text_string_to_metric_families(text):
    print("F\t%s\t%s\t%s" % (family.name, family.type, family.documentation.encode().hex()))
    for s in family.samples:
        labels = ",".join("%s=%s" % (k, v.encode().hex()) for k, v in sorted(s.labels.items()))
        print("S\t%s\t%s\t%s" % (s.name, labels, float.hex(s.value)))
)py";

struct ProcessResult {
  int exit_code = -1;
  std::string output;
};

// Runs argv[0] with no shell in between, capturing stdout and stderr.
ProcessResult RunProcess(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  const int spawn_error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  ProcessResult result;
  if (spawn_error != 0) {
    close(fds[0]);
    return result;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) result.output.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Hex(std::string_view s) {
  std::string out;
  char buf[3];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

// A registry with every metric type, labels that need escaping, special
// float values and a collector.
struct Fixture {
  Registry registry;
  CollectorHandle collector;
  Fixture() {
    auto& records = registry.AddCounter("longhaul_records_total", "Records replicated, per \"partition\" {and topic}.",
                                        {"pipeline", "topic"});
    records.WithLabels({"p\"1\"", "orders"}).Increment(12345);
    records.WithLabels({"back\\slash", "new\nline"}).Increment(0.5);
    records.WithLabels({"caf\xC3\xA9", "{},=\" "}).Increment(1);

    auto& values = registry.AddGauge("longhaul_values", "Odd values.", {"case"});
    values.WithLabels({"nan"}).Set(std::numeric_limits<double>::quiet_NaN());
    values.WithLabels({"pinf"}).Set(std::numeric_limits<double>::infinity());
    values.WithLabels({"ninf"}).Set(-std::numeric_limits<double>::infinity());
    values.WithLabels({"sum"}).Set(0.1 + 0.2);
    values.WithLabels({"huge"}).Set(1e300);
    values.WithLabels({"tiny"}).Set(5e-324);
    values.WithLabels({"negative"}).Set(-1.2e6);

    auto& latency = registry.AddHistogram("longhaul_commit_seconds", "Commit latency.", {"pipeline"},
                                          ExponentialBuckets(0.001, 10, 4));
    Histogram& h = latency.WithLabels({"p\"1\""});
    for (double v : {0.0005, 0.003, 0.05, 0.05, 2.5}) h.Observe(v);

    collector = registry.AddCollector([](CollectorSink& sink) {
      sink.AddGauge("longhaul_lag_seconds", "Seconds behind the source.", {{"partition", "0"}}, 0.8);
      sink.AddGauge("longhaul_lag_seconds", "Seconds behind the source.", {{"partition", "1"}}, 12);
    });
  }
};

TEST(MetricsPrometheusParser, PythonClientParsesEveryTypeAndValuesRoundTrip) {
  if (access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is not installed; cannot run prometheus_client";
  Fixture f;
  const std::string text = f.registry.RenderText();
  char path[] = "/tmp/longhaul_metrics_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  ProcessResult result = RunProcess({kPython, "-c", kParseScript, path});
  unlink(path);
  if (result.exit_code == 77) GTEST_SKIP() << "python3 module prometheus_client missing: " << result.output;
  ASSERT_EQ(result.exit_code, 0) << result.output << "\n--- rendered text ---\n" << text;

  std::map<std::string, std::string> families;  // name -> "type help-hex"
  std::map<std::string, double> samples;        // "name labels" -> value
  const std::vector<std::string> lines = absl::StrSplit(result.output, '\n', absl::SkipEmpty());
  for (const std::string& line : lines) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    ASSERT_EQ(cols.size(), 4u) << line;
    if (cols[0] == "F") {
      families[cols[1]] = cols[2] + " " + cols[3];
    } else {
      ASSERT_EQ(samples.count(cols[1] + " " + cols[2]), 0u) << "duplicate sample " << line;
      samples[cols[1] + " " + cols[2]] = std::strtod(cols[3].c_str(), nullptr);
    }
  }

  // The parser strips _total from counter family names.
  EXPECT_EQ(families, (std::map<std::string, std::string>{
                          {"longhaul_records", "counter " + Hex("Records replicated, per \"partition\" {and topic}.")},
                          {"longhaul_values", "gauge " + Hex("Odd values.")},
                          {"longhaul_commit_seconds", "histogram " + Hex("Commit latency.")},
                          {"longhaul_lag_seconds", "gauge " + Hex("Seconds behind the source.")},
                      }))
      << text;

  auto key = [](std::string name, std::vector<std::pair<std::string, std::string>> labels) {
    std::sort(labels.begin(), labels.end());
    std::string out = name + " ";
    for (size_t i = 0; i < labels.size(); ++i) out += (i ? "," : "") + labels[i].first + "=" + Hex(labels[i].second);
    return out;
  };
  const std::string p1 = "p\"1\"";
  std::map<std::string, double> expected = {
      {key("longhaul_records_total", {{"pipeline", p1}, {"topic", "orders"}}), 12345},
      {key("longhaul_records_total", {{"pipeline", "back\\slash"}, {"topic", "new\nline"}}), 0.5},
      {key("longhaul_records_total", {{"pipeline", "caf\xC3\xA9"}, {"topic", "{},=\" "}}), 1},
      {key("longhaul_values", {{"case", "nan"}}), std::numeric_limits<double>::quiet_NaN()},
      {key("longhaul_values", {{"case", "pinf"}}), std::numeric_limits<double>::infinity()},
      {key("longhaul_values", {{"case", "ninf"}}), -std::numeric_limits<double>::infinity()},
      {key("longhaul_values", {{"case", "sum"}}), 0.1 + 0.2},
      {key("longhaul_values", {{"case", "huge"}}), 1e300},
      {key("longhaul_values", {{"case", "tiny"}}), 5e-324},
      {key("longhaul_values", {{"case", "negative"}}), -1.2e6},
      {key("longhaul_commit_seconds_bucket", {{"pipeline", p1}, {"le", "0.001"}}), 1},
      {key("longhaul_commit_seconds_bucket", {{"pipeline", p1}, {"le", "0.01"}}), 2},
      {key("longhaul_commit_seconds_bucket", {{"pipeline", p1}, {"le", "0.1"}}), 4},
      {key("longhaul_commit_seconds_bucket", {{"pipeline", p1}, {"le", "1"}}), 4},
      {key("longhaul_commit_seconds_bucket", {{"pipeline", p1}, {"le", "+Inf"}}), 5},
      {key("longhaul_commit_seconds_sum", {{"pipeline", p1}}), 0.0005 + 0.003 + 0.05 + 0.05 + 2.5},
      {key("longhaul_commit_seconds_count", {{"pipeline", p1}}), 5},
      {key("longhaul_lag_seconds", {{"partition", "0"}}), 0.8},
      {key("longhaul_lag_seconds", {{"partition", "1"}}), 12},
  };
  ASSERT_EQ(samples.size(), expected.size()) << result.output << "\n--- rendered text ---\n" << text;
  for (const auto& [k, want] : expected) {
    auto it = samples.find(k);
    ASSERT_NE(it, samples.end()) << "missing " << k << "\n" << result.output;
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(it->second)) << k;
    } else {
      // prometheus-cpp prints 16 significant digits: 0.1 + 0.2 comes back as
      // 0.3, one ulp away; integral values below 2^53 come back exactly.
      EXPECT_DOUBLE_EQ(it->second, want) << k;
    }
  }
}

// prometheus_client accepts some malformed text, so also hold every line to
// the 0.0.4 grammar (for the names and escapes we produce).
TEST(MetricsPrometheusParser, EveryLineMatchesTheTextFormatGrammar) {
  Fixture f;
  const std::string text = f.registry.RenderText();
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  const std::string name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const std::string label = "[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
  // Values as Go's strconv.ParseFloat reads them (the format's definition),
  // which takes NaN in any case; prometheus-cpp writes "Nan".
  const std::string value = "(NaN|Nan|[+-]Inf|-?[0-9]+(\\.[0-9]+)?(e[+-][0-9]+)?)";
  const std::regex help("# HELP " + name + " ([^\\\\\\n]|\\\\[\\\\n])*");
  const std::regex type("# TYPE " + name + " (counter|gauge|histogram)");
  const std::regex sample(name + "(\\{" + label + "(," + label + ")*\\})? " + value);
  std::vector<std::string> help_names;
  const std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  for (const std::string& l : lines) {
    EXPECT_TRUE(std::regex_match(l, help) || std::regex_match(l, type) || std::regex_match(l, sample)) << l;
    if (l.starts_with("# HELP ")) help_names.push_back(l.substr(7, l.find(' ', 7) - 7));
  }
  std::vector<std::string> sorted = help_names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(help_names, sorted);
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end()) << "a family's HELP appears twice";
}

}  // namespace
}  // namespace longhaul::metrics
