// /api/v1/status and /readyz for the halves of a pipeline via a link: the
// link object an operator (and the live page) reads, and readiness of an
// edge, which owns no lane and is ready when its link streams.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

// Private to gateway/.
#include "../../../gateway/src/status_json.h"

namespace longhaul::gateway {
namespace {

using ::testing::HasSubstr;

mirror::PipelineStatus Edge(const std::string& link_state, const std::string& error = "") {
  mirror::PipelineStatus st;
  st.name = "ship";
  st.role = "edge";
  st.last_error = error;
  mirror::LinkStatus link;
  link.name = "sat";
  link.role = "edge";
  link.state = link_state;
  link.rtt_ms = 612.5;
  link.bytes_in = 8000;
  link.bytes_out = 1000;
  link.compression_ratio = 8;
  st.link = link;
  mirror::PartitionStatus p;
  p.topic = "t";
  p.partition = 0;
  p.source_end_offset = 10;
  p.replicated_offset = 4;
  p.sent_offset = 9;
  p.lag_records = 6;
  st.partitions.push_back(p);
  return st;
}

TEST(StatusJson, ShowsTheEdgesLinkForTheProcessAndPerPipeline) {
  mirror::PipelineStatus hub;
  hub.name = "ship";
  hub.role = "hub";
  mirror::LinkStatus h;
  h.name = "sat";
  h.role = "hub";
  h.state = "serving";
  hub.link = h;
  std::string json = StatusJson({hub, Edge("up")}, "w", 0, {}, {});
  EXPECT_THAT(json, HasSubstr(R"("role":"edge","link":{"name":"sat","role":"edge","state":"up")"));
  EXPECT_THAT(json, HasSubstr(R"("rtt_ms":612.5,"bytes_in":8000,"bytes_out":1000,"compression_ratio":8)"));
  EXPECT_THAT(json, HasSubstr(R"("sent_offset":9)"));
  // The process-level object is the edge's: the direction data flows.
  EXPECT_THAT(json, HasSubstr(R"(],"link":{"name":"sat","role":"edge")"));
}

TEST(StatusJson, AHubListsItsEdgesWithDisconnectedSinceAndTheirLastReportedBacklog) {
  mirror::PipelineStatus hub;
  hub.name = "fleet";
  hub.role = "hub";
  mirror::EdgeStatus away;
  away.name = "ship-1";
  away.connected = false;
  away.since_ms = 1'800'000'000'000;
  away.last_report_ms = 1'799'999'990'000;
  away.backlog_records = 300;
  away.lag_seconds = 66.5;
  away.lost_records = 2;
  away.buffered_bytes = 1024;
  away.buffer_budget_bytes = 4096;
  away.partitions.resize(3);
  mirror::EdgeStatus fresh;
  fresh.name = "ship-2";
  fresh.connected = true;
  fresh.since_ms = 1'800'000'000'500;
  hub.edges = {away, fresh};
  const std::string json = StatusJson({hub, Edge("up")}, "w", 0, {}, {});
  EXPECT_THAT(json, HasSubstr(R"("edges":[{"name":"ship-1","connected":false,"since_ms":1800000000000,)"
                              R"("last_report_ms":1799999990000,"backlog_records":300,"lag_seconds":66.5,)"
                              R"("lost_records":2,"buffered_bytes":1024,"buffer_budget_bytes":4096,"partitions":3},)"
                              R"({"name":"ship-2","connected":true,"since_ms":1800000000500,"last_report_ms":null,)"));
  EXPECT_EQ(json.find("\"edges\"", json.find("\"role\":\"edge\"")), std::string::npos)
      << "only a hub lists edges";
}

TEST(StatusJson, LinkIsNullWithoutLinkPipelines) {
  mirror::PipelineStatus direct;
  direct.name = "d";
  EXPECT_THAT(StatusJson({direct}, "w", 0, {}, {}), HasSubstr(R"("link":null})"));
}

TEST(Readiness, AnEdgeIsReadyWhenItsLinkIsUpAndNotBefore) {
  std::string reason;
  EXPECT_TRUE(PipelinesReady({Edge("up")}, &reason)) << reason;
  EXPECT_FALSE(PipelinesReady({Edge("down", "TLS handshake with hub failed")}, &reason));
  EXPECT_THAT(reason, HasSubstr("link to the hub is not up"));
  EXPECT_EQ(PipelineState(Edge("down", "TLS handshake with hub failed")), "error");
  EXPECT_EQ(PipelineState(Edge("up")), "ok");
}

}  // namespace
}  // namespace longhaul::gateway
