// Loading and validating the YAML config: every field, every default, and
// errors that say FILE:LINE:COL: KEY.PATH: what and why, all at once.
#include "longhaul/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::config {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

EnvLookup FakeEnv(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::StatusOr<Config> Parse(std::string_view yaml, EnvLookup env = FakeEnv()) {
  return ParseConfig(yaml, "pipelines.yaml", std::move(env));
}

// The error lines of a failed parse, in order.
std::vector<std::string> ErrorLines(const absl::StatusOr<Config>& result) {
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  std::vector<std::string> lines;
  std::string message(result.status().message());
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    lines.push_back(message.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A file under the test's temp dir, removed at the end of the test.
class TempFile {
 public:
  TempFile(std::string_view name, std::string_view content)
      : path_(std::filesystem::path(::testing::TempDir()) /
              (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
               std::string(name))) {
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

constexpr std::string_view kMinimal = R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
pipelines:
  p:
    source: a
    target: b
    topics: {include: [".*"]}
)";

TEST(ConfigParse, ReadsEveryFieldOfAFullFile) {
  TempFile secret("secret", "s3cret-from-file\n");
  const std::string yaml = R"(clusters:
  source-dc:
    bootstrap: "10.0.0.1:9092, [::1]:9093"
    properties: {security.protocol: SSL, socket.timeout.ms: 30000, enable.ssl.certificate.verification: false}
    consumer: {fetch.max.bytes: 1048576, security.protocol: PLAINTEXT}
    producer: {linger.ms: 5}
    admin: {request.timeout.ms: 10000}
  cloud:
    bootstrap: cloud-1:9093
    properties:
      sasl.username: ${USER_NAME}
      sasl.password: "${file:)" + secret.path() + R"(}"
      ssl.ca.location: /etc/ca.pem
pipelines:
  dc-to-cloud:
    source: source-dc
    target: cloud
    topics:
      include: ["orders\\..*", payments]
      exclude: [".*\\.tmp"]
    rename: "{source}.{topic}"
    lanes: 16
    delivery: at-least-once
    commit_interval: 250ms
    min_commit_interval: 50ms
    max_transaction_bytes: 4MiB
    start: latest
    discovery_interval: 2m
    sync_topic_configs: false
    groups:
      include: ["billing-.*"]
      exclude: [billing-test]
      interval: 5s
    offset_syncs:
      retention: 3d
    on_source_gap: skip
    lag_thresholds: {lagging_after: 5m, stalled_after: 20m}
worker:
  drain_timeout: 45s
  buffer_bytes: 1GiB
  log_level: debug
admin:
  listen: "0.0.0.0:0"
  per_partition_metrics: false
)";
  absl::StatusOr<Config> config = Parse(yaml, FakeEnv({{"USER_NAME", "replicator"}}));
  ASSERT_THAT(config, IsOk());

  EXPECT_EQ(config->file, "pipelines.yaml");
  ASSERT_EQ(config->clusters.size(), 2u);
  const ClusterConfig& dc = config->Cluster("source-dc");
  EXPECT_EQ(dc.name, "source-dc");
  EXPECT_EQ(dc.bootstrap, "10.0.0.1:9092, [::1]:9093");
  EXPECT_EQ(dc.properties, (Properties{{"security.protocol", "SSL"},
                                       {"socket.timeout.ms", "30000"},
                                       {"enable.ssl.certificate.verification", "false"}}));
  EXPECT_EQ(dc.consumer,
            (Properties{{"fetch.max.bytes", "1048576"}, {"security.protocol", "PLAINTEXT"}}));
  EXPECT_EQ(dc.producer, (Properties{{"linger.ms", "5"}}));
  EXPECT_EQ(dc.admin, (Properties{{"request.timeout.ms", "10000"}}));
  EXPECT_TRUE(dc.secret_keys.empty());

  const ClusterConfig& cloud = config->Cluster("cloud");
  EXPECT_EQ(cloud.bootstrap, "cloud-1:9093");
  EXPECT_EQ(cloud.properties, (Properties{{"sasl.username", "replicator"},
                                          {"sasl.password", "s3cret-from-file"},
                                          {"ssl.ca.location", "/etc/ca.pem"}}));
  EXPECT_EQ(cloud.secret_keys, (std::set<std::string>{"sasl.username", "sasl.password"}));

  ASSERT_EQ(config->pipelines.size(), 1u);
  const PipelineConfig& p = config->pipelines.at("dc-to-cloud");
  EXPECT_EQ(p.name, "dc-to-cloud");
  EXPECT_EQ(p.source, "source-dc");
  EXPECT_EQ(p.target, "cloud");
  EXPECT_THAT(p.topics.include(), ElementsAre("orders\\..*", "payments"));
  EXPECT_THAT(p.topics.exclude(), ElementsAre(".*\\.tmp"));
  EXPECT_TRUE(p.topics.Matches("orders.eu"));
  EXPECT_FALSE(p.topics.Matches("orders.eu.tmp"));
  EXPECT_EQ(p.rename, "{source}.{topic}");
  EXPECT_EQ(p.TargetTopic("orders.eu"), "source-dc.orders.eu");
  EXPECT_EQ(p.lanes, 16);
  EXPECT_EQ(p.delivery, Delivery::kAtLeastOnce);
  EXPECT_EQ(p.commit_interval, 250ms);
  EXPECT_EQ(p.min_commit_interval, 50ms);
  EXPECT_EQ(p.max_transaction_bytes, 4 << 20);
  EXPECT_EQ(p.start, StartPosition::kLatest);
  EXPECT_EQ(p.discovery_interval, 2min);
  EXPECT_FALSE(p.sync_topic_configs);
  EXPECT_TRUE(p.groups.enabled());
  EXPECT_THAT(p.groups.filter.include(), ElementsAre("billing-.*"));
  EXPECT_THAT(p.groups.filter.exclude(), ElementsAre("billing-test"));
  EXPECT_TRUE(p.groups.filter.Matches("billing-eu"));
  EXPECT_FALSE(p.groups.filter.Matches("billing-test"));
  EXPECT_EQ(p.groups.interval, 5s);
  EXPECT_EQ(p.offset_sync_retention, 72h);
  EXPECT_EQ(p.on_source_gap, SourceGapPolicy::kSkip);
  EXPECT_EQ(p.lagging_after, 5min);
  EXPECT_EQ(p.stalled_after, 20min);

  EXPECT_EQ(config->worker.drain_timeout, 45s);
  EXPECT_EQ(config->worker.buffer_bytes, int64_t{1} << 30);
  EXPECT_EQ(config->worker.log_level, "debug");
  EXPECT_EQ(config->admin.listen, "0.0.0.0:0");
  EXPECT_FALSE(config->admin.per_partition_metrics);
}

TEST(ConfigParse, FillsDefaultsForOmittedKeys) {
  absl::StatusOr<Config> config = Parse(kMinimal);
  ASSERT_THAT(config, IsOk());
  const ClusterConfig& a = config->Cluster("a");
  EXPECT_TRUE(a.properties.empty() && a.consumer.empty() && a.producer.empty() && a.admin.empty());
  const PipelineConfig& p = config->pipelines.at("p");
  EXPECT_EQ(p.rename, "{topic}");
  EXPECT_EQ(p.TargetTopic("orders"), "orders");
  EXPECT_TRUE(p.topics.exclude().empty());
  EXPECT_EQ(p.lanes, 8);
  EXPECT_EQ(p.delivery, Delivery::kExactlyOnce);
  EXPECT_EQ(p.commit_interval, 1s);
  EXPECT_EQ(p.min_commit_interval, 100ms);
  EXPECT_EQ(p.max_transaction_bytes, 16 << 20);
  EXPECT_EQ(p.start, StartPosition::kEarliest);
  EXPECT_EQ(p.discovery_interval, 30s);
  EXPECT_TRUE(p.sync_topic_configs);
  EXPECT_FALSE(p.groups.enabled());
  EXPECT_FALSE(p.groups.filter.Matches("any-group"));
  EXPECT_EQ(p.groups.interval, 10s);
  EXPECT_EQ(p.offset_sync_retention, 7 * 24h);
  EXPECT_EQ(p.on_source_gap, SourceGapPolicy::kStop);  // losing records is never the default
  EXPECT_EQ(p.lagging_after, 30s);
  EXPECT_EQ(p.stalled_after, 60s);
  EXPECT_EQ(config->worker.drain_timeout, 30s);
  EXPECT_EQ(config->worker.buffer_bytes, 64 << 20);
  EXPECT_EQ(config->admin.listen, "127.0.0.1:9464");
  EXPECT_TRUE(config->admin.per_partition_metrics);
}

TEST(ConfigParse, ExampleFileParsesAndCoversEverySection) {
  const std::filesystem::path example =
      std::filesystem::path(LONGHAUL_SOURCE_DIR) / "config/examples/longhaul.yaml";
  absl::StatusOr<Config> config =
      LoadConfigFile(example.string(), FakeEnv({{"CLOUD_KAFKA_PASSWORD", "pw"}, {"PROXY_AUTHORIZATION", "Basic eA=="}}));
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->clusters.size(), 2u);
  ASSERT_EQ(config->pipelines.size(), 3u);
  EXPECT_EQ(config->pipelines.at("dc-to-cloud-via-satellite").via, "satellite");
  EXPECT_EQ(config->pipelines.at("dc-to-cloud-via-satellite").edges, Edges::kOne);
  const PipelineConfig& fleet = config->pipelines.at("fleet-telemetry");
  EXPECT_EQ(fleet.edges, Edges::kMany);
  EXPECT_EQ(fleet.edge_header, "longhaul-edge");
  EXPECT_EQ(fleet.max_partitions, 1024);
  EXPECT_EQ(fleet.max_topics, 1000);
  EXPECT_EQ(fleet.TargetTopic("telemetry.gps", "ship-1"), "ship-1.telemetry.gps");
  ASSERT_EQ(config->links.count("satellite"), 1u);
  const LinkConfig& link = config->links.at("satellite");
  ASSERT_TRUE(link.edge.has_value());
  ASSERT_TRUE(link.hub.has_value());
  EXPECT_EQ(link.edge->proxy, "proxy.dc.example.net:3128");
  EXPECT_EQ(link.edge->proxy_authorization, "Basic eA==");
  EXPECT_EQ(link.hub->identities.at("longhaul://edge/dc-1"), std::vector<std::string>{"dc-to-cloud-via-satellite"});
  const PipelineConfig& p = config->pipelines.at("dc-to-cloud");
  EXPECT_TRUE(p.groups.enabled());
  EXPECT_EQ(p.TargetTopic("orders.eu"), "source-dc.orders.eu");
  EXPECT_TRUE(p.topics.Matches("orders.eu"));
  EXPECT_FALSE(p.topics.Matches("orders.eu.tmp"));
  EXPECT_EQ(config->Cluster("cloud").properties.at("sasl.password"), "pw");
}

constexpr std::string_view kLinked = R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
links:
  sat:
    edge:
      hub: "hub.example:443"
      server_name: hub.example
      ca_file: /etc/ca.pem
      cert_file: /etc/edge.pem
      key_file: /etc/edge.key
      proxy: "[fd00::1]:3128"
      proxy_authorization: ${PROXY_AUTH}
      connections: 4
      compression: lz4
      compression_level: 5
      buffer_bytes: 32MiB
      heartbeat_interval: 500ms
      dead_link_timeout: 20s
      report_interval: 2s
    hub:
      listen: "0.0.0.0:0"
      ca_file: /etc/ca.pem
      cert_file: /etc/hub.pem
      key_file: /etc/hub.key
      require_client_cert: false
      identities:
        "longhaul://edge/e1": [p]
        "CN=other": ["*"]
      receive_window_bytes: 16MiB
      identity_match: uri
      crl_file: /etc/ca.crl.pem
      max_sessions: 500
      max_sessions_per_identity: 4
      max_pending_handshakes_per_address: 2
      max_records_per_batch: 5000
      max_outbound_bytes: 2MiB
pipelines:
  p:
    via: sat
    source: a
    target: b
    topics: {include: [".*"]}
)";

TEST(ConfigParse, ReadsEveryFieldOfALink) {
  absl::StatusOr<Config> config = Parse(kLinked, FakeEnv({{"PROXY_AUTH", "Basic dTpw"}}));
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->pipelines.at("p").via, "sat");
  const LinkConfig& link = config->links.at("sat");
  EXPECT_EQ(link.name, "sat");
  ASSERT_TRUE(link.edge.has_value());
  const LinkEdgeConfig& e = *link.edge;
  EXPECT_EQ(e.hubs, std::vector<std::string>{"hub.example:443"});
  EXPECT_EQ(e.server_name, "hub.example");
  EXPECT_EQ(e.ca_file, "/etc/ca.pem");
  EXPECT_EQ(e.cert_file, "/etc/edge.pem");
  EXPECT_EQ(e.key_file, "/etc/edge.key");
  EXPECT_EQ(e.proxy, "[fd00::1]:3128");
  EXPECT_EQ(e.proxy_authorization, "Basic dTpw");
  EXPECT_EQ(e.connections, 4);
  EXPECT_EQ(e.compression, "lz4");
  EXPECT_EQ(e.compression_level, 5);
  EXPECT_EQ(e.buffer_bytes, 32 << 20);
  EXPECT_EQ(e.heartbeat_interval, 500ms);
  EXPECT_EQ(e.dead_link_timeout, 20s);
  EXPECT_EQ(e.report_interval, 2s);
  ASSERT_TRUE(link.hub.has_value());
  const LinkHubConfig& h = *link.hub;
  EXPECT_EQ(h.listen, "0.0.0.0:0");
  EXPECT_EQ(h.ca_file, "/etc/ca.pem");
  EXPECT_EQ(h.cert_file, "/etc/hub.pem");
  EXPECT_EQ(h.key_file, "/etc/hub.key");
  EXPECT_FALSE(h.require_client_cert);
  EXPECT_EQ(h.identities.size(), 2u);
  EXPECT_EQ(h.identities.at("CN=other"), std::vector<std::string>{"*"});
  EXPECT_EQ(h.receive_window_bytes, 16 << 20);
  EXPECT_TRUE(h.identity_uri_only);
  EXPECT_EQ(h.crl_file, "/etc/ca.crl.pem");
  EXPECT_EQ(h.max_sessions, 500);
  EXPECT_EQ(h.max_sessions_per_identity, 4);
  EXPECT_EQ(h.max_pending_handshakes_per_address, 2);
  EXPECT_EQ(h.max_records_per_batch, 5000);
  EXPECT_EQ(h.max_outbound_bytes, 2 << 20);
}

TEST(ConfigParse, LinkDefaultsAndErrorsNameTheKeyWithoutEchoingTheProxySecret) {
  absl::StatusOr<Config> config = Parse(R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
links:
  sat:
    edge: {hub: "h:443"}
pipelines:
  p: {via: sat, source: a, target: b, topics: {include: [".*"]}}
)");
  ASSERT_THAT(config, IsOk());
  const LinkEdgeConfig& e = *config->links.at("sat").edge;
  EXPECT_EQ(e.proxy, "");
  EXPECT_EQ(e.proxy_authorization, "");
  EXPECT_EQ(e.connections, 2);
  EXPECT_EQ(e.compression, "zstd");
  EXPECT_EQ(e.buffer_bytes, int64_t{256} << 20);
  EXPECT_EQ(e.report_interval, 5s);
  EXPECT_FALSE(config->links.at("sat").hub.has_value());

  std::string bad(kLinked);
  auto replace = [&bad](std::string_view from, std::string_view to) {
    const size_t at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
  };
  replace("\"[fd00::1]:3128\"", "\"proxy-no-port\"");
  replace("    via: sat\n", "    via: sats\n");
  auto lines = ErrorLines(Parse(bad, FakeEnv({{"PROXY_AUTH", "Basic c2VjcmV0"}})));
  ASSERT_EQ(lines.size(), 2u) << ::testing::PrintToString(lines);
  EXPECT_THAT(lines[0], StartsWith("pipelines.yaml:12:14: links.sat.edge.proxy: "));
  EXPECT_THAT(lines[1], AllOf(StartsWith("pipelines.yaml:40:10: pipelines.p.via: "),
                              HasSubstr("no link named 'sats' (known links: sat)")));
  for (const auto& line : lines) EXPECT_THAT(line, Not(HasSubstr("c2VjcmV0")));
}

std::string LinkWithEdge(std::string_view edge) {
  return absl::StrCat(R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
links:
  sat:
    edge: )",
                      std::string(edge), R"(
pipelines:
  p: {via: sat, source: a, target: b, topics: {include: [".*"]}}
)");
}

TEST(ConfigParse, TakesSeveralHubsAsAListOrCommaSeparatedUnderHubOrHubs) {
  const std::vector<std::string> want = {"hub-a.example:443", "[fd00::2]:443", "10.0.0.9:8443"};
  for (std::string_view edge : {
           R"({hub: ["hub-a.example:443", "[fd00::2]:443", "10.0.0.9:8443"]})",
           R"({hubs: ["hub-a.example:443", "[fd00::2]:443", "10.0.0.9:8443"]})",
           R"({hub: "hub-a.example:443, [fd00::2]:443,10.0.0.9:8443"})",
           R"({hubs: "hub-a.example:443,[fd00::2]:443,10.0.0.9:8443"})",
       }) {
    absl::StatusOr<Config> config = Parse(LinkWithEdge(edge));
    ASSERT_THAT(config, IsOk()) << edge;
    EXPECT_EQ(config->links.at("sat").edge->hubs, want) << edge;
  }
}

TEST(ConfigParse, ReportsBadHubListsNamingTheKey) {
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "a:443", hubs: ["b:443"]})"))),
              ElementsAre(HasSubstr("links.sat.edge.hubs: give either hub or hubs (the same setting), not both")));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hubs: []})"))),
              ElementsAre(HasSubstr("links.sat.edge.hubs: expected at least one host:port of a hub, got an empty list")));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: ["a:443", "b"]})"))),
              ElementsAre(AllOf(HasSubstr("links.sat.edge.hub[1]: "), HasSubstr("missing :port"))));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "a:443,"})"))),
              ElementsAre(AllOf(HasSubstr("links.sat.edge.hub: "), HasSubstr("empty address"))));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "a:443,a:443"})"))),
              ElementsAre(HasSubstr("links.sat.edge.hub: hub address 'a:443' is listed twice")));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({ca_file: x})"))), ElementsAre(HasSubstr("hub")));
}

TEST(ConfigParse, TakesPriorityClassesAndARateLimitForAnEdgeLink) {
  absl::StatusOr<Config> config = Parse(LinkWithEdge(R"({hub: "h:443", rate_limit: 1500kbit/s, priorities: [
        {class: alarms, weight: 20, topics: ["alarms\\..*", "sos"]},
        {class: bulk},
        {class: telemetry, weight: 4, topics: ["telemetry\\..*"]}]})"));
  ASSERT_THAT(config, IsOk());
  const LinkEdgeConfig& e = *config->links.at("sat").edge;
  EXPECT_EQ(e.rate_limit_bits_per_second, 1'500'000);
  ASSERT_EQ(e.priorities.size(), 3u);
  EXPECT_EQ(e.priorities[0].name, "alarms");
  EXPECT_EQ(e.priorities[0].weight, 20u);
  EXPECT_THAT(e.priorities[0].topics, ElementsAre("alarms\\..*", "sos"));
  EXPECT_EQ(e.priorities[1].name, "bulk");
  EXPECT_EQ(e.priorities[1].weight, 1u);
  EXPECT_TRUE(e.priorities[1].topics.empty());
  EXPECT_EQ(e.priorities[2].weight, 4u);

  absl::StatusOr<Config> defaults = Parse(LinkWithEdge(R"({hub: "h:443"})"));
  ASSERT_THAT(defaults, IsOk());
  EXPECT_EQ(defaults->links.at("sat").edge->rate_limit_bits_per_second, 0);
  EXPECT_TRUE(defaults->links.at("sat").edge->priorities.empty());
  EXPECT_THAT(Parse(LinkWithEdge(R"({hub: "h:443", rate_limit: 0})")), IsOk());
}

TEST(ConfigParse, ReportsBadPriorityClassesAndRatesNamingTheKey) {
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "h:443", rate_limit: 2MB})"))),
              ElementsAre(AllOf(HasSubstr("links.sat.edge.rate_limit: "), HasSubstr("unknown unit"))));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "h:443", rate_limit: 100bit})"))),
              ElementsAre(HasSubstr("links.sat.edge.rate_limit: ")));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "h:443", priorities: [{class: a}, {class: b}]})"))),
              ElementsAre(HasSubstr("only one priority class may leave out topics")));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "h:443", priorities: [{class: a, topics: [x]}, {class: a, topics: [y]}]})"))),
              ElementsAre(HasSubstr("priority class 'a' is listed twice")));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "h:443", priorities: [{class: "a b", topics: [x]}]})"))),
              ElementsAre(HasSubstr("links.sat.edge.priorities[0].class: ")));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "h:443", priorities: [{class: a, weight: 0, topics: [x]}]})"))),
              ElementsAre(HasSubstr("links.sat.edge.priorities[0].weight: ")));
  EXPECT_THAT(ErrorLines(Parse(LinkWithEdge(R"({hub: "h:443", priorities: [{class: a, topics: ["("]}]})"))),
              ElementsAre(HasSubstr("links.sat.edge.priorities[0].topics[0]: ")));
}

TEST(ConfigParse, ReportsSyntaxErrorAtYamlCppMark) {
  EXPECT_THAT(Parse("clusters:\n  a: [1, 2\npipelines: {}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("pipelines.yaml:3:"), HasSubstr("invalid YAML"))));
  EXPECT_THAT(Parse("clusters: {}\n bad: 1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("pipelines.yaml:2:")));
}

TEST(ConfigParse, ReportsUnknownKeyWithFileLineAndSuggestion) {
  std::string yaml(kMinimal);
  yaml += "    lane: 4\n";  // line 9
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ElementsAre("pipelines.yaml:9:5: pipelines.p.lane: unknown key (did you mean \"lanes\"?)"));
}

TEST(ConfigParse, ReportsUnknownNestedKeyAndListsKnownOnesWhenNothingIsClose) {
  const std::string yaml = R"(clusters:
  a:
    bootstrap: "a:9092"
    propertys: {}
  b: {bootstrap: "b:9092"}
pipelines:
  p:
    source: a
    target: b
    topics: {include: [".*"], exclued: [x]}
    offset_syncs: {retention: 7d, compaction: true}
unknown_section: 1
)";
  EXPECT_THAT(
      ErrorLines(Parse(yaml)),
      ElementsAre(
          "pipelines.yaml:4:5: clusters.a.propertys: unknown key (did you mean \"properties\"?)",
          "pipelines.yaml:10:31: pipelines.p.topics.exclued: unknown key (did you mean \"exclude\"?)",
          "pipelines.yaml:11:35: pipelines.p.offset_syncs.compaction: unknown key (expected one "
          "of: retention)",
          "pipelines.yaml:12:1: unknown_section: unknown key (expected one of: clusters, "
          "pipelines, links, worker, admin)"));
}

TEST(ConfigParse, ReportsBadRegexWithListEntryAndRegexError) {
  std::string yaml(kMinimal);
  yaml.replace(yaml.find("[\".*\"]"), 6, "[ok, \"orders(\"]");
  const std::vector<std::string> lines = ErrorLines(Parse(yaml));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], StartsWith("pipelines.yaml:8:28: pipelines.p.topics.include[1]: expected a "
                                   "valid ECMAScript regular expression, got \"orders(\" ("));
}

TEST(ConfigParse, ReportsMissingClusterNamingKeyAndKnownClusters) {
  std::string yaml(kMinimal);
  yaml.replace(yaml.find("source: a"), 9, "source: src");
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ElementsAre("pipelines.yaml:6:13: pipelines.p.source: no cluster named \"src\" "
                          "(expected one of: a, b)"));
}

TEST(ConfigParse, ReportsMissingRequiredKeysAtTheirParent) {
  EXPECT_THAT(
      ErrorLines(Parse("clusters:\n  a: {properties: {}}\npipelines:\n  p:\n    source: a\n")),
      ElementsAre("pipelines.yaml:2:3: clusters.a.bootstrap: required key is missing (expected a "
                  "comma-separated list of host:port)",
                  "pipelines.yaml:4:3: pipelines.p.target: required key is missing (expected the "
                  "name of a cluster)",
                  "pipelines.yaml:4:3: pipelines.p.topics: required key is missing (expected a "
                  "map with an include list)"));
  EXPECT_THAT(ErrorLines(Parse("")),
              ElementsAre("pipelines.yaml:1:1: clusters: required key is missing (expected a map "
                          "of cluster name to cluster)",
                          "pipelines.yaml:1:1: pipelines: required key is missing (expected a map "
                          "of pipeline name to pipeline)"));
}

TEST(ConfigParse, RequiresAtLeastOnePipelineAndOneIncludePattern) {
  EXPECT_THAT(ErrorLines(Parse("clusters:\n  a: {bootstrap: \"a:1\"}\npipelines: {}\n")),
              ElementsAre("pipelines.yaml:3:12: pipelines: no pipelines defined (expected at "
                          "least one pipeline)"));
  std::string yaml(kMinimal);
  yaml.replace(yaml.find("[\".*\"]"), 6, "[]");
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ElementsAre("pipelines.yaml:8:23: pipelines.p.topics.include: expected at least "
                          "one regular expression, got an empty list"));
}

TEST(ConfigParse, ReportsMissingSecretFileNamingKeyAndPath) {
  const std::string yaml = R"(clusters:
  src:
    bootstrap: "a:9092"
    properties: {sasl.password: "${file:/nonexistent/longhaul/x}"}
)";
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ::testing::Contains(
                  "pipelines.yaml:4:33: clusters.src.properties.sasl.password: cannot read secret "
                  "file /nonexistent/longhaul/x: No such file or directory"));
}

TEST(ConfigParse, ReportsUnsetEnvironmentVariableNamingKeyAndVariable) {
  const std::string yaml = R"(clusters:
  src:
    bootstrap: "a:9092"
    properties:
      sasl.password: ${KAFKA_PASSWORD}
)";
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ::testing::Contains("pipelines.yaml:5:22: clusters.src.properties.sasl.password: "
                                  "environment variable KAFKA_PASSWORD is not set"));
}

TEST(ConfigParse, ExpandsEnvironmentAndFileSecretsAndKeepsEscapedDollarBrace) {
  TempFile crlf("crlf", "line1\nline2\r\n");
  TempFile two_newlines("two", "x\n\n");
  const std::string yaml = R"(clusters:
  a:
    bootstrap: "${HOST}:9092"
    properties:
      plain: "cost $5, $${NOT_A_VAR} and $$ stay"
      joined: "${USER}:${PASS}"
      crlf: "${file:)" + crlf.path() + R"(}"
      two: "${file:)" + two_newlines.path() + R"(}"
)";
  const std::string full = yaml + "pipelines:\n  p: {source: a, target: a, rename: \"x.{topic}\", "
                                  "topics: {include: [t]}}\n";
  absl::StatusOr<Config> config =
      Parse(full, FakeEnv({{"HOST", "broker"}, {"USER", "u"}, {"PASS", "p"}}));
  ASSERT_THAT(config, IsOk());
  const ClusterConfig& a = config->Cluster("a");
  EXPECT_EQ(a.bootstrap, "broker:9092");
  EXPECT_EQ(a.properties.at("plain"), "cost $5, ${NOT_A_VAR} and $$ stay");
  EXPECT_EQ(a.properties.at("joined"), "u:p");
  EXPECT_EQ(a.properties.at("crlf"), "line1\nline2");
  EXPECT_EQ(a.properties.at("two"), "x\n");
  EXPECT_EQ(a.secret_keys,
            (std::set<std::string>{"bootstrap.servers", "joined", "crlf", "two"}));
  EXPECT_EQ(a.ClientProperties(ClientRole::kAdmin).at("bootstrap.servers"), "broker:9092");
}

TEST(ConfigParse, ReportsMalformedReferences) {
  const std::string yaml = R"(clusters:
  a:
    bootstrap: "a:9092"
    properties: {x: "${not-a-name}", y: "${UNCLOSED", z: "${file:}"}
)";
  const std::string message(Parse(yaml).status().message());
  EXPECT_THAT(message, HasSubstr("clusters.a.properties.x: \"${not-a-name}\" is not a valid reference"));
  EXPECT_THAT(message, HasSubstr("clusters.a.properties.y: unterminated \"${\""));
  EXPECT_THAT(message, HasSubstr("clusters.a.properties.z: empty path in \"${file:}\""));
}

TEST(ConfigParse, NeverShowsExpandedSecretValuesInErrors) {
  TempFile secret("secret", "file-secret-42\n");
  const std::string yaml = R"(clusters:
  a:
    bootstrap: "${BOOT}"
  b: {bootstrap: "b:1"}
pipelines:
  p:
    source: a
    target: b
    topics: {include: ["${REGEX}"]}
    lanes: "${file:)" + secret.path() + R"(}"
    delivery: ${DELIVERY}
    commit_interval: ${INTERVAL}
    source_cluster: 1
)";
  absl::StatusOr<Config> config =
      Parse(yaml, FakeEnv({{"BOOT", "env-secret-1"},
                           {"REGEX", "env-secret-2("},
                           {"DELIVERY", "env-secret-3"},
                           {"INTERVAL", "1.5env-secret-4"}}));
  const std::vector<std::string> lines = ErrorLines(config);
  ASSERT_EQ(lines.size(), 6u) << config.status();
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(HasSubstr("secret-")));
    if (line.find("source_cluster") == std::string::npos) {
      EXPECT_THAT(line, HasSubstr("got a value from ${...} (not shown)"));
    }
  }
}

TEST(ConfigParse, ReportsEveryErrorAtOnceSortedByLine) {
  const std::string yaml = R"(pipelines:
  orders:
    source: dc
    target: cloud
    topics: {include: ["orders\\..*"]}
    lanes: eight
    delivery: exactly_once
    commit_interval: 5ms
    max_transaction_bytes: 16MB
    start: earliest
    sync_topic_configs: maybe
clusters:
  dc: {bootstrap: "dc:9092"}
  cloud: {bootstrap: "cloud"}
  bad name: {bootstrap: "x:1"}
worker: {buffer_bytes: -1}
admin: {listen: ":80"}
)";
  EXPECT_THAT(
      ErrorLines(Parse(yaml)),
      ElementsAre(
          "pipelines.yaml:6:12: pipelines.orders.lanes: expected a positive integer between 1 "
          "and 1024, got \"eight\"",
          "pipelines.yaml:7:15: pipelines.orders.delivery: expected exactly-once or "
          "at-least-once, got \"exactly_once\"",
          "pipelines.yaml:8:22: pipelines.orders.commit_interval: expected a duration between "
          "10ms and 10m, got \"5ms\"",
          "pipelines.yaml:9:28: pipelines.orders.max_transaction_bytes: expected a size between "
          "1KiB and 1GiB, got \"16MB\" (unknown unit; use B, KiB, MiB, GiB or TiB)",
          "pipelines.yaml:11:25: pipelines.orders.sync_topic_configs: expected true or false, got "
          "\"maybe\"",
          "pipelines.yaml:14:22: clusters.cloud.bootstrap: expected a comma-separated list of "
          "host:port, got \"cloud\" (missing :port)",
          "pipelines.yaml:15:3: clusters.bad name: invalid cluster name (expected letters, "
          "digits, '.', '_' and '-')",
          "pipelines.yaml:16:24: worker.buffer_bytes: expected a size between 1MiB and 1TiB, got "
          "\"-1\" (size cannot be negative)",
          "pipelines.yaml:17:17: admin.listen: expected host:port (port 0 picks a free port), got "
          "\":80\" (missing host)"));
}

TEST(ConfigParse, ReportsWrongShapesAndDuplicateKeys) {
  const std::string yaml = R"(clusters:
  a: {bootstrap: [x], properties: [1]}
  a: {bootstrap: "b:1"}
pipelines:
  p:
    source: {name: a}
    target: a
    rename: "x.{topic}"
    topics: {include: "orders"}
    lanes:
)";
  EXPECT_THAT(
      ErrorLines(Parse(yaml)),
      ElementsAre(
          "pipelines.yaml:2:18: clusters.a.bootstrap: expected a comma-separated list of "
          "host:port, got a list",
          "pipelines.yaml:2:35: clusters.a.properties: expected a map of librdkafka property to "
          "value, got a list",
          "pipelines.yaml:3:3: clusters.a: duplicate key (first set at line 2)",
          "pipelines.yaml:6:13: pipelines.p.source: expected the name of a cluster, got a map",
          "pipelines.yaml:9:23: pipelines.p.topics.include: expected a list of regular "
          "expressions, each matched against the whole name, got \"orders\"",
          "pipelines.yaml:10:5: pipelines.p.lanes: expected a positive integer between 1 and "
          "1024, got nothing"));
}

TEST(ConfigParse, RejectsPipelineThatWouldCopyTopicsOntoThemselves) {
  std::string yaml(kMinimal);
  yaml.replace(yaml.find("target: b"), 9, "target: a");
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ElementsAre(AllOf(StartsWith("pipelines.yaml:7:13: pipelines.p.target: same cluster "
                                           "as the source while rename keeps topic names"),
                                HasSubstr("\"{source}.{topic}\""))));
  yaml += "    rename: \"{source}.{topic}\"\n";
  EXPECT_THAT(Parse(yaml), IsOk());
}

TEST(ConfigParse, ValidatesRenamePlaceholdersAndCharacters) {
  auto rename_error = [](std::string_view rename) -> std::string {
    std::string yaml(kMinimal);
    yaml += "    rename: \"" + std::string(rename) + "\"\n";
    absl::StatusOr<Config> config = Parse(yaml);
    return config.ok() ? "ok" : std::string(config.status().message());
  };
  EXPECT_EQ(rename_error("{topic}"), "ok");
  EXPECT_EQ(rename_error("dc1.{topic}"), "ok");
  EXPECT_EQ(rename_error("{source}_{topic}-copy"), "ok");
  EXPECT_THAT(rename_error("{cluster}.{topic}"),
              HasSubstr("pipelines.p.rename: expected a topic name template with {topic}, got "
                        "\"{cluster}.{topic}\" (unknown placeholder {cluster}; use {source}, "
                        "{topic} or {edge})"));
  EXPECT_THAT(rename_error("{source}"), HasSubstr("(without {topic} every topic would map to the same one)"));
  EXPECT_THAT(rename_error("{topic"), HasSubstr("(unclosed '{')"));
  EXPECT_THAT(rename_error("topic}"), HasSubstr("('}' without '{')"));
  EXPECT_THAT(rename_error("a/{topic}"), HasSubstr("(topic names allow only letters, digits"));
}

constexpr std::string_view kFleet = R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
links:
  sat:
    hub: {listen: "0.0.0.0:0"}
pipelines:
  p:
    via: sat
    source: a
    target: b
    topics: {include: [".*"]}
)";

TEST(ConfigParse, ReadsEdgesManyWithEdgeRenameHeaderAndCaps) {
  std::string yaml(kFleet);
  yaml += "    edges: many\n    rename: \"{edge}.{topic}\"\n    edge_header: from-edge\n"
          "    max_partitions: 64\n    max_topics: 10\n";
  absl::StatusOr<Config> config = Parse(yaml);
  ASSERT_THAT(config, IsOk());
  const PipelineConfig& p = config->pipelines.at("p");
  EXPECT_EQ(p.edges, Edges::kMany);
  EXPECT_EQ(p.edge_header, "from-edge");
  EXPECT_EQ(p.max_partitions, 64);
  EXPECT_EQ(p.max_topics, 10);
  EXPECT_EQ(p.TargetTopic("orders", "ship-7"), "ship-7.orders");

  absl::StatusOr<Config> defaults = Parse(std::string(kFleet));
  ASSERT_THAT(defaults, IsOk());
  EXPECT_EQ(defaults->pipelines.at("p").edges, Edges::kOne);
  EXPECT_EQ(defaults->pipelines.at("p").max_partitions, 1024);
  EXPECT_EQ(defaults->pipelines.at("p").max_topics, 1000);
}

TEST(ConfigParse, RejectsEdgePlaceholderAndEdgeHeaderWithoutEdgesManyAndEdgesManyWithoutALink) {
  std::string yaml(kFleet);
  yaml += "    rename: \"{edge}.{topic}\"\n    edge_header: from-edge\n    max_partitions: 0\n";
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ElementsAre(AllOf(StartsWith("pipelines.yaml:13:13: pipelines.p.rename: expected a topic name "
                                           "template with {topic}, got \"{edge}.{topic}\""),
                                HasSubstr("{edge} needs edges: many")),
                          StartsWith("pipelines.yaml:14:18: pipelines.p.edge_header: edge_header needs edges: many"),
                          StartsWith("pipelines.yaml:15:21: pipelines.p.max_partitions: expected a positive integer "
                                     "between 1 and 100000, got \"0\"")));
  std::string direct(kMinimal);
  direct += "    edges: many\n";
  EXPECT_THAT(ErrorLines(Parse(direct)),
              ElementsAre(StartsWith("pipelines.yaml:9:12: pipelines.p.edges: edges: many is for pipelines that "
                                     "run via a link")));
  std::string bad(kFleet);
  bad += "    edges: several\n";
  EXPECT_THAT(ErrorLines(Parse(bad)), ElementsAre(HasSubstr("pipelines.p.edges: expected one or many, got \"several\"")));
}

TEST(ConfigParse, RejectsBootstrapServersInPropertiesAndMultipleDocuments) {
  std::string yaml(kMinimal);
  yaml.replace(yaml.find("{bootstrap: \"a:9092\"}"), 21,
               "{bootstrap: \"a:9092\", producer: {bootstrap.servers: \"x:1\"}}");
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ElementsAre(HasSubstr("clusters.a.producer.bootstrap.servers: set by the cluster's "
                                    "bootstrap key")));
  EXPECT_THAT(ErrorLines(Parse(std::string(kMinimal) + "---\nclusters: {}\n")),
              ElementsAre(StartsWith("pipelines.yaml:10:1: found 2 YAML documents")));
}

TEST(ConfigLoad, ReportsMissingFileAsNotFoundNamingThePath) {
  EXPECT_THAT(LoadConfigFile("/nonexistent/longhaul.yaml", FakeEnv()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("/nonexistent/longhaul.yaml: No such file or directory")));
}

TEST(ConfigLoad, PrefixesErrorsWithThePath) {
  TempFile file("bad.yaml", "clusters: []\n");
  EXPECT_THAT(ErrorLines(LoadConfigFile(file.path(), FakeEnv())),
              ElementsAre(StartsWith(file.path() + ":1:1: pipelines: required key is missing"),
                          file.path() + ":1:11: clusters: expected a map of cluster name to "
                                        "cluster, got a list"));
}

TEST(ConfigParse, RejectsUnknownSourceGapPolicyAndOutOfRangeLagThresholds) {
  const std::string yaml = R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
pipelines:
  p:
    source: a
    target: b
    topics: {include: [".*"]}
    on_source_gap: ignore
    lag_thresholds: {lagging_after: 0s, stalled: 5m}
)";
  EXPECT_THAT(ErrorLines(Parse(yaml)),
              ElementsAre("pipelines.yaml:9:20: pipelines.p.on_source_gap: expected stop or skip, got \"ignore\"",
                          "pipelines.yaml:10:37: pipelines.p.lag_thresholds.lagging_after: expected a duration "
                          "between 1s and 1d, got \"0s\"",
                          "pipelines.yaml:10:41: pipelines.p.lag_thresholds.stalled: unknown key (expected one of: "
                          "lagging_after, stalled_after)"));
}

}  // namespace
}  // namespace longhaul::config

namespace longhaul::config {
namespace {

constexpr std::string_view kInsecure = R"(clusters:
  a:
    bootstrap: "a:9093"
    properties:
      security.protocol: SSL
      enable.ssl.certificate.verification: false
  b:
    bootstrap: "b:9093"
    consumer:
      ssl.endpoint.identification.algorithm: none
pipelines:
  p:
    source: a
    target: b
    topics: {include: [".*"]}
)";

TEST(ConfigParse, WarnsWithFileAndLineWhenCertificateChecksAreTurnedOff) {
  absl::StatusOr<Config> config = ParseConfig(kInsecure, "insecure.yaml", [](std::string_view) { return std::nullopt; });
  ASSERT_THAT(config, ::longhaul::testing::IsOk());
  ASSERT_EQ(config->warnings.size(), 2u);
  EXPECT_THAT(config->warnings[0],
              ::testing::StartsWith("insecure.yaml:6:44: clusters.a.properties.enable.ssl.certificate.verification: "
                                    "TLS certificate verification is off"));
  EXPECT_THAT(config->warnings[1],
              ::testing::StartsWith("insecure.yaml:10:46: clusters.b.consumer.ssl.endpoint.identification.algorithm:"));
}

TEST(ConfigParse, GivesNoWarningForVerifiedTls) {
  std::string yaml(kInsecure);
  yaml.replace(yaml.find("false"), 5, "true");
  yaml.replace(yaml.find(": none"), 6, ": https");
  absl::StatusOr<Config> config = ParseConfig(yaml, "ok.yaml", [](std::string_view) { return std::nullopt; });
  ASSERT_THAT(config, ::longhaul::testing::IsOk());
  EXPECT_THAT(config->warnings, ::testing::IsEmpty());
}

constexpr std::string_view kTopicSync = R"(clusters:
  a: {bootstrap: "a:9092"}
  b: {bootstrap: "b:9092"}
pipelines:
  defaults:
    source: a
    target: b
    topics: {include: [".*"]}
  custom:
    source: a
    target: b
    topics: {include: [".*"]}
    replication_factor: 3
    topic_configs:
      include: ["retention\\..*", "cleanup\\.policy"]
      exclude: ["retention\\.bytes"]
)";

TEST(ConfigParse, TopicConfigKeysDefaultToAllButBrokerSpecificOnesAndReplicationFactorToTheBrokers) {
  absl::StatusOr<Config> config = ParseConfig(kTopicSync, "sync.yaml", [](std::string_view) { return std::nullopt; });
  ASSERT_THAT(config, ::longhaul::testing::IsOk());
  const PipelineConfig& d = config->pipelines.at("defaults");
  EXPECT_EQ(d.replication_factor, -1);
  EXPECT_TRUE(d.topic_configs.Matches("retention.ms"));
  EXPECT_TRUE(d.topic_configs.Matches("cleanup.policy"));
  EXPECT_TRUE(d.topic_configs.Matches("max.message.bytes"));
  EXPECT_FALSE(d.topic_configs.Matches("min.insync.replicas"));
  EXPECT_FALSE(d.topic_configs.Matches("message.timestamp.type"));
  EXPECT_FALSE(d.topic_configs.Matches("leader.replication.throttled.replicas"));
  EXPECT_FALSE(d.topic_configs.Matches("confluent.placement.constraints"));
  const PipelineConfig& c = config->pipelines.at("custom");
  EXPECT_EQ(c.replication_factor, 3);
  EXPECT_TRUE(c.topic_configs.Matches("retention.ms"));
  EXPECT_TRUE(c.topic_configs.Matches("cleanup.policy"));
  EXPECT_FALSE(c.topic_configs.Matches("retention.bytes"));
  EXPECT_FALSE(c.topic_configs.Matches("max.message.bytes"));
}

TEST(ConfigParse, RejectsReplicationFactorZeroAndBadConfigKeyPatterns) {
  std::string yaml(kTopicSync);
  yaml.replace(yaml.find("replication_factor: 3"), 21, "replication_factor: 0");
  yaml.replace(yaml.find("\"cleanup\\\\.policy\""), 18, "\"(\"");
  absl::StatusOr<Config> config = ParseConfig(yaml, "bad.yaml", [](std::string_view) { return std::nullopt; });
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              ::testing::HasSubstr("bad.yaml:13:25: pipelines.custom.replication_factor: expected -1"));
  EXPECT_THAT(config.status().message(), ::testing::HasSubstr("pipelines.custom.topic_configs.include[1]"));
}

}  // namespace
}  // namespace longhaul::config
