// The hub's side of exactly-once across the link, without brokers or
// sockets: when the HubPipeline lets an edge stream and from where, that a
// LinkRecordSource hands a lane the edge's records in order and acks each
// batch only after the lane committed its last record, and that the end of
// an edge session restarts exactly the lanes holding uncommitted records.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  explicit FakeSession(uint64_t id) : id_(id) {
    edge_.hello.pipeline = "p";
    edge_.hello.lane = -1;
    edge_.identity = "edge-1";
  }
  uint64_t id() const override { return id_; }
  const transport::EdgeInfo& edge() const override { return edge_; }
  void Accept(std::vector<PartitionOffset> resume, uint64_t generation) override {
    accepted = true;
    this->resume = std::move(resume);
  }
  void Reject(absl::Status why) override { rejected = why; }
  void Ack(std::vector<uint64_t> batch_ids, std::vector<PartitionOffset> committed) override {
    acked.insert(acked.end(), batch_ids.begin(), batch_ids.end());
    ack_offsets.insert(ack_offsets.end(), committed.begin(), committed.end());
  }
  void Close(absl::Status why) override { closed = why.ok() ? absl::CancelledError("closed") : why; }

  bool accepted = false;
  std::vector<PartitionOffset> resume;
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

// Reads every record the source has now; headers are freed.
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
    if (v.headers) rd_kafka_headers_destroy(v.headers);
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
  EXPECT_EQ(pipeline->Topics().at("t"), a.partition + 1);
  EXPECT_THAT(Drain(*lane0.source), IsEmpty());
  ASSERT_TRUE(lane0.source->Assign({{a, -1}}).ok());
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(0, 1));
}

TEST(HubPipeline, AnEndedEdgeSessionRestartsOnlyTheLanesHoldingUncommittedRecords) {
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
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(0, 1, 2));  // lane 0 holds uncommitted records
  EXPECT_THAT(Drain(*lane1.source), ElementsAre(0, 1));
  lane1.source->OnCommitted({{b, 2}});                          // lane 1 committed everything

  pipeline->OnClosed(*edge, absl::UnavailableError("link cut"));

  absl::Status error;
  Drain(*lane0.source, &error);
  EXPECT_TRUE(IsSessionRestart(error)) << error;
  EXPECT_THAT(Drain(*lane1.source), IsEmpty());
  auto again = std::make_shared<FakeSession>(2);
  pipeline->OnHello(again);
  EXPECT_FALSE(again->accepted) << "lane 0 must first abort, re-fence and re-read its checkpoints";

  // Lane 0's worker aborts the transaction and starts a new session.
  lane0.source->Close();
  lane0.Start(pipeline, 0, {a}, {});
  ASSERT_TRUE(again->accepted);
  EXPECT_THAT(again->resume, ElementsAre(PartitionOffset{b, 2}))
      << "a's records were never committed: the edge sends them again from its start";
  pipeline->OnData(*again, Batch(3, a, 0, 2, {0, 1, 2}));
  EXPECT_THAT(Drain(*lane0.source), ElementsAre(0, 1, 2));
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

}  // namespace
}  // namespace longhaul::mirror
