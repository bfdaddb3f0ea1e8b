// Shared pieces of the mirror integration tests: record sets that cover what
// a mirror must carry unchanged, a config writer, a running `longhaul`
// process, and the exactly-once comparison of source and target partitions.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/testing/child_process.h"
#include "longhaul/testing/kafka_test_client.h"
#include "longhaul/testing/wait_for.h"

namespace longhaul::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Records covering null/empty keys and values, repeated header names, null
// header values, old create times; `big_every` > 0 adds a value near 1 MB.
// `keyed_only` leaves out null keys, which compacted topics refuse.
inline std::vector<Record> VariedRecords(int count, uint64_t seed, int big_every = 0, bool keyed_only = false) {
  std::mt19937_64 rng(seed);
  std::vector<Record> out;
  out.reserve(count);
  // The clock when the test process started: a fixed instant ages past a
  // test topic's retention.ms (1 day) and the broker deletes the records
  // mid-test. Fixed per process, so a test can make the same records again
  // to compare. Records are interleaved, so every segment holds current ones.
  static const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int i = 0; i < count; ++i) {
    Record r;
    switch (rng() % 8) {
      case 0: if (!keyed_only) r.key = std::nullopt; else r.key = "k"; break;
      case 1: r.key = std::string(); break;
      default: r.key = absl::StrCat("key-", rng() % 1000); break;
    }
    switch (rng() % 16) {
      case 0: r.value = std::nullopt; break;  // tombstone
      case 1: r.value = std::string(); break;
      default: {
        std::string v(20 + rng() % 300, '\0');
        for (auto& c : v) c = static_cast<char>(rng());
        r.value = std::move(v);
      }
    }
    if (big_every > 0 && i % big_every == big_every - 1) r.value = std::string(1'000'000 - 2'000, 'x');
    switch (rng() % 4) {
      case 0: break;  // no headers
      case 1: r.headers = {{"trace", "a"}, {"trace", "b"}, {"empty", std::string()}}; break;
      case 2: r.headers = {{"nullable", std::nullopt}, {"n", absl::StrCat(i)}}; break;
      default: r.headers = {{"h", std::string(1 + rng() % 10, 'v')}}; break;
    }
    // A third of the records are days old: mirrors must not restamp them.
    r.timestamp_ms = (rng() % 3 == 0) ? now_ms - 86'400'000LL * (1 + rng() % 30) : now_ms + i;
    out.push_back(std::move(r));
  }
  return out;
}

struct PipelineSpec {
  std::string name = "p";
  std::vector<std::string> include;
  std::string rename = "{topic}";
  int lanes = 4;
  std::string commit_interval = "200ms";
  std::string discovery_interval = "2s";
  std::string delivery = "exactly-once";
  std::string drain_timeout = "20s";
  // pipelines.<p>.groups: consumer-group offset sync; none when empty.
  std::vector<std::string> groups_include;
  std::string groups_interval = "2s";
  bool sync_topic_configs = true;
  // pipelines.<p>.on_source_gap; the default (stop) when empty.
  std::string on_source_gap;
  // clusters.<src|dst>.properties (security settings of secured clusters);
  // values are written as YAML double-quoted strings, so "${file:PATH}" works.
  std::map<std::string, std::string> source_properties;
  std::map<std::string, std::string> target_properties;
  // Extra lines for the pipeline's section, each indented by four spaces.
  std::vector<std::string> pipeline_lines;
};

inline std::string WriteConfig(const std::string& source, const std::string& target, const PipelineSpec& spec) {
  std::string dir = ::testing::TempDir();
  std::string path = absl::StrCat(dir, "/longhaul-", spec.name, "-", std::random_device{}(), ".yaml");
  std::ofstream f(path);
  auto properties = [&f](const std::map<std::string, std::string>& props) {
    if (props.empty()) return;
    f << "    properties:\n";
    for (const auto& [k, v] : props) f << "      " << k << ": \"" << v << "\"\n";
  };
  f << "clusters:\n  src:\n    bootstrap: \"" << source << "\"\n";
  properties(spec.source_properties);
  f << "  dst:\n    bootstrap: \"" << target << "\"\n";
  properties(spec.target_properties);
  f << "pipelines:\n  " << spec.name << ":\n    source: src\n    target: dst\n    topics:\n      include: [";
  for (size_t i = 0; i < spec.include.size(); ++i) f << (i ? ", " : "") << '"' << spec.include[i] << '"';
  f << "]\n    rename: \"" << spec.rename << "\"\n    lanes: " << spec.lanes
    << "\n    commit_interval: " << spec.commit_interval << "\n    discovery_interval: " << spec.discovery_interval
    << "\n    delivery: " << spec.delivery << "\n";
  if (!spec.sync_topic_configs) f << "    sync_topic_configs: false\n";
  if (!spec.on_source_gap.empty()) f << "    on_source_gap: " << spec.on_source_gap << "\n";
  for (const std::string& line : spec.pipeline_lines) f << "    " << line << "\n";
  if (!spec.groups_include.empty()) {
    f << "    groups:\n      include: [";
    for (size_t i = 0; i < spec.groups_include.size(); ++i) f << (i ? ", " : "") << '"' << spec.groups_include[i] << '"';
    f << "]\n      interval: " << spec.groups_interval << "\n";
  }
  f << "worker:\n  drain_timeout: " << spec.drain_timeout << "\n";
  f << "admin:\n  listen: \"127.0.0.1:0\"\n";
  return path;
}

inline std::unique_ptr<ChildProcess> StartLonghaul(const std::string& config_path) {
  auto p = ChildProcess::Spawn(LonghaulBinary(), {"run", "-c", config_path});
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

// Byte-for-byte comparison of what a user relies on: same records, same
// order, same key/value/headers/timestamp; offsets may differ.
inline std::string DescribeDifference(const std::vector<Record>& source, const std::vector<Record>& target) {
  size_t n = std::min(source.size(), target.size());
  for (size_t i = 0; i < n; ++i) {
    const Record& s = source[i];
    const Record& t = target[i];
    if (s.key != t.key || s.value != t.value || s.headers != t.headers || s.timestamp_ms != t.timestamp_ms) {
      return absl::StrCat("first difference at position ", i, " (source offset ", s.offset, ", target offset ",
                          t.offset, "): ", s.key != t.key ? "key " : "", s.value != t.value ? "value " : "",
                          s.headers != t.headers ? "headers " : "", s.timestamp_ms != t.timestamp_ms ? "timestamp" : "");
    }
  }
  if (source.size() != target.size()) {
    return absl::StrCat("source has ", source.size(), " records, target has ", target.size(),
                        target.size() > source.size() ? " (duplicates)" : " (missing records)");
  }
  return "";
}

// Waits until every partition of `target_topic` holds as many committed
// records as the source partition, then requires both to be identical.
inline void ExpectExactlyOnce(KafkaTestClient& source, KafkaTestClient& target, const std::string& source_topic,
                              const std::string& target_topic, int partitions, milliseconds timeout,
                              ChildProcess* worker = nullptr) {
  for (int p = 0; p < partitions; ++p) {
    auto expected = source.ReadAll(source_topic, p, Isolation::kReadCommitted, seconds(60));
    ASSERT_TRUE(expected.ok()) << expected.status();
    std::vector<Record> found;
    bool complete = WaitFor(
        [&] {
          auto got = target.ReadAll(target_topic, p, Isolation::kReadCommitted, seconds(60));
          if (!got.ok()) return false;
          found = std::move(*got);
          return found.size() >= expected->size();
        },
        timeout, milliseconds(500));
    std::string diff = DescribeDifference(*expected, found);
    EXPECT_TRUE(complete && diff.empty())
        << target_topic << "[" << p << "]: " << (diff.empty() ? "not complete in time" : diff)
        << (worker ? absl::StrCat("; worker: ", worker->Describe()) : "");
  }
}

// Writes batches of VariedRecords to every partition of `topic`, `pause`
// apart, until stopped; counts what was acknowledged and what failed (a
// failure is expected while a test has the source down).
class BackgroundProducer {
 public:
  BackgroundProducer(std::string bootstrap, std::string topic, int partitions, int batch = 200,
                     milliseconds pause = milliseconds(50), uint64_t first_seed = 1)
      : thread_([=, this] {
          KafkaTestClient client(bootstrap);
          uint64_t seed = first_seed;
          while (!stop_.load()) {
            for (int p = 0; p < partitions && !stop_.load(); ++p) {
              absl::Status s = client.Produce(topic, p, VariedRecords(batch, seed++));
              if (!s.ok()) errors_.fetch_add(1);
              else written_.fetch_add(batch);
            }
            std::this_thread::sleep_for(pause);
          }
        }) {}
  ~BackgroundProducer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t written() const { return written_.load(); }
  int64_t errors() const { return errors_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> written_{0}, errors_{0};
  std::thread thread_;
};

}  // namespace longhaul::testing
