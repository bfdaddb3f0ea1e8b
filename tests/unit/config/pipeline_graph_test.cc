// The pipeline graph: which pipelines are on a cycle (provenance: auto), and
// which cycles nothing stops, as the loader reports them.
#include "longhaul/config/pipeline_graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::config {
namespace {

using ::longhaul::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

PipelineConfig Pipe(std::string name, std::string source, std::string target, std::vector<std::string> include,
                    std::string rename = "{topic}", bool stamps = false) {
  PipelineConfig p;
  p.name = std::move(name);
  p.source = std::move(source);
  p.target = std::move(target);
  p.topics = *TopicFilter::Create(std::move(include));
  p.rename = std::move(rename);
  p.stamps_provenance = stamps;
  return p;
}

std::map<std::string, PipelineConfig> Graph(std::vector<PipelineConfig> pipes) {
  std::map<std::string, PipelineConfig> out;
  for (auto& p : pipes) out.emplace(p.name, std::move(p));
  return out;
}

TEST(PipelineGraph, FindsPipelinesOnCyclesAndLeavesOneWayPipelinesOut) {
  auto g = Graph({Pipe("a-to-b", "a", "b", {".*"}), Pipe("b-to-a", "b", "a", {".*"}),
                  Pipe("b-to-c", "b", "c", {".*"}), Pipe("d-to-d", "d", "d", {"x"}, "copy.{topic}")});
  EXPECT_THAT(PipelinesOnCycles(g), UnorderedElementsAre("a-to-b", "b-to-a", "d-to-d"));
}

TEST(PipelineGraph, ActiveActiveWithoutProvenanceIsALoopNamingBothPipelines) {
  auto cycles = FindOpenCycles(Graph({Pipe("a-to-b", "a", "b", {"orders"}), Pipe("b-to-a", "b", "a", {"orders"})}));
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_THAT(cycles[0].pipelines, ElementsAre("a-to-b", "b-to-a"));
  EXPECT_EQ(cycles[0].trail, "'orders' on 'a' -> 'orders' on 'b' (a-to-b) -> 'orders' on 'a' (b-to-a)");
}

TEST(PipelineGraph, ProvenanceOnEveryPipelineStopsTheLoop) {
  EXPECT_THAT(FindOpenCycles(Graph({Pipe("a-to-b", "a", "b", {".*"}, "{topic}", true),
                                    Pipe("b-to-a", "b", "a", {".*"}, "{topic}", true)})),
              IsEmpty());
}

TEST(PipelineGraph, ProvenanceOnOnlyOneSideLetsTheOtherSidesRecordsComeBackOnce) {
  // b's own records cross b-to-a with no header, so a-to-b stamps them as
  // a's and writes them back into b.
  auto cycles = FindOpenCycles(Graph({Pipe("a-to-b", "a", "b", {".*"}, "{topic}", true),
                                      Pipe("b-to-a", "b", "a", {".*"}, "{topic}", false)}));
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_THAT(cycles[0].pipelines, ElementsAre("b-to-a", "a-to-b"));
}

TEST(PipelineGraph, DifferentProvenanceHeadersDoNotRecogniseEachOther) {
  auto g = Graph({Pipe("a-to-b", "a", "b", {".*"}, "{topic}", true), Pipe("b-to-a", "b", "a", {".*"}, "{topic}", true)});
  g.at("b-to-a").provenance_header = "other";
  EXPECT_EQ(FindOpenCycles(g).size(), 1u);
}

TEST(PipelineGraph, PrefixRenamesWithABroadRegexGrowNamesAndAreALoop) {
  auto cycles = FindOpenCycles(Graph({Pipe("a-to-b", "a", "b", {".*"}, "{source}.{topic}"),
                                      Pipe("b-to-a", "b", "a", {".*"}, "{source}.{topic}")}));
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_THAT(cycles[0].trail, HasSubstr("'a.x' on 'b' (a-to-b) -> 'b.a.x' on 'a' (b-to-a)"));
}

TEST(PipelineGraph, PrefixRenamesWithFiltersThatSkipTheCopiesAreNotALoop) {
  EXPECT_THAT(FindOpenCycles(Graph({Pipe("a-to-b", "a", "b", {"orders\\..*"}, "{source}.{topic}"),
                                    Pipe("b-to-a", "b", "a", {"orders\\..*"}, "{source}.{topic}")})),
              IsEmpty());
}

TEST(PipelineGraph, DisjointTopicsBothWaysAreNotALoop) {
  EXPECT_THAT(FindOpenCycles(Graph({Pipe("a-to-b", "a", "b", {"east\\..*"}), Pipe("b-to-a", "b", "a", {"west\\..*"})})),
              IsEmpty());
}

TEST(PipelineGraph, ThreeClusterRingWithoutProvenanceIsALoop) {
  auto cycles = FindOpenCycles(Graph({Pipe("ab", "a", "b", {".*"}), Pipe("bc", "b", "c", {".*"}),
                                      Pipe("ca", "c", "a", {".*"})}));
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_THAT(cycles[0].pipelines, ElementsAre("ab", "bc", "ca"));
}

TEST(PipelineGraph, ASelfPipelineIsALoopOnlyWhenItSelectsItsOwnCopies) {
  EXPECT_THAT(FindOpenCycles(Graph({Pipe("d", "d", "d", {"orders"}, "copy.{topic}")})), IsEmpty());
  EXPECT_EQ(FindOpenCycles(Graph({Pipe("d", "d", "d", {".*"}, "copy.{topic}")})).size(), 1u);
}

TEST(PipelineGraph, ExampleTopicNamesMatchTheirPattern) {
  EXPECT_THAT(ExampleTopicNames("orders"), ElementsAre("orders"));
  EXPECT_THAT(ExampleTopicNames("orders\\..*"), ElementsAre("orders.x"));
  EXPECT_THAT(ExampleTopicNames("a|b+"), ElementsAre("a", "b"));
  EXPECT_THAT(ExampleTopicNames("(pay|ord)ments-[0-9]{2}"), ElementsAre("payments-00"));
  EXPECT_THAT(ExampleTopicNames("[^.]+\\.events"), ElementsAre("x.events"));
}

// Through the loader, as `longhaul validate` reports it.
constexpr std::string_view kActiveActive = R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
pipelines:
  a-to-b:
    source: a
    target: b
    topics: {include: ["orders"]}
    provenance: PROVENANCE
  b-to-a:
    source: b
    target: a
    topics: {include: ["orders"]}
    provenance: PROVENANCE
)";

absl::StatusOr<Config> ParseWith(std::string_view provenance) {
  std::string yaml(kActiveActive);
  for (size_t at; (at = yaml.find("PROVENANCE")) != std::string::npos;) yaml.replace(at, 10, provenance);
  return ParseConfig(yaml, "aa.yaml", [](std::string_view) { return std::nullopt; });
}

TEST(PipelineGraph, LoaderTurnsAutoOnForActiveActiveAndAcceptsIt) {
  auto config = ParseWith("auto");
  ASSERT_THAT(config, IsOk());
  EXPECT_TRUE(config->pipelines.at("a-to-b").stamps_provenance);
  EXPECT_TRUE(config->pipelines.at("b-to-a").stamps_provenance);
  EXPECT_EQ(config->pipelines.at("a-to-b").provenance_header, "longhaul-provenance");
}

TEST(PipelineGraph, LoaderRefusesActiveActiveWithProvenanceOffNamingTheCycle) {
  auto config = ParseWith("off");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("aa.yaml:5:3: pipelines.a-to-b: pipelines a-to-b -> b-to-a form a loop that nothing stops: "
                        "'orders' on 'a' -> 'orders' on 'b' (a-to-b) -> 'orders' on 'a' (b-to-a)"));
}

TEST(PipelineGraph, LoaderLeavesOneWayPipelinesWithoutProvenance) {
  auto config = ParseConfig(R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
pipelines:
  a-to-b: {source: a, target: b, topics: {include: [".*"]}}
)",
                            "one.yaml", [](std::string_view) { return std::nullopt; });
  ASSERT_THAT(config, IsOk());
  EXPECT_FALSE(config->pipelines.at("a-to-b").stamps_provenance);
}

}  // namespace
}  // namespace longhaul::config
