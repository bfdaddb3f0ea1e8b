// What a config reload changes, key by key: which keys apply live, which
// restart the pipelines concerned (and which pipelines those are), which
// need a process restart; and that WithLiveSettings takes over the live
// keys only.
#include "longhaul/config/config_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace longhaul::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr const char* kBase = R"(clusters:
  a:
    bootstrap: "a:9092"
  b:
    bootstrap: "b:9092"
  c:
    bootstrap: "c:9092"
links:
  sat:
    edge:
      hub: "hub.example:7443"
      ca_file: /etc/longhaul/ca.pem
      cert_file: /etc/longhaul/edge.pem
      key_file: /etc/longhaul/edge.key
    hub:
      listen: "0.0.0.0:7443"
      ca_file: /etc/longhaul/ca.pem
      cert_file: /etc/longhaul/hub.pem
      key_file: /etc/longhaul/hub.key
      identities:
        edge-1: ["ship"]
pipelines:
  p:
    source: a
    target: b
    topics:
      include: ["orders"]
    lanes: 4
  q:
    source: c
    target: b
    topics:
      include: ["payments"]
    lanes: 2
  ship:
    source: a
    target: b
    via: sat
    topics:
      include: ["telemetry"]
worker:
  log_level: info
)";

Config Parse(const std::string& yaml) {
  auto c = ParseConfig(yaml, "test.yaml");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : Config{};
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ConfigDiff, SameFileChangesNothing) {
  ConfigDiff d = DiffConfigs(Parse(kBase), Parse(kBase));
  EXPECT_TRUE(d.empty());
  EXPECT_THAT(d.restart, IsEmpty());
  EXPECT_THAT(d.live, IsEmpty());
}

TEST(ConfigDiff, TopicFilterGroupsAndThresholdsAreLiveForTheirPipelineOnly) {
  std::string changed = Replace(kBase, R"(include: ["orders"])", R"(include: ["orders", "refunds"]
      exclude: ["orders\\.tmp"])");
  changed = Replace(changed, "    lanes: 4\n", R"(    lanes: 4
    groups:
      include: ["billing-.*"]
    lag_thresholds:
      lagging_after: 2m
    discovery_interval: 5s
)");
  ConfigDiff d = DiffConfigs(Parse(kBase), Parse(changed));
  EXPECT_THAT(d.changes, ElementsAre(ConfigChange{"pipelines.p.topics", ReloadEffect::kLive},
                                     ConfigChange{"pipelines.p.discovery_interval", ReloadEffect::kLive},
                                     ConfigChange{"pipelines.p.groups", ReloadEffect::kLive},
                                     ConfigChange{"pipelines.p.lag_thresholds", ReloadEffect::kLive}));
  EXPECT_THAT(d.live, ElementsAre("p"));
  EXPECT_THAT(d.restart, IsEmpty());
}

TEST(ConfigDiff, IncompatiblePipelineSettingsRestartThatPipelineOnly) {
  std::string changed = Replace(kBase, "    lanes: 4\n", "    lanes: 4\n    rename: \"{source}.{topic}\"\n");
  changed = Replace(changed, "    lanes: 2\n", "    lanes: 2\n    commit_interval: 5s\n");
  ConfigDiff d = DiffConfigs(Parse(kBase), Parse(changed));
  EXPECT_THAT(d.Keys(ReloadEffect::kPipelineRestart),
              ElementsAre("pipelines.p.rename", "pipelines.q.commit_interval"));
  EXPECT_THAT(d.restart, ElementsAre("p", "q"));
  EXPECT_THAT(d.live, IsEmpty());
}

TEST(ConfigDiff, LaneCountAndTargetRestartThePipeline) {
  std::string changed = Replace(kBase, "    lanes: 4\n", "    lanes: 8\n");
  changed = Replace(changed, "    source: c\n    target: b\n", "    source: c\n    target: a\n");
  ConfigDiff d = DiffConfigs(Parse(kBase), Parse(changed));
  EXPECT_THAT(d.Keys(ReloadEffect::kPipelineRestart), ElementsAre("pipelines.p.lanes", "pipelines.q.target"));
  EXPECT_THAT(d.restart, ElementsAre("p", "q"));
}

TEST(ConfigDiff, AClusterChangeRestartsEveryPipelineThatUsesItAndNoOther) {
  // Cluster c is only q's source.
  std::string changed = Replace(kBase, R"(bootstrap: "c:9092")", R"(bootstrap: "c2:9092")");
  ConfigDiff d = DiffConfigs(Parse(kBase), Parse(changed));
  EXPECT_THAT(d.changes, ElementsAre(ConfigChange{"clusters.c.bootstrap", ReloadEffect::kPipelineRestart}));
  EXPECT_THAT(d.restart, ElementsAre("q"));
  // Cluster b is every pipeline's target.
  changed = Replace(kBase, R"(bootstrap: "b:9092")", R"(bootstrap: "b:9092"
    properties:
      security.protocol: SSL)");
  d = DiffConfigs(Parse(kBase), Parse(changed));
  EXPECT_THAT(d.Keys(ReloadEffect::kPipelineRestart), ElementsAre("clusters.b.properties"));
  EXPECT_THAT(d.restart, ElementsAre("p", "q", "ship"));
}

TEST(ConfigDiff, EdgeSettingsRestartThePipelinesViaTheLinkIdentityRulesAreLiveListenNeedsAProcessRestart) {
  std::string changed = Replace(kBase, R"(hub: "hub.example:7443")", R"(hub: "hub2.example:7443")");
  ConfigDiff d = DiffConfigs(Parse(kBase), Parse(changed));
  EXPECT_THAT(d.changes, ElementsAre(ConfigChange{"links.sat.edge.hub", ReloadEffect::kPipelineRestart}));
  EXPECT_THAT(d.restart, ElementsAre("ship"));

  changed = Replace(kBase, R"(edge-1: ["ship"])", R"(edge-1: ["ship"]
        edge-2: ["ship"])");
  changed = Replace(changed, R"(listen: "0.0.0.0:7443")", R"(listen: "0.0.0.0:8443")");
  d = DiffConfigs(Parse(kBase), Parse(changed));
  EXPECT_THAT(d.changes, ElementsAre(ConfigChange{"links.sat.hub.listen", ReloadEffect::kProcessRestart},
                                     ConfigChange{"links.sat.hub.identities", ReloadEffect::kLive}));
  EXPECT_THAT(d.identities, ElementsAre("sat"));
  EXPECT_THAT(d.restart, IsEmpty());
}

TEST(ConfigDiff, WorkerAndAdminSettingsNeedAProcessRestartExceptTheLogLevel) {
  std::string changed = Replace(kBase, "  log_level: info\n", R"(  log_level: debug
  buffer_bytes: 32MiB
admin:
  listen: "127.0.0.1:9999"
)");
  ConfigDiff d = DiffConfigs(Parse(kBase), Parse(changed));
  EXPECT_THAT(d.changes, ElementsAre(ConfigChange{"worker.buffer_bytes", ReloadEffect::kProcessRestart},
                                     ConfigChange{"worker.log_level", ReloadEffect::kLive},
                                     ConfigChange{"admin.listen", ReloadEffect::kProcessRestart}));
  EXPECT_THAT(d.Keys(ReloadEffect::kProcessRestart), ElementsAre("worker.buffer_bytes", "admin.listen"));
}

TEST(ConfigDiff, AddedAndRemovedPipelinesAreNamed) {
  std::string renamed = Replace(kBase, "  q:\n", "  r:\n");
  ConfigDiff d = DiffConfigs(Parse(kBase), Parse(renamed));
  EXPECT_THAT(d.removed, ElementsAre("q"));
  EXPECT_THAT(d.added, ElementsAre("r"));
  EXPECT_THAT(d.restart, IsEmpty());
  EXPECT_THAT(d.Keys(ReloadEffect::kPipelineRestart), ElementsAre("pipelines.q (removed)", "pipelines.r (added)"));
}

TEST(ConfigDiff, WithLiveSettingsTakesTheLiveKeysAndKeepsTheRest) {
  Config running = Parse(kBase);
  std::string changed = Replace(kBase, R"(include: ["orders"])", R"(include: ["orders", "refunds"])");
  changed = Replace(changed, "    lanes: 4\n", "    lanes: 16\n    max_topics: 7\n");
  Config fresh = Parse(changed);
  PipelineConfig merged = WithLiveSettings(running.pipelines.at("p"), fresh.pipelines.at("p"));
  EXPECT_THAT(merged.topics.include(), ElementsAre("orders", "refunds"));
  EXPECT_TRUE(merged.topics.Matches("refunds"));
  EXPECT_EQ(merged.max_topics, 7);
  EXPECT_EQ(merged.lanes, 4);  // a restart key: kept
  // Every key WithLiveSettings copies is one the diff calls live: a merged
  // pipeline differs from the fresh one in restart keys only.
  ConfigDiff d = DiffConfigs(running, fresh);
  EXPECT_THAT(d.Keys(ReloadEffect::kLive), UnorderedElementsAre("pipelines.p.topics", "pipelines.p.max_topics"));
  Config merged_config = running;
  merged_config.pipelines.at("p") = merged;
  EXPECT_THAT(DiffConfigs(merged_config, fresh).Keys(ReloadEffect::kLive), IsEmpty());
  EXPECT_THAT(DiffConfigs(merged_config, fresh).Keys(ReloadEffect::kPipelineRestart), ElementsAre("pipelines.p.lanes"));
}

}  // namespace
}  // namespace longhaul::config
