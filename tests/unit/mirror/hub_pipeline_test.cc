// The hub's side of exactly-once across the link, without brokers or
// sockets: when the HubPipeline lets an edge stream and from where, that a
// LinkRecordSource hands a lane the edge's records in order and acks each
// batch only after the lane committed its last record, and that the end of
// an edge session restarts exactly the lanes holding uncommitted records.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <vector>

// Private to mirror/.
#include "../../../mirror/src/hub_router.h"
#include "../../../mirror/src/link_record_source.h"
#include "longhaul/offsets/lane.h"

namespace longhaul::mirror {
namespace {

using std::chrono::milliseconds;
using transport::PartitionOffset;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class FakeSession : public transport::HubSession {
 public:
  explicit FakeSession(uint64_t id, std::string name = "edge-1", uint64_t link_id = 1) : id_(id) {
    edge_.hello.pipeline = "p";
    edge_.hello.lane = -1;
    edge_.hello.link_id = link_id;
    edge_.identity = name;
    edge_.common_name = name;
    edge_.name = name;
  }
  void SetGeneration(uint64_t g) { edge_.hello.generation = g; }
  uint64_t id() const override { return id_; }
  const transport::EdgeInfo& edge() const override { return edge_; }
  void Accept(std::vector<PartitionOffset> resume, uint64_t generation) override {
    accepted = true;
    this->resume = std::move(resume);
    this->generation = generation;
  }
  void Reject(absl::Status why) override { rejected = why; }
  void Ack(std::vector<uint64_t> batch_ids, std::vector<PartitionOffset> committed) override {
    acked.insert(acked.end(), batch_ids.begin(), batch_ids.end());
    ack_offsets.insert(ack_offsets.end(), committed.begin(), committed.end());
  }
  void Close(absl::Status why) override { closed = why.ok() ? absl::CancelledError("closed") : why; }

  bool accepted = false;
  std::vector<PartitionOffset> resume;
  uint64_t generation = 0;
  absl::Status rejected;
  absl::Status closed;
  std::vector<uint64_t> acked;
  std::vector<PartitionOffset> ack_offsets;

 private:
  uint64_t id_;
  transport::EdgeInfo edge_;
};

config::PipelineConfig Pipeline() {
  config::PipelineConfig p;
  p.name = "p";
  p.lanes = 2;
  p.topics = *config::TopicFilter::Create({".*"});
  return p;
}

// A partition of topic "t" that lands on `lane` of 2.
TopicPartition PartitionOnLane(int lane) {
  for (int p = 0;; ++p) {
    if (static_cast<int>(offsets::LaneOf("t", p, 2)) == lane) return TopicPartition{"t", p};
  }
}

transport::ReceivedBatch Batch(uint64_t id, const TopicPartition& tp, int64_t first, int64_t last,
                               std::vector<int64_t> record_offsets) {
  transport::ReceivedBatch b;
  b.batch_id = id;
  b.partition = tp;
  b.first_offset = first;
  b.last_offset = last;
  for (int64_t o : record_offsets) {
    Record r;
    r.offset = o;
    r.timestamp_ms = 1000 + o;
    r.key = absl::StrCat("k", o);
    r.value = absl::StrCat("v", o);
    if (o % 2 == 0) r.headers = {{"h", std::nullopt}, {"h", std::string()}};
    b.records.push_back(std::move(r));
  }
  return b;
}

// Reads every record the source has now.
std::vector<int64_t> Drain(LinkRecordSource& source, absl::Status* error = nullptr) {
  std::vector<int64_t> out;
  while (true) {
    SourceRecordView v;
    absl::Status warning;
    auto got = source.Next(milliseconds(0), &v, &warning);
    if (!got.ok()) {
      if (error) *error = got.status();
      return out;
    }
    if (!*got) return out;
    out.push_back(v.offset);
  }
}

struct Lane {
  std::unique_ptr<LinkRecordSource> source;
  void Start(const std::shared_ptr<HubPipeline>& p, int lane, const std::vector<TopicPartition>& partitions,
             const std::map<TopicPartition, int64_t>& checkpoints = {}) {
    source = std::make_unique<LinkRecordSource>(p, p->Attach(lane));
    std::vector<SourceAssignment> a;
    for (const auto& tp : partitions) {
      auto it = checkpoints.find(tp);
      a.push_back({tp, it == checkpoints.end() ? -1 : it->second});
    }
    ASSERT_TRUE(source->Assign(a).ok());
    source->OnSessionReady(checkpoints);
  }
};

TEST(HubPipeline, AcceptsAnEdgeOnlyOnceEveryLaneIsReadyAndResumesAtTheCheckpoints) {
  auto pipeline = std::make_shared<HubPipeline>(Pipeline(), nullptr);
  const TopicPartition a = PartitionOnLane(0), b = PartitionOnLane(1);
  auto edge = std::make_shared<FakeSession>(1);
  pipeline->OnHello(edge);
  Lane lane0, lane1;
  lane0.Start(pipeline, 0, {a}, {{a, 42}});
  EXPECT_FALSE(edge->accepted) << "lane 1 has not read its checkpoints yet";
  lane1.Start(pipeline, 1, {b}, {{b, 7}});
  ASSERT_TRUE(edge->accepted);
  EXPECT_THAT(edge->resume, UnorderedElementsAre(PartitionOffset{a, 42}, PartitionOffset{b, 7}));
}

TEST(HubPipeline, AcksABatchOnlyAfterTheLaneCommittedItsLastRecord) {
  auto pipeline = std::make_shared<HubPipeline>(Pipeline(), nullptr);
  const TopicPartition a = PartitionOnLane(0);
  Lane lane0, lane1;
  lane0.Start(pipeline, 0, {a});
  lane1.Start(pipeline, 1, {});
  auto edge = std::make_shared<FakeSession>(1);
  pipeline->OnHello(edge);
  ASSERT_TRUE(edge->accepted);

  // Offsets 0..4, then 5..9 where 8 and 9 are a gap (a transaction marker).
  pipeline->OnData(*edge, Batch(11, a, 0, 4, {0, 1, 2, 3, 4}));
  pipeline->OnData(*edge, Batch(12, a, 5, 9, {5, 6, 7}));
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));
  EXPECT_THAT(edge->acked, IsEmpty()) << "nothing is committed yet";

  lane0.source->OnCommitted({{a, 3}});  // a transaction ended inside batch 11
  EXPECT_THAT(edge->acked, IsEmpty());
  lane0.source->OnCommitted({{a, 8}});
  EXPECT_THAT(edge->acked, ElementsAre(11, 12));
  // The commit covers the trailing gap too: the edge need not resend it.
  EXPECT_THAT(edge->ack_offsets, ElementsAre(PartitionOffset{a, 10}));

  // A batch of nothing but a gap is acknowledged as soon as it is read.
  pipeline->OnData(*edge, Batch(13, a, 10, 12, {}));
  EXPECT_THAT(Drain(*lane0.source), IsEmpty());
  EXPECT_THAT(edge->acked, ElementsAre(11, 12, 13));

  // The next edge resumes after all of it.
  auto next = std::make_shared<FakeSession>(2);
  pipeline->OnHello(next);
  ASSERT_TRUE(next->accepted);
  EXPECT_THAT(next->resume, ElementsAre(PartitionOffset{a, 13}));
}

TEST(HubPipeline, HoldsBatchesOfAPartitionTheLaneHasNotAssignedYet) {
  auto pipeline = std::make_shared<HubPipeline>(Pipeline(), nullptr);
  const TopicPartition a = PartitionOnLane(0);
  bool discovery_woken = false;
  pipeline->SetDiscoveryTrigger([&] { discovery_woken = true; });
  Lane lane0, lane1;
  lane0.Start(pipeline, 0, {});
  lane1.Start(pipeline, 1, {});
  auto edge = std::make_shared<FakeSession>(1);
  pipeline->OnHello(edge);
  pipeline->OnData(*edge, Batch(1, a, 0, 1, {0, 1}));
  EXPECT_TRUE(discovery_woken) << "a new partition must create its target topic";
  EXPECT_EQ(pipeline->Topics().at(SourceTopic{"t", ""}), a.partition + 1);
  EXPECT_THAT(Drain(*lane0.source), IsEmpty());
  ASSERT_TRUE(lane0.source->Assign({{a, -1}}).ok());
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(0, 1));
}

TEST(HubPipeline, AnEndedEdgeSessionResumesAfterTheLanesCommitWhatTheyTookWithoutRestartingThem) {
  auto pipeline = std::make_shared<HubPipeline>(Pipeline(), nullptr);
  const TopicPartition a = PartitionOnLane(0), b = PartitionOnLane(1);
  Lane lane0, lane1;
  lane0.Start(pipeline, 0, {a});
  lane1.Start(pipeline, 1, {b});
  auto edge = std::make_shared<FakeSession>(1);
  pipeline->OnHello(edge);
  ASSERT_TRUE(edge->accepted);
  pipeline->OnData(*edge, Batch(1, a, 0, 2, {0, 1, 2}));
  pipeline->OnData(*edge, Batch(2, b, 0, 1, {0, 1}));
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(0, 1, 2));  // lane 0 took records, not committed yet
  pipeline->OnData(*edge, Batch(3, a, 3, 4, {3, 4}));       // queued, not taken
  EXPECT_THAT(Drain(*lane1.source), ElementsAre(0, 1));
  lane1.source->OnCommitted({{b, 2}});  // lane 1 committed everything

  pipeline->OnClosed(*edge, absl::UnavailableError("link cut"));

  auto again = std::make_shared<FakeSession>(2);
  pipeline->OnHello(again);
  EXPECT_FALSE(again->accepted) << "lane 0 still holds records of the edge that may yet commit";
  absl::Status error;
  EXPECT_THAT(Drain(*lane0.source, &error), IsEmpty()) << "the queued batch 3 was dropped";
  EXPECT_TRUE(error.ok()) << "no lane restarts: " << error;

  lane0.source->OnCommitted({{a, 3}});
  ASSERT_TRUE(again->accepted);
  EXPECT_THAT(again->resume, UnorderedElementsAre(PartitionOffset{a, 3}, PartitionOffset{b, 2}))
      << "exact: everything before is committed, nothing after is in flight";
  pipeline->OnData(*again, Batch(4, a, 3, 4, {3, 4}));
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(3, 4));
}

TEST(HubPipeline, AnEdgeWhoseLaneSessionEndsResumesFromTheCheckpointsTheNewSessionRead) {
  auto pipeline = std::make_shared<HubPipeline>(Pipeline(), nullptr);
  const TopicPartition a = PartitionOnLane(0);
  Lane lane0, lane1;
  lane0.Start(pipeline, 0, {a}, {{a, 10}});
  lane1.Start(pipeline, 1, {});
  auto edge = std::make_shared<FakeSession>(1);
  pipeline->OnHello(edge);
  ASSERT_TRUE(edge->accepted);
  pipeline->OnData(*edge, Batch(1, a, 10, 12, {10, 11, 12}));
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(10, 11, 12));
  pipeline->OnClosed(*edge, absl::UnavailableError("link cut"));
  auto again = std::make_shared<FakeSession>(2);
  pipeline->OnHello(again);
  EXPECT_FALSE(again->accepted);
  // The lane's transaction failed: its session ends (records aborted) and
  // a new one reads the checkpoints.
  lane0.source->Close();
  EXPECT_FALSE(again->accepted) << "no lane 0 session has read the checkpoints yet";
  lane0.Start(pipeline, 0, {a}, {{a, 10}});
  ASSERT_TRUE(again->accepted);
  EXPECT_THAT(again->resume, ElementsAre(PartitionOffset{a, 10}));
}

TEST(HubPipeline, ClosesEveryEdgeSessionAndDropsTheirLateBatches) {
  auto pipeline = std::make_shared<HubPipeline>(Pipeline(), nullptr);
  const TopicPartition a = PartitionOnLane(0);
  Lane lane0, lane1;
  lane0.Start(pipeline, 0, {a});
  lane1.Start(pipeline, 1, {});
  auto first = std::make_shared<FakeSession>(1), second = std::make_shared<FakeSession>(2);
  pipeline->OnHello(first);
  pipeline->OnHello(second);
  pipeline->OnData(*first, Batch(1, a, 0, 0, {0}));
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(0));
  pipeline->OnClosed(*first, absl::UnavailableError("link cut"));
  EXPECT_EQ(second->closed.code(), absl::StatusCode::kUnavailable) << "its partitions' records may be uncommitted too";
  // A batch the closed session still had on the wire is not delivered.
  pipeline->OnData(*second, Batch(2, a, 1, 1, {1}));
  lane0.source->Close();
  lane0.Start(pipeline, 0, {a});
  EXPECT_THAT(Drain(*lane0.source), IsEmpty());
}

TEST(HubPipeline, RejectsAnEdgeThatFeedsASingleLane) {
  auto pipeline = std::make_shared<HubPipeline>(Pipeline(), nullptr);
  class LaneSession : public FakeSession {
   public:
    LaneSession() : FakeSession(1) { info_ = FakeSession::edge(); info_.hello.lane = 0; }
    const transport::EdgeInfo& edge() const override { return info_; }
    transport::EdgeInfo info_;
  };
  auto edge = std::make_shared<LaneSession>();
  pipeline->OnHello(edge);
  EXPECT_EQ(edge->rejected.code(), absl::StatusCode::kInvalidArgument) << edge->rejected;
}

// ---- edges: many ----

config::PipelineConfig FleetPipeline() {
  config::PipelineConfig p = Pipeline();
  p.edges = config::Edges::kMany;
  p.topics = *config::TopicFilter::Create({"t", "u.*"});
  p.max_partitions = 8;
  p.max_topics = 2;
  return p;
}

// An edge name whose partitions all go to `lane` of 2 (the `skip`th such).
std::string EdgeOnLane(int lane, int skip = 0) {
  for (int i = 0;; ++i) {
    std::string name = absl::StrCat("ship-", i);
    if (static_cast<int>(offsets::LaneOfEdge(name, 2)) == lane && skip-- == 0) return name;
  }
}

TopicPartition Of(const std::string& edge, std::string topic, int32_t partition) {
  return TopicPartition{std::move(topic), partition, edge};
}

TEST(HubFleet, AnswersAnEdgeOnlyWhereItsLaneRunsAndResumesItFromItsOwnCheckpoints) {
  auto pipeline = std::make_shared<HubPipeline>(FleetPipeline(), nullptr);
  const std::string on0 = EdgeOnLane(0), other_on0 = EdgeOnLane(0, 1), on1 = EdgeOnLane(1);
  Lane lane0;
  lane0.Start(pipeline, 0, {Of(on0, "t", 0), Of(other_on0, "t", 0)},
              {{Of(on0, "t", 0), 5}, {Of(other_on0, "t", 0), 9}});

  auto far = std::make_shared<FakeSession>(1, on1);
  pipeline->OnHello(far);
  EXPECT_FALSE(far->accepted);
  EXPECT_EQ(far->rejected.code(), absl::StatusCode::kUnavailable) << far->rejected;
  EXPECT_THAT(std::string(far->rejected.message()),
              ::testing::HasSubstr("lane 1 of pipeline 'p' is not served by this hub"));

  auto near = std::make_shared<FakeSession>(2, on0);
  pipeline->OnHello(near);
  ASSERT_TRUE(near->accepted) << "only lane 0 is needed, and it is ready";
  EXPECT_THAT(near->resume, ElementsAre(PartitionOffset{TopicPartition{"t", 0}, 5}))
      << "its own partitions, as the link names them; not the other edge's";
  EXPECT_EQ(pipeline->Refusals().at("not_served"), 1u);
}

TEST(HubFleet, KeepsTheSamePartitionOfTwoEdgesApartAndTagsRecordsWithTheEdge) {
  config::PipelineConfig config = FleetPipeline();
  config.edge_header = "from-edge";
  auto pipeline = std::make_shared<HubPipeline>(config, nullptr);
  const std::string e1 = EdgeOnLane(0), e2 = EdgeOnLane(0, 1);
  Lane lane0, lane1;
  lane0.Start(pipeline, 0, {Of(e1, "t", 0), Of(e2, "t", 0)});
  lane1.Start(pipeline, 1, {});
  auto s1 = std::make_shared<FakeSession>(1, e1, 100), s2 = std::make_shared<FakeSession>(2, e2, 200);
  pipeline->OnHello(s1);
  pipeline->OnHello(s2);
  ASSERT_TRUE(s1->accepted && s2->accepted);
  const TopicPartition t0{"t", 0};
  pipeline->OnData(*s1, Batch(1, t0, 0, 1, {0, 1}));
  pipeline->OnData(*s2, Batch(1, t0, 0, 2, {0, 1, 2}));
  EXPECT_THAT(pipeline->Topics(), UnorderedElementsAre(std::pair{SourceTopic{"t", e1}, 1}, std::pair{SourceTopic{"t", e2}, 1}));

  std::vector<std::pair<std::string, int64_t>> seen;
  while (true) {
    SourceRecordView v;
    absl::Status warning;
    auto got = lane0.source->Next(milliseconds(0), &v, &warning);
    ASSERT_TRUE(got.ok()) << got.status();
    if (!*got) break;
    ASSERT_NE(v.origin, nullptr);
    // The edge's name comes last, after the record's own headers.
    std::vector<RecordHeader> headers = v.headers.ToVector();
    ASSERT_FALSE(headers.empty());
    EXPECT_EQ(headers.back(), (RecordHeader{"from-edge", std::string(v.origin)}));
    seen.emplace_back(v.origin, v.offset);
  }
  EXPECT_THAT(seen, UnorderedElementsAre(std::pair{e1, 0}, std::pair{e1, 1}, std::pair{e2, 0}, std::pair{e2, 1},
                                         std::pair{e2, 2}));
  lane0.source->OnCommitted({{Of(e1, "t", 0), 2}});
  EXPECT_THAT(s1->acked, ElementsAre(1));
  EXPECT_THAT(s1->ack_offsets, ElementsAre(PartitionOffset{t0, 2})) << "acks name the partition as the link does";
  EXPECT_THAT(s2->acked, IsEmpty()) << "e2's t[0] is another partition, not committed yet";
}

TEST(HubFleet, RefusesABatchOutsideWhatTheEdgeMayWriteClosingOnlyThatEdge) {
  struct Case {
    const char* reason;
    transport::ReceivedBatch batch;
  };
  std::vector<Case> cases = {
      {"topic", Batch(1, {"secret", 0}, 0, 0, {0})},
      // Selected by "u.*" but not legal Kafka names: '/' would also break the
      // checkpoint key, which may not contain it.
      {"topic", Batch(1, {"u/../x", 0}, 0, 0, {0})},
      {"topic", Batch(1, {"u x", 0}, 0, 0, {0})},
      {"internal_topic", Batch(1, {"__longhaul.q.checkpoints", 0}, 0, 0, {0})},
      {"partition_cap", Batch(1, {"t", 8}, 0, 0, {0})},
      {"partition_cap", Batch(1, {"t", 2147483647}, 0, 0, {0})},
      {"offsets", Batch(1, {"t", 0}, INT64_MAX, INT64_MAX, {})},
      {"offsets", Batch(1, {"t", 0}, 5, 4, {})},
  };
  for (Case& c : cases) {
    auto pipeline = std::make_shared<HubPipeline>(FleetPipeline(), nullptr);
    const std::string bad = EdgeOnLane(0), good = EdgeOnLane(0, 1);
    Lane lane0;
    lane0.Start(pipeline, 0, {Of(good, "t", 0)});
    auto hostile = std::make_shared<FakeSession>(1, bad, 100), honest = std::make_shared<FakeSession>(2, good, 200);
    pipeline->OnHello(hostile);
    pipeline->OnHello(honest);
    ASSERT_TRUE(hostile->accepted && honest->accepted);
    const std::string what = c.batch.partition.ToString();
    pipeline->OnData(*hostile, std::move(c.batch));
    EXPECT_EQ(hostile->closed.code(), absl::StatusCode::kPermissionDenied) << c.reason << " " << what;
    EXPECT_EQ(pipeline->Refusals()[c.reason], 1u) << c.reason << " " << what;
    EXPECT_TRUE(pipeline->Topics().empty()) << "nothing learnt, so no target topic is made: " << what;
    EXPECT_TRUE(honest->closed.ok()) << "another edge goes on: " << honest->closed;
    pipeline->OnData(*honest, Batch(7, {"t", 0}, 0, 1, {0, 1}));
    EXPECT_THAT(Drain(*lane0.source), ElementsAre(0, 1)) << c.reason;
  }
}

TEST(HubFleet, RefusesATopicBeyondTheEdgesTopicCap) {
  auto pipeline = std::make_shared<HubPipeline>(FleetPipeline(), nullptr);  // max_topics: 2
  const std::string e = EdgeOnLane(0);
  Lane lane0;
  lane0.Start(pipeline, 0, {});
  auto s = std::make_shared<FakeSession>(1, e);
  pipeline->OnHello(s);
  pipeline->OnData(*s, Batch(1, {"u1", 0}, 0, 0, {0}));
  pipeline->OnData(*s, Batch(2, {"u2", 0}, 0, 0, {0}));
  EXPECT_TRUE(s->closed.ok());
  pipeline->OnData(*s, Batch(3, {"u3", 0}, 0, 0, {0}));
  EXPECT_EQ(s->closed.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s->closed.message()), ::testing::HasSubstr("max_topics"));
  EXPECT_EQ(pipeline->Refusals()["topic_cap"], 1u);
  EXPECT_EQ(pipeline->Topics().size(), 2u);
}

TEST(HubFleet, RefusesOverlapsAndGapsAcrossSessionsOfAnEdgeAndDropsCommittedDuplicates) {
  auto pipeline = std::make_shared<HubPipeline>(FleetPipeline(), nullptr);
  const std::string e = EdgeOnLane(0);
  const TopicPartition t0{"t", 0};
  Lane lane0;
  lane0.Start(pipeline, 0, {Of(e, "t", 0)}, {{Of(e, "t", 0), 10}});
  // Two connections of one edge instance (same link_id).
  auto c0 = std::make_shared<FakeSession>(1, e, 7), c1 = std::make_shared<FakeSession>(2, e, 7);
  pipeline->OnHello(c0);
  pipeline->OnHello(c1);
  ASSERT_TRUE(c0->accepted && c1->accepted);
  pipeline->OnData(*c1, Batch(1, t0, 4, 9, {4, 9}));
  EXPECT_THAT(c1->acked, ElementsAre(1)) << "wholly committed: acknowledged, dropped";
  EXPECT_TRUE(c1->closed.ok());
  pipeline->OnData(*c0, Batch(2, t0, 10, 12, {10, 11, 12}));
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(10, 11, 12));
  pipeline->OnData(*c1, Batch(3, t0, 11, 14, {11, 12, 13, 14}));  // overlaps what c0 sent
  EXPECT_EQ(c1->closed.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(c0->closed.code(), absl::StatusCode::kPermissionDenied) << "every session of the edge ends";
  EXPECT_EQ(pipeline->Refusals()["overlap"], 1u);
  EXPECT_THAT(Drain(*lane0.source), IsEmpty()) << "the overlap is never written";

  lane0.source->OnCommitted({{Of(e, "t", 0), 13}});
  auto again = std::make_shared<FakeSession>(3, e, 7);
  pipeline->OnHello(again);
  ASSERT_TRUE(again->accepted);
  EXPECT_THAT(again->resume, ElementsAre(PartitionOffset{t0, 13}));
  pipeline->OnData(*again, Batch(4, t0, 15, 15, {15}));
  EXPECT_EQ(again->closed.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(pipeline->Refusals()["gap"], 1u);
  EXPECT_THAT(Drain(*lane0.source), IsEmpty());
}

TEST(HubFleet, ANewInstanceOfAnEdgeFencesTheOldOneAndAnEndedEdgeLeavesOthersStreaming) {
  auto pipeline = std::make_shared<HubPipeline>(FleetPipeline(), nullptr);
  const std::string e = EdgeOnLane(0), other = EdgeOnLane(0, 1);
  Lane lane0;
  lane0.Start(pipeline, 0, {Of(e, "t", 0), Of(other, "t", 0)});
  auto old_instance = std::make_shared<FakeSession>(1, e, 100);
  auto bystander = std::make_shared<FakeSession>(2, other, 300);
  pipeline->OnHello(old_instance);
  pipeline->OnHello(bystander);
  ASSERT_TRUE(old_instance->accepted && bystander->accepted);
  pipeline->OnData(*old_instance, Batch(1, {"t", 0}, 0, 1, {0, 1}));
  pipeline->OnData(*bystander, Batch(1, {"t", 0}, 0, 0, {0}));
  EXPECT_EQ(Drain(*lane0.source).size(), 3u);

  auto new_instance = std::make_shared<FakeSession>(3, e, 200);
  pipeline->OnHello(new_instance);
  EXPECT_EQ(old_instance->closed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(old_instance->closed.message()), ::testing::HasSubstr("stale generation"));
  EXPECT_FALSE(new_instance->accepted) << "the old instance's records are still being committed";
  EXPECT_TRUE(bystander->closed.ok()) << "another edge is not disturbed";
  // Late batches of the fenced instance are dropped.
  pipeline->OnData(*old_instance, Batch(2, {"t", 0}, 2, 2, {2}));
  EXPECT_THAT(Drain(*lane0.source), IsEmpty());

  lane0.source->OnCommitted({{Of(e, "t", 0), 2}, {Of(other, "t", 0), 1}});
  ASSERT_TRUE(new_instance->accepted);
  EXPECT_THAT(new_instance->resume, ElementsAre(PartitionOffset{TopicPartition{"t", 0}, 2}));
  EXPECT_THAT(bystander->acked, ElementsAre(1));
}

TEST(HubFleet, RefusesAnEdgeWithoutAUsableName) {
  auto pipeline = std::make_shared<HubPipeline>(FleetPipeline(), nullptr);
  Lane lane0, lane1;
  lane0.Start(pipeline, 0, {});
  lane1.Start(pipeline, 1, {});
  for (std::string name : {std::string(), std::string("ship/1"), std::string(65, 'x')}) {
    auto s = std::make_shared<FakeSession>(1, name);
    pipeline->OnHello(s);
    EXPECT_EQ(s->rejected.code(), absl::StatusCode::kPermissionDenied) << name;
  }
  EXPECT_EQ(pipeline->Refusals()["identity"], 3u);
}

TEST(HubFleet, ConnectionsOfAnInstanceShareTheIssuedGenerationAndAStaleOneIsRefusedForGood) {
  auto pipeline = std::make_shared<HubPipeline>(FleetPipeline(), nullptr, /*generation_nonce=*/77,
                                               HubPipeline::UnknownGeneration::kRefuse);
  const std::string e = EdgeOnLane(0);
  Lane lane0;
  lane0.Start(pipeline, 0, {});
  auto first = std::make_shared<FakeSession>(1, e, 100);
  pipeline->OnHello(first);
  ASSERT_TRUE(first->accepted);
  EXPECT_EQ(first->generation >> 32, 77u) << "issued by this hub instance";
  auto second = std::make_shared<FakeSession>(2, e, 100);
  second->SetGeneration(first->generation);  // a reconnect with what the resume gave it
  pipeline->OnHello(second);
  ASSERT_TRUE(second->accepted);
  EXPECT_EQ(second->generation, first->generation);

  auto restarted = std::make_shared<FakeSession>(3, e, 200);  // a new instance: generation 0
  pipeline->OnHello(restarted);
  EXPECT_EQ(first->closed.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(restarted->accepted) << "nothing of the old instance was in flight";
  EXPECT_GT(restarted->generation, first->generation);

  auto zombie = std::make_shared<FakeSession>(4, e, 100);
  zombie->SetGeneration(first->generation);
  pipeline->OnHello(zombie);
  EXPECT_EQ(zombie->rejected.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(zombie->rejected.message(), "stale generation")) << zombie->rejected;
  auto forged = std::make_shared<FakeSession>(5, e, 300);
  forged->SetGeneration(UINT64_MAX);
  pipeline->OnHello(forged);
  EXPECT_EQ(forged->rejected.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(restarted->closed.ok()) << "neither locks the current instance out";
  EXPECT_EQ(pipeline->Refusals()["stale_generation"], 1u);
  EXPECT_EQ(pipeline->Refusals()["unknown_generation"], 1u);
}

TEST(HubFleet, AnEdgeThatSendsItsOldClockEpochAsGenerationIsIssuedOneInsteadOfLockedOut) {
  auto pipeline = std::make_shared<HubPipeline>(FleetPipeline(), nullptr, /*generation_nonce=*/77,
                                               HubPipeline::UnknownGeneration::kTreatAsNew);
  const std::string e = EdgeOnLane(0);
  Lane lane0;
  lane0.Start(pipeline, 0, {});
  auto first = std::make_shared<FakeSession>(1, e, 100);
  first->SetGeneration(1796677073999);  // wall-clock milliseconds, as edges before v2 generations send
  pipeline->OnHello(first);
  ASSERT_TRUE(first->accepted) << first->rejected;
  auto second = std::make_shared<FakeSession>(2, e, 100);
  second->SetGeneration(1796677073999);
  pipeline->OnHello(second);
  ASSERT_TRUE(second->accepted);
  EXPECT_EQ(second->generation, first->generation) << "same link instance, same generation";
  EXPECT_TRUE(first->closed.ok());
}

}  // namespace
}  // namespace longhaul::mirror
