// Retention overrun against real brokers: while the pipeline is stopped the
// source's log start moves past records it never copied (DeleteRecords, as
// retention would), then it starts again. The loss must be counted exactly,
// logged at error level and shown in the status, and the policy decides:
// stop (the partition stops in state "error" naming the lost range, nothing
// after the gap is copied) or skip (everything after the gap arrives exactly
// once, and offset translation of a group inside the gap says so).
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "admin_http.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/testing/unique_name.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

using ::testing::HasSubstr;

// The value of the sample `family{...}` whose labels include every one of
// `labels` ("name=\"value\""), or -1 when there is none.
double Sample(const std::string& scrape, const std::string& family, const std::vector<std::string>& labels) {
  for (absl::string_view line : absl::StrSplit(scrape, '\n')) {
    if (!absl::StartsWith(line, family + "{")) continue;
    const size_t close = line.rfind('}');
    if (close == absl::string_view::npos) continue;
    absl::string_view label_text = line.substr(0, close);
    bool all = true;
    for (const auto& l : labels) all = all && absl::StrContains(label_text, l);
    if (!all) continue;
    double v = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(line.substr(close + 1)), &v)) return v;
  }
  return -1;
}

class SourceGap : public ::testing::Test {
 protected:
  static constexpr int kBefore = 1000;  // copied before the outage: offsets 0..999
  static constexpr int kLost = 10000;   // written during it, then deleted: 1000..10999
  static constexpr int kAfter = 500;    // written during it and kept: 11000..11499

  void SetUp() override {
    source_bootstrap_ = KafkaClusters::SharedSourceBootstrap();
    target_bootstrap_ = KafkaClusters::SharedTargetBootstrap();
    ASSERT_FALSE(source_bootstrap_.empty());
    source_ = std::make_unique<KafkaTestClient>(source_bootstrap_);
    target_ = std::make_unique<KafkaTestClient>(target_bootstrap_);
  }

  // Two partitions: 0 loses records while the pipeline is stopped, 1 only
  // grows. Returns the config of the pipeline (policy `policy`).
  std::string Outage(const std::string& policy) {
    topic_ = UniqueName("gap-" + policy);
    EXPECT_THAT(source_->CreateTopic(topic_, 2), IsOk());
    for (int p = 0; p < 2; ++p) EXPECT_THAT(source_->Produce(topic_, p, VariedRecords(kBefore, 10 + p)), IsOk());
    PipelineSpec spec;
    spec.name = "gap-" + policy;
    spec.include = {topic_};
    spec.rename = "mirror.{topic}";
    spec.lanes = 2;
    spec.on_source_gap = policy;
    std::string config = WriteConfig(source_bootstrap_, target_bootstrap_, spec);
    auto worker = StartLonghaul(config);
    EXPECT_NE(worker, nullptr);
    if (!worker) return config;
    ExpectExactlyOnce(*source_, *target_, topic_, "mirror." + topic_, 2, seconds(90), worker.get());
    worker->Kill(SIGTERM);
    EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();

    // The outage: the source goes on, and its log start passes what was
    // never copied.
    EXPECT_THAT(source_->Produce(topic_, 0, VariedRecords(kLost, 20)), IsOk());
    EXPECT_THAT(source_->Produce(topic_, 0, VariedRecords(kAfter, 21)), IsOk());
    EXPECT_THAT(source_->Produce(topic_, 1, VariedRecords(kAfter, 22)), IsOk());
    EXPECT_THAT(source_->DeleteRecordsBefore(topic_, 0, kBefore + kLost), IsOk());
    return config;
  }

  // Waits until /metrics counts the lost records of partition 0.
  double WaitForGapCount(int port, ChildProcess& worker) {
    double counted = -1;
    WaitFor(
        [&] {
          auto m = HttpGet(port, "/metrics");
          if (!m.ok()) return false;
          counted = Sample(m->body, "longhaul_source_gap_records_total",
                           {"topic=\"" + topic_ + "\"", "partition=\"0\""});
          return counted > 0;
        },
        seconds(90), milliseconds(500));
    return counted;
  }

  // Waits until the target partition holds as many records as the source
  // one, then requires them equal (every record once, in order, unchanged).
  void ExpectPartitionCopied(int partition) {
    auto expected = source_->ReadAll(topic_, partition);
    ASSERT_THAT(expected, IsOk());
    std::vector<Record> found;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto got = target_->ReadAll("mirror." + topic_, partition);
          if (got.ok()) found = std::move(*got);
          return found.size() >= expected->size();
        },
        seconds(60), milliseconds(500)));
    EXPECT_EQ(DescribeDifference(*expected, found), "") << "partition " << partition;
  }

  std::string source_bootstrap_, target_bootstrap_;
  std::unique_ptr<KafkaTestClient> source_, target_;
  std::string topic_;
};

TEST_F(SourceGap, StopPolicyStopsOnlyThatPartitionNamingTheExactLostRange) {
  const std::string config = Outage("stop");
  ASSERT_FALSE(HasFailure());
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  const int port = AdminPort(*worker);
  ASSERT_GT(port, 0) << worker->Describe();

  EXPECT_EQ(WaitForGapCount(port, *worker), kLost) << worker->Describe();
  // The other partition goes on: everything exactly once.
  ExpectPartitionCopied(1);

  // The status names the partition, its state and the exact range.
  auto status = HttpGet(port, "/api/v1/status");
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(status->body, HasSubstr("\"state\":\"error\""));
  EXPECT_THAT(status->body, HasSubstr("\"source_gap\":{\"records_total\":10000,\"first_offset\":1000,"
                                      "\"last_offset\":10999}"));
  EXPECT_THAT(status->body, HasSubstr("source offsets 1000..10999 of " + topic_ + "[0] (10000 records) were deleted"));
  auto metrics = HttpGet(port, "/metrics");
  ASSERT_THAT(metrics, IsOk());
  EXPECT_EQ(Sample(metrics->body, "longhaul_partition_state",
                   {"topic=\"" + topic_ + "\"", "partition=\"0\"", "state=\"error\""}),
            1);
  EXPECT_EQ(Sample(metrics->body, "longhaul_partition_state",
                   {"topic=\"" + topic_ + "\"", "partition=\"1\"", "state=\"ok\""}),
            1);
  // An error-level log line with the range.
  bool logged = false;
  for (absl::string_view line : absl::StrSplit(worker->Output(), '\n')) {
    if (absl::StrContains(line, " error ") && absl::StrContains(line, "source offsets 1000..10999 of " + topic_ + "[0]")) {
      logged = true;
    }
  }
  EXPECT_TRUE(logged) << worker->Output();

  // The live page in headless Chromium: every value as in the status, the
  // partition with the gap first and its row red (tests/browser/live_page.py
  // checks both), and a screenshot for people to look at.
  const char* artifacts = std::getenv("LONGHAUL_TEST_ARTIFACTS");
  const std::string shot = absl::StrCat(artifacts && *artifacts ? artifacts : ::testing::TempDir().c_str(),
                                        "/live-page-source-gap.png");
  const std::string script =
      (std::filesystem::path(LONGHAUL_SOURCE_DIR) / "tests" / "browser" / "live_page.py").string();
  auto browser = ChildProcess::Spawn("/usr/bin/python3", {script, "--url", absl::StrCat("http://127.0.0.1:", port, "/"),
                                                          "--screenshot", shot});
  ASSERT_THAT(browser, IsOk());
  EXPECT_EQ((*browser)->WaitForExit(seconds(150)), 0) << (*browser)->Output();
  std::cout << "screenshot: " << shot << "\n";

  // Nothing after the gap was copied: partition 0 of the target still holds
  // exactly the records before it, even after a while and a lane restart.
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
  worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  const int port2 = AdminPort(*worker);
  ASSERT_GT(port2, 0);
  EXPECT_EQ(WaitForGapCount(port2, *worker), kLost) << "counted once per process, not per session";
  auto p0_target = target_->ReadAll("mirror." + topic_, 0);
  ASSERT_THAT(p0_target, IsOk());
  EXPECT_EQ(DescribeDifference(VariedRecords(kBefore, 10), *p0_target), "");
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

TEST_F(SourceGap, SkipPolicyGoesOnFromTheLogStartCountingTheGapExactly) {
  const std::string config = Outage("skip");
  ASSERT_FALSE(HasFailure());
  // A consumer group that had read up to the middle of the gap on the source.
  const std::string group = UniqueName("gap-group");
  ASSERT_THAT(source_->CommitGroupOffset(group, topic_, 0, 5000), IsOk());

  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  const int port = AdminPort(*worker);
  ASSERT_GT(port, 0) << worker->Describe();
  EXPECT_EQ(WaitForGapCount(port, *worker), kLost) << worker->Describe();

  // Partition 0: the records before the gap, then everything after it, each
  // exactly once; partition 1 untouched by the gap.
  std::vector<Record> expected0 = VariedRecords(kBefore, 10);
  auto after = VariedRecords(kAfter, 21);
  expected0.insert(expected0.end(), after.begin(), after.end());
  std::vector<Record> p0_target;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto got = target_->ReadAll("mirror." + topic_, 0);
        if (got.ok()) p0_target = std::move(*got);
        return p0_target.size() >= expected0.size();
      },
      seconds(60), milliseconds(500)));
  EXPECT_EQ(DescribeDifference(expected0, p0_target), "") << worker->Describe();
  ExpectPartitionCopied(1);

  auto status = HttpGet(port, "/api/v1/status");
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(status->body, HasSubstr("\"source_gap\":{\"records_total\":10000,\"first_offset\":1000,"
                                      "\"last_offset\":10999}"));
  EXPECT_THAT(status->body, ::testing::Not(HasSubstr("\"state\":\"error\"")));

  // Translation of the group inside the gap: the first record copied after
  // it (source offset 11000), flagged as a gap, never "exact".
  ASSERT_GT(p0_target.size(), static_cast<size_t>(kBefore));
  const int64_t first_after_gap = p0_target[kBefore].offset;
  auto translated = HttpGet(port, "/api/v1/offsets/translate?pipeline=gap-skip&group=" + group);
  ASSERT_THAT(translated, IsOk());
  EXPECT_EQ(translated->status, 200) << translated->body;
  EXPECT_THAT(translated->body, HasSubstr(absl::StrCat("\"target_offset\":", first_after_gap)));
  EXPECT_THAT(translated->body, HasSubstr("\"status\":\"source-gap\"")) << translated->body;
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

}  // namespace
}  // namespace longhaul::testing
