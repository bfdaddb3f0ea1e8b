#include "longhaul/soak/fleet_records.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace longhaul::soak {
namespace {

// A RecordView borrowing from `r`, as the checker's reader hands records over.
RecordView View(const Record& r, int64_t target_offset) {
  RecordView v;
  v.offset = target_offset;
  v.timestamp_ms = r.timestamp_ms;
  if (r.key) v.key = *r.key;
  if (r.value) v.value = *r.value;
  for (const auto& h : r.headers) {
    v.headers.emplace_back(h.name, h.value ? std::optional<std::string_view>(*h.value) : std::nullopt);
  }
  return v;
}

TEST(FleetRecords, RunIdsDifferPerEdgeAndRun) {
  EXPECT_NE(FleetRunId("tag1", "ship-000"), FleetRunId("tag1", "ship-001"));
  EXPECT_NE(FleetRunId("tag1", "ship-000"), FleetRunId("tag2", "ship-000"));
  EXPECT_EQ(FleetRunId("tag1", "ship-000"), FleetRunId("tag1", "ship-000"));
}

TEST(FleetRecords, RecordsAreDeterministicWithNullKeysAndHeaders) {
  const uint32_t id = FleetRunId("t", "ship-007");
  Record a = MakeFleetRecord("ship-007", id, 1, 9, 1700000000123, 100);
  Record b = MakeFleetRecord("ship-007", id, 1, 9, 1700000000123, 100);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.offset, 9);
  EXPECT_FALSE(a.key.has_value());  // every tenth record has a null key
  Record c = MakeFleetRecord("ship-007", id, 1, 3, 5, 10);
  ASSERT_TRUE(c.key.has_value());
  EXPECT_EQ(*c.key, "ship-007/1/3");
  EXPECT_EQ(c.value->size(), 61u);  // raised to the payload header
  ASSERT_EQ(c.headers.size(), 5u);
  EXPECT_EQ(c.headers[0].name, kFleetTimestampHeader);
  EXPECT_EQ(*c.headers[0].value, "5");
  EXPECT_EQ(*c.headers[2].value, "");
  EXPECT_FALSE(c.headers[3].value.has_value());
}

TEST(FleetRecords, ExpandsPattern) {
  EXPECT_EQ(ExpandFleetPattern("{edge}.{topic}", "ship-1", "telemetry"), "ship-1.telemetry");
  EXPECT_EQ(ExpandFleetPattern("fleet.{topic}", "ship-1", "t"), "fleet.t");
}

class FleetVerifierTest : public ::testing::Test {
 protected:
  std::vector<Record> Generate(int64_t n) {
    std::vector<Record> out;
    for (int64_t s = 0; s < n; ++s) out.push_back(MakeFleetRecord("ship-001", id_, 0, s, 1000 + s, 80));
    return out;
  }
  const uint32_t id_ = FleetRunId("run", "ship-001");
};

TEST_F(FleetVerifierTest, ExactlyOnceInOrderPasses) {
  FleetPartitionVerifier v("ship-001", id_, 0, 20);
  int64_t off = 0;
  for (const Record& r : Generate(20)) v.Observe(View(r, off++));
  v.Finish();
  EXPECT_TRUE(v.passed()) << (v.examples().empty() ? "" : v.examples()[0]);
  EXPECT_EQ(v.ok(), 20);
}

TEST_F(FleetVerifierTest, FindsMissingDuplicatedOutOfOrder) {
  std::vector<Record> g = Generate(10);
  FleetPartitionVerifier v("ship-001", id_, 0, 10);
  // 0 1 3 2 3 5..9: 4 missing, 3 duplicated, 2 out of order
  int64_t off = 0;
  for (int s : {0, 1, 3, 2, 3, 5, 6, 7, 8, 9}) v.Observe(View(g[s], off++));
  v.Finish();
  EXPECT_FALSE(v.passed());
  EXPECT_EQ(v.missing(), 1);
  EXPECT_EQ(v.duplicated(), 1);
  EXPECT_EQ(v.out_of_order(), 1);
  EXPECT_EQ(v.ok(), 8);
}

TEST_F(FleetVerifierTest, FindsChangedTimestampKeyHeaderAndForeignRecords) {
  std::vector<Record> g = Generate(4);
  g[0].timestamp_ms += 1;  // target changed the timestamp
  g[1].key = "other";
  g[3].headers[2].value.reset();  // empty header became null
  Record foreign = MakeFleetRecord("ship-002", FleetRunId("run", "ship-002"), 0, 2, 5, 80);
  FleetPartitionVerifier v("ship-001", id_, 0, 4);
  v.Observe(View(g[0], 0));
  v.Observe(View(g[1], 1));
  v.Observe(View(foreign, 2));
  v.Observe(View(g[3], 3));
  v.Finish();
  EXPECT_EQ(v.corrupted(), 3);
  EXPECT_EQ(v.extra(), 1);
  EXPECT_EQ(v.missing(), 1);  // sequence 2 of ship-001
  EXPECT_FALSE(v.passed());
  EXPECT_NE(v.examples()[0].find("timestamp"), std::string::npos) << v.examples()[0];
}

TEST_F(FleetVerifierTest, ValueBitFlipIsCorrupted) {
  std::vector<Record> g = Generate(1);
  (*g[0].value)[70] ^= 1;
  FleetPartitionVerifier v("ship-001", id_, 0, 1);
  v.Observe(View(g[0], 0));
  v.Finish();
  EXPECT_EQ(v.corrupted(), 1);
  EXPECT_FALSE(v.passed());
}

}  // namespace
}  // namespace longhaul::soak
