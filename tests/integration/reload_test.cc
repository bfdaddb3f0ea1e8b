// SIGHUP against real brokers: a wider topic filter mirrors a new topic in
// the running process, every record exactly once (also the old topics'
// records written while the reload runs), and a new group list syncs a
// group, with no lane restarted; a changed incompatible setting drains and
// restarts only its own pipeline, seen in longhaul_lane_starts_total of
// both pipelines; removed and added pipelines stop and start. The
// invalid-file case is in operations_test.cc; the edge and hub case in
// link_test.cc.
#include <signal.h>

#include <fstream>
#include <optional>
#include <regex>

#include "admin_http.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/unique_name.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

// The value of one series on /metrics, or -1 when it is not there.
double Metric(int port, const std::string& name, const std::string& labels) {
  auto reply = HttpGet(port, "/metrics");
  if (!reply.ok()) return -1;
  std::smatch m;
  std::regex line("\n" + name + "\\{" + labels + "\\} ([0-9.e+]+)");
  if (!std::regex_search(reply->body, m, line)) return -1;
  return std::stod(m[1]);
}

double LaneStarts(int port, const std::string& pipeline) {
  return Metric(port, "longhaul_lane_starts_total", "pipeline=\"" + pipeline + "\"");
}

double Reloads(int port, const std::string& result) {
  return Metric(port, "longhaul_config_reloads_total", "result=\"" + result + "\"");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Replaces the whole-text match of `pattern` once; the test fails when absent.
std::string Edit(const std::string& text, const std::string& pattern, const std::string& replacement) {
  std::string out = std::regex_replace(text, std::regex(pattern), replacement,
                                       std::regex_constants::format_first_only);
  EXPECT_NE(out, text) << pattern;
  return out;
}

TEST(ConfigReload, WiderTopicFilterAndNewGroupListApplyLiveExactlyOnceWithoutRestartingALane) {
  KafkaTestClient source(KafkaClusters::SharedSourceBootstrap());
  KafkaTestClient target(KafkaClusters::SharedTargetBootstrap());
  const std::string old_topic = UniqueName("reload-old");
  const std::string new_topic = UniqueName("reload-new");
  ASSERT_TRUE(source.CreateTopic(old_topic, 2).ok());
  ASSERT_TRUE(source.CreateTopic(new_topic, 2).ok());
  for (int p = 0; p < 2; ++p) {
    ASSERT_TRUE(source.Produce(old_topic, p, VariedRecords(200, 10 + p)).ok());
    ASSERT_TRUE(source.Produce(new_topic, p, VariedRecords(200, 20 + p)).ok());
  }
  PipelineSpec spec;
  spec.name = UniqueName("reload-filter");
  spec.include = {old_topic};
  // Discovery's own timer would pick the topic up within 10 minutes only:
  // the reload is what brings it in.
  spec.discovery_interval = "10m";
  const std::string config = WriteConfig(source.bootstrap(), target.bootstrap(), spec);
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  const int port = AdminPort(*worker);
  ASSERT_GT(port, 0) << worker->Describe();
  ExpectExactlyOnce(source, target, old_topic, old_topic, 2, seconds(90), worker.get());
  ASSERT_TRUE(WaitFor([&] { return LaneStarts(port, spec.name) == spec.lanes; }, seconds(30), milliseconds(200)))
      << LaneStarts(port, spec.name) << "; " << worker->Describe();
  EXPECT_EQ(target.PartitionCount(new_topic, seconds(5)).status().code(), absl::StatusCode::kNotFound)
      << "the new topic was mirrored before the reload";
  // A consumer group on the source that no group list selects yet.
  const std::string group = UniqueName("reload-group");
  ASSERT_TRUE(source.CommitGroupOffset(group, old_topic, 0, 120).ok());

  {
    // The old topic keeps being written through the reload.
    BackgroundProducer during(source.bootstrap(), old_topic, 2, 50, milliseconds(100), 1000);
    std::this_thread::sleep_for(milliseconds(500));
    std::string wider = Edit(ReadFile(config), "include: \\[\"" + old_topic + "\"\\]",
                             "include: [\"" + old_topic + "\", \"" + new_topic + "\"]");
    wider = Edit(wider, "    delivery: (\\S+)\n",
                 "    delivery: $1\n    groups:\n      include: [\"" + group + "\"]\n      interval: 1s\n");
    std::ofstream(config) << wider;
    worker->Kill(SIGHUP);
    ASSERT_TRUE(WaitFor([&] { return Reloads(port, "applied") == 1; }, seconds(30), milliseconds(200)))
        << worker->Describe();
    for (int p = 0; p < 2; ++p) ASSERT_TRUE(source.Produce(new_topic, p, VariedRecords(100, 30 + p)).ok());
    std::this_thread::sleep_for(milliseconds(1000));
    during.Stop();
    EXPECT_GT(during.written(), 0);
    EXPECT_EQ(during.errors(), 0);
  }
  ExpectExactlyOnce(source, target, new_topic, new_topic, 2, seconds(90), worker.get());
  ExpectExactlyOnce(source, target, old_topic, old_topic, 2, seconds(90), worker.get());
  EXPECT_TRUE(worker->IsRunning()) << worker->Describe();
  // Live: no lane of the pipeline started again.
  EXPECT_EQ(LaneStarts(port, spec.name), spec.lanes) << worker->Describe();
  EXPECT_EQ(Reloads(port, "rejected"), 0);
  EXPECT_THAT(worker->Output(), ::testing::HasSubstr("pipelines." + spec.name + ".topics"));
  // The group list is live too: the group's offset reaches the target,
  // translated to the target offset of the same record.
  std::optional<int64_t> translated;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto got = target.GroupOffset(group, TopicPartition{old_topic, 0}, seconds(5));
        if (got.ok()) translated = *got;
        return translated.has_value();
      },
      seconds(60), milliseconds(500)))
      << worker->Describe();
  if (translated) {
    auto source_records = source.ReadAll(old_topic, 0);
    auto target_records = target.ReadAll(old_topic, 0);
    ASSERT_TRUE(source_records.ok() && target_records.ok());
    const Record* at_source = nullptr;
    const Record* at_target = nullptr;
    for (const Record& r : *source_records) {
      if (r.offset == 120) at_source = &r;
    }
    for (const Record& r : *target_records) {
      if (r.offset == *translated) at_target = &r;
    }
    ASSERT_NE(at_source, nullptr);
    ASSERT_NE(at_target, nullptr) << "translated offset " << *translated << " holds no record";
    EXPECT_EQ(at_source->key, at_target->key);
    EXPECT_EQ(at_source->value, at_target->value);
  }
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
  ExpectExactlyOnce(source, target, old_topic, old_topic, 2, seconds(30), worker.get());
}

TEST(ConfigReload, IncompatibleChangeRestartsOnlyItsPipelineAndPipelinesComeAndGo) {
  KafkaTestClient source(KafkaClusters::SharedSourceBootstrap());
  KafkaTestClient target(KafkaClusters::SharedTargetBootstrap());
  const std::string changed_topic = UniqueName("reload-changed");
  const std::string kept_topic = UniqueName("reload-kept");
  const std::string changed = UniqueName("reload-changed");
  const std::string kept = UniqueName("reload-kept");
  static constexpr int kLanes = 3;
  for (const std::string& topic : {changed_topic, kept_topic}) {
    ASSERT_TRUE(source.CreateTopic(topic, 3).ok());
    for (int p = 0; p < 3; ++p) ASSERT_TRUE(source.Produce(topic, p, VariedRecords(150, 40 + p)).ok());
  }
  const std::string config = absl::StrCat(::testing::TempDir(), "/longhaul-", changed, ".yaml");
  auto pipeline = [](const std::string& name, const std::string& topic) {
    return absl::StrCat("  ", name, ":\n    source: src\n    target: dst\n    topics:\n      include: [\"", topic,
                        "\"]\n    lanes: ", kLanes, "\n    commit_interval: 200ms\n    discovery_interval: 2s\n");
  };
  const std::string text = absl::StrCat("clusters:\n  src:\n    bootstrap: \"", source.bootstrap(),
                                        "\"\n  dst:\n    bootstrap: \"", target.bootstrap(), "\"\npipelines:\n",
                                        pipeline(changed, changed_topic), pipeline(kept, kept_topic),
                                        "worker:\n  drain_timeout: 20s\nadmin:\n  listen: \"127.0.0.1:0\"\n");
  std::ofstream(config) << text;
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  const int port = AdminPort(*worker);
  ASSERT_GT(port, 0) << worker->Describe();
  ExpectExactlyOnce(source, target, changed_topic, changed_topic, 3, seconds(90), worker.get());
  ExpectExactlyOnce(source, target, kept_topic, kept_topic, 3, seconds(90), worker.get());
  ASSERT_TRUE(WaitFor([&] { return LaneStarts(port, changed) == kLanes && LaneStarts(port, kept) == kLanes; },
                      seconds(30), milliseconds(200)))
      << worker->Describe();

  // commit_interval of one pipeline: a pipeline restart key.
  std::ofstream(config) << Edit(text, "(  " + changed + ":\n(?:    .*\n)*?)    commit_interval: 200ms",
                                "$1    commit_interval: 300ms");
  {
    BackgroundProducer kept_writes(source.bootstrap(), kept_topic, 3, 50, milliseconds(100), 2000);
    BackgroundProducer changed_writes(source.bootstrap(), changed_topic, 3, 50, milliseconds(100), 3000);
    std::this_thread::sleep_for(milliseconds(300));
    worker->Kill(SIGHUP);
    ASSERT_TRUE(WaitFor([&] { return LaneStarts(port, changed) == 2 * kLanes; }, seconds(60), milliseconds(200)))
        << LaneStarts(port, changed) << "; " << worker->Describe();
    std::this_thread::sleep_for(milliseconds(500));
  }
  EXPECT_EQ(Reloads(port, "applied"), 1) << worker->Describe();
  ExpectExactlyOnce(source, target, changed_topic, changed_topic, 3, seconds(90), worker.get());
  ExpectExactlyOnce(source, target, kept_topic, kept_topic, 3, seconds(90), worker.get());
  // The other pipeline's lanes never stopped.
  EXPECT_EQ(LaneStarts(port, kept), kLanes) << worker->Describe();
  EXPECT_EQ(LaneStarts(port, changed), 2 * kLanes) << worker->Describe();
  EXPECT_THAT(worker->Output(), ::testing::HasSubstr("pipelines." + changed + ".commit_interval"));

  // A pipeline removed from the file drains and leaves the status; one
  // added starts; the pipeline left alone is not restarted.
  const std::string added_topic = UniqueName("reload-added");
  const std::string added = UniqueName("reload-added");
  ASSERT_TRUE(source.CreateTopic(added_topic, 2).ok());
  for (int p = 0; p < 2; ++p) ASSERT_TRUE(source.Produce(added_topic, p, VariedRecords(100, 60 + p)).ok());
  std::string swapped = ReadFile(config);
  const std::string old_section = pipeline(kept, kept_topic);
  const size_t at = swapped.find(old_section);
  ASSERT_NE(at, std::string::npos);
  swapped.replace(at, old_section.size(), pipeline(added, added_topic));
  std::ofstream(config) << swapped;
  worker->Kill(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return Reloads(port, "applied") == 2; }, seconds(60), milliseconds(200)))
      << worker->Describe();
  ExpectExactlyOnce(source, target, added_topic, added_topic, 2, seconds(90), worker.get());
  auto status = HttpGet(port, "/api/v1/status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_THAT(status->body, ::testing::HasSubstr("\"name\":\"" + added + "\""));
  EXPECT_THAT(status->body, ::testing::Not(::testing::HasSubstr("\"name\":\"" + kept + "\"")));
  EXPECT_THAT(worker->Output(), ::testing::HasSubstr("pipeline removed from the config: draining it"));
  EXPECT_EQ(LaneStarts(port, changed), 2 * kLanes) << worker->Describe();
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

}  // namespace
}  // namespace longhaul::testing
