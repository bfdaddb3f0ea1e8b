#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/soak/check_options.h"
#include "longhaul/soak/generator_options.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::soak {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(GeneratorOptions, DefaultsToTenThousandRecordsAsFastAsPossible) {
  auto o = ParseGeneratorOptions({"--bootstrap", "h:1", "--topic", "t"});
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->count, 10000);
  EXPECT_EQ(o->rate, 0);
  EXPECT_EQ(o->partitions, 3);
  EXPECT_FALSE(o->transactional);
  EXPECT_EQ(EffectiveTimeout(*o), absl::Minutes(10));
}

TEST(GeneratorOptions, ParsesTheSoakFlags) {
  auto o = ParseGeneratorOptions({"--bootstrap=h:1", "--topic", "t", "--partitions", "8", "--rate", "2500",
                                  "--duration", "5m", "--min-size", "50", "--max-size", "2000", "--transactional",
                                  "--abort-ratio", "0.1", "--old-timestamps", "--property", "sasl.jaas.config=a=b c",
                                  "--property", "linger.ms=20", "--seed", "42", "--run-id", "0a1b2c3d"});
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->partitions, 8);
  EXPECT_EQ(o->rate, 2500);
  EXPECT_EQ(o->duration, absl::Minutes(5));
  EXPECT_FALSE(o->count.has_value());
  EXPECT_EQ(o->abort_ratio, 0.1);
  EXPECT_GT(o->mix.old_timestamp_ratio, 0);
  EXPECT_THAT(o->properties, ElementsAre(Pair("sasl.jaas.config", "a=b c"), Pair("linger.ms", "20")));
  EXPECT_EQ(o->seed, 42u);
  EXPECT_EQ(o->run_id, 0x0a1b2c3du);
  EXPECT_EQ(EffectiveTimeout(*o), absl::Minutes(7));
}

TEST(GeneratorOptions, RejectsBadInputNamingTheFlag) {
  EXPECT_THAT(ParseGeneratorOptions({"--topic", "t"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--bootstrap")));
  EXPECT_THAT(ParseGeneratorOptions({"--bootstrap", "h:1", "--topic", "t", "--abort-ratio", "0.1"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--transactional")));
  EXPECT_THAT(ParseGeneratorOptions({"--bootstrap", "h:1", "--topic", "t", "--null-key-ratio", "1.5"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--null-key-ratio: '1.5'")));
  EXPECT_THAT(ParseGeneratorOptions({"--bootstrap", "h:1", "--topic", "t", "--min-size", "500", "--max-size", "10"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max-size")));
  EXPECT_THAT(ParseGeneratorOptions({"--bootstrap", "h:1", "--topic", "t", "--duration", "soon"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--duration")));
  EXPECT_THAT(ParseGeneratorOptions({"--bootstrap", "h:1", "--topic"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--topic: missing value")));
  EXPECT_THAT(ParseGeneratorOptions({"--bootstrap", "h:1", "--topic", "t", "--frobnicate"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--frobnicate")));
  EXPECT_THAT(ParseGeneratorOptions({"--bootstrap", "h:1", "--topic", "t", "--property", "novalue"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key=value")));
}

TEST(CheckOptions, PairsTopicsInOrderAndKeepsNamesByDefault) {
  auto o = ParseCheckOptions({"--source-bootstrap", "a:1", "--target-bootstrap", "b:2", "--source-topic", "s1",
                              "--target-topic", "t1", "--source-topic", "s2", "--topic-map", "s3=t3"});
  ASSERT_THAT(o, IsOk());
  EXPECT_THAT(o->topics, ElementsAre(TopicPair{"s1", "t1"}, TopicPair{"s2", "s2"}, TopicPair{"s3", "t3"}));
  EXPECT_EQ(o->mode, CheckMode::kExactlyOnce);
  EXPECT_EQ(o->wait_until_complete, absl::ZeroDuration());
}

TEST(CheckOptions, ParsesModeWaitJsonAndProperties) {
  auto o = ParseCheckOptions({"--source-bootstrap", "a:1", "--target-bootstrap", "b:2", "--source-topic", "s",
                              "--mode", "at-least-once", "--wait-until-complete", "10m", "--json", "--property",
                              "security.protocol=ssl", "--target-property", "security.protocol=plaintext"});
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->mode, CheckMode::kAtLeastOnce);
  EXPECT_EQ(o->wait_until_complete, absl::Minutes(10));
  EXPECT_TRUE(o->json);
  EXPECT_THAT(o->source_properties, ElementsAre(Pair("security.protocol", "ssl")));
  // The per-cluster property comes last, so it wins.
  EXPECT_THAT(o->target_properties,
              ElementsAre(Pair("security.protocol", "ssl"), Pair("security.protocol", "plaintext")));
}

TEST(CheckOptions, RejectsUsageErrors) {
  EXPECT_THAT(ParseCheckOptions({"--source-topic", "s"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--source-bootstrap")));
  EXPECT_THAT(ParseCheckOptions({"--source-bootstrap", "a:1", "--target-bootstrap", "b:2"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--source-topic")));
  EXPECT_THAT(ParseCheckOptions({"--source-bootstrap", "a:1", "--source-topic", "s"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compared with itself")));
  EXPECT_THAT(ParseCheckOptions({"--source-bootstrap", "a:1", "--source-topic", "s", "--target-topic", "t",
                                 "--target-topic", "u"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pair up")));
  EXPECT_THAT(ParseCheckOptions({"--source-bootstrap", "a:1", "--source-topic", "s", "--target-topic", "t",
                                 "--mode", "twice"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--mode: 'twice'")));
}

}  // namespace
}  // namespace longhaul::soak
