// The direct mirror against real brokers: byte-for-byte copies, exactly-once
// across kill -9, lane sharing between workers, aborted source transactions,
// a target outage, topic discovery. Each test uses its own topics on the
// shared clusters, or its own clusters when it stops a broker.
#include <signal.h>

#include <atomic>
#include <thread>

#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/testing/unique_name.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

using ::longhaul::testing::IsOk;


class DirectMirror : public ::testing::Test {
 protected:
  void SetUp() override {
    source_bootstrap_ = KafkaClusters::SharedSourceBootstrap();
    target_bootstrap_ = KafkaClusters::SharedTargetBootstrap();
    ASSERT_FALSE(source_bootstrap_.empty());
    ASSERT_FALSE(target_bootstrap_.empty());
    source_ = std::make_unique<KafkaTestClient>(source_bootstrap_);
    target_ = std::make_unique<KafkaTestClient>(target_bootstrap_);
  }
  std::string source_bootstrap_, target_bootstrap_;
  std::unique_ptr<KafkaTestClient> source_, target_;
};

TEST_F(DirectMirror, CopiesEveryRecordByteForByteInOrderWithTopicConfigs) {
  const std::string a = UniqueName("copy-a"), b = UniqueName("copy-b");
  ASSERT_TRUE(source_->CreateTopic(a, 5, {{"retention.ms", "86400000"}, {"max.message.bytes", "2000000"}}).ok());
  // Compacted, but the cleaner must not run during the test: a byte-for-byte
  // comparison of two independently compacted logs is meaningless.
  ASSERT_TRUE(source_->CreateTopic(b, 3, {{"cleanup.policy", "compact"}, {"min.compaction.lag.ms", "3600000"}}).ok());
  // 200,000 records over 8 partitions and 2 topics, with a ~1 MB value in
  // every partition of the first topic.
  int total = 0;
  for (int p = 0; p < 5; ++p) {
    auto records = VariedRecords(25'000, 100 + p, p == 0 ? 12'000 : 0);
    total += records.size();
    ASSERT_THAT(source_->Produce(a, p, records), IsOk());
  }
  for (int p = 0; p < 3; ++p) {
    auto records = VariedRecords(25'000, 200 + p, 0, /*keyed_only=*/true);
    // min.compaction.lag.ms counts from record timestamps: old ones would be
    // compacted at once, so this topic's records are recent.
    const int64_t now_ms = std::chrono::duration_cast<milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
    for (size_t i = 0; i < records.size(); ++i) records[i].timestamp_ms = now_ms + static_cast<int64_t>(i);
    total += records.size();
    ASSERT_THAT(source_->Produce(b, p, records), IsOk());
  }
  ASSERT_EQ(total, 200'000);

  PipelineSpec spec;
  spec.include = {a, b};
  spec.rename = "{source}.{topic}";
  auto worker = StartLonghaul(WriteConfig(source_bootstrap_, target_bootstrap_, spec));
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(*source_, *target_, a, "src." + a, 5, seconds(180), worker.get());
  ExpectExactlyOnce(*source_, *target_, b, "src." + b, 3, seconds(120), worker.get());

  // Target topics mirror partition counts and the relevant topic configs.
  EXPECT_EQ(*target_->PartitionCount("src." + a), 5);
  EXPECT_EQ(*target_->PartitionCount("src." + b), 3);
  auto config_a = target_->TopicConfig("src." + a);
  ASSERT_TRUE(config_a.ok());
  EXPECT_EQ((*config_a)["retention.ms"], "86400000");
  EXPECT_EQ((*config_a)["max.message.bytes"], "2000000");
  auto config_b = target_->TopicConfig("src." + b);
  ASSERT_TRUE(config_b.ok());
  EXPECT_EQ((*config_b)["cleanup.policy"], "compact");
  EXPECT_EQ((*config_b)["min.compaction.lag.ms"], "3600000");

  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(30)), 0) << worker->Describe();
}

TEST_F(DirectMirror, SkipsAbortedSourceTransactionsAndMirrorsCommittedOnes) {
  const std::string topic = UniqueName("txn");
  ASSERT_TRUE(source_->CreateTopic(topic, 2).ok());
  ASSERT_TRUE(source_->ProduceTransaction(topic, 0, VariedRecords(50, 1), /*commit=*/true).ok());
  ASSERT_TRUE(source_->ProduceTransaction(topic, 0, VariedRecords(70, 2), /*commit=*/false).ok());
  ASSERT_TRUE(source_->ProduceTransaction(topic, 0, VariedRecords(30, 3), /*commit=*/true).ok());
  ASSERT_TRUE(source_->ProduceTransaction(topic, 1, VariedRecords(40, 4), /*commit=*/false).ok());
  ASSERT_TRUE(source_->ProduceTransaction(topic, 1, VariedRecords(60, 5), /*commit=*/true).ok());

  PipelineSpec spec;
  spec.include = {topic};
  spec.rename = "mirror.{topic}";
  auto worker = StartLonghaul(WriteConfig(source_bootstrap_, target_bootstrap_, spec));
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(*source_, *target_, topic, "mirror." + topic, 2, seconds(60), worker.get());

  // The committed records are there, the aborted ones are not.
  auto p0 = target_->ReadAll("mirror." + topic, 0);
  ASSERT_TRUE(p0.ok());
  auto committed = VariedRecords(50, 1);
  auto later = VariedRecords(30, 3);
  committed.insert(committed.end(), later.begin(), later.end());
  EXPECT_EQ(DescribeDifference(committed, *p0), "");
  // Even read_uncommitted, the target never saw the aborted records: the
  // mirror only reads committed data.
  auto p1_all = target_->ReadAll("mirror." + topic, 1, Isolation::kReadUncommitted);
  ASSERT_TRUE(p1_all.ok());
  EXPECT_EQ(DescribeDifference(VariedRecords(60, 5), *p1_all), "");
}

TEST_F(DirectMirror, StaysExactlyOnceAcrossRepeatedKill9) {
  const std::string topic = UniqueName("kill");
  ASSERT_TRUE(source_->CreateTopic(topic, 6).ok());
  for (int p = 0; p < 6; ++p) ASSERT_TRUE(source_->Produce(topic, p, VariedRecords(3000, 300 + p)).ok());

  PipelineSpec spec;
  spec.include = {topic};
  spec.rename = "k.{topic}";
  spec.commit_interval = "100ms";
  std::string config = WriteConfig(source_bootstrap_, target_bootstrap_, spec);
  BackgroundProducer producer(source_bootstrap_, topic, 6);
  std::mt19937 rng(std::random_device{}());
  auto worker = StartLonghaul(config);
  for (int kill = 0; kill < 3; ++kill) {
    std::this_thread::sleep_for(milliseconds(2000 + rng() % 4000));
    ASSERT_TRUE(worker->IsRunning()) << worker->Describe();
    worker->Kill(SIGKILL);
    worker->WaitForExit(seconds(10));
    worker = StartLonghaul(config);
  }
  std::this_thread::sleep_for(seconds(3));
  producer.Stop();
  EXPECT_EQ(producer.errors(), 0);
  EXPECT_GT(producer.written(), 0);
  ExpectExactlyOnce(*source_, *target_, topic, "k." + topic, 6, seconds(120), worker.get());
}

TEST_F(DirectMirror, ThreeWorkersShareLanesAndOneKilledLosesNothing) {
  const std::string topic = UniqueName("share");
  ASSERT_TRUE(source_->CreateTopic(topic, 8).ok());
  for (int p = 0; p < 8; ++p) ASSERT_TRUE(source_->Produce(topic, p, VariedRecords(2000, 400 + p)).ok());

  PipelineSpec spec;
  spec.name = UniqueName("shared");  // its own lane group
  spec.include = {topic};
  spec.rename = "s.{topic}";
  spec.lanes = 6;
  std::string config = WriteConfig(source_bootstrap_, target_bootstrap_, spec);
  BackgroundProducer producer(source_bootstrap_, topic, 8);
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(StartLonghaul(config));
  // Every worker takes part: each logs lanes assigned to it.
  EXPECT_TRUE(WaitFor(
      [&] {
        for (auto& w : workers) {
          if (w->Output().find("lanes assigned") == std::string::npos) return false;
        }
        return true;
      },
      seconds(60), milliseconds(200)))
      << workers[0]->Describe() << "\n" << workers[1]->Describe() << "\n" << workers[2]->Describe();
  std::this_thread::sleep_for(seconds(3));
  workers[1]->Kill(SIGKILL);
  workers[1]->WaitForExit(seconds(10));
  std::this_thread::sleep_for(seconds(5));
  producer.Stop();
  EXPECT_EQ(producer.errors(), 0);
  // The dead worker's lanes move to the survivors (after the group session
  // timeout) and resume from its last checkpoints.
  ExpectExactlyOnce(*source_, *target_, topic, "s." + topic, 8, seconds(120), workers[0].get());
  EXPECT_TRUE(workers[0]->IsRunning()) << workers[0]->Describe();
  EXPECT_TRUE(workers[2]->IsRunning()) << workers[2]->Describe();
}

TEST_F(DirectMirror, NoticesNewTopicsAndAddedPartitionsWithinTheDiscoveryInterval) {
  const std::string first = UniqueName("disc-1");
  ASSERT_TRUE(source_->CreateTopic(first, 1).ok());
  ASSERT_TRUE(source_->Produce(first, 0, VariedRecords(100, 7)).ok());
  PipelineSpec spec;
  spec.include = {first + ".*"};
  spec.rename = "d.{topic}";
  spec.discovery_interval = "2s";
  auto worker = StartLonghaul(WriteConfig(source_bootstrap_, target_bootstrap_, spec));
  ExpectExactlyOnce(*source_, *target_, first, "d." + first, 1, seconds(60), worker.get());

  // A new matching topic appears while running.
  const std::string second = first + "-late";
  ASSERT_TRUE(source_->CreateTopic(second, 3).ok());
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(source_->Produce(second, p, VariedRecords(100, 20 + p)).ok());
  ExpectExactlyOnce(*source_, *target_, second, "d." + second, 3, seconds(60), worker.get());
  EXPECT_EQ(*target_->PartitionCount("d." + second), 3);
}

TEST(DirectMirrorFaults, FinishesExactlyOnceAfterTheTargetClusterWasDown30Seconds) {
  auto clusters = KafkaClusters::Start({"source", "target"});
  ASSERT_NE(clusters, nullptr);
  KafkaTestClient source(clusters->Bootstrap("source"));
  KafkaTestClient target(clusters->Bootstrap("target"));
  const std::string topic = "outage";
  ASSERT_TRUE(source.CreateTopic(topic, 4).ok());
  for (int p = 0; p < 4; ++p) ASSERT_TRUE(source.Produce(topic, p, VariedRecords(2000, 500 + p)).ok());
  PipelineSpec spec;
  spec.include = {topic};
  spec.rename = "o.{topic}";
  auto worker = StartLonghaul(WriteConfig(clusters->Bootstrap("source"), clusters->Bootstrap("target"), spec));
  BackgroundProducer producer(clusters->Bootstrap("source"), topic, 4, 100);
  std::this_thread::sleep_for(seconds(8));
  ASSERT_TRUE(clusters->Stop("target").ok());
  for (int i = 0; i < 30; ++i) {
    std::this_thread::sleep_for(seconds(1));
    ASSERT_TRUE(worker->IsRunning()) << "the worker must ride out a target outage: " << worker->Describe();
  }
  ASSERT_TRUE(clusters->Restart("target").ok());
  std::this_thread::sleep_for(seconds(10));
  producer.Stop();
  EXPECT_EQ(producer.errors(), 0);
  ExpectExactlyOnce(source, target, topic, "o." + topic, 4, seconds(180), worker.get());
  EXPECT_TRUE(worker->IsRunning()) << worker->Describe();
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

}  // namespace
}  // namespace longhaul::testing
