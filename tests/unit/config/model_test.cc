// The config model's behaviour: topic selection, renames, merged client
// properties, and redaction of secrets before anything is shown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/config/config.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::config {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;

TopicFilter MakeFilter(std::vector<std::string> include, std::vector<std::string> exclude = {}) {
  absl::StatusOr<TopicFilter> filter = TopicFilter::Create(std::move(include), std::move(exclude));
  EXPECT_THAT(filter, IsOk());
  return filter.ok() ? *std::move(filter) : TopicFilter();
}

TEST(TopicFilter, MatchesTheWholeNameOnly) {
  const TopicFilter filter = MakeFilter({"orders\\..*", "payments"});
  EXPECT_TRUE(filter.Matches("orders.eu"));
  EXPECT_TRUE(filter.Matches("payments"));
  EXPECT_FALSE(filter.Matches("payments-dlq"));   // a prefix match is not enough
  EXPECT_FALSE(filter.Matches("old-payments"));   // nor a suffix match
  EXPECT_FALSE(filter.Matches("orders"));         // "\\." needs the dot
  EXPECT_FALSE(filter.Matches("ordersXeu"));
}

TEST(TopicFilter, ExcludeWinsOverInclude) {
  const TopicFilter filter = MakeFilter({".*"}, {"__.*", ".*\\.tmp"});
  EXPECT_TRUE(filter.Matches("orders"));
  EXPECT_FALSE(filter.Matches("__consumer_offsets"));
  EXPECT_FALSE(filter.Matches("orders.tmp"));
  EXPECT_TRUE(filter.Matches("orders.tmp.keep"));
}

TEST(TopicFilter, SelectsNothingWithoutIncludePatterns) {
  EXPECT_FALSE(TopicFilter().Matches("orders"));
  EXPECT_FALSE(MakeFilter({}, {"x"}).Matches("orders"));
  EXPECT_FALSE(MakeFilter({}).Matches(""));
}

TEST(TopicFilter, ReportsWhichPatternIsInvalid) {
  EXPECT_THAT(TopicFilter::Create({"ok", "orders("}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("include[1]: invalid regular expression")));
  EXPECT_THAT(TopicFilter::Create({"ok"}, {"[a-"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exclude[0]")));
  EXPECT_THAT(TopicFilter::CheckPattern("a{2,1}"), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(TopicFilter::CheckPattern("(a|b)+"), IsOk());
}

TEST(TopicFilter, CopiesKeepWorking) {
  TopicFilter copy;
  {
    TopicFilter original = MakeFilter({"a.*"}, {"ab"});
    copy = original;
  }
  EXPECT_TRUE(copy.Matches("ac"));
  EXPECT_FALSE(copy.Matches("ab"));
}

TEST(PipelineConfig, TargetTopicAppliesRenamePlaceholders) {
  PipelineConfig p;
  p.source = "dc1";
  EXPECT_EQ(p.TargetTopic("orders"), "orders");  // default "{topic}"
  p.rename = "{source}.{topic}";
  EXPECT_EQ(p.TargetTopic("orders.eu"), "dc1.orders.eu");
  p.rename = "mirror-{topic}-from-{source}";
  EXPECT_EQ(p.TargetTopic("t"), "mirror-t-from-dc1");
  p.rename = "{topic}.{topic}";
  EXPECT_EQ(p.TargetTopic("t"), "t.t");
  // A topic name that looks like a placeholder is copied, not expanded again.
  p.rename = "x.{topic}";
  EXPECT_EQ(p.TargetTopic("{source}"), "x.{source}");
}

TEST(PipelineConfig, TargetTopicPutsTheEdgeNameInPlaceOfTheEdgePlaceholder) {
  PipelineConfig p;
  p.source = "dc1";
  p.rename = "{edge}.{topic}";
  EXPECT_EQ(p.TargetTopic("orders", "ship-1"), "ship-1.orders");
  p.rename = "fleet.{source}.{topic}";
  EXPECT_EQ(p.TargetTopic("orders", "ship-1"), "fleet.dc1.orders") << "without {edge} the edges share the topic";
}

TEST(ClusterConfig, ClientPropertiesMergeBootstrapCommonAndRoleOverrides) {
  ClusterConfig c;
  c.bootstrap = "a:9092,b:9092";
  c.properties = {{"security.protocol", "SSL"}, {"client.id", "lh"}};
  c.consumer = {{"client.id", "lh-consumer"}, {"fetch.max.bytes", "1"}};
  c.producer = {{"linger.ms", "5"}};
  EXPECT_EQ(c.ClientProperties(ClientRole::kConsumer),
            (Properties{{"bootstrap.servers", "a:9092,b:9092"},
                        {"security.protocol", "SSL"},
                        {"client.id", "lh-consumer"},
                        {"fetch.max.bytes", "1"}}));
  EXPECT_EQ(c.ClientProperties(ClientRole::kProducer),
            (Properties{{"bootstrap.servers", "a:9092,b:9092"},
                        {"security.protocol", "SSL"},
                        {"client.id", "lh"},
                        {"linger.ms", "5"}}));
  EXPECT_EQ(c.ClientProperties(ClientRole::kAdmin),
            (Properties{{"bootstrap.servers", "a:9092,b:9092"},
                        {"security.protocol", "SSL"},
                        {"client.id", "lh"}}));
}

TEST(Redaction, HidesCredentialLookingNamesAndExpandedValues) {
  const Properties props = {
      {"sasl.password", "pw"},
      {"sasl.jaas.config", "org.apache... password=\"pw\""},
      {"sasl.oauthbearer.client.secret", "cs"},
      {"sasl.oauthbearer.config", "principal=x"},
      {"ssl.key.pem", "-----BEGIN PRIVATE KEY-----"},
      {"ssl.key.password", "kp"},
      {"ssl.keystore.password", "ksp"},
      {"SASL.PASSWORD", "upper"},
      {"my.api.token", "t"},
      {"aws.credentials", "c"},
      {"sasl.username", "from-env"},
      {"security.protocol", "SASL_SSL"},
      {"ssl.ca.location", "/etc/ca.pem"},
  };
  const Properties shown = RedactedProperties(props, {"sasl.username"});
  for (const auto& [key, value] : shown) {
    const bool visible = key == "security.protocol" || key == "ssl.ca.location";
    EXPECT_EQ(value == kRedacted, !visible) << key;
  }
  EXPECT_EQ(shown.at("ssl.ca.location"), "/etc/ca.pem");
  EXPECT_EQ(shown.size(), props.size());
}

TEST(Redaction, ExpandedSecretsNeverReachRedactedClientProperties) {
  const std::string yaml = R"(clusters:
  a:
    bootstrap: "${BOOTSTRAP}"
    properties: {sasl.username: "${USER}", sasl.password: "${PASS}", client.id: "id-${USER}"}
    producer: {custom.setting: "${PASS}"}
pipelines:
  p: {source: a, target: a, rename: "copy.{topic}", topics: {include: [x]}}
)";
  absl::StatusOr<Config> config = ParseConfig(yaml, "f.yaml", [](std::string_view name) {
    return std::optional<std::string>(name == "BOOTSTRAP" ? "v4lue-broker:9092"
                                                          : "v4lue-" + std::string(name));
  });
  ASSERT_THAT(config, IsOk());
  const ClusterConfig& a = config->Cluster("a");
  for (ClientRole role : {ClientRole::kConsumer, ClientRole::kProducer, ClientRole::kAdmin}) {
    const Properties raw = a.ClientProperties(role);
    EXPECT_EQ(raw.at("sasl.password"), "v4lue-PASS");
    for (const auto& [key, value] : RedactedProperties(raw, a.secret_keys)) {
      EXPECT_EQ(value.find("v4lue-"), std::string::npos) << ToString(role) << " " << key;
    }
  }
}

TEST(Config, EnumsPrintAsSpelledInTheFile) {
  EXPECT_EQ(ToString(Delivery::kExactlyOnce), "exactly-once");
  EXPECT_EQ(ToString(Delivery::kAtLeastOnce), "at-least-once");
  EXPECT_EQ(ToString(StartPosition::kEarliest), "earliest");
  EXPECT_EQ(ToString(StartPosition::kLatest), "latest");
  EXPECT_EQ(ToString(SourceGapPolicy::kStop), "stop");
  EXPECT_EQ(ToString(SourceGapPolicy::kSkip), "skip");
  EXPECT_EQ(ToString(ClientRole::kProducer), "producer");
}

}  // namespace
}  // namespace longhaul::config
