// What the shore knows of an edge's backlog: the edge's last report kept per
// (edge, topic, partition), end-to-end lag from it and the hub's commits,
// "disconnected since" with the lag in seconds still growing, hostile
// reports refused whole, and edges forgotten after a while. No sockets, no
// Kafka, time passed by hand.
#include "../../../mirror/src/edge_backlog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "longhaul/base/clock.h"

// Private to mirror/.
#include "../../../mirror/src/hub_router.h"

namespace longhaul::mirror {
namespace {

using std::chrono::seconds;

constexpr int64_t kT0 = 1'800'000'000'000;  // hub wall clock at the start of each test

transport::PartitionReport Part(const std::string& topic, int32_t partition, int64_t end, int64_t committed,
                                int64_t oldest_unsent_ms) {
  transport::PartitionReport p;
  p.partition = TopicPartition{topic, partition};
  p.end_offset = end;
  p.committed_offset = committed;
  p.oldest_unsent_timestamp_ms = oldest_unsent_ms;
  p.log_start_offset = 0;
  return p;
}

transport::ReportFrame Report(std::vector<transport::PartitionReport> parts, uint64_t buffered = 0,
                              uint64_t budget = 64 << 20) {
  transport::ReportFrame r;
  r.wall_ms = kT0;
  r.buffered_bytes = buffered;
  r.buffer_budget_bytes = budget;
  r.partitions = std::move(parts);
  return r;
}

std::string AnyTopic(const std::string&) { return ""; }
int64_t NothingCommitted(const TopicPartition&) { return -1; }

EdgeBacklogLimits Limits(int topics = 10, int partitions = 8) {
  return EdgeBacklogLimits{topics, partitions, std::chrono::hours(24)};
}

TEST(EdgeBacklog, LagIsTheReportedEndAgainstWhatTheHubCommittedAndTheOldestUnsentRecordsAge) {
  EdgeBacklog backlog(Limits());
  backlog.SetConnected("ship-1", "ship-1", true, kT0);
  ASSERT_TRUE(backlog
                  .Accept("ship-1", "ship-1",
                          Report({Part("orders", 0, 1000, 900, kT0 - 30'000), Part("orders", 1, 50, 50, -1)},
                                 5 << 20),
                          kT0, AnyTopic)
                  .ok());
  // The hub committed further than the edge knew when it reported.
  auto committed = [](const TopicPartition& tp) -> int64_t {
    return tp == TopicPartition{"orders", 0, "ship-1"} ? 950 : -1;
  };
  const std::vector<EdgeStatus> views = backlog.Views(kT0 + 10'000, committed);
  ASSERT_EQ(views.size(), 1u);
  const EdgeStatus& e = views[0];
  EXPECT_EQ(e.name, "ship-1");
  EXPECT_TRUE(e.connected);
  EXPECT_EQ(e.buffered_bytes, 5u << 20);
  EXPECT_EQ(e.buffer_budget_bytes, 64u << 20);
  EXPECT_EQ(e.last_report_ms, kT0);
  ASSERT_EQ(e.partitions.size(), 2u);
  EXPECT_EQ(e.partitions[0].committed_offset, 950);
  EXPECT_EQ(e.partitions[0].lag_records, 50);
  EXPECT_DOUBLE_EQ(e.partitions[0].lag_seconds, 40.0);
  EXPECT_EQ(e.partitions[1].lag_records, 0);
  EXPECT_DOUBLE_EQ(e.partitions[1].lag_seconds, 0.0);
  EXPECT_EQ(e.backlog_records, 50);
  EXPECT_DOUBLE_EQ(e.lag_seconds, 40.0);
}

TEST(EdgeBacklog, ADisconnectedEdgeKeepsItsLastBacklogAndItsLagInSecondsKeepsGrowing) {
  EdgeBacklog backlog(Limits());
  backlog.SetConnected("ship-1", "", true, kT0);
  ASSERT_TRUE(
      backlog.Accept("ship-1", "", Report({Part("orders", 0, 700, 500, kT0 - 5'000)}), kT0, AnyTopic).ok());
  backlog.SetConnected("ship-1", "", false, kT0 + 1'000);

  auto at = [&](int64_t ms) { return backlog.Views(ms, NothingCommitted).at(0); };
  const EdgeStatus early = at(kT0 + 2'000), late = at(kT0 + 62'000);
  EXPECT_FALSE(late.connected);
  EXPECT_EQ(late.since_ms, kT0 + 1'000) << "disconnected since the last session ended";
  EXPECT_EQ(late.backlog_records, 200) << "the last known backlog stays";
  EXPECT_DOUBLE_EQ(early.lag_seconds, 7.0);
  EXPECT_DOUBLE_EQ(late.lag_seconds, 67.0) << "the oldest unsent record only gets older";

  // Back again: connected since then, and the next report replaces the old.
  backlog.SetConnected("ship-1", "", true, kT0 + 70'000);
  ASSERT_TRUE(backlog.Accept("ship-1", "", Report({Part("orders", 0, 900, 900, -1)}), kT0 + 71'000, AnyTopic).ok());
  const EdgeStatus back = at(kT0 + 72'000);
  EXPECT_TRUE(back.connected);
  EXPECT_EQ(back.since_ms, kT0 + 70'000);
  EXPECT_EQ(back.backlog_records, 0);
  EXPECT_DOUBLE_EQ(back.lag_seconds, 0.0);
}

TEST(EdgeBacklog, AwayTheBacklogIsTheOneLastReportedAndAgesFromTheReportEvenWhenNothingWasWaiting) {
  EdgeBacklog backlog(Limits());
  backlog.SetConnected("e", "e", true, kT0);
  ASSERT_TRUE(backlog
                  .Accept("e", "e", Report({Part("t", 0, 500, 400, kT0 - 2'000), Part("t", 1, 80, 80, -1)}), kT0,
                          AnyTopic)
                  .ok());
  // The hub commits what was in flight (up to 500) after the link broke.
  auto committed = [](const TopicPartition& tp) -> int64_t { return tp.partition == 0 ? 500 : 80; };
  EXPECT_EQ(backlog.Views(kT0 + 1'000, committed).at(0).backlog_records, 0) << "connected: the hub's commits count";
  backlog.SetConnected("e", "e", false, kT0 + 2'000);
  const EdgeStatus away = backlog.Views(kT0 + 30'000, committed).at(0);
  EXPECT_EQ(away.backlog_records, 100) << "away: what the edge last reported";
  EXPECT_DOUBLE_EQ(away.partitions.at(0).lag_seconds, 32.0);
  EXPECT_EQ(away.partitions.at(1).lag_records, 0);
  EXPECT_DOUBLE_EQ(away.partitions.at(1).lag_seconds, 30.0)
      << "caught up at the report, but anything written since has waited since then";
}

TEST(EdgeBacklog, BehindWithNothingReadYetCountsFromTheFirstReportThatShowedIt) {
  EdgeBacklog backlog(Limits());
  ASSERT_TRUE(backlog.Accept("e", "e", Report({Part("t", 0, 100, 10, -1)}), kT0, AnyTopic).ok());
  ASSERT_TRUE(backlog.Accept("e", "e", Report({Part("t", 0, 120, 10, -1)}), kT0 + 5'000, AnyTopic).ok());
  const EdgeStatus v = backlog.Views(kT0 + 9'000, NothingCommitted).at(0);
  EXPECT_EQ(v.partitions.at(0).lag_records, 110);
  EXPECT_DOUBLE_EQ(v.partitions.at(0).lag_seconds, 9.0) << "at least since the first report that was behind";
}

TEST(EdgeBacklog, AnEdgeClockAheadOfTheHubNeverMakesLagNegative) {
  EdgeBacklog backlog(Limits());
  ASSERT_TRUE(backlog.Accept("e", "e", Report({Part("t", 0, 100, 10, kT0 + 60'000)}), kT0, AnyTopic).ok());
  EXPECT_DOUBLE_EQ(backlog.Views(kT0, NothingCommitted).at(0).lag_seconds, 0.0);
}

TEST(EdgeBacklog, RefusesAReportThatIsNotSaneAndKeepsThePreviousOne) {
  EdgeBacklog backlog(Limits(/*topics=*/2, /*partitions=*/4));
  ASSERT_TRUE(backlog.Accept("e", "e", Report({Part("t", 0, 100, 90, kT0)}), kT0, AnyTopic).ok());
  auto refuse = [&](transport::ReportFrame r, const std::string& says) {
    absl::Status s = backlog.Accept("e", "e", r, kT0 + 1'000, [](const std::string& topic) -> std::string {
      return topic == "secret" ? "topic 'secret' is not selected" : "";
    });
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << says;
    EXPECT_TRUE(absl::StrContains(s.message(), says)) << s.message();
  };
  refuse(Report({Part("t", 0, -2, 0, -1)}), "t[0]: end offset -2");
  refuse(Report({Part("t", 0, INT64_MAX, 0, -1)}), "end offset");
  refuse(Report({Part("t", 0, 10, INT64_MAX / 2, -1)}), "committed offset");
  refuse(Report({Part("t", 0, 10, 0, -7)}), "oldest unsent timestamp");
  refuse(Report({Part("t", 4, 10, 0, -1)}), "t[4]: partition outside 0 to 3");
  refuse(Report({Part("t", -1, 10, 0, -1)}), "partition outside");
  refuse(Report({Part("t", 1, 10, 0, -1), Part("t", 1, 10, 0, -1)}), "t[1] is reported twice");
  refuse(Report({Part("a", 0, 1, 0, -1), Part("b", 0, 1, 0, -1), Part("c", 0, 1, 0, -1)}),
         "topic 'c' would be topic 3, above max_topics (2)");
  refuse(Report({Part("secret", 0, 1, 0, -1)}), "topic 'secret' is not selected");
  refuse(Report({}, /*buffered=*/uint64_t{1} << 63), "buffered bytes");
  std::vector<transport::PartitionReport> many;
  for (int i = 0; i < 9; ++i) many.push_back(Part(absl::StrCat("t", i), 0, 1, 0, -1));
  refuse(Report(many), "9 partitions, more than max_topics x max_partitions (8)");
  transport::PartitionReport lost = Part("t", 0, 10, 0, -1);
  lost.lost_records = -1;
  refuse(Report({lost}), "lost records -1");

  const EdgeStatus v = backlog.Views(kT0 + 1'000, NothingCommitted).at(0);
  ASSERT_EQ(v.partitions.size(), 1u);
  EXPECT_EQ(v.partitions[0].end_offset, 100) << "the last sane report stays";
  EXPECT_EQ(v.last_report_ms, kT0);
}

TEST(EdgeBacklog, ForgetsAnEdgeAwayLongerThanForgetAfterButNeverAConnectedOne) {
  EdgeBacklog backlog(EdgeBacklogLimits{10, 10, std::chrono::hours(1)});
  backlog.SetConnected("away", "away", true, kT0);
  backlog.SetConnected("here", "here", true, kT0);
  ASSERT_TRUE(backlog.Accept("away", "away", Report({Part("t", 0, 10, 0, kT0)}), kT0, AnyTopic).ok());
  backlog.SetConnected("away", "away", false, kT0 + 1'000);
  backlog.Forget(kT0 + 1'000 + 3'600'000);
  EXPECT_EQ(backlog.size(), 2u) << "exactly forget_after: still shown";
  backlog.Forget(kT0 + 1'000 + 3'600'001 + 10 * 3'600'000);
  ASSERT_EQ(backlog.size(), 1u);
  EXPECT_EQ(backlog.Views(kT0, NothingCommitted).at(0).name, "here");
}

TEST(ReportedBacklogIndex, MakesAHubPartitionsLagEndToEnd) {
  EdgeBacklog backlog(Limits());
  ASSERT_TRUE(backlog.Accept("ship-1", "ship-1", Report({Part("t", 0, 500, 300, kT0 - 20'000)}), kT0, AnyTopic).ok());
  const std::vector<EdgeStatus> edges = backlog.Views(kT0, NothingCommitted);
  const ReportedBacklogIndex index(edges);

  PartitionStatus ps;  // what the hub's lane saw: everything that reached it is committed
  ps.topic = "t";
  ps.partition = 0;
  ps.edge = "ship-1";
  ps.source_end_offset = 300;
  ps.replicated_offset = 300;
  index.Apply(&ps);
  EXPECT_EQ(ps.source_end_offset, 500);
  EXPECT_EQ(ps.lag_records, 200);
  EXPECT_DOUBLE_EQ(ps.lag_seconds, 20.0);

  PartitionStatus other = ps;
  other.edge = "ship-2";
  other.source_end_offset = 300;
  other.lag_records = 0;
  other.lag_seconds = 0;
  index.Apply(&other);
  EXPECT_EQ(other.lag_records, 0) << "another edge's partition of the same name is not touched";
}

TEST(ReportedBacklogIndex, AHubPartitionOfAnEdgeAwayKeepsTheReportedBacklogAfterTheInFlightRecordsCommitted) {
  EdgeBacklog backlog(Limits());
  backlog.SetConnected("ship-1", "", true, kT0);
  ASSERT_TRUE(backlog.Accept("ship-1", "", Report({Part("t", 0, 500, 300, kT0 - 20'000)}), kT0, AnyTopic).ok());
  backlog.SetConnected("ship-1", "", false, kT0 + 1'000);
  const std::vector<EdgeStatus> edges = backlog.Views(kT0 + 60'000, [](const TopicPartition&) { return int64_t{500}; });
  PartitionStatus ps;  // the hub committed everything the edge had sent
  ps.topic = "t";
  ps.partition = 0;
  ps.source_end_offset = 500;
  ps.replicated_offset = 500;
  ReportedBacklogIndex(edges).Apply(&ps);
  EXPECT_EQ(ps.lag_records, 200);
  EXPECT_DOUBLE_EQ(ps.lag_seconds, 80.0);
}

// ---- wired into the hub's pipeline ----

class ReportingSession : public transport::HubSession {
 public:
  ReportingSession(uint64_t id, std::string name) : id_(id) {
    edge_.hello.pipeline = "p";
    edge_.hello.lane = -1;
    edge_.hello.link_id = id;
    edge_.identity = name;
    edge_.name = name;
  }
  uint64_t id() const override { return id_; }
  const transport::EdgeInfo& edge() const override { return edge_; }
  void Accept(std::vector<transport::PartitionOffset>, uint64_t) override { accepted = true; }
  void Reject(absl::Status why) override { closed = why; }
  void Ack(std::vector<uint64_t>, std::vector<transport::PartitionOffset>) override {}
  void Close(absl::Status why) override { closed = why; }
  bool accepted = false;
  absl::Status closed;

 private:
  uint64_t id_;
  transport::EdgeInfo edge_;
};

config::PipelineConfig ManyEdges() {
  config::PipelineConfig p;
  p.name = "p";
  p.lanes = 1;
  p.edges = config::Edges::kMany;
  p.topics = *config::TopicFilter::Create({"orders"});
  return p;
}

TEST(HubPipelineEdges, ShowsAnEdgeDisconnectedSinceItsSessionEndedWithItsLastBacklog) {
  ManualClock clock;
  clock.SetWallMillis(kT0);
  auto pipeline = std::make_shared<HubPipeline>(ManyEdges(), nullptr, 7, HubPipeline::UnknownGeneration::kRefuse,
                                                std::chrono::hours(1), &clock);
  auto inbox = pipeline->Attach(0);
  pipeline->LaneReady(inbox, {});
  auto session = std::make_shared<ReportingSession>(1, "ship-1");
  pipeline->OnHello(session);
  ASSERT_TRUE(session->accepted);
  pipeline->OnReport(*session, Report({Part("orders", 0, 400, 100, kT0 - 1'000)}, 3 << 20));

  clock.Advance(seconds(5));
  pipeline->OnClosed(*session, absl::UnavailableError("link cut"));
  clock.Advance(seconds(60));
  std::vector<EdgeStatus> edges = pipeline->Edges();
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].name, "ship-1");
  EXPECT_FALSE(edges[0].connected);
  EXPECT_EQ(edges[0].since_ms, kT0 + 5'000);
  EXPECT_EQ(edges[0].backlog_records, 300);
  EXPECT_DOUBLE_EQ(edges[0].lag_seconds, 66.0);
  EXPECT_EQ(edges[0].buffered_bytes, 3u << 20);

  clock.Advance(std::chrono::hours(2));
  EXPECT_TRUE(pipeline->Edges().empty()) << "forgotten after forget_edges_after";
}

TEST(HubPipelineEdges, AReportNamingATopicThePipelineDoesNotTakeClosesTheEdgesSession) {
  ManualClock clock;
  auto pipeline = std::make_shared<HubPipeline>(ManyEdges(), nullptr, 7, HubPipeline::UnknownGeneration::kRefuse,
                                                std::chrono::hours(1), &clock);
  auto inbox = pipeline->Attach(0);
  pipeline->LaneReady(inbox, {});
  auto session = std::make_shared<ReportingSession>(1, "ship-1");
  pipeline->OnHello(session);
  ASSERT_TRUE(session->accepted);
  pipeline->OnReport(*session, Report({Part("__consumer_offsets", 0, 1, 0, -1)}));
  EXPECT_EQ(session->closed.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(session->closed.message(), "report of edge 'ship-1'")) << session->closed;
  EXPECT_EQ(pipeline->Refusals().at("report"), 1u);
  const std::vector<EdgeStatus> edges = pipeline->Edges();
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_FALSE(edges[0].connected);
  EXPECT_EQ(edges[0].last_report_ms, -1) << "nothing of the refused report is kept";
}

}  // namespace
}  // namespace longhaul::mirror
