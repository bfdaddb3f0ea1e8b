// Tests for the integration-test support code itself, against a real broker
// started by scripts/kafka-cluster: what the other integration tests rely on
// (records round-trip byte for byte, aborted records stay hidden, a broker
// restart keeps data and address) is checked here first.
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/base/topic_partition.h"
#include "longhaul/testing/child_process.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/kafka_test_client.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/testing/unique_name.h"
#include "longhaul/testing/wait_for.h"

namespace longhaul::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using std::chrono::milliseconds;
using std::chrono::seconds;

Record MakeRecord(std::optional<std::string> key, std::optional<std::string> value, int64_t timestamp_ms,
                  std::vector<RecordHeader> headers = {}) {
  Record record;
  record.key = std::move(key);
  record.value = std::move(value);
  record.timestamp_ms = timestamp_ms;
  record.headers = std::move(headers);
  return record;
}

// What a reader should get back: the records as written, at consecutive
// offsets from `first`.
std::vector<Record> AtOffsets(std::vector<Record> records, int64_t first) {
  for (Record& record : records) record.offset = first++;
  return records;
}

std::vector<std::optional<std::string>> Values(const std::vector<Record>& records) {
  std::vector<std::optional<std::string>> values;
  for (const Record& record : records) values.push_back(record.value);
  return values;
}

// Tests that leave the brokers running use the shared source cluster: the
// one the test script started, or else a pair started once per process.
class KafkaTestClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bootstrap = KafkaClusters::SharedSourceBootstrap();
    ASSERT_FALSE(bootstrap.empty()) << "no shared Kafka cluster";
    client_ = std::make_unique<KafkaTestClient>(bootstrap);
  }

  std::unique_ptr<KafkaTestClient> client_;
};

// Tests that stop or kill a broker get their own, started once per suite
// (ctest runs each test in its own process: there, once per test).
class BrokerRestartTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { clusters_ = KafkaClusters::Start({"alpha"}); }
  static void TearDownTestSuite() { clusters_.reset(); }

  void SetUp() override {
    ASSERT_NE(clusters_, nullptr) << "the Kafka cluster did not start";
    client_ = std::make_unique<KafkaTestClient>(clusters_->Bootstrap("alpha"));
  }

  static inline std::unique_ptr<KafkaClusters> clusters_;
  std::unique_ptr<KafkaTestClient> client_;
};

TEST_F(KafkaTestClientTest, RoundTripsNullAndEmptyKeysValuesAndHeadersExactly) {
  const std::string topic = UniqueName("support-roundtrip");
  ASSERT_THAT(client_->CreateTopic(topic, 1), IsOk());
  const int64_t now_ms = 1'764'000'000'000;
  const std::vector<Record> records = {
      MakeRecord(std::nullopt, "value with null key", now_ms),
      MakeRecord("", "value with empty key", now_ms + 1),
      MakeRecord("tombstone", std::nullopt, now_ms + 2),
      MakeRecord("empty value", "", now_ms + 3),
      MakeRecord(std::nullopt, std::nullopt, now_ms + 4),
      MakeRecord("", "", now_ms + 5),
      MakeRecord("headers", "v", now_ms + 6,
                 {{"dup", "first"}, {"null", std::nullopt}, {"empty", ""}, {"dup", "second"}, {"dup", std::nullopt}}),
      MakeRecord("binary\0key", std::string("\0\xff\x01", 3), now_ms + 7, {{"bin", std::string("\0\x80", 2)}}),
      MakeRecord("old timestamp", "from 2001", 1'000'000'000'000),
      MakeRecord("one mebibyte", std::string(1 << 20, 'x'), now_ms + 8),
  };
  ASSERT_THAT(client_->Produce(topic, 0, records), IsOk());

  EXPECT_THAT(client_->ReadAll(topic, 0), IsOkAndHolds(AtOffsets(records, 0)));
  EXPECT_THAT(client_->ReadAll(topic, 0, Isolation::kReadUncommitted), IsOkAndHolds(AtOffsets(records, 0)));
  EXPECT_THAT(client_->EndOffset(topic, 0), IsOkAndHolds(static_cast<int64_t>(records.size())));
}

TEST_F(KafkaTestClientTest, ReadsAnEmptyPartitionAsNoRecords) {
  const std::string topic = UniqueName("support-empty");
  ASSERT_THAT(client_->CreateTopic(topic, 2), IsOk());
  EXPECT_THAT(client_->ReadAll(topic, 1), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(client_->ReadAll(topic, 1, Isolation::kReadUncommitted), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(client_->EndOffset(topic, 1), IsOkAndHolds(0));
}

TEST_F(KafkaTestClientTest, ReadingAMissingTopicFailsNamingIt) {
  const std::string topic = UniqueName("support-missing");
  auto read = client_->ReadAll(topic, 0, Isolation::kReadCommitted, seconds(10));
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kNotFound, HasSubstr(topic + "[0]")));
  EXPECT_THAT(client_->PartitionCount(topic), StatusIs(absl::StatusCode::kNotFound, HasSubstr(topic)));
  EXPECT_THAT(client_->Produce(topic, 0, {MakeRecord("k", "v", 1)}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(topic + "[0]")));
}

TEST_F(KafkaTestClientTest, AbortedTransactionIsHiddenFromReadCommittedOnly) {
  const std::string topic = UniqueName("support-txn");
  ASSERT_THAT(client_->CreateTopic(topic, 1), IsOk());
  const int64_t ts = 1'764'000'000'000;
  ASSERT_THAT(client_->ProduceTransaction(topic, 0, {MakeRecord("k", "committed-1", ts)}, /*commit=*/true), IsOk());
  ASSERT_THAT(client_->ProduceTransaction(
                  topic, 0, {MakeRecord("k", "aborted-1", ts), MakeRecord("k", "aborted-2", ts)}, /*commit=*/false),
              IsOk());
  ASSERT_THAT(client_->ProduceTransaction(topic, 0, {MakeRecord("k", "committed-2", ts)}, /*commit=*/true), IsOk());

  auto committed = client_->ReadAll(topic, 0, Isolation::kReadCommitted);
  ASSERT_THAT(committed, IsOk());
  EXPECT_THAT(Values(*committed), ElementsAre("committed-1", "committed-2"));

  auto everything = client_->ReadAll(topic, 0, Isolation::kReadUncommitted);
  ASSERT_THAT(everything, IsOk());
  EXPECT_THAT(Values(*everything), ElementsAre("committed-1", "aborted-1", "aborted-2", "committed-2"));

  // Offsets: c1=0, marker=1, a1=2, a2=3, marker=4, c2=5, marker=6.
  ASSERT_EQ(committed->size(), 2u);
  EXPECT_EQ((*committed)[0].offset, 0);
  EXPECT_EQ((*committed)[1].offset, 5);
  EXPECT_THAT(client_->EndOffset(topic, 0), IsOkAndHolds(7));
}

TEST_F(KafkaTestClientTest, ReadCommittedEndsAtAnAbortedTransactionAtTheTail) {
  const std::string topic = UniqueName("support-txn-tail");
  ASSERT_THAT(client_->CreateTopic(topic, 1), IsOk());
  ASSERT_THAT(client_->Produce(topic, 0, {MakeRecord("k", "plain", 1)}), IsOk());
  ASSERT_THAT(client_->ProduceTransaction(topic, 0, {MakeRecord("k", "aborted", 2)}, /*commit=*/false), IsOk());
  auto committed = client_->ReadAll(topic, 0, Isolation::kReadCommitted, seconds(10));
  ASSERT_THAT(committed, IsOk());
  EXPECT_THAT(Values(*committed), ElementsAre("plain"));
}

TEST_F(KafkaTestClientTest, CreatesTopicsWithConfigsAndDeletesThem) {
  const std::string topic = UniqueName("support-admin");
  ASSERT_THAT(client_->CreateTopic(topic, 3, {{"cleanup.policy", "compact"}, {"retention.ms", "3600000"}}), IsOk());
  EXPECT_THAT(client_->PartitionCount(topic), IsOkAndHolds(3));
  EXPECT_THAT(client_->TopicConfig(topic),
              IsOkAndHolds(ElementsAre(std::pair<const std::string, std::string>("cleanup.policy", "compact"),
                                       std::pair<const std::string, std::string>("retention.ms", "3600000"))));
  EXPECT_THAT(client_->CreateTopic(topic, 3), StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(topic)));
  ASSERT_THAT(client_->DeleteTopic(topic), IsOk());
  EXPECT_THAT(client_->PartitionCount(topic), StatusIs(absl::StatusCode::kNotFound, HasSubstr(topic)));
}

TEST_F(KafkaTestClientTest, CommitsAndReadsGroupOffsets) {
  const std::string topic = UniqueName("support-group");
  const std::string group = UniqueName("support-group");
  ASSERT_THAT(client_->CreateTopic(topic, 2), IsOk());
  EXPECT_THAT(client_->GroupOffset(group, {topic, 1}), IsOkAndHolds(std::nullopt));
  ASSERT_THAT(client_->CommitGroupOffset(group, topic, 1, 42), IsOk());
  EXPECT_THAT(client_->GroupOffset(group, {topic, 1}), IsOkAndHolds(Optional(42)));
  EXPECT_THAT(client_->GroupOffset(group, {topic, 0}), IsOkAndHolds(std::nullopt));
}

TEST_F(BrokerRestartTest, StopAndRestartKeepDataAndAddress) {
  const std::string topic = UniqueName("support-restart");
  ASSERT_THAT(client_->CreateTopic(topic, 1), IsOk());
  const std::vector<Record> before = {MakeRecord("a", "before stop", 1'764'000'000'000)};
  ASSERT_THAT(client_->Produce(topic, 0, before), IsOk());
  const std::string bootstrap = clusters_->Bootstrap("alpha");

  ASSERT_THAT(clusters_->Stop("alpha"), IsOk());
  EXPECT_THAT(client_->EndOffset(topic, 0, milliseconds(1000)), ::testing::Not(IsOk()));
  ASSERT_THAT(clusters_->Restart("alpha"), IsOk());
  EXPECT_EQ(clusters_->Bootstrap("alpha"), bootstrap);

  // The old client reconnects to the same address.
  const std::vector<Record> after = {MakeRecord("b", "after restart", 1'764'000'000'001)};
  ASSERT_THAT(client_->Produce(topic, 0, after), IsOk());
  std::vector<Record> expected = before;
  expected.insert(expected.end(), after.begin(), after.end());
  EXPECT_THAT(client_->ReadAll(topic, 0), IsOkAndHolds(AtOffsets(expected, 0)));
}

TEST_F(BrokerRestartTest, KillAndRestartKeepAcknowledgedData) {
  const std::string topic = UniqueName("support-kill");
  ASSERT_THAT(client_->CreateTopic(topic, 1), IsOk());
  const std::vector<Record> records = {MakeRecord("a", "acknowledged", 1'764'000'000'000)};
  ASSERT_THAT(client_->Produce(topic, 0, records), IsOk());
  ASSERT_THAT(clusters_->Kill("alpha"), IsOk());
  ASSERT_THAT(clusters_->Restart("alpha"), IsOk());
  EXPECT_THAT(KafkaTestClient(clusters_->Bootstrap("alpha")).ReadAll(topic, 0), IsOkAndHolds(AtOffsets(records, 0)));
}

TEST_F(BrokerRestartTest, UnknownClusterNameIsAnError) {
  EXPECT_THAT(clusters_->Stop("nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(clusters_->Restart("nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
}

TEST(KafkaClusters, DestructionStopsBrokersAndDeletesTheirDirectory) {
  auto clusters = KafkaClusters::Start({"solo"});
  ASSERT_NE(clusters, nullptr);
  const std::string dir = clusters->dir();
  KafkaTestClient client(clusters->Bootstrap("solo"));
  ASSERT_THAT(client.CreateTopic(UniqueName("support-solo"), 1), IsOk());
  clusters.reset();
  EXPECT_NE(access(dir.c_str(), F_OK), 0) << dir << " should be deleted";
  EXPECT_THAT(client.PartitionCount("anything", milliseconds(1000)), ::testing::Not(IsOk()));
}

TEST(ChildProcess, CapturesOutputAndExitCode) {
  auto child = ChildProcess::Spawn("sh", {"-c", "echo out; echo err >&2; echo \"$LH_EXTRA\"; exit 3"},
                                   {{"LH_EXTRA", "extra env"}});
  ASSERT_THAT(child, IsOk());
  EXPECT_THAT((*child)->WaitForExit(seconds(10)), Optional(3));
  EXPECT_FALSE((*child)->IsRunning());
  EXPECT_EQ((*child)->Output(), "out\nerr\nextra env\n") << (*child)->Describe();
}

TEST(ChildProcess, KillEndsTheProcessGroup) {
  auto child = ChildProcess::Spawn("sh", {"-c", "sleep 60 & sleep 60; wait"});
  ASSERT_THAT(child, IsOk());
  EXPECT_EQ((*child)->WaitForExit(milliseconds(100)), std::nullopt);
  EXPECT_TRUE((*child)->IsRunning());
  (*child)->Kill(SIGTERM);
  EXPECT_THAT((*child)->WaitForExit(seconds(10)), Optional(128 + SIGTERM));
  // The background sleep was in the same group and got the signal too.
  EXPECT_TRUE(WaitFor([&] { return kill(-(*child)->pid(), 0) != 0; }, seconds(10)));
}

TEST(ChildProcess, MissingProgramIsAnError) {
  EXPECT_THAT(ChildProcess::Spawn("/nonexistent/longhaul-x", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/nonexistent/longhaul-x")));
  EXPECT_THAT(ChildProcess::Spawn("longhaul-no-such-program", {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("longhaul-no-such-program")));
}

TEST(WaitFor, ReturnsFalseAtTheDeadline) {
  int calls = 0;
  EXPECT_FALSE(WaitFor([&] { return ++calls < 0; }, milliseconds(50), milliseconds(10)));
  EXPECT_GE(calls, 2);
  EXPECT_TRUE(WaitFor([&] { return ++calls > 5; }, seconds(5), milliseconds(1)));
}

TEST(UniqueName, IsUniqueAndAValidTopicName) {
  const std::string a = UniqueName("my test/topic");
  const std::string b = UniqueName("my test/topic");
  EXPECT_NE(a, b);
  EXPECT_THAT(a, ::testing::MatchesRegex("my_test_topic-[0-9]+-[0-9a-f]+-[0-9]+"));
}

}  // namespace
}  // namespace longhaul::testing
