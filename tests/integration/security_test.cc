// Secured Kafka against real brokers: a SASL_SSL (SCRAM-SHA-512) source and
// an SSL target with client certificates (mTLS), started by
// scripts/kafka-cluster with their own test CAs. Exactly once across them,
// clear errors naming the cluster for a wrong password and an untrusted CA
// (in `run`'s log and status, and in `validate --connect`), and the password
// never in any output.
#include <signal.h>

#include <fstream>
#include <random>
#include <thread>

#include "admin_http.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/testing/unique_name.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string RandomPassword() {
  std::mt19937_64 rng(std::random_device{}());
  return absl::StrCat("Pw", rng(), "x", rng());
}

std::string WriteSecretFile(const std::string& text) {
  std::string path = absl::StrCat(::testing::TempDir(), "/longhaul-secret-", std::random_device{}());
  std::ofstream(path) << text << "\n";
  return path;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult RunLonghaul(std::vector<std::string> args, seconds timeout = seconds(90)) {
  auto p = ChildProcess::Spawn(LonghaulBinary(), std::move(args));
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return {};
  std::optional<int> code = (*p)->WaitForExit(timeout);
  if (!code) (*p)->Kill(SIGKILL);
  return {code.value_or(-1), (*p)->Output()};
}

// One SASL_SSL source and one SSL (mTLS) target for the whole suite: the
// tests only read and write their own topics.
class SecuredClusters : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    password_ = new std::string(RandomPassword());
    // Started in parallel: a secured cluster costs a JVM format and start.
    std::thread target([] { target_ = KafkaClusters::Start({"target"}, {.protocol = "ssl"}).release(); });
    source_ = KafkaClusters::Start({"source"}, {.protocol = "sasl_ssl", .scram_users = {"longhaul=" + *password_}})
                  .release();
    target.join();
  }
  static void TearDownTestSuite() {
    delete source_;
    delete target_;
    delete password_;
    source_ = target_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(source_, nullptr);
    ASSERT_NE(target_, nullptr);
    source_client_ = std::make_unique<KafkaTestClient>(source_->Bootstrap("source"), source_->ClientProperties("source"));
    target_client_ = std::make_unique<KafkaTestClient>(target_->Bootstrap("target"), target_->ClientProperties("target"));
  }

  // How longhaul reaches the source: as user longhaul, its password from a
  // file (`${file:...}`), so that it is a secret the config never shows.
  std::map<std::string, std::string> SourceProperties(const std::string& password_file) const {
    return {{"security.protocol", "SASL_SSL"},
            {"ssl.ca.location", source_->CertsDir("source") + "/ca.pem"},
            {"sasl.mechanism", "SCRAM-SHA-512"},
            {"sasl.username", "longhaul"},
            {"sasl.password", "${file:" + password_file + "}"}};
  }
  // The target with longhaul's own client certificate (CN=longhaul).
  std::map<std::string, std::string> TargetProperties(const std::string& ca_file = "") const {
    const std::string certs = target_->CertsDir("target");
    return {{"security.protocol", "SSL"},
            {"ssl.ca.location", ca_file.empty() ? certs + "/ca.pem" : ca_file},
            {"ssl.certificate.location", certs + "/kafka-client.pem"},
            {"ssl.key.location", certs + "/kafka-client.key"}};
  }

  static KafkaClusters* source_;
  static KafkaClusters* target_;
  static std::string* password_;
  std::unique_ptr<KafkaTestClient> source_client_, target_client_;
};

KafkaClusters* SecuredClusters::source_ = nullptr;
KafkaClusters* SecuredClusters::target_ = nullptr;
std::string* SecuredClusters::password_ = nullptr;

TEST_F(SecuredClusters, MirrorsSaslSslSourceToMtlsTargetExactlyOnceAndNeverLogsThePassword) {
  const std::string topic = UniqueName("secure");
  ASSERT_THAT(source_client_->CreateTopic(topic, 4), IsOk());
  for (int p = 0; p < 4; ++p) ASSERT_THAT(source_client_->Produce(topic, p, VariedRecords(25'000, 900 + p)), IsOk());

  PipelineSpec spec;
  spec.include = {topic};
  spec.source_properties = SourceProperties(WriteSecretFile(*password_));
  // librdkafka's own SASL and TLS debug lines, so that the check below
  // covers the handshake's log output too.
  spec.source_properties["debug"] = "security";
  spec.target_properties = TargetProperties();
  const std::string config = WriteConfig(source_->Bootstrap("source"), target_->Bootstrap("target"), spec);

  auto worker = ChildProcess::Spawn(LonghaulBinary(), {"run", "-c", config, "--log-level", "debug"});
  ASSERT_THAT(worker, IsOk());
  ExpectExactlyOnce(*source_client_, *target_client_, topic, topic, 4, seconds(240), worker->get());

  // The status API shows the pipeline, not the password.
  const int port = AdminPort(**worker);
  ASSERT_GT(port, 0) << (*worker)->Describe();
  auto status = HttpGet(port, "/api/v1/status");
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(status->body, Not(HasSubstr(*password_)));

  CommandResult check = RunLonghaul({"validate", "-c", config, "--connect"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_THAT(check.output, Not(HasSubstr(*password_)));

  (*worker)->Kill(SIGTERM);
  EXPECT_EQ((*worker)->WaitForExit(seconds(40)), 0) << (*worker)->Describe();
  const std::string log = (*worker)->Output();
  // The debug lines of the SCRAM exchange are there, the password is not.
  EXPECT_THAT(log, HasSubstr("SCRAM")) << (*worker)->Describe();
  EXPECT_THAT(log, Not(HasSubstr(*password_))) << (*worker)->Describe();
}

TEST_F(SecuredClusters, WrongPasswordIsReportedNamingTheSourceCluster) {
  const std::string topic = UniqueName("badpw");
  ASSERT_THAT(source_client_->CreateTopic(topic, 1), IsOk());
  const std::string wrong = RandomPassword();
  PipelineSpec spec;
  spec.include = {topic};
  spec.source_properties = SourceProperties(WriteSecretFile(wrong));
  spec.target_properties = TargetProperties();
  const std::string config = WriteConfig(source_->Bootstrap("source"), target_->Bootstrap("target"), spec);

  CommandResult check = RunLonghaul({"validate", "-c", config, "--connect", "--timeout", "5000"});
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_THAT(check.output, HasSubstr("cluster 'src'"));
  EXPECT_THAT(check.output, HasSubstr("Authentication failed"));
  EXPECT_THAT(check.output, Not(HasSubstr(wrong)));

  auto worker = ChildProcess::Spawn(LonghaulBinary(), {"run", "-c", config});
  ASSERT_THAT(worker, IsOk());
  const int port = AdminPort(**worker);
  ASSERT_GT(port, 0) << (*worker)->Describe();
  std::string last_status;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto status = HttpGet(port, "/api/v1/status");
        if (!status.ok()) return false;
        last_status = status->body;
        return absl::StrContains(last_status, "source cluster 'src'") &&
               absl::StrContains(last_status, "Authentication failed");
      },
      seconds(60), milliseconds(500)))
      << last_status;
  EXPECT_TRUE((*worker)->IsRunning()) << "a refused login is retried, not fatal: " << (*worker)->Describe();
  (*worker)->Kill(SIGTERM);
  (*worker)->WaitForExit(seconds(40));
  const std::string log = (*worker)->Output();
  // The librdkafka error line names the cluster and says why.
  EXPECT_THAT(log, ::testing::ContainsRegex("Authentication failed[^\n]*cluster=src"))
      << (*worker)->Describe();
  EXPECT_THAT(log, Not(HasSubstr(wrong)));
}

TEST_F(SecuredClusters, UntrustedCaIsReportedNamingTheTargetCluster) {
  const std::string topic = UniqueName("badca");
  ASSERT_THAT(source_client_->CreateTopic(topic, 1), IsOk());
  PipelineSpec spec;
  spec.include = {topic};
  spec.source_properties = SourceProperties(WriteSecretFile(*password_));
  // A CA that did not sign the target's certificate.
  spec.target_properties = TargetProperties(target_->CertsDir("target") + "/rogue-ca.pem");
  const std::string config = WriteConfig(source_->Bootstrap("source"), target_->Bootstrap("target"), spec);

  CommandResult check = RunLonghaul({"validate", "-c", config, "--connect", "--timeout", "5000"});
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_THAT(check.output, HasSubstr("cluster 'dst'"));
  EXPECT_THAT(check.output, HasSubstr("certificate verify failed"));

  auto worker = ChildProcess::Spawn(LonghaulBinary(), {"run", "-c", config});
  ASSERT_THAT(worker, IsOk());
  const int port = AdminPort(**worker);
  ASSERT_GT(port, 0) << (*worker)->Describe();
  std::string last_status;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto status = HttpGet(port, "/api/v1/status");
        if (!status.ok()) return false;
        last_status = status->body;
        return absl::StrContains(last_status, "target cluster 'dst'") &&
               absl::StrContains(last_status, "certificate verify failed");
      },
      seconds(60), milliseconds(500)))
      << last_status;
  (*worker)->Kill(SIGTERM);
  (*worker)->WaitForExit(seconds(40));
  EXPECT_THAT((*worker)->Output(), ::testing::ContainsRegex("certificate verify failed[^\n]*cluster=dst"))
      << (*worker)->Describe();
  EXPECT_THAT((*worker)->Output(), Not(HasSubstr(*password_)));
}

}  // namespace
}  // namespace longhaul::testing

namespace longhaul::testing {
namespace {

using ::testing::HasSubstr;

int CountLines(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A broker with an authorizer (StandardAuthorizer, nothing allowed without
// an ACL) and a principal that has every ACL a pipeline needs but one:
// `validate --connect` names that one; once it is granted, validation passes
// and the pipeline really runs with exactly those ACLs.
TEST(ValidateConnect, NamesTheOneMissingAclAndPassesOnceItIsGranted) {
  const std::string password = RandomPassword();
  auto clusters = KafkaClusters::Start(
      {"kafka"}, {.protocol = "sasl_ssl", .scram_users = {"limited=" + password}, .authorizer = true});
  ASSERT_NE(clusters, nullptr);
  const std::string bootstrap = clusters->Bootstrap("kafka");
  KafkaTestClient admin(bootstrap, clusters->ClientProperties("kafka"));
  std::map<std::string, std::string> limited_properties = clusters->ClientProperties("kafka");
  limited_properties["sasl.username"] = "limited";
  limited_properties["sasl.password"] = password;
  KafkaTestClient limited(bootstrap, limited_properties);

  const std::string topic = "orders";
  ASSERT_THAT(admin.CreateTopic(topic, 2), IsOk());
  for (int p = 0; p < 2; ++p) ASSERT_THAT(admin.Produce(topic, p, VariedRecords(500, 40 + p)), IsOk());

  const std::string user = "User:limited";
  std::vector<AclSpec> acls = {
      // The mirrored topics on the target side (rename "copy.{topic}").
      {"topic", "copy.", true, user, "create"},
      {"topic", "copy.", true, user, "write"},
      {"topic", "copy.", true, user, "describe"},
      {"topic", "copy.", true, user, "describe_configs"},
      {"topic", "copy.", true, user, "alter_configs"},
      // The pipeline's checkpoint and offset-sync topics and its lane group.
      {"topic", "__longhaul.", true, user, "all"},
      {"group", "__longhaul.", true, user, "read"},
      // The source topic, last: once the principal sees it, every ACL above
      // is in force too (the authorizer applies them in order).
      {"topic", topic, false, user, "read"},
      {"topic", topic, false, user, "describe_configs"},
      {"topic", topic, false, user, "describe"},
  };
  ASSERT_THAT(admin.CreateAcls(acls), IsOk());
  ASSERT_TRUE(WaitFor([&] { return limited.PartitionCount(topic, seconds(5)).ok(); }, seconds(30), milliseconds(250)));

  PipelineSpec spec;
  spec.include = {topic};
  spec.rename = "copy.{topic}";
  spec.lanes = 2;
  const std::string password_file = WriteSecretFile(password);
  spec.source_properties = {{"security.protocol", "SASL_SSL"},
                            {"ssl.ca.location", clusters->CertsDir("kafka") + "/ca.pem"},
                            {"sasl.mechanism", "SCRAM-SHA-512"},
                            {"sasl.username", "limited"},
                            {"sasl.password", "${file:" + password_file + "}"}};
  spec.target_properties = spec.source_properties;
  const std::string config = WriteConfig(bootstrap, bootstrap, spec);

  // No ACL for the lanes' transactional ids: named, and nothing else is.
  CommandResult before = RunLonghaul({"validate", "-c", config, "--connect", "--timeout", "5000"});
  EXPECT_EQ(before.exit_code, 1) << before.output;
  EXPECT_THAT(before.output, HasSubstr("MISSING ACL  pipeline 'p' on target cluster 'dst': WRITE on TRANSACTIONAL_ID "
                                       "(PREFIXED) 'longhaul.p.lane-'"));
  EXPECT_EQ(CountLines(before.output, "\nMISSING ACL "), 1) << before.output;
  EXPECT_THAT(before.output, ::testing::Not(HasSubstr(password)));

  ASSERT_THAT(clusters->Acls("kafka", {"--add", "--allow-principal", user, "--operation", "Write",
                                       "--transactional-id", "longhaul.p.lane-", "--resource-pattern-type",
                                       "prefixed"}),
              IsOk());
  CommandResult after;
  EXPECT_TRUE(WaitFor(
      [&] {
        after = RunLonghaul({"validate", "-c", config, "--connect", "--timeout", "5000"});
        return after.exit_code == 0;
      },
      seconds(60), milliseconds(1000)))
      << after.output;

  // What validation called enough is enough: the pipeline runs on these ACLs.
  auto worker = ChildProcess::Spawn(LonghaulBinary(), {"run", "-c", config});
  ASSERT_THAT(worker, IsOk());
  ExpectExactlyOnce(admin, admin, topic, "copy." + topic, 2, seconds(120), worker->get());
  (*worker)->Kill(SIGTERM);
  EXPECT_EQ((*worker)->WaitForExit(seconds(40)), 0) << (*worker)->Describe();
}

// WRITE on a target topic that exists, and CREATE on one that must be
// created: `validate --connect` names both missing ACLs (WRITE probed
// without writing a record), and passes once they are granted.
TEST(ValidateConnect, NamesMissingWriteOnAnExistingTargetTopicAndMissingCreateOnANewOne) {
  const std::string password = RandomPassword();
  auto clusters = KafkaClusters::Start(
      {"kafka"}, {.protocol = "sasl_ssl", .scram_users = {"limited=" + password}, .authorizer = true});
  ASSERT_NE(clusters, nullptr);
  const std::string bootstrap = clusters->Bootstrap("kafka");
  KafkaTestClient admin(bootstrap, clusters->ClientProperties("kafka"));
  for (const char* topic : {"orders", "payments"}) {
    ASSERT_THAT(admin.CreateTopic(topic, 1), IsOk());
    ASSERT_THAT(admin.Produce(topic, 0, VariedRecords(10, 3)), IsOk());
  }
  ASSERT_THAT(admin.CreateTopic("copy.orders", 1), IsOk());  // exists; copy.payments is to be created

  const std::string user = "User:limited";
  std::vector<AclSpec> acls = {
      {"topic", "copy.orders", false, user, "describe"},
      {"topic", "copy.orders", false, user, "describe_configs"},
      {"topic", "copy.orders", false, user, "alter_configs"},
      {"topic", "__longhaul.", true, user, "all"},
      {"group", "__longhaul.", true, user, "read"},
  };
  for (const char* topic : {"orders", "payments"}) {
    for (const char* op : {"read", "describe", "describe_configs"}) acls.push_back({"topic", topic, false, user, op});
  }
  ASSERT_THAT(admin.CreateAcls(acls), IsOk());
  ASSERT_THAT(clusters->Acls("kafka", {"--add", "--allow-principal", user, "--operation", "Write",
                                       "--transactional-id", "longhaul.p.lane-", "--resource-pattern-type",
                                       "prefixed"}),
              IsOk());

  PipelineSpec spec;
  spec.include = {"orders", "payments"};
  spec.rename = "copy.{topic}";
  spec.lanes = 1;
  const std::string password_file = WriteSecretFile(password);
  spec.source_properties = {{"security.protocol", "SASL_SSL"},
                            {"ssl.ca.location", clusters->CertsDir("kafka") + "/ca.pem"},
                            {"sasl.mechanism", "SCRAM-SHA-512"},
                            {"sasl.username", "limited"},
                            {"sasl.password", "${file:" + password_file + "}"}};
  spec.target_properties = spec.source_properties;
  const std::string config = WriteConfig(bootstrap, bootstrap, spec);

  CommandResult before;
  // ACLs take a moment to reach the authorizer: until the source topics are
  // visible, other lines come first.
  EXPECT_TRUE(WaitFor(
      [&] {
        before = RunLonghaul({"validate", "-c", config, "--connect", "--timeout", "5000"});
        return CountLines(before.output, "\nMISSING ACL ") == 2;
      },
      seconds(60), milliseconds(1000)))
      << before.output;
  EXPECT_EQ(before.exit_code, 1) << before.output;
  EXPECT_THAT(before.output,
              HasSubstr("MISSING ACL  pipeline 'p' on target cluster 'dst': WRITE on TOPIC (LITERAL) 'copy.orders'"));
  EXPECT_THAT(before.output, HasSubstr("MISSING ACL  pipeline 'p' on target cluster 'dst': CREATE on TOPIC (LITERAL) "
                                       "'copy.payments' or on the CLUSTER"));
  // The probe wrote nothing: copy.orders holds no record.
  auto records = admin.ReadAll("copy.orders", 0, Isolation::kReadUncommitted);
  ASSERT_THAT(records, IsOk());
  EXPECT_TRUE(records->empty());

  ASSERT_THAT(admin.CreateAcls({{"topic", "copy.orders", false, user, "write"},
                                {"topic", "copy.payments", false, user, "create"}}),
              IsOk());
  CommandResult after;
  EXPECT_TRUE(WaitFor(
      [&] {
        after = RunLonghaul({"validate", "-c", config, "--connect", "--timeout", "5000"});
        return after.exit_code == 0;
      },
      seconds(60), milliseconds(1000)))
      << after.output;
  EXPECT_THAT(after.output, HasSubstr("ok           pipeline 'p' on target cluster 'dst': WRITE on topic 'copy.orders' "
                                      "(no record written)"));
  records = admin.ReadAll("copy.orders", 0, Isolation::kReadUncommitted);
  ASSERT_THAT(records, IsOk());
  EXPECT_TRUE(records->empty()) << records->size() << " records written by validate";
}

// Topic-ACL sync against an authorizer: the reading ACLs of a source topic
// reach its renamed target topic (one principal mapped to another), and the
// source's WRITE grant does not.
TEST(TopicAclSync, ReadingAclsReachTheRenamedTargetTopicWithPrincipalsMappedAndWriteNever) {
  const std::string password = RandomPassword();
  auto clusters = KafkaClusters::Start({"kafka"}, {.protocol = "sasl_ssl",
                                                   .scram_users = {"reader=" + password, "reader-dr=" + password,
                                                                   "writer=" + password},
                                                   .authorizer = true});
  ASSERT_NE(clusters, nullptr);
  const std::string bootstrap = clusters->Bootstrap("kafka");
  const std::map<std::string, std::string> admin_properties = clusters->ClientProperties("kafka");
  KafkaTestClient admin(bootstrap, admin_properties);
  auto as = [&](const std::string& user) {
    std::map<std::string, std::string> p = admin_properties;
    p["sasl.username"] = user;
    p["sasl.password"] = password;
    return std::make_unique<KafkaTestClient>(bootstrap, p);
  };
  const std::vector<Record> records = VariedRecords(20, 8);
  ASSERT_THAT(admin.CreateTopic("orders", 1), IsOk());
  ASSERT_THAT(admin.Produce("orders", 0, records), IsOk());
  ASSERT_THAT(admin.CreateAcls({{"topic", "orders", false, "User:reader", "read"},
                                {"topic", "orders", false, "User:reader", "describe"},
                                {"topic", "orders", false, "User:writer", "write"},
                                {"topic", "orders", false, "User:writer", "describe"}}),
              IsOk());

  PipelineSpec spec;
  spec.include = {"orders"};
  spec.rename = "copy.{topic}";
  spec.lanes = 1;
  const std::string password_file = WriteSecretFile(admin_properties.at("sasl.password"));
  spec.source_properties = admin_properties;
  spec.source_properties["sasl.password"] = "${file:" + password_file + "}";
  spec.target_properties = spec.source_properties;
  spec.pipeline_lines = {"sync_topic_acls: true", "acl_principals:", "  \"User:reader\": \"User:reader-dr\""};
  auto worker = StartLonghaul(WriteConfig(bootstrap, bootstrap, spec));
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(admin, admin, "orders", "copy.orders", 1, seconds(90), worker.get());

  // The mapped principal reads the copy (its ACLs may take a discovery
  // interval to arrive, bounded here).
  auto reader_dr = as("reader-dr");
  absl::StatusOr<std::vector<Record>> read;
  EXPECT_TRUE(WaitFor(
      [&] {
        read = reader_dr->ReadAll("copy.orders", 0, Isolation::kReadCommitted, seconds(5));
        return read.ok() && read->size() == records.size();
      },
      seconds(60), milliseconds(500)))
      << (read.ok() ? absl::StrCat(read->size(), " records") : std::string(read.status().message())) << "; "
      << worker->Describe();
  EXPECT_THAT(worker->Output(), HasSubstr("topic ACLs of the source granted on the target"));
  EXPECT_THAT(worker->Output(), HasSubstr("User:reader-dr READ on topic 'copy.orders' from *"));
  // The source principal was mapped, not kept; the writer got nothing.
  EXPECT_FALSE(as("reader")->ReadAll("copy.orders", 0, Isolation::kReadCommitted, seconds(5)).ok());
  auto writer = as("writer");
  EXPECT_THAT(writer->Produce("orders", 0, VariedRecords(1, 9), seconds(20)), IsOk());
  EXPECT_FALSE(writer->Produce("copy.orders", 0, VariedRecords(1, 9), seconds(10)).ok());
  // The writer's DESCRIBE travels, its WRITE does not.
  EXPECT_THAT(worker->Output(), HasSubstr("User:writer DESCRIBE on topic 'copy.orders' from *"));
  EXPECT_THAT(worker->Output(), ::testing::Not(HasSubstr("WRITE on topic")));
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

}  // namespace
}  // namespace longhaul::testing
