// The source consumer's prefetch follows the lane's share of
// worker.buffer_bytes, counting librdkafka's per-record overhead.
#include "../../../mirror/src/consumer_budget.h"  // private to mirror/

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace longhaul::mirror {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Props = std::map<std::string, std::string>;

TEST(ConsumerPrefetch, DefaultBudgetBoundsPayloadRecordCountAndFetchSize) {
  // 64 MiB over 8 lanes.
  ConsumerPrefetch p = SizeConsumerPrefetch(int64_t{8} << 20, {});
  EXPECT_EQ(p.properties, (Props{{"queued.max.messages.kbytes", "8192"},
                                 {"queued.min.messages", "29959"},
                                 {"max.partition.fetch.bytes", "524288"},
                                 {"fetch.max.bytes", "2097152"}}));
  EXPECT_THAT(p.lowered, IsEmpty());
}

TEST(ConsumerPrefetch, LowersOperatorValuesAboveTheBudgetAndKeepsSmallerOnes) {
  ConsumerPrefetch p = SizeConsumerPrefetch(
      int64_t{8} << 20, {{"max.partition.fetch.bytes", "4194304"}, {"queued.min.messages", "500"}, {"linger.ms", "5"}});
  EXPECT_EQ(p.properties.at("max.partition.fetch.bytes"), "524288");
  EXPECT_EQ(p.properties.at("queued.min.messages"), "500");
  EXPECT_THAT(p.lowered, ElementsAre("max.partition.fetch.bytes: 4194304 -> 524288"));
  EXPECT_EQ(p.properties.count("linger.ms"), 0u);
}

TEST(ConsumerPrefetch, FetchMaxBytesNeverBelowMessageMaxBytes) {
  // librdkafka refuses fetch.max.bytes < message.max.bytes.
  EXPECT_EQ(SizeConsumerPrefetch(int64_t{2} << 20, {}).properties.at("fetch.max.bytes"), "1000000");
  EXPECT_EQ(SizeConsumerPrefetch(int64_t{1} << 20, {{"message.max.bytes", "2000000"}}).properties.at("fetch.max.bytes"),
            "2000000");
}

TEST(ConsumerPrefetch, LargeBudgetCapsOneFetchAtOneMebibytePerPartition) {
  ConsumerPrefetch p = SizeConsumerPrefetch(int64_t{1} << 30, {});
  EXPECT_EQ(p.properties.at("max.partition.fetch.bytes"), "1048576");
  EXPECT_EQ(p.properties.at("queued.max.messages.kbytes"), "1048576");
  // Within librdkafka's ranges however large the budget.
  ConsumerPrefetch huge = SizeConsumerPrefetch(int64_t{1} << 40, {});
  EXPECT_EQ(huge.properties.at("queued.max.messages.kbytes"), "2097151");
  EXPECT_EQ(huge.properties.at("queued.min.messages"), "1000000");
  EXPECT_EQ(huge.properties.at("fetch.max.bytes"), "67108864");
}

TEST(ConsumerPrefetch, LeavesNonNumericOperatorValuesForLibrdkafkaToReport) {
  ConsumerPrefetch p = SizeConsumerPrefetch(int64_t{8} << 20, {{"fetch.max.bytes", "lots"}});
  EXPECT_EQ(p.properties.count("fetch.max.bytes"), 0u);
}

}  // namespace
}  // namespace longhaul::mirror
