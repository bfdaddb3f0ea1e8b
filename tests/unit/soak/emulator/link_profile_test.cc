#include "longhaul/soak/link_profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/testing/status_matchers.h"

namespace longhaul::soak {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(LinkProfile, BuiltinProfilesMatchTheIssuesNumbers) {
  auto ocean = BuiltinProfile("ocean");
  ASSERT_THAT(ocean, IsOk());
  EXPECT_EQ(ocean->RttMin(), milliseconds(150));
  EXPECT_EQ(ocean->edge_to_hub.loss, 0.001);
  EXPECT_EQ(ocean->hub_to_edge.rate_bps, 100'000'000);

  auto geo = BuiltinProfile("geo-satellite");
  ASSERT_THAT(geo, IsOk());
  EXPECT_EQ(geo->RttMin(), milliseconds(600));
  EXPECT_EQ(geo->RttMax(), milliseconds(600));
  EXPECT_EQ(geo->edge_to_hub.loss, 0.01);
  EXPECT_EQ(geo->edge_to_hub.rate_bps, 20'000'000);
  // 300 ms of queue at 20 Mbit/s: half the bandwidth-delay product.
  EXPECT_EQ(geo->edge_to_hub.queue_bytes, 750'000);

  auto mobile = BuiltinProfile("mobile");
  ASSERT_THAT(mobile, IsOk());
  EXPECT_EQ(mobile->RttMin(), milliseconds(80));
  EXPECT_EQ(mobile->RttMax(), milliseconds(300));
  EXPECT_EQ(mobile->edge_to_hub.loss, 0.02);
  EXPECT_EQ(mobile->edge_to_hub.rate_bps, 10'000'000);
  EXPECT_EQ(mobile->outage_duration, seconds(20));
  EXPECT_EQ(mobile->outage_every, seconds(180));

  auto lan = BuiltinProfile("lan");
  ASSERT_THAT(lan, IsOk());
  EXPECT_EQ(lan->RttMax(), milliseconds(0));
  EXPECT_EQ(lan->edge_to_hub, DirectionImpairment{});
}

TEST(LinkProfile, EveryBuiltinNameLoads) {
  for (const std::string& name : BuiltinProfileNames()) EXPECT_THAT(LoadLinkProfile(name), IsOk()) << name;
  EXPECT_THAT(BuiltinProfile("moon"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("geo-satellite")));
}

TEST(LinkProfile, ParsesPerDirectionKeysAndUnits) {
  auto p = ParseLinkProfile(R"(
      name=asym   # a comment
      rtt=40ms loss=0.5% rate=50mbit
      hub_to_edge.rate=2Mbit/s hub_to_edge.queue=64k
      description="uplink is thin"
      outage_every=60s outage_duration=5s outage_first=10s)",
                            "test.profile");
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->name, "asym");
  EXPECT_EQ(p->description, "uplink is thin");
  EXPECT_EQ(p->edge_to_hub.delay, milliseconds(20));
  EXPECT_EQ(p->edge_to_hub.loss, 0.005);
  EXPECT_EQ(p->edge_to_hub.rate_bps, 50'000'000);
  EXPECT_EQ(p->edge_to_hub.queue_bytes, 625'000);  // default: 100 ms at the rate
  EXPECT_EQ(p->hub_to_edge.rate_bps, 2'000'000);
  EXPECT_EQ(p->hub_to_edge.queue_bytes, 65536);
  EXPECT_EQ(p->outage_first, seconds(10));
}

TEST(LinkProfile, QueueOfOneMIsAMebibyteNotAMinute) {
  auto p = ParseLinkProfile("name=x rate=10mbit queue=1m", "t");
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->edge_to_hub.queue_bytes, 1 << 20);
}

TEST(LinkProfile, BaseStartsFromABuiltinAndKeysOverrideIt) {
  auto p = ParseLinkProfile("name=wet-geo base=geo-satellite loss=3%", "t");
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->name, "wet-geo");
  EXPECT_EQ(p->RttMin(), milliseconds(600));
  EXPECT_EQ(p->hub_to_edge.loss, 0.03);
}

TEST(LinkProfile, ErrorsNameTheSourceLineAndKey) {
  EXPECT_THAT(ParseLinkProfile("name=x\nloss=7", "my.profile"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("my.profile:2: loss: '7'")));
  EXPECT_THAT(ParseLinkProfile("name=x\n\nrate=fast", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f:3: rate")));
  EXPECT_THAT(ParseLinkProfile("name=x wobble=1", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown key 'wobble'")));
  EXPECT_THAT(ParseLinkProfile("name=x novalue", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected key=value")));
  EXPECT_THAT(ParseLinkProfile("rtt=1ms", "f"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name=")));
  EXPECT_THAT(ParseLinkProfile("name=x outage_every=10s outage_duration=20s", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("shorter")));
  EXPECT_THAT(ParseLinkProfile("name=x edge_to_hub.rtt=10ms", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown key 'edge_to_hub.rtt'")));
}

TEST(LinkProfile, DescribeShowsRoundTripRangeAndOutages) {
  std::string d = DescribeLinkProfile(*BuiltinProfile("mobile"));
  EXPECT_THAT(d, HasSubstr("round trip 80ms-300ms (mean 190ms)"));
  EXPECT_THAT(d, HasSubstr("outages: 20s every 180s, first after 90s"));
  EXPECT_THAT(d, HasSubstr("10 Mbit/s"));
}

}  // namespace
}  // namespace longhaul::soak
