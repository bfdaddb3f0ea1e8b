#include "longhaul/offsets/lane.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace longhaul::offsets {
namespace {

// Computed independently (Python, FNV-1a 64 over topic, 0x00, big-endian
// partition). If one of these changes, lanes move between transactional.ids
// in a running fleet: that is never acceptable, fix the code instead.
struct Vector {
  const char* topic;
  int32_t partition;
  uint64_t hash;
  uint32_t lane_of_7;
  uint32_t lane_of_16;
  uint32_t lane_of_1000;
};
constexpr Vector kVectors[] = {
    {"", 0, 0xe4bc4fd9252be94fULL, 5, 15, 39},
    {"orders", 0, 0x65dbf84d37d15664ULL, 6, 4, 460},
    {"orders", 1, 0x65dbf94d37d15817ULL, 2, 7, 671},
    {"orders", 7, 0x65dbf74d37d154b1ULL, 3, 1, 249},
    {"payments.eu-west-1", 42, 0x09511b932a0aea2aULL, 0, 10, 402},
    {"__consumer_offsets", 49, 0x319375579af7a58fULL, 3, 15, 879},
    {"a", 2147483647, 0x0026c2c58ff76d00ULL, 5, 0, 968},
    {"x", -1, 0xc361db84fbb07711ULL, 6, 1, 201},
};

TEST(LaneOf, HashMatchesFrozenFnv1aVectors) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(StableTopicPartitionHash(v.topic, v.partition), v.hash)
        << v.topic << "[" << v.partition << "]";
  }
}

TEST(LaneOf, LaneMatchesFrozenVectors) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(LaneOf(v.topic, v.partition, 1), 0u);
    EXPECT_EQ(LaneOf(v.topic, v.partition, 7), v.lane_of_7) << v.topic << "[" << v.partition << "]";
    EXPECT_EQ(LaneOf(v.topic, v.partition, 16), v.lane_of_16) << v.topic << "[" << v.partition << "]";
    EXPECT_EQ(LaneOf(v.topic, v.partition, 1000), v.lane_of_1000)
        << v.topic << "[" << v.partition << "]";
  }
}

// Computed independently (Python, FNV-1a 64 over the name then 0x01). If
// these change, every edge of a running fleet loses its checkpoints.
TEST(LaneOfEdge, LaneMatchesFrozenVectors) {
  struct EdgeVector {
    const char* edge;
    uint32_t lane_of_7, lane_of_16, lane_of_1000;
  };
  for (const EdgeVector& v : {EdgeVector{"ship-1", 2, 12, 20}, EdgeVector{"other-edge", 0, 4, 844},
                              EdgeVector{"edge-1", 3, 5, 645}, EdgeVector{"a", 2, 7, 295}}) {
    EXPECT_EQ(LaneOfEdge(v.edge, 1), 0u);
    EXPECT_EQ(LaneOfEdge(v.edge, 7), v.lane_of_7) << v.edge;
    EXPECT_EQ(LaneOfEdge(v.edge, 16), v.lane_of_16) << v.edge;
    EXPECT_EQ(LaneOfEdge(v.edge, 1000), v.lane_of_1000) << v.edge;
  }
}

TEST(LaneOf, TopicBytesAndPartitionBothMatter) {
  EXPECT_NE(StableTopicPartitionHash("orders", 1), StableTopicPartitionHash("orders", 256));
  EXPECT_NE(StableTopicPartitionHash("ab", 0), StableTopicPartitionHash("ba", 0));
  EXPECT_NE(StableTopicPartitionHash("orders", 0), StableTopicPartitionHash("Orders", 0));
}

TEST(LaneOf, SpreadsManyTopicPartitionsEvenlyOverLanes) {
  constexpr int kLanes = 12;
  std::vector<int> count(kLanes);
  int total = 0;
  for (int t = 0; t < 64; ++t) {
    for (int32_t p = 0; p < 64; ++p) {
      ++count[LaneOf("topic-" + std::to_string(t), p, kLanes)];
      ++total;
    }
  }
  const double mean = static_cast<double>(total) / kLanes;
  for (int lane = 0; lane < kLanes; ++lane) {
    EXPECT_GT(count[lane], mean * 0.85) << "lane " << lane;
    EXPECT_LT(count[lane], mean * 1.15) << "lane " << lane;
  }
}

TEST(LaneOf, SpreadsOneTopicsPartitionsOverEveryLane) {
  constexpr int kLanes = 8;
  std::vector<int> count(kLanes);
  for (int32_t p = 0; p < 32; ++p) ++count[LaneOf("orders", p, kLanes)];
  for (int lane = 0; lane < kLanes; ++lane) {
    EXPECT_GE(count[lane], 1) << "lane " << lane;
    EXPECT_LE(count[lane], 8) << "lane " << lane;
  }
}

TEST(LaneOfDeathTest, ZeroLanesIsABug) {
  EXPECT_DEATH(LaneOf("orders", 0, 0), "invariant violated");
}

}  // namespace
}  // namespace longhaul::offsets
