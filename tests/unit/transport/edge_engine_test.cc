#include "edge_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "longhaul/base/clock.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/transport/frame.h"
#include "longhaul/transport/record_codec.h"

namespace longhaul::transport {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using std::chrono::milliseconds;

const TopicPartition kOrders{"orders", 0};
const TopicPartition kAudit{"audit", 1};

EdgeEngineOptions Options() {
  EdgeEngineOptions o;
  o.hello.pipeline = "p";
  o.hello.edge_name = "edge-1";
  o.hello.connection_count = 1;
  o.window.initial_bytes = 1 << 20;
  o.window.min_bytes = 1 << 20;
  o.heartbeat_interval = milliseconds(1000);
  o.dead_link_timeout = milliseconds(5000);
  return o;
}

PendingBatch Batch(uint64_t id, const TopicPartition& tp, int64_t first, int64_t last, size_t value_bytes = 10) {
  std::vector<Record> records;
  for (int64_t o = first; o <= last; ++o) {
    Record r;
    r.offset = o;
    r.value = std::string(value_bytes, 'x');
    records.push_back(r);
  }
  DataFrame frame;
  frame.batch_id = id;
  frame.topic = tp.topic;
  frame.partition = tp.partition;
  frame.first_offset = first;
  frame.last_offset = last;
  EXPECT_THAT(EncodeRecords(records, CompressionOptions{Compression::kNone, 0}, &frame), IsOk());
  PendingBatch b;
  b.id = id;
  b.partition = tp;
  b.first_offset = first;
  b.last_offset = last;
  b.record_count = frame.record_count;
  b.uncompressed_bytes = frame.uncompressed_size;
  b.credit_cost = BatchCreditCost(records);
  b.compressed_bytes = frame.records.size();
  b.frame = std::make_shared<const std::string>(EncodeFrame(frame));
  return b;
}

// Drains everything the engine wants to write now, decoded.
std::vector<Frame> Drain(EdgeConnectionEngine& e, SteadyTime now) {
  std::vector<Frame> out;
  while (auto f = e.NextFrame(now)) out.push_back(DecodeFrame(*f->bytes).value());
  return out;
}

std::vector<uint64_t> DataIds(const std::vector<Frame>& frames) {
  std::vector<uint64_t> ids;
  for (const Frame& f : frames) {
    if (const auto* d = std::get_if<DataFrame>(&f)) ids.push_back(d->batch_id);
  }
  return ids;
}

class EdgeEngineTest : public ::testing::Test {
 protected:
  // Connects and resumes with the given points and plenty of credit.
  EdgeConnectionEngine::Inbound ConnectAndResume(std::vector<PartitionOffset> resume, uint64_t credit = 1 << 30) {
    const std::string hello = engine_.OnConnected(clock_.Now(), 0);
    EXPECT_EQ(TypeOf(DecodeFrame(hello).value()), FrameType::kHello);
    auto in = engine_.OnMessage(EncodeFrame(ResumeFrame{7, std::move(resume)}), clock_.Now());
    EXPECT_THAT(in.error, IsOk());
    EXPECT_THAT(engine_.OnMessage(EncodeFrame(CreditFrame{credit}), clock_.Now()).error, IsOk());
    return in;
  }

  ManualClock clock_;
  EdgeConnectionEngine engine_{Options()};
};

TEST_F(EdgeEngineTest, SaysHelloAndSendsNoDataBeforeTheResume) {
  ASSERT_THAT(engine_.Enqueue(Batch(1, kOrders, 0, 9)), IsOk());
  const Frame hello = DecodeFrame(engine_.OnConnected(clock_.Now(), 0)).value();
  EXPECT_EQ(std::get<HelloFrame>(hello).edge_name, "edge-1");
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(CreditFrame{1 << 20}), clock_.Now()).error, IsOk());
  // Only the first ping may go: it measures the round trip early.
  ASSERT_THAT(engine_.OnTick(clock_.Now()), IsOk());
  const std::vector<Frame> out = Drain(engine_, clock_.Now());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(TypeOf(out[0]), FrameType::kPing);
}

TEST_F(EdgeEngineTest, TellsTheReaderWhereToStartPartitionsItHasNotSent) {
  auto in = ConnectAndResume({{kOrders, 500}, {kAudit, 7}});
  EXPECT_TRUE(in.resumed);
  EXPECT_THAT(in.seek, ElementsAre(PartitionOffset{kAudit, 7}, PartitionOffset{kOrders, 500}));
  EXPECT_EQ(in.committed.size(), 2u);
  // The link now expects orders to continue at 500.
  EXPECT_THAT(engine_.Enqueue(Batch(1, kOrders, 400, 409)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("batch for orders[0] starts at offset 400 but the link expects 500")));
  EXPECT_THAT(engine_.Enqueue(Batch(2, kOrders, 500, 509)), IsOk());
  EXPECT_THAT(engine_.Enqueue(Batch(3, kOrders, 511, 519)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expects 510")));
}

TEST_F(EdgeEngineTest, SendsInOrderAndForgetsOnlyWhatTheHubAcknowledged) {
  ConnectAndResume({});
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_THAT(engine_.Enqueue(Batch(id, kOrders, (id - 1) * 10, id * 10 - 1)), IsOk());
  EXPECT_THAT(DataIds(Drain(engine_, clock_.Now())), ElementsAre(1, 2, 3));
  const uint64_t retained = engine_.retained_bytes();
  auto in = engine_.OnMessage(EncodeFrame(AckFrame{{1, 2}, {{kOrders, 20}}, 1000}), clock_.Now());
  ASSERT_THAT(in.error, IsOk());
  EXPECT_THAT(in.acked, ElementsAre(1, 2));
  EXPECT_THAT(in.ack_offsets, ElementsAre(PartitionOffset{kOrders, 20}));
  EXPECT_GT(in.freed_bytes, 0u);
  EXPECT_EQ(engine_.retained_bytes(), retained - in.freed_bytes);
  EXPECT_EQ(engine_.retained_batches(), 1u);
  EXPECT_EQ(engine_.counters().batches_acked, 2u);
}

TEST_F(EdgeEngineTest, ResendsUnacknowledgedBatchesAfterAReconnectFromTheHubsResumePoint) {
  ConnectAndResume({});
  for (uint64_t id = 1; id <= 4; ++id) ASSERT_THAT(engine_.Enqueue(Batch(id, kOrders, (id - 1) * 10, id * 10 - 1)), IsOk());
  Drain(engine_, clock_.Now());
  // The link drops; the hub had committed batches 1 and 2 but the ack was lost.
  engine_.OnDisconnected(clock_.Now());
  auto in = ConnectAndResume({{kOrders, 20}});
  EXPECT_THAT(in.acked, ElementsAre(1, 2));  // known committed: forgotten now
  EXPECT_TRUE(in.seek.empty());             // the reader goes on where it is
  EXPECT_THAT(DataIds(Drain(engine_, clock_.Now())), ElementsAre(3, 4));
  EXPECT_EQ(engine_.counters().batches_resent, 2u);
  EXPECT_EQ(engine_.counters().batches_sent, 4u);
  // New batches continue after the retained ones.
  EXPECT_THAT(engine_.Enqueue(Batch(5, kOrders, 40, 49)), IsOk());
}

TEST_F(EdgeEngineTest, ResendsABatchTheHubCommittedPartOf) {
  ConnectAndResume({});
  ASSERT_THAT(engine_.Enqueue(Batch(1, kOrders, 0, 9)), IsOk());
  Drain(engine_, clock_.Now());
  engine_.OnDisconnected(clock_.Now());
  auto in = ConnectAndResume({{kOrders, 5}});
  EXPECT_TRUE(in.acked.empty());
  EXPECT_TRUE(in.seek.empty());
  EXPECT_THAT(DataIds(Drain(engine_, clock_.Now())), ElementsAre(1));  // the hub trims 0..4
}

TEST_F(EdgeEngineTest, DropsWhatItHoldsAndSeeksWhenTheHubNeedsEarlierOffsets) {
  ConnectAndResume({{kOrders, 100}});
  ASSERT_THAT(engine_.Enqueue(Batch(1, kOrders, 100, 109)), IsOk());
  Drain(engine_, clock_.Now());
  engine_.OnDisconnected(clock_.Now());
  // The hub lost its commit of 90..99 (say the target was restored).
  auto in = ConnectAndResume({{kOrders, 90}});
  EXPECT_THAT(in.seek, ElementsAre(PartitionOffset{kOrders, 90}));
  EXPECT_TRUE(in.acked.empty());
  EXPECT_EQ(engine_.retained_batches(), 0u);
  EXPECT_TRUE(DataIds(Drain(engine_, clock_.Now())).empty());
  EXPECT_THAT(engine_.Enqueue(Batch(2, kOrders, 90, 99)), IsOk());
}

TEST_F(EdgeEngineTest, SkipsAheadWhenTheHubHasCommittedMoreThanItHolds) {
  ConnectAndResume({{kOrders, 0}});
  ASSERT_THAT(engine_.Enqueue(Batch(1, kOrders, 0, 9)), IsOk());
  engine_.OnDisconnected(clock_.Now());
  // Another edge incarnation got the hub to 50 meanwhile.
  auto in = ConnectAndResume({{kOrders, 50}});
  EXPECT_THAT(in.acked, ElementsAre(1));
  EXPECT_THAT(in.seek, ElementsAre(PartitionOffset{kOrders, 50}));
}

TEST_F(EdgeEngineTest, WaitsForCreditAndCountsTheWait) {
  ConnectAndResume({}, /*credit=*/0);
  PendingBatch b = Batch(1, kOrders, 0, 99, 100);
  const uint64_t cost = b.credit_cost;  // decoded size, as the hub charges it
  ASSERT_THAT(engine_.Enqueue(std::move(b)), IsOk());
  EXPECT_TRUE(DataIds(Drain(engine_, clock_.Now())).empty());
  EXPECT_EQ(engine_.credit_wait().count(), 1u);
  clock_.Advance(milliseconds(300));
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(CreditFrame{cost - 1}), clock_.Now()).error, IsOk());
  EXPECT_TRUE(DataIds(Drain(engine_, clock_.Now())).empty());
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(CreditFrame{cost}), clock_.Now()).error, IsOk());
  EXPECT_THAT(DataIds(Drain(engine_, clock_.Now())), ElementsAre(1));
  EXPECT_NEAR(engine_.credit_wait().seconds(clock_.Now()), 0.3, 1e-9);
}

TEST_F(EdgeEngineTest, KeepsInFlightBytesWithinTheWindow) {
  ConnectAndResume({});
  // 1 MiB window, batches of ~300 KB: a batch goes while fewer bytes than
  // the window are in flight (0, 300, 600, 900 KB), the fifth waits.
  for (uint64_t id = 1; id <= 6; ++id) {
    ASSERT_THAT(engine_.Enqueue(Batch(id, kOrders, (id - 1) * 30, id * 30 - 1, 10000)), IsOk());
  }
  EXPECT_THAT(DataIds(Drain(engine_, clock_.Now())), ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(engine_.window_wait().count(), 1u);
  clock_.Advance(milliseconds(50));
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(AckFrame{{1}, {}, 0}), clock_.Now()).error, IsOk());
  EXPECT_THAT(DataIds(Drain(engine_, clock_.Now())), ElementsAre(5));
  EXPECT_EQ(engine_.Snapshot(clock_.Now()).frames_in_flight, 4u);
}

TEST_F(EdgeEngineTest, PingsEveryHeartbeatAndMeasuresTheRoundTrip) {
  ConnectAndResume({});
  ASSERT_THAT(engine_.OnTick(clock_.Now()), IsOk());
  std::vector<Frame> out = Drain(engine_, clock_.Now());
  ASSERT_EQ(out.size(), 1u);
  const auto ping = std::get<PingFrame>(out[0]);
  clock_.Advance(milliseconds(250));
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(PongFrame{ping.sequence, ping.sent_ns, 0}), clock_.Now()).error, IsOk());
  EXPECT_DOUBLE_EQ(engine_.counters().last_rtt_ms, 250.0);
  EXPECT_EQ(engine_.counters().rtt.count, 1u);
  clock_.Advance(milliseconds(500));
  ASSERT_THAT(engine_.OnTick(clock_.Now()), IsOk());
  EXPECT_TRUE(Drain(engine_, clock_.Now()).empty());  // not due yet
  clock_.Advance(milliseconds(500));
  ASSERT_THAT(engine_.OnTick(clock_.Now()), IsOk());
  EXPECT_EQ(Drain(engine_, clock_.Now()).size(), 1u);
}

TEST_F(EdgeEngineTest, DeclaresTheLinkDeadAfterTheTimeoutWithoutFrames) {
  ConnectAndResume({});
  clock_.Advance(milliseconds(4000));
  ASSERT_THAT(engine_.OnMessage(EncodeFrame(PongFrame{1, 1, 0}), clock_.Now()).error, IsOk());
  clock_.Advance(milliseconds(5000));
  EXPECT_THAT(engine_.OnTick(clock_.Now()), IsOk());
  clock_.Advance(milliseconds(1));
  EXPECT_THAT(engine_.OnTick(clock_.Now()),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("dead link: nothing from the hub for 5001 ms")));
}

TEST_F(EdgeEngineTest, ReportsTheHubsErrorAndBadFrames) {
  engine_.OnConnected(clock_.Now(), 0);
  auto in = engine_.OnMessage(EncodeFrame(ErrorFrame{absl::StatusCode::kPermissionDenied, "not yours"}), clock_.Now());
  EXPECT_THAT(in.error, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("the hub reported: not yours")));
  std::string bad = EncodeFrame(ResumeFrame{});
  bad[9] ^= 1;
  EXPECT_THAT(engine_.OnMessage(bad, clock_.Now()).error,
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("resume frame: bad checksum")));
  EXPECT_THAT(engine_.OnMessage(EncodeFrame(AckFrame{}), clock_.Now()).error,
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unexpected ack frame from the hub (waiting for resume)")));
  EXPECT_THAT(engine_.OnMessage(EncodeFrame(CloseFrame{"hub draining"}), clock_.Now()).error,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("the hub closed the connection: hub draining")));
}

// ---- generations, hub errors, reports ----

HelloFrame HelloOf(const std::string& bytes) { return std::get<HelloFrame>(DecodeFrame(bytes).value()); }

TEST_F(EdgeEngineTest, SaysHelloWithTheGenerationItIsGivenAndReportsTheResumesGeneration) {
  EXPECT_EQ(HelloOf(engine_.OnConnected(clock_.Now(), 0)).generation, 0u);
  auto in = engine_.OnMessage(EncodeFrame(ResumeFrame{(uint64_t{0xabc} << 32) | 3, {}}), clock_.Now());
  ASSERT_THAT(in.error, IsOk());
  EXPECT_TRUE(in.resumed);
  EXPECT_EQ(in.generation, (uint64_t{0xabc} << 32) | 3);
  engine_.OnDisconnected(clock_.Now());
  EXPECT_EQ(HelloOf(engine_.OnConnected(clock_.Now(), in.generation)).generation, in.generation);
}

TEST_F(EdgeEngineTest, ClassifiesTheHubsErrorsByWhatTheLinkMustDo) {
  struct Case {
    ErrorFrame error;
    SessionEnd end;
  };
  const std::vector<Case> cases = {
      {{absl::StatusCode::kUnavailable, "lane 3 of pipeline p is not served by this hub"}, SessionEnd::kHubUnavailable},
      {{absl::StatusCode::kAborted, "unknown generation 99"}, SessionEnd::kUnknownGeneration},
      {{absl::StatusCode::kFailedPrecondition, "stale generation 5: generation 6 took over"},
       SessionEnd::kStaleGeneration},
      {{absl::StatusCode::kFailedPrecondition, "protocol version 1, hub speaks 2"}, SessionEnd::kOther},
      {{absl::StatusCode::kPermissionDenied, "identity may not feed pipeline"}, SessionEnd::kOther},
  };
  for (const Case& c : cases) {
    EdgeConnectionEngine engine{Options()};
    engine.OnConnected(clock_.Now(), 7);
    auto in = engine.OnMessage(EncodeFrame(c.error), clock_.Now());
    EXPECT_THAT(in.error, StatusIs(c.error.code, HasSubstr(c.error.message)));
    EXPECT_EQ(in.end, c.end) << c.error.message;
  }
  // A close frame or a bad frame is not a hub error with a meaning.
  engine_.OnConnected(clock_.Now(), 0);
  EXPECT_EQ(engine_.OnMessage(EncodeFrame(CloseFrame{"draining"}), clock_.Now()).end, SessionEnd::kOther);
}

TEST(EdgeLinkPlan, KeepsTheGenerationFromTheResumeAndForgetsItOnlyWhenTheHubDoesNotKnowIt) {
  EdgeLinkPlan plan(1);
  EdgeLinkPlan::Dial first = plan.Next();
  EXPECT_EQ(first.generation, 0u);
  ASSERT_TRUE(plan.OnResumed(first, 42));
  EXPECT_EQ(plan.Next().generation, 42u);
  // Link lost: the redial says 42 again, after a back-off.
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kOther), EdgeLinkPlan::Retry::kBackOff);
  EXPECT_EQ(plan.Next().generation, 42u);
  // A hub that never issued 42: hello with 0 at once.
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kUnknownGeneration), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.Next().generation, 0u);
  // Refused as unknown while saying 0: not a generation problem, back off.
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kUnknownGeneration), EdgeLinkPlan::Retry::kBackOff);
  ASSERT_TRUE(plan.OnResumed(plan.Next(), 43));
  EXPECT_EQ(plan.generation(), 43u);
}

TEST(EdgeLinkPlan, AHubThatIssuesNoGenerationKeepsTheLinkSayingZero) {
  EdgeLinkPlan plan(2);
  ASSERT_TRUE(plan.OnResumed(plan.Next(), 0));
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kOther), EdgeLinkPlan::Retry::kBackOff);
  EXPECT_EQ(plan.Next().generation, 0u);
  EXPECT_EQ(plan.hub(), 0u);
}

TEST(EdgeLinkPlan, AnUnknownGenerationSeenLateDoesNotForgetANewerOne) {
  EdgeLinkPlan plan(1);
  ASSERT_TRUE(plan.OnResumed(plan.Next(), 5));
  const EdgeLinkPlan::Dial old = plan.Next();  // a connection says hello with 5
  ASSERT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kUnknownGeneration), EdgeLinkPlan::Retry::kNow);
  ASSERT_TRUE(plan.OnResumed(plan.Next(), 9));  // another connection got a new one meanwhile
  EXPECT_EQ(plan.OnSessionEnded(old, SessionEnd::kUnknownGeneration), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.Next().generation, 9u);
}

TEST(EdgeLinkPlan, AStaleGenerationStopsTheLinkForGood) {
  EdgeLinkPlan plan(3);
  ASSERT_TRUE(plan.OnResumed(plan.Next(), 5));
  const EdgeLinkPlan::Dial other = plan.Next();
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kStaleGeneration), EdgeLinkPlan::Retry::kNever);
  EXPECT_TRUE(plan.stopped());
  // The other connections stop too, whatever ended them, and none resumes.
  EXPECT_EQ(plan.OnSessionEnded(other, SessionEnd::kOther), EdgeLinkPlan::Retry::kNever);
  EXPECT_EQ(plan.OnSessionEnded(other, SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kNever);
  EXPECT_FALSE(plan.OnResumed(other, 5));
  EXPECT_EQ(plan.hub(), 0u);
}

TEST(EdgeLinkPlan, MovesToTheNextHubAtOnceAndBacksOffOnlyAfterAWholeRound) {
  EdgeLinkPlan plan(3);
  EXPECT_EQ(plan.hub(), 0u);
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.hub(), 1u);
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.hub(), 2u);
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kBackOff);
  EXPECT_EQ(plan.hub(), 0u);
  EXPECT_EQ(plan.moves(), 3u);
  // The next round again tries each at once.
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.hub(), 1u);
  // A resume ends the round: the next failure moves at once again.
  ASSERT_TRUE(plan.OnResumed(plan.Next(), 0));
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kBackOff);
}

TEST(EdgeLinkPlan, WithOneHubEveryFailureBacksOff) {
  EdgeLinkPlan plan(1);
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kBackOff);
  EXPECT_EQ(plan.OnSessionEnded(plan.Next(), SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kBackOff);
  EXPECT_EQ(plan.hub(), 0u);
  EXPECT_EQ(plan.moves(), 0u);
}

TEST(EdgeLinkPlan, ConnectionsMoveTogether) {
  EdgeLinkPlan plan(2);
  // Two connections dial hub 0; both fail. Only the first moves the link;
  // the second follows to hub 1 at once instead of moving it further.
  const EdgeLinkPlan::Dial a = plan.Next();
  const EdgeLinkPlan::Dial b = plan.Next();
  EXPECT_EQ(plan.OnSessionEnded(a, SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.OnSessionEnded(b, SessionEnd::kHubUnavailable), EdgeLinkPlan::Retry::kNow);
  EXPECT_EQ(plan.hub(), 1u);
  EXPECT_EQ(plan.moves(), 1u);
  // A connection that resumed on hub 0 after the move is on the wrong hub.
  EXPECT_FALSE(plan.OnResumed(a, 0));
  // One that ends for any reason on the old hub redials the new one now.
  EXPECT_EQ(plan.OnSessionEnded(a, SessionEnd::kOther), EdgeLinkPlan::Retry::kNow);
  EXPECT_TRUE(plan.OnResumed(plan.Next(), 0));
}

Frame ReportTo(const std::vector<Frame>& frames, size_t* count) {
  Frame last;
  *count = 0;
  for (const Frame& f : frames) {
    if (TypeOf(f) == FrameType::kReport) {
      last = f;
      ++*count;
    }
  }
  return last;
}

ReportFrame SomeReport(int64_t end) {
  ReportFrame r;
  r.wall_ms = 1'700'000'000'000;
  r.buffered_bytes = 100;
  r.buffer_budget_bytes = 1000;
  r.partitions.push_back(PartitionReport{kOrders, end, 5, 1'699'999'999'000, 0, 0});
  return r;
}

TEST_F(EdgeEngineTest, SendsTheLatestReportAfterTheResumeAndThenEveryInterval) {
  EdgeEngineOptions o = Options();
  o.report_interval = milliseconds(5000);
  EdgeConnectionEngine engine{o};
  engine.SetReport(SomeReport(10));
  engine.SetReport(SomeReport(11));  // latest wins
  engine.OnConnected(clock_.Now(), 0);
  size_t n = 0;
  ASSERT_THAT(engine.OnTick(clock_.Now()), IsOk());
  ReportTo(Drain(engine, clock_.Now()), &n);
  EXPECT_EQ(n, 0u) << "no report before the resume";
  ASSERT_THAT(engine.OnMessage(EncodeFrame(ResumeFrame{1, {}}), clock_.Now()).error, IsOk());
  Frame sent = ReportTo(Drain(engine, clock_.Now()), &n);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(std::get<ReportFrame>(sent), SomeReport(11));
  engine.SetReport(SomeReport(12));
  clock_.Advance(milliseconds(4999));
  ASSERT_THAT(engine.OnTick(clock_.Now()), IsOk());
  ReportTo(Drain(engine, clock_.Now()), &n);
  EXPECT_EQ(n, 0u);
  clock_.Advance(milliseconds(1));
  ASSERT_THAT(engine.OnTick(clock_.Now()), IsOk());
  sent = ReportTo(Drain(engine, clock_.Now()), &n);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(std::get<ReportFrame>(sent), SomeReport(12));
  EXPECT_EQ(engine.reports_sent(), 2u);
  // Not while disconnected; at once after the next resume.
  engine.OnDisconnected(clock_.Now());
  clock_.Advance(milliseconds(10'000));
  ASSERT_THAT(engine.OnTick(clock_.Now()), IsOk());
  engine.OnConnected(clock_.Now(), 1);
  ReportTo(Drain(engine, clock_.Now()), &n);
  EXPECT_EQ(n, 0u);
  ASSERT_THAT(engine.OnMessage(EncodeFrame(ResumeFrame{1, {}}), clock_.Now()).error, IsOk());
  ReportTo(Drain(engine, clock_.Now()), &n);
  EXPECT_EQ(n, 1u);
}

TEST_F(EdgeEngineTest, AReportSetAfterTheResumeGoesAtTheNextTick) {
  ConnectAndResume({});
  size_t n = 0;
  ReportTo(Drain(engine_, clock_.Now()), &n);
  EXPECT_EQ(n, 0u);
  engine_.SetReport(SomeReport(3));
  ASSERT_THAT(engine_.OnTick(clock_.Now()), IsOk());
  ReportTo(Drain(engine_, clock_.Now()), &n);
  EXPECT_EQ(n, 1u);
}

// ---- traffic classes and the rate cap ----

const TopicPartition kAlarms{"alarms", 0};
const TopicPartition kBulk{"bulk", 0};

EdgeEngineOptions TwoClassOptions(RateLimiter* limiter = nullptr) {
  EdgeEngineOptions o = Options();
  o.class_weights = {8, 1};  // alarms, bulk
  o.window.initial_bytes = o.window.min_bytes = 64 << 20;
  o.rate_limiter = limiter;
  return o;
}

PendingBatch ClassBatch(uint64_t id, const TopicPartition& tp, int64_t index, uint32_t cls, size_t value_bytes = 1000) {
  PendingBatch b = Batch(id, tp, index * 10, index * 10 + 9, value_bytes);
  b.priority_class = cls;
  return b;
}

std::vector<std::string> DataTopics(const std::vector<Frame>& frames) {
  std::vector<std::string> topics;
  for (const Frame& f : frames) {
    if (const auto* d = std::get_if<DataFrame>(&f)) topics.push_back(d->topic);
  }
  return topics;
}

// Connects and resumes `engine` with plenty of credit.
void Resume(EdgeConnectionEngine& engine, SteadyTime now) {
  (void)engine.OnConnected(now, 0);
  ASSERT_THAT(engine.OnMessage(EncodeFrame(ResumeFrame{7, {}}), now).error, IsOk());
  ASSERT_THAT(engine.OnMessage(EncodeFrame(CreditFrame{1 << 30}), now).error, IsOk());
}

TEST_F(EdgeEngineTest, ClassesShareASaturatedConnectionByWeightAndNoneStarves) {
  EdgeConnectionEngine engine{TwoClassOptions()};
  Resume(engine, clock_.Now());
  for (int i = 0; i < 40; ++i) {
    ASSERT_THAT(engine.Enqueue(ClassBatch(100 + i, kBulk, i, 1)), IsOk());
    ASSERT_THAT(engine.Enqueue(ClassBatch(200 + i, kAlarms, i, 0)), IsOk());
  }
  const std::vector<Frame> out = Drain(engine, clock_.Now());
  const std::vector<std::string> topics = DataTopics(out);
  ASSERT_EQ(topics.size(), 80u);
  // Equal frames, weights 8:1: of the first 36 frames, 32 are alarms and 4
  // bulk (give or take the first round).
  const auto alarms_in_first = std::count(topics.begin(), topics.begin() + 36, "alarms");
  EXPECT_GE(alarms_in_first, 31);
  EXPECT_LE(alarms_in_first, 33);
  // Each class's batches go in order (a partition's offsets stay contiguous).
  int64_t next_alarm = 0, next_bulk = 0;
  for (const Frame& f : out) {
    const auto* d = std::get_if<DataFrame>(&f);
    if (d == nullptr) continue;
    int64_t& next = d->topic == "alarms" ? next_alarm : next_bulk;
    EXPECT_EQ(d->first_offset, next) << d->topic;
    next = d->last_offset + 1;
  }
  const std::vector<EdgeClassSnapshot> classes = engine.ClassSnapshot();
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(classes[0].queued_batches, 0u);
  EXPECT_GT(classes[0].bytes_sent, 0u);
  // All sent: the same records (the frames differ only by their topic names).
  EXPECT_NEAR(static_cast<double>(classes[0].bytes_sent), static_cast<double>(classes[1].bytes_sent), 40 * 4.0);
}

TEST_F(EdgeEngineTest, AnAlarmQueuedBehindABulkBacklogIsTheNextFrameOut) {
  EdgeConnectionEngine engine{TwoClassOptions()};
  (void)engine.OnConnected(clock_.Now(), 0);
  ASSERT_THAT(engine.OnMessage(EncodeFrame(ResumeFrame{7, {}}), clock_.Now()).error, IsOk());
  const uint64_t cost = ClassBatch(1, kBulk, 0, 1).credit_cost;
  ASSERT_THAT(engine.OnMessage(EncodeFrame(CreditFrame{5 * cost}), clock_.Now()).error, IsOk());
  for (int i = 0; i < 50; ++i) ASSERT_THAT(engine.Enqueue(ClassBatch(100 + i, kBulk, i, 1)), IsOk());
  EXPECT_EQ(DataTopics(Drain(engine, clock_.Now())).size(), 5u);  // credit for 5
  ASSERT_THAT(engine.Enqueue(ClassBatch(7, kAlarms, 0, 0)), IsOk());
  ASSERT_THAT(engine.OnMessage(EncodeFrame(CreditFrame{7 * cost}), clock_.Now()).error, IsOk());
  EXPECT_THAT(DataTopics(Drain(engine, clock_.Now())), ElementsAre("alarms", "bulk"));
}

TEST_F(EdgeEngineTest, APartitionKeepsTheClassOfItsFirstBatchSoItsOrderHolds) {
  EdgeConnectionEngine engine{TwoClassOptions()};
  Resume(engine, clock_.Now());
  ASSERT_THAT(engine.Enqueue(ClassBatch(1, kBulk, 0, 1)), IsOk());
  ASSERT_THAT(engine.Enqueue(ClassBatch(2, kBulk, 1, 0)), IsOk());  // asks for class 0: stays in 1
  ASSERT_THAT(engine.Enqueue(ClassBatch(3, kAlarms, 0, 7)), IsOk());  // out of range: the last class
  EXPECT_THAT(DataIds(Drain(engine, clock_.Now())), ElementsAre(1, 2, 3));
}

TEST_F(EdgeEngineTest, AfterAReconnectTheHigherClassIsResentFirst) {
  EdgeConnectionEngine engine{TwoClassOptions()};
  Resume(engine, clock_.Now());
  for (int i = 0; i < 20; ++i) ASSERT_THAT(engine.Enqueue(ClassBatch(100 + i, kBulk, i, 1)), IsOk());
  ASSERT_THAT(engine.Enqueue(ClassBatch(7, kAlarms, 0, 0)), IsOk());
  EXPECT_EQ(DataTopics(Drain(engine, clock_.Now())).size(), 21u);
  engine.OnDisconnected(clock_.Now());
  Resume(engine, clock_.Now());
  const std::vector<std::string> resent = DataTopics(Drain(engine, clock_.Now()));
  ASSERT_EQ(resent.size(), 21u);
  EXPECT_EQ(resent.front(), "alarms");
}

TEST_F(EdgeEngineTest, TheRateCapHoldsDataFramesAndSaysWhenTheNextMayGo) {
  RateLimiter limiter(800'000);  // 100 kB/s
  EdgeConnectionEngine engine{TwoClassOptions(&limiter)};
  Resume(engine, clock_.Now());
  for (int i = 0; i < 400; ++i) ASSERT_THAT(engine.Enqueue(ClassBatch(100 + i, kBulk, i, 1, 1000)), IsOk());
  const SteadyTime start = clock_.Now();
  uint64_t wire = 0;
  size_t frames = 0;
  // Ten seconds of a writer that wakes when the engine says.
  while (clock_.Now() - start < std::chrono::seconds(10)) {
    while (auto f = engine.NextFrame(clock_.Now())) {
      if (!f->is_data) continue;
      wire += EstimatedWireBytes(f->bytes->size());
      ++frames;
    }
    const SteadyTime ready = engine.rate_ready_at();
    ASSERT_NE(ready, SteadyTime::max()) << "data waits, so the cap must say when it opens";
    ASSERT_GT(ready, clock_.Now());
    clock_.Advance(ready - clock_.Now());
  }
  // 1 MB in 10 s, within one frame (~10 kB) plus the 100 ms burst.
  EXPECT_NEAR(static_cast<double>(wire), 1'000'000.0, 25'000.0);
  EXPECT_GT(frames, 80u);
}

TEST(ConnectionOf, StripesPartitionsStablyAndEvenlyAcrossConnections) {
  EXPECT_EQ(ConnectionOf({"orders", 3}, 1), 0u);
  std::vector<int> per_connection(4);
  for (int p = 0; p < 400; ++p) {
    const uint32_t c = ConnectionOf({"orders", p}, 4);
    ASSERT_LT(c, 4u);
    EXPECT_EQ(c, ConnectionOf({"orders", p}, 4));
    ++per_connection[c];
  }
  for (int n : per_connection) EXPECT_GT(n, 60);
}

}  // namespace
}  // namespace longhaul::transport
