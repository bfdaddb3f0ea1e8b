// From a link's `edge` config to the transport's EdgeLinkOptions: the hub
// and proxy addresses split (IPv6 in brackets), the proxy's authorization
// carried, and errors that name the config key at fault.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

// Private to mirror/.
#include "../../../mirror/src/edge_runner.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::mirror {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;

struct Fixture {
  config::LinkConfig link;
  config::PipelineConfig pipeline;
  Fixture() {
    link.name = "sat";
    link.edge.emplace();
    link.edge->hubs = {"hub.example:443"};
    link.edge->ca_file = "/etc/longhaul/ca.pem";
    link.edge->cert_file = "/etc/longhaul/edge.pem";
    link.edge->key_file = "/etc/longhaul/edge.key";
    pipeline.name = "p";
    pipeline.via = "sat";
  }
};

TEST(EdgeLinkOptionsFor, SplitsTheHubAndHasNoProxyByDefault) {
  Fixture f;
  auto o = EdgeLinkOptionsFor(f.link, f.pipeline, "edge-1");
  ASSERT_THAT(o, IsOk());
  ASSERT_EQ(o->hubs.size(), 1u);
  EXPECT_EQ(o->hubs[0].host, "hub.example");
  EXPECT_EQ(o->hubs[0].port, 443);
  EXPECT_EQ(o->pipeline, "p");
  EXPECT_FALSE(o->proxy.has_value());
}

TEST(EdgeLinkOptionsFor, CarriesTheProxyAndItsAuthorization) {
  Fixture f;
  f.link.edge->hubs = {"[fd00::2]:8443"};
  f.link.edge->proxy = "[fd00::1]:3128";
  f.link.edge->proxy_authorization = "Basic dTpw";
  auto o = EdgeLinkOptionsFor(f.link, f.pipeline, "edge-1");
  ASSERT_THAT(o, IsOk());
  ASSERT_EQ(o->hubs.size(), 1u);
  EXPECT_EQ(o->hubs[0].host, "fd00::2");
  EXPECT_EQ(o->hubs[0].port, 8443);
  EXPECT_EQ(o->hubs[0].ToString(), "[fd00::2]:8443");
  ASSERT_TRUE(o->proxy.has_value());
  EXPECT_EQ(o->proxy->host, "fd00::1");
  EXPECT_EQ(o->proxy->port, 3128);
  EXPECT_EQ(o->proxy->authorization, "Basic dTpw");
}

TEST(EdgeLinkOptionsFor, KeepsEveryHubInOrderAndTheReportInterval) {
  Fixture f;
  f.link.edge->hubs = {"hub-a.example:443", "10.0.0.7:8443", "[fd00::3]:443"};
  f.link.edge->report_interval = std::chrono::seconds(2);
  auto o = EdgeLinkOptionsFor(f.link, f.pipeline, "edge-1");
  ASSERT_THAT(o, IsOk());
  ASSERT_EQ(o->hubs.size(), 3u);
  EXPECT_EQ(o->hubs[0], (transport::HubAddress{"hub-a.example", 443}));
  EXPECT_EQ(o->hubs[1], (transport::HubAddress{"10.0.0.7", 8443}));
  EXPECT_EQ(o->hubs[2], (transport::HubAddress{"fd00::3", 443}));
  EXPECT_EQ(o->report_interval, std::chrono::seconds(2));
}

TEST(EdgeLinkOptionsFor, BadAddressesNameTheirKey) {
  Fixture f;
  f.link.edge->proxy = "proxy:0";
  EXPECT_THAT(EdgeLinkOptionsFor(f.link, f.pipeline, "edge-1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("links.sat.edge.proxy: 'proxy:0': port must be 1 to 65535")));
  f.link.edge->proxy = "";
  f.link.edge->hubs = {"hub-1:443", "no-port"};
  EXPECT_THAT(EdgeLinkOptionsFor(f.link, f.pipeline, "edge-1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("links.sat.edge.hub: 'no-port': missing :port")));
}

}  // namespace
}  // namespace longhaul::mirror
