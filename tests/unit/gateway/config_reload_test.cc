// What SIGHUP does in a process of a given role: live changes applied in
// place, only the pipelines with incompatible changes restarted, hub halves
// (created before their link listens) left for a process restart and named.
#include "../../../gateway/src/config_reload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace longhaul::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr const char* kBase = R"(clusters:
  a:
    bootstrap: "a:9092"
  b:
    bootstrap: "b:9092"
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
    source: a
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

config::Config Parse(const std::string& yaml) {
  auto c = config::ParseConfig(yaml, "test.yaml");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : config::Config{};
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ConfigReload, SameFileOrOnlyTheLogLevelDoesNothingToPipelines) {
  config::Config base = Parse(kBase);
  for (const std::string& text : {std::string(kBase), Replace(kBase, "log_level: info", "log_level: debug")}) {
    ReloadPlan plan = PlanReload(base, base, Parse(text), Role::kAll);
    EXPECT_THAT(plan.restart, IsEmpty());
    EXPECT_THAT(plan.apply_live, IsEmpty());
    EXPECT_THAT(plan.start, IsEmpty());
    EXPECT_THAT(plan.stop, IsEmpty());
    EXPECT_THAT(plan.needs_process_restart, IsEmpty());
  }
}

TEST(ConfigReload, ANewTopicFilterIsAppliedLiveToItsPipelineOnly) {
  config::Config base = Parse(kBase);
  ReloadPlan plan =
      PlanReload(base, base, Parse(Replace(kBase, R"(include: ["orders"])", R"(include: ["orders", "refunds"])")),
                 Role::kAll);
  EXPECT_THAT(plan.apply_live, ElementsAre("p"));
  EXPECT_THAT(plan.restart, IsEmpty());
  EXPECT_THAT(plan.applied, ElementsAre("pipelines.p.topics"));
  EXPECT_THAT(plan.needs_process_restart, IsEmpty());
}

TEST(ConfigReload, AnIncompatibleChangeRestartsThatPipelineAndLeavesTheOthers) {
  config::Config base = Parse(kBase);
  ReloadPlan plan = PlanReload(base, base, Parse(Replace(kBase, "    lanes: 2\n", "    lanes: 2\n    rename: \"x.{topic}\"\n")),
                               Role::kAll);
  EXPECT_THAT(plan.restart, ElementsAre("q"));
  EXPECT_THAT(plan.apply_live, IsEmpty());
  EXPECT_THAT(plan.needs_process_restart, IsEmpty());
}

TEST(ConfigReload, AddedAndRemovedDirectPipelinesStartAndStop) {
  config::Config base = Parse(kBase);
  ReloadPlan plan = PlanReload(base, base, Parse(Replace(kBase, "  q:\n", "  r:\n")), Role::kAll);
  EXPECT_THAT(plan.start, ElementsAre("r"));
  EXPECT_THAT(plan.stop, ElementsAre("q"));
  // A direct pipeline runs only with --role all.
  plan = PlanReload(base, base, Parse(Replace(kBase, "  q:\n", "  r:\n")), Role::kEdge);
  EXPECT_THAT(plan.start, IsEmpty());
  EXPECT_THAT(plan.stop, IsEmpty());
}

TEST(ConfigReload, AnEdgeProcessRestartsItsEdgeHalfOnAnEdgeChange) {
  config::Config base = Parse(kBase);
  config::Config fresh = Parse(Replace(kBase, R"(hub: "hub.example:7443")", R"(hub: "hub2.example:7443")"));
  ReloadPlan plan = PlanReload(base, base, fresh, Role::kEdge);
  EXPECT_THAT(plan.restart, ElementsAre("ship"));
  EXPECT_THAT(plan.needs_process_restart, IsEmpty());
}

TEST(ConfigReload, APipelineWhoseHubHalfRunsHereWaitsForAProcessRestartButTakesLiveKeys) {
  config::Config base = Parse(kBase);
  std::string text = Replace(kBase, R"(include: ["telemetry"])", R"(include: ["telemetry", "alarms"])");
  text = Replace(text, "    via: sat\n", "    via: sat\n    rename: \"{source}.{topic}\"\n");
  config::Config fresh = Parse(text);
  ReloadPlan plan = PlanReload(base, base, fresh, Role::kHub);
  EXPECT_THAT(plan.restart, IsEmpty());
  EXPECT_THAT(plan.apply_live, ElementsAre("ship"));
  EXPECT_THAT(plan.needs_process_restart, ElementsAre("pipelines.ship (its hub half runs in this process)"));
  // Still named on the next reload, which compares against the start.
  plan = PlanReload(base, fresh, fresh, Role::kHub);
  EXPECT_THAT(plan.needs_process_restart, ElementsAre("pipelines.ship (its hub half runs in this process)"));
  EXPECT_THAT(plan.apply_live, IsEmpty());
  // Reverted: nothing pending any more.
  plan = PlanReload(base, fresh, base, Role::kHub);
  EXPECT_THAT(plan.needs_process_restart, IsEmpty());
}

TEST(ConfigReload, IdentityRulesGoToTheHubThatRunsHereAndHubListenNeedsARestartThereOnly) {
  config::Config base = Parse(kBase);
  std::string text = Replace(kBase, R"(edge-1: ["ship"])", R"(edge-1: ["ship"]
        edge-2: ["ship"])");
  text = Replace(text, R"(listen: "0.0.0.0:7443")", R"(listen: "0.0.0.0:8443")");
  config::Config fresh = Parse(text);
  ReloadPlan hub = PlanReload(base, base, fresh, Role::kHub);
  EXPECT_THAT(hub.identities, ElementsAre("sat"));
  EXPECT_THAT(hub.needs_process_restart, ElementsAre("links.sat.hub.listen"));
  ReloadPlan edge = PlanReload(base, base, fresh, Role::kEdge);
  EXPECT_THAT(edge.identities, IsEmpty());
  EXPECT_THAT(edge.needs_process_restart, IsEmpty());
}

TEST(ConfigReload, ProcessRestartKeysStayNamedUntilTheRestart) {
  config::Config base = Parse(kBase);
  config::Config fresh = Parse(Replace(kBase, "  log_level: info\n", "  log_level: info\n  drain_timeout: 60s\n"));
  EXPECT_THAT(PlanReload(base, base, fresh, Role::kAll).needs_process_restart, ElementsAre("worker.drain_timeout"));
  EXPECT_THAT(PlanReload(base, fresh, fresh, Role::kAll).needs_process_restart, ElementsAre("worker.drain_timeout"));
}

}  // namespace
}  // namespace longhaul::gateway
