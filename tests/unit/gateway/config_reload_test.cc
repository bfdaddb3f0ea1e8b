// What SIGHUP reports as needing a restart: every changed setting by its
// key path, nothing for an identical file or a changed log level alone.
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
pipelines:
  p:
    source: a
    target: b
    topics:
      include: ["orders"]
    lanes: 4
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

TEST(ConfigReload, SameFileOrOnlyTheLogLevelNeedsNoRestart) {
  config::Config running = Parse(kBase);
  EXPECT_THAT(ChangesNeedingRestart(running, Parse(kBase)), IsEmpty());
  EXPECT_THAT(ChangesNeedingRestart(running, Parse(Replace(kBase, "log_level: info", "log_level: debug"))), IsEmpty());
}

TEST(ConfigReload, NamesEachChangedSettingByItsKey) {
  config::Config running = Parse(kBase);
  std::string changed = Replace(kBase, R"(include: ["orders"])", R"(include: ["orders", "payments"])");
  changed = Replace(changed, "lanes: 4", "lanes: 8");
  changed = Replace(changed, R"(bootstrap: "b:9092")", R"(bootstrap: "b2:9092")");
  EXPECT_THAT(ChangesNeedingRestart(running, Parse(changed)),
              ElementsAre("clusters.b.bootstrap", "pipelines.p.topics", "pipelines.p.lanes"));
}

TEST(ConfigReload, AddedAndRemovedPipelinesAreNamed) {
  config::Config running = Parse(kBase);
  std::string renamed = Replace(kBase, "  p:\n", "  q:\n");
  EXPECT_THAT(ChangesNeedingRestart(running, Parse(renamed)), ElementsAre("pipelines.p (removed)", "pipelines.q (added)"));
}

}  // namespace
}  // namespace longhaul::gateway
