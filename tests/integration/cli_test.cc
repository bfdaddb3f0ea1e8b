// The longhaul command line against bad input: every config error names the
// file, line and key; an unreachable source is reported and retried, and a
// drain on SIGTERM exits 0.
#include <signal.h>

#include <fstream>

#include "longhaul/testing/kafka_clusters.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

struct Result {
  int exit_code;
  std::string output;
};

Result Validate(const std::string& path) {
  auto p = ChildProcess::Spawn(LonghaulBinary(), {"validate", "-c", path});
  EXPECT_TRUE(p.ok());
  auto code = (*p)->WaitForExit(seconds(20));
  return {code.value_or(-1), (*p)->Output()};
}

constexpr const char* kValid = R"(clusters:
  src:
    bootstrap: "127.0.0.1:9092"
  dst:
    bootstrap: "127.0.0.1:9093"
pipelines:
  p:
    source: src
    target: dst
    topics:
      include: ["orders.*"]
)";

TEST(LonghaulValidate, AcceptsAValidFile) {
  auto r = Validate(WriteFile("valid.yaml", kValid));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, ::testing::HasSubstr("ok"));
}

TEST(LonghaulValidate, ReportsSyntaxErrorWithFileAndLine) {
  auto r = Validate(WriteFile("syntax.yaml", "clusters:\n  src:\n    bootstrap: [unclosed\npipelines: {}\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, ::testing::ContainsRegex("syntax.yaml:[0-9]+"));
}

TEST(LonghaulValidate, ReportsUnknownKeyWithLineAndSuggestion) {
  std::string text = std::string(kValid) + "    lanse: 4\n";
  auto r = Validate(WriteFile("unknown.yaml", text));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, ::testing::HasSubstr("unknown.yaml:12:"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("pipelines.p.lanse"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("lanes"));
}

TEST(LonghaulValidate, ReportsBadRegexAndMissingClusterTogether) {
  std::string text = R"(clusters:
  src:
    bootstrap: "127.0.0.1:9092"
pipelines:
  p:
    source: src
    target: nowhere
    topics:
      include: ["orders.(*"]
)";
  auto r = Validate(WriteFile("two-errors.yaml", text));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, ::testing::HasSubstr("two-errors.yaml:7:"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("pipelines.p.target"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("nowhere"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("two-errors.yaml:9:"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("pipelines.p.topics.include"));
}

TEST(LonghaulValidate, ReportsMissingSecretFileWithoutLeakingOtherSecrets) {
  std::string text = R"(clusters:
  src:
    bootstrap: "127.0.0.1:9092"
    properties:
      sasl.password: "${file:/nonexistent/longhaul-secret}"
  dst:
    bootstrap: "127.0.0.1:9093"
pipelines:
  p:
    source: src
    target: dst
    topics:
      include: ["a"]
)";
  auto r = Validate(WriteFile("secret.yaml", text));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, ::testing::HasSubstr("secret.yaml:5:"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("clusters.src.properties.sasl.password"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("/nonexistent/longhaul-secret"));
}

TEST(LonghaulValidate, ReportsMissingFile) {
  auto r = Validate(::testing::TempDir() + "/does-not-exist.yaml");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, ::testing::HasSubstr("does-not-exist.yaml"));
}

TEST(LonghaulRun, ReportsUnreachableSourceAndKeepsRetryingThenDrainsOnSigterm) {
  std::string target = KafkaClusters::SharedTargetBootstrap();
  PipelineSpec spec;
  spec.name = "unreachable";
  spec.include = {"x"};
  // Port 1 on loopback: nothing listens there.
  std::string config = WriteConfig("127.0.0.1:1", target, spec);
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  EXPECT_TRUE(WaitFor([&] { return worker->Output().find("source cluster 'src'") != std::string::npos; }, seconds(40),
                      milliseconds(200)))
      << worker->Describe();
  EXPECT_TRUE(worker->IsRunning()) << worker->Describe();
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(30)), 0) << worker->Describe();
}

}  // namespace
}  // namespace longhaul::testing
