// The provenance header a lane reads and stamps (active/active loop
// prevention). Private to mirror/.
#include "../../../mirror/src/provenance.h"

#include <gtest/gtest.h>

#include <string>

namespace longhaul::mirror {
namespace {

config::PipelineConfig Pipeline(std::string name, std::string source, std::string target, bool stamps) {
  config::PipelineConfig p;
  p.name = std::move(name);
  p.source = std::move(source);
  p.target = std::move(target);
  p.stamps_provenance = stamps;
  return p;
}

TEST(Provenance, TrailRoundTripsThroughItsHeaderValue) {
  ProvenanceTrail trail{"east", {{"east-to-west", "west"}, {"west-to-hub", "hub.1"}}};
  EXPECT_EQ(FormatProvenance(trail), "east,east-to-west=west,west-to-hub=hub.1");
  EXPECT_EQ(ParseProvenance("east,east-to-west=west,west-to-hub=hub.1"), trail);
  EXPECT_TRUE(trail.Visited("east"));
  EXPECT_TRUE(trail.Visited("hub.1"));
  EXPECT_FALSE(trail.Visited("south"));
}

TEST(Provenance, MalformedValuesAreNotTrails) {
  for (const std::string& bad : std::vector<std::string>{"", ",", "east,", "east,p", "east,=west", "east,p=", "ea st", "east,p=w=x",
                          std::string(kMaxProvenanceBytes + 1, 'a')}) {
    EXPECT_FALSE(ParseProvenance(bad).has_value()) << bad;
  }
}

TEST(Provenance, ANativeRecordIsStampedWithTheSourceAsOriginAndThisHop) {
  ProvenanceRule rule(Pipeline("a-to-b", "a", "b", /*stamps=*/true));
  auto d = rule.Decide(std::nullopt);
  EXPECT_EQ(d.verdict, ProvenanceVerdict::kWrite);
  EXPECT_EQ(d.stamp, "a,a-to-b=b");
}

TEST(Provenance, ARecordThatWasInTheTargetIsNotWrittenBackWhetherOrNotThePipelineStamps) {
  for (bool stamps : {true, false}) {
    ProvenanceRule back(Pipeline("b-to-a", "b", "a", stamps));
    EXPECT_EQ(back.Decide("a,a-to-b=b").verdict, ProvenanceVerdict::kVisited);  // a is its origin
    ProvenanceRule to_b(Pipeline("a-to-b", "a", "b", stamps));
    EXPECT_EQ(to_b.Decide("c,c-to-b=b,b-to-a=a").verdict, ProvenanceVerdict::kVisited);  // b is a hop
  }
}

TEST(Provenance, ARecordFromElsewhereGetsThisHopAppended) {
  ProvenanceRule rule(Pipeline("b-to-c", "b", "c", true));
  auto d = rule.Decide("a,a-to-b=b");
  EXPECT_EQ(d.verdict, ProvenanceVerdict::kWrite);
  EXPECT_EQ(d.stamp, "a,a-to-b=b,b-to-c=c");
}

TEST(Provenance, APipelineThatDoesNotStampLeavesHeadersAlone) {
  ProvenanceRule rule(Pipeline("b-to-c", "b", "c", false));
  auto d = rule.Decide("a,a-to-b=b");
  EXPECT_EQ(d.verdict, ProvenanceVerdict::kWrite);
  EXPECT_FALSE(d.stamp.has_value());
}

TEST(Provenance, AMalformedHeaderCountsAsNativeToTheSource) {
  ProvenanceRule rule(Pipeline("a-to-b", "a", "b", true));
  auto d = rule.Decide("not a trail");
  EXPECT_TRUE(d.malformed);
  EXPECT_EQ(d.verdict, ProvenanceVerdict::kWrite);
  EXPECT_EQ(d.stamp, "a,a-to-b=b");
}

std::vector<std::pair<std::string, std::string>> All(const RecordHeaders& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const RecordHeader& h : headers.ToVector()) out.emplace_back(h.name, h.value.value_or("<null>"));
  return out;
}

TEST(Provenance, ApplyReplacesTheHeaderAndKeepsEveryOtherHeaderInOrder) {
  ProvenanceRule rule(Pipeline("b-to-c", "b", "c", true));
  RecordHeaders headers = RecordHeaders::Of(
      {{"k", "1"}, {"longhaul-provenance", "a,a-to-b=b"}, {"k", "2"}});
  EXPECT_EQ(rule.Apply(&headers), ProvenanceVerdict::kWrite);
  EXPECT_EQ(All(headers), (std::vector<std::pair<std::string, std::string>>{
                              {"k", "1"}, {"k", "2"}, {"longhaul-provenance", "a,a-to-b=b,b-to-c=c"}}));

  RecordHeaders none;
  EXPECT_EQ(rule.Apply(&none), ProvenanceVerdict::kWrite);
  EXPECT_EQ(All(none), (std::vector<std::pair<std::string, std::string>>{{"longhaul-provenance", "b,b-to-c=c"}}));
}

TEST(Provenance, ApplyReadsTheConfiguredHeaderName) {
  config::PipelineConfig p = Pipeline("b-to-a", "b", "a", false);
  p.provenance_header = "origin-trail";
  ProvenanceRule rule(p);
  RecordHeaders headers = RecordHeaders::Of({{"longhaul-provenance", "a,a-to-b=b"}});
  EXPECT_EQ(rule.Apply(&headers), ProvenanceVerdict::kWrite);  // not its header
  headers.Add("origin-trail", "a,a-to-b=b");
  EXPECT_EQ(rule.Apply(&headers), ProvenanceVerdict::kVisited);
}

TEST(Provenance, NoRuleWritesEverythingAndLeavesHeadersAlone) {
  RecordHeaders headers = RecordHeaders::Of({{"longhaul-provenance", "a,a-to-b=b"}});
  EXPECT_EQ(ProvenanceRule().Apply(&headers), ProvenanceVerdict::kWrite);
  EXPECT_EQ(All(headers), (std::vector<std::pair<std::string, std::string>>{{"longhaul-provenance", "a,a-to-b=b"}}));
}

}  // namespace
}  // namespace longhaul::mirror
