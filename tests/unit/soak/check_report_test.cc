#include "longhaul/soak/check_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace longhaul::soak {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

CheckReport OneTopic(PartitionReport p0, PartitionReport p1) {
  p0.partition = 0;
  p1.partition = 1;
  return CheckReport{CheckMode::kExactlyOnce, {TopicPairReport{"src", "dst", {p0, p1}, {}}}};
}

TEST(CheckReport, TotalsSumPartitionsAndFailOnAnyViolation) {
  PartitionReport good;
  good.expected = good.found = good.ok = 10;
  PartitionReport lossy;
  lossy.expected = 10;
  lossy.found = lossy.ok = 9;
  lossy.missing = 1;
  lossy.examples.push_back({Finding::Kind::kMissing, 4, -1, "offset 4 (run 00000001 partition 1 seq 4)"});
  CheckReport report = OneTopic(good, lossy);
  EXPECT_EQ(report.Totals().expected, 20);
  EXPECT_EQ(report.Totals().missing, 1);
  EXPECT_FALSE(report.Passed());
  std::string table = FormatTable(report);
  EXPECT_THAT(table, HasSubstr("src -> dst (exactly-once)"));
  EXPECT_THAT(table, HasSubstr("dst[1] missing: source offset 4"));
  EXPECT_THAT(table, HasSubstr("TOTAL FAIL exactly-once: expected 20, found 19, ok 19, missing 1"));
}

TEST(CheckReport, DuplicatesPassOnlyInAtLeastOnce) {
  PartitionReport dup;
  dup.expected = dup.ok = 5;
  dup.found = 6;
  dup.duplicated = 1;
  CheckReport report = OneTopic(dup, PartitionReport{});
  EXPECT_FALSE(report.Passed());
  report.mode = CheckMode::kAtLeastOnce;
  for (auto& p : report.topics[0].partitions) p.mode = CheckMode::kAtLeastOnce;
  EXPECT_TRUE(report.Passed());
  EXPECT_THAT(FormatTable(report), HasSubstr("TOTAL PASS at-least-once"));
}

TEST(CheckReport, JsonCarriesCountsExamplesAndEscapedText) {
  PartitionReport p;
  p.expected = 1;
  p.corrupted = p.found = 1;
  p.examples.push_back({Finding::Kind::kCorrupted, 0, 7, "key \"x\" differs"});
  CheckReport report = OneTopic(p, PartitionReport{});
  report.topics[0].notes.push_back("source has 2 partitions, target 1");
  std::string json = FormatJson(report);
  EXPECT_THAT(json, HasSubstr("\"mode\":\"exactly-once\",\"passed\":false"));
  EXPECT_THAT(json, HasSubstr("{\"partition\":0,\"expected\":1,\"found\":1,\"ok\":0,\"missing\":0"));
  EXPECT_THAT(json, HasSubstr("\"kind\":\"corrupted\",\"source_offset\":0,\"target_offset\":7"));
  EXPECT_THAT(json, HasSubstr("key \\\"x\\\" differs"));
  EXPECT_THAT(json, HasSubstr("\"notes\":[\"source has 2 partitions, target 1\"]"));
  EXPECT_THAT(json, HasSubstr("\"totals\":{\"expected\":1"));
  EXPECT_THAT(json, Not(HasSubstr("\n\"")));
}

}  // namespace
}  // namespace longhaul::soak
