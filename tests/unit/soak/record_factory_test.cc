#include "longhaul/soak/record_factory.h"

#include <gtest/gtest.h>

#include <set>

namespace longhaul::soak {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;

TEST(RecordFactory, SameSeedMakesSameRecords) {
  RecordFactory a(RecordMix{}, 42, 7), b(RecordMix{}, 42, 7);
  for (uint64_t seq = 0; seq < 50; ++seq) EXPECT_EQ(a.Make(1, seq, 0, kNow), b.Make(1, seq, 0, kNow));
}

TEST(RecordFactory, ValuesCarryTheirIdentityAndAValidChecksum) {
  RecordFactory factory(RecordMix{}, 1, 0xabcdef01);
  for (uint64_t seq = 0; seq < 200; ++seq) {
    Record r = factory.Make(3, seq, kPayloadFromAbortedTransaction, kNow);
    ParsedPayload parsed = ParsePayload(r.value);
    ASSERT_EQ(parsed.result, PayloadParse::kValid) << parsed.error;
    EXPECT_EQ(parsed.id, (PayloadId{0xabcdef01, 3, seq, kPayloadFromAbortedTransaction}));
  }
}

TEST(RecordFactory, MixesKeysHeadersAndSizesWithinBounds) {
  RecordMix mix;
  mix.min_value_size = 100;
  mix.max_value_size = 300;
  RecordFactory factory(mix, 9, 1);
  int null_keys = 0, empty_keys = 0, random_keys = 0, no_headers = 0, repeated_names = 0, null_header_values = 0,
      empty_header_values = 0;
  for (uint64_t seq = 0; seq < 2000; ++seq) {
    Record r = factory.Make(0, seq, 0, kNow);
    ASSERT_TRUE(r.value.has_value());
    EXPECT_GE(r.value->size(), 100u);
    EXPECT_LE(r.value->size(), 300u);
    EXPECT_EQ(r.timestamp_ms, kNow);
    if (!r.key) ++null_keys;
    else if (r.key->empty()) ++empty_keys;
    else ++random_keys;
    if (r.headers.empty()) ++no_headers;
    std::set<std::string> names;
    for (const RecordHeader& h : r.headers) {
      if (!names.insert(h.name).second) ++repeated_names;
      if (!h.value) ++null_header_values;
      else if (h.value->empty()) ++empty_header_values;
    }
  }
  EXPECT_GT(null_keys, 100);
  EXPECT_GT(empty_keys, 100);
  EXPECT_GT(random_keys, 1000);
  EXPECT_GT(no_headers, 300);
  EXPECT_GT(repeated_names, 50);
  EXPECT_GT(null_header_values, 50);
  EXPECT_GT(empty_header_values, 20);
}

TEST(RecordFactory, OldTimestampsAreBetweenAnHourAndSixDaysOld) {
  RecordMix mix;
  mix.old_timestamp_ratio = 0.5;
  RecordFactory factory(mix, 3, 1);
  int old = 0;
  for (uint64_t seq = 0; seq < 500; ++seq) {
    int64_t age = kNow - factory.Make(0, seq, 0, kNow).timestamp_ms;
    if (age == 0) continue;
    ++old;
    EXPECT_GE(age, 3'600'000);
    EXPECT_LE(age, 6 * 24 * 3'600'000ll);
  }
  EXPECT_GT(old, 150);
}

TEST(RecordFactory, LargeValuesAndTombstonesWhenAsked) {
  RecordMix mix;
  mix.large_value_ratio = 0.05;
  mix.large_value_size = 900'000;
  mix.tombstone_ratio = 0.05;
  RecordFactory factory(mix, 5, 1);
  int large = 0, tombstones = 0;
  for (uint64_t seq = 0; seq < 400; ++seq) {
    Record r = factory.Make(0, seq, 0, kNow);
    if (!r.value) {
      ++tombstones;
      ASSERT_TRUE(r.key.has_value());  // carries the identity
    } else if (r.value->size() == 900'000u) {
      ++large;
      EXPECT_EQ(ParsePayload(r.value).result, PayloadParse::kValid);
    }
  }
  EXPECT_GT(large, 5);
  EXPECT_GT(tombstones, 5);
}

TEST(RecordFactory, LogUniformSizesStayInRange) {
  RecordMix mix;
  mix.min_value_size = 64;
  mix.max_value_size = 100'000;
  mix.size_distribution = SizeDistribution::kLogUniform;
  RecordFactory factory(mix, 11, 1);
  int small = 0;
  for (uint64_t seq = 0; seq < 500; ++seq) {
    size_t size = factory.Make(0, seq, 0, kNow).value->size();
    EXPECT_GE(size, 64u);
    EXPECT_LE(size, 100'000u);
    if (size < 1000) ++small;
  }
  EXPECT_GT(small, 100);  // uniform would give about 5
}

}  // namespace
}  // namespace longhaul::soak
