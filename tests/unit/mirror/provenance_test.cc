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

std::vector<std::pair<std::string, std::string>> All(rd_kafka_headers_t* headers) {
  std::vector<std::pair<std::string, std::string>> out;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : "<null>");
  }
  return out;
}

TEST(Provenance, ApplyReplacesTheHeaderAndKeepsEveryOtherHeaderInOrder) {
  ProvenanceRule rule(Pipeline("b-to-c", "b", "c", true));
  rd_kafka_headers_t* headers = rd_kafka_headers_new(4);
  rd_kafka_header_add(headers, "k", -1, "1", 1);
  rd_kafka_header_add(headers, "longhaul-provenance", -1, "a,a-to-b=b", -1);
  rd_kafka_header_add(headers, "k", -1, "2", 1);
  EXPECT_EQ(rule.Apply(&headers), ProvenanceVerdict::kWrite);
  EXPECT_EQ(All(headers), (std::vector<std::pair<std::string, std::string>>{
                              {"k", "1"}, {"k", "2"}, {"longhaul-provenance", "a,a-to-b=b,b-to-c=c"}}));
  rd_kafka_headers_destroy(headers);

  rd_kafka_headers_t* none = nullptr;
  EXPECT_EQ(rule.Apply(&none), ProvenanceVerdict::kWrite);
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(All(none), (std::vector<std::pair<std::string, std::string>>{{"longhaul-provenance", "b,b-to-c=c"}}));
  rd_kafka_headers_destroy(none);
}

TEST(Provenance, ApplyReadsTheConfiguredHeaderName) {
  config::PipelineConfig p = Pipeline("b-to-a", "b", "a", false);
  p.provenance_header = "origin-trail";
  ProvenanceRule rule(p);
  rd_kafka_headers_t* headers = rd_kafka_headers_new(2);
  rd_kafka_header_add(headers, "longhaul-provenance", -1, "a,a-to-b=b", -1);
  EXPECT_EQ(rule.Apply(&headers), ProvenanceVerdict::kWrite);  // not its header
  rd_kafka_header_add(headers, "origin-trail", -1, "a,a-to-b=b", -1);
  EXPECT_EQ(rule.Apply(&headers), ProvenanceVerdict::kVisited);
  rd_kafka_headers_destroy(headers);
}

}  // namespace
}  // namespace longhaul::mirror
