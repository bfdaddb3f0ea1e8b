// The edge<->hub link on loopback, in process: a HubServer with a test
// writer (commits every few milliseconds, acknowledges, can stall) and an
// EdgeLink fed by a test reader that follows the library's contract (seek
// on resume, continue on acks). Certificates come from scripts/make-test-certs.
// Some tests put a FaultProxy (tests/support) between the two that cuts or
// blackholes connections, or acts as an HTTP CONNECT proxy.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "longhaul/testing/fault_proxy.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/testing/wait_for.h"
#include "longhaul/transport/edge_link.h"
#include "longhaul/transport/hub_server.h"

namespace longhaul::transport {
namespace {

using ::longhaul::testing::FaultProxy;
using ::longhaul::testing::IsOk;
using ::longhaul::testing::WaitFor;
using ::testing::HasSubstr;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace fs = std::filesystem;

// ---------------------------------------------------------------- certs

fs::path SourceRoot() {
  return fs::path(LONGHAUL_SOURCE_DIR);
}

const fs::path& Certs() {
  static const fs::path dir = [] {
    fs::path d = fs::path(::testing::TempDir()) / absl::StrCat("longhaul-certs-", getpid());
    const std::string command =
        absl::StrCat((SourceRoot() / "scripts" / "make-test-certs").string(), " ", d.string(), " >/dev/null 2>&1");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return d;
  }();
  return dir;
}

std::string Cert(const std::string& name) { return (Certs() / name).string(); }

// ---------------------------------------------------------------- source data

// A deterministic source: per partition, records 0..n-1 with JSON-like
// values, null and empty keys and values, and headers.
struct Source {
  std::string topic = "orders";
  int partitions = 8;
  int64_t per_partition = 25'000;

  Record Make(int partition, int64_t offset) const {
    Record r;
    r.offset = offset;
    r.timestamp_ms = 1'700'000'000'000 + offset * 7 + partition;
    switch (offset % 50) {
      case 0: r.key = std::nullopt; break;
      case 1: r.key = ""; break;
      default: r.key = absl::StrCat("order-", partition, "-", offset);
    }
    switch (offset % 97) {
      case 0: r.value = std::nullopt; break;  // tombstone
      case 1: r.value = ""; break;
      default:
        r.value = absl::StrCat(R"({"order_id":)", offset, R"(,"partition":)", partition, R"(,"customer":"customer-)",
                               offset % 1013, R"(","status":")", (offset % 3 == 0 ? "SHIPPED" : "PENDING"),
                               R"(","items":[{"sku":"SKU-)", offset % 17, R"(","qty":)", offset % 5 + 1,
                               R"(,"price":)", 10 + offset % 90, R"(.99}],"currency":"EUR"})");
    }
    r.headers.push_back({"trace", absl::StrCat(offset)});
    if (offset % 10 == 0) r.headers.push_back({"nullable", std::nullopt});
    if (offset % 10 == 1) r.headers.push_back({"trace", ""});
    return r;
  }
  int64_t total() const { return partitions * per_partition; }
};

// ---------------------------------------------------------------- hub writer

// Plays the hub-side writer: keeps each session's received batches pending,
// "commits" them every few milliseconds into an in-memory log per
// partition, then acknowledges. A closed session's pending batches are
// discarded (an aborted transaction), so resume points are exact.
class TestWriter : public HubSessionHandler {
 public:
  TestWriter() : committer_([this] { CommitLoop(); }) {}
  ~TestWriter() override {
    stop_ = true;
    committer_.join();
  }

  void OnHello(std::shared_ptr<HubSession> session) override {
    std::vector<PartitionOffset> resume;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++hellos_;
      const EdgeInfo& edge = session->edge();
      events_.push_back(absl::StrCat("hello ", session->id(), " name=", edge.name, " link=", edge.hello.link_id,
                                     " connection=", edge.hello.connection_index));
      link_ids_.push_back(edge.hello.link_id);
      hello_generations_.push_back(edge.hello.generation);
      if (!accept_) {
        session->Reject(absl::UnavailableError("writer not ready"));
        return;
      }
      if (!refusal_.ok()) {
        const bool this_one = refusal_connection_ < 0 ||
                              edge.hello.connection_index == static_cast<uint32_t>(refusal_connection_);
        session->Reject(this_one ? refusal_ : absl::UnavailableError("not served here (the test refuses it)"));
        return;
      }
      for (const auto& [tp, log] : logs_) resume.push_back({tp, static_cast<int64_t>(log.size())});
      sessions_[session->id()] = Session{session, {}};
    }
    session->Accept(std::move(resume), generation_);
  }

  void OnReport(HubSession& session, ReportFrame report) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reports_;
    last_report_ = std::move(report);
  }

  void OnData(HubSession& session, ReceivedBatch batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(session.id());
    if (it == sessions_.end()) {
      violations_.push_back("data for a session the writer does not know");
      return;
    }
    it->second.pending.push_back(std::move(batch));
  }

  void OnClosed(HubSession& session, const absl::Status& why) override {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(session.id());
    close_reasons_.push_back(std::string(why.message()));
    events_.push_back(absl::StrCat("closed ", session.id(), ": ", why.message()));
  }

  // Plays the handler's fencing: closes every session of a link instance.
  int CloseLink(uint64_t link_id, const absl::Status& why) {
    std::vector<std::shared_ptr<HubSession>> doomed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [id, s] : sessions_) {
        if (s.session->edge().hello.link_id == link_id) doomed.push_back(s.session);
      }
    }
    for (auto& session : doomed) session->Close(why);
    return static_cast<int>(doomed.size());
  }
  std::vector<uint64_t> LinkIds() {
    std::lock_guard<std::mutex> lock(mu_);
    return link_ids_;
  }
  std::vector<std::string> Events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

  // Refuse every hello with this error (OK: accept again); with
  // `connection` >= 0 only that connection's, the others' as unavailable.
  void SetRefusal(absl::Status refusal, int connection = -1) {
    std::lock_guard<std::mutex> lock(mu_);
    refusal_ = std::move(refusal);
    refusal_connection_ = connection;
  }
  // The generation each Accept issues (0: none, as a v2 hub before
  // generations).
  void SetGeneration(uint64_t generation) { generation_ = generation; }
  std::vector<uint64_t> HelloGenerations() {
    std::lock_guard<std::mutex> lock(mu_);
    return hello_generations_;
  }
  int reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }
  ReportFrame LastReport() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_report_;
  }
  void SetPaused(bool paused) { paused_ = paused; }
  // At most this many records per commit (0: no limit), to slow the target.
  void SetRecordsPerCommit(size_t n) { records_per_commit_ = n; }
  void SetAccepting(bool accept) {
    std::lock_guard<std::mutex> lock(mu_);
    accept_ = accept;
  }

  int64_t Committed(const TopicPartition& tp) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = logs_.find(tp);
    return it == logs_.end() ? 0 : static_cast<int64_t>(it->second.size());
  }
  int64_t CommittedTotal() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t n = 0;
    for (const auto& [tp, log] : logs_) n += static_cast<int64_t>(log.size());
    return n;
  }
  std::vector<std::string> Violations() {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }
  std::map<TopicPartition, std::vector<Record>> Logs() {
    std::lock_guard<std::mutex> lock(mu_);
    return logs_;
  }
  int hellos() {
    std::lock_guard<std::mutex> lock(mu_);
    return hellos_;
  }
  size_t PendingRecords() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& [id, s] : sessions_) {
      for (const auto& b : s.pending) n += b.records.size();
    }
    return n;
  }

 private:
  struct Session {
    std::shared_ptr<HubSession> session;
    std::vector<ReceivedBatch> pending;
  };

  void CommitLoop() {
    while (!stop_) {
      std::this_thread::sleep_for(milliseconds(5));  // the commit interval
      if (paused_) continue;
      std::vector<std::tuple<std::shared_ptr<HubSession>, std::vector<uint64_t>, std::vector<PartitionOffset>>> acks;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& [id, s] : sessions_) {
          if (s.pending.empty()) continue;
          std::vector<uint64_t> ids;
          std::map<TopicPartition, int64_t> next;
          size_t taken = 0, records = 0;
          for (ReceivedBatch& b : s.pending) {
            if (records_per_commit_ > 0 && records >= records_per_commit_) break;
            ++taken;
            records += b.records.size();
            std::vector<Record>& log = logs_[b.partition];
            if (b.first_offset != static_cast<int64_t>(log.size())) {
              violations_.push_back(absl::StrCat("batch ", b.batch_id, " for ", b.partition.ToString(),
                                                 " starts at ", b.first_offset, ", log ends at ", log.size()));
            }
            for (Record& r : b.records) {
              if (r.offset != static_cast<int64_t>(log.size())) {
                violations_.push_back(absl::StrCat(b.partition.ToString(), ": record ", r.offset,
                                                   " committed at position ", log.size()));
              }
              log.push_back(std::move(r));
            }
            ids.push_back(b.batch_id);
            next[b.partition] = b.last_offset + 1;
          }
          s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<std::ptrdiff_t>(taken));
          std::vector<PartitionOffset> committed;
          for (const auto& [tp, o] : next) committed.push_back({tp, o});
          acks.emplace_back(s.session, std::move(ids), std::move(committed));
        }
      }
      for (auto& [session, ids, committed] : acks) session->Ack(std::move(ids), std::move(committed));
    }
  }

  std::mutex mu_;
  bool accept_ = true;
  int hellos_ = 0;
  std::map<uint64_t, Session> sessions_;
  std::map<TopicPartition, std::vector<Record>> logs_;
  std::vector<std::string> violations_;
  std::vector<std::string> close_reasons_;
  std::vector<std::string> events_;
  std::vector<uint64_t> link_ids_;
  absl::Status refusal_;
  int refusal_connection_ = -1;
  std::atomic<uint64_t> generation_{0};
  std::vector<uint64_t> hello_generations_;
  int reports_ = 0;
  ReportFrame last_report_;
  std::atomic<bool> paused_{false};
  std::atomic<size_t> records_per_commit_{0};
  std::atomic<bool> stop_{false};
  std::thread committer_;
};

// ---------------------------------------------------------------- edge reader

// Plays the edge's source reader against an EdgeLink, following its
// contract: waits for the first resume, seeks where on_resume says, starts
// unknown partitions at 0, hands over batches in order, pauses on
// backpressure until on_writable.
class TestReader {
 public:
  TestReader(const Source& source, int64_t batch_records) : source_(source), batch_records_(batch_records) {
    for (int p = 0; p < source_.partitions; ++p) position_[TopicPartition{source_.topic, p}] = -1;
  }
  ~TestReader() { Stop(); }

  EdgeLinkCallbacks Callbacks() {
    EdgeLinkCallbacks c;
    c.on_resume = [this](const ResumeEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      for (const PartitionOffset& s : e.seek) position_[s.partition] = s.offset;
      ++resumes_;
      cv_.notify_all();
    };
    c.on_ack = [this](const AckEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      acked_batches_ += e.batch_ids.size();
      cv_.notify_all();
    };
    c.on_state = [this](LinkState state, const absl::Status&) {
      std::lock_guard<std::mutex> lock(mu_);
      if (state == LinkState::kUp) {
        up_ = true;
        ++ups_;
        // Partitions the hub did not know start at the beginning.
        for (auto& [tp, pos] : position_) {
          if (pos < 0) pos = 0;
        }
      } else {
        ++downs_;
      }
      cv_.notify_all();
    };
    c.on_writable = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      ++writable_;
      cv_.notify_all();
    };
    return c;
  }

  void Start(EdgeLink* link) {
    link_ = link;
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_ = true;
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // Forget everything, as a restarted edge process would.
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [tp, pos] : position_) pos = -1;
    up_ = false;
  }

  uint64_t budget_refusals() const { return budget_refusals_; }
  uint64_t paused() const { return paused_; }
  uint64_t max_buffered() const { return max_buffered_; }
  int ups() {
    std::lock_guard<std::mutex> lock(mu_);
    return ups_;
  }
  int downs() {
    std::lock_guard<std::mutex> lock(mu_);
    return downs_;
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  bool ReadAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [tp, pos] : position_) {
      if (pos < source_.per_partition) return false;
    }
    return true;
  }

 private:
  void Loop() {
    while (!stop_) {
      bool progressed = false;
      for (int p = 0; p < source_.partitions && !stop_; ++p) {
        const TopicPartition tp{source_.topic, p};
        int64_t pos;
        {
          std::lock_guard<std::mutex> lock(mu_);
          pos = position_[tp];
        }
        if (pos < 0 || pos >= source_.per_partition) continue;
        OutgoingBatch batch;
        batch.partition = tp;
        const int64_t end = std::min(pos + batch_records_, source_.per_partition);
        uint64_t estimate = 0;
        for (int64_t o = pos; o < end; ++o) {
          batch.records.push_back(source_.Make(p, o));
          estimate += batch.records.back().value.value_or("").size() + 64;
        }
        if (!link_->CanSend(estimate)) {
          ++paused_;  // a real reader pauses the partition until on_writable
          continue;
        }
        absl::StatusOr<uint64_t> sent = link_->SendBatch(std::move(batch));
        max_buffered_ = std::max<uint64_t>(max_buffered_, link_->BufferedBytes());
        if (sent.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          if (position_[tp] == pos) position_[tp] = end;  // unless a seek came meanwhile
          progressed = true;
        } else if (sent.status().code() == absl::StatusCode::kResourceExhausted) {
          ++budget_refusals_;
        } else if (sent.status().code() != absl::StatusCode::kFailedPrecondition) {
          std::lock_guard<std::mutex> lock(mu_);
          errors_.push_back(std::string(sent.status().message()));
        }
      }
      if (!progressed) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, milliseconds(5));
      }
    }
  }

  const Source& source_;
  const int64_t batch_records_;
  EdgeLink* link_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<TopicPartition, int64_t> position_;
  bool up_ = false;
  int ups_ = 0, downs_ = 0, resumes_ = 0, writable_ = 0;
  uint64_t acked_batches_ = 0;
  std::atomic<uint64_t> budget_refusals_{0};
  std::atomic<uint64_t> paused_{0};
  std::atomic<uint64_t> max_buffered_{0};
  std::vector<std::string> errors_;
};

// ---------------------------------------------------------------- fixtures

HubServerOptions HubOptions() {
  HubServerOptions o;
  o.listen = "127.0.0.1:0";
  o.tls = {Cert("ca.pem"), Cert("hub.pem"), Cert("hub.key"), ""};
  o.identities = {{"longhaul://edge/edge-1", {"orders-pipeline"}}, {"other-edge", {"another-pipeline"}}};
  o.receive_window_bytes = 16 << 20;
  o.max_batch_bytes = 4 << 20;
  o.io_threads = 2;
  return o;
}

EdgeLinkOptions EdgeOptions(int port) {
  EdgeLinkOptions o;
  o.hubs = {HubAddress{"127.0.0.1", static_cast<uint16_t>(port)}};
  o.tls = {Cert("ca.pem"), Cert("edge.pem"), Cert("edge.key"), ""};
  o.pipeline = "orders-pipeline";
  o.edge_name = "test-edge";
  o.connections = 3;
  o.buffer_budget_bytes = 32 << 20;
  o.max_batch_bytes = 4 << 20;
  o.heartbeat_interval = milliseconds(200);
  o.dead_link_timeout = milliseconds(3000);
  o.reconnect_initial = milliseconds(20);
  o.reconnect_max = milliseconds(300);
  o.connect_timeout = milliseconds(3000);
  return o;
}

void ExpectExactlyTheSource(TestWriter& writer, const Source& source) {
  EXPECT_THAT(writer.Violations(), ::testing::IsEmpty());
  const auto logs = writer.Logs();
  ASSERT_EQ(logs.size(), static_cast<size_t>(source.partitions));
  for (const auto& [tp, log] : logs) {
    ASSERT_EQ(static_cast<int64_t>(log.size()), source.per_partition) << tp.ToString();
    for (int64_t o = 0; o < source.per_partition; ++o) {
      if (!(log[o] == source.Make(tp.partition, o))) {
        ADD_FAILURE() << tp.ToString() << " record " << o << " differs";
        return;
      }
    }
  }
}

bool Finished(TestWriter& writer, const Source& source) { return writer.CommittedTotal() == source.total(); }

// ---------------------------------------------------------------- tests

TEST(TransportLink, DeliversEveryRecordExactlyOnceByteForByteOverMutualTls) {
  const Source source;  // 8 partitions x 25,000 = 200,000 records
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  TestReader reader(source, 500);
  auto edge = EdgeLink::Start(EdgeOptions((*hub)->port()), reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());

  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120))) << writer.CommittedTotal();
  ASSERT_TRUE(WaitFor([&] { return (*edge)->BufferedBytes() == 0; }, seconds(10)));
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
  EXPECT_THAT(reader.errors(), ::testing::IsEmpty());

  const EdgeLinkMetrics m = (*edge)->Metrics();
  EXPECT_TRUE(m.up);
  EXPECT_EQ(m.connections_up, 3);
  EXPECT_EQ(m.records_sent, static_cast<uint64_t>(source.total()));
  EXPECT_EQ(m.batches_sent, m.batches_acked);
  EXPECT_EQ(m.batches_resent, 0u);
  EXPECT_EQ(m.frames_in_flight, 0u);
  EXPECT_GT(m.rtt.count, 0u);
  ASSERT_EQ(m.connections.size(), 3u);
  for (const auto& c : m.connections) {
    EXPECT_TRUE(c.up);
    EXPECT_FALSE(c.congestion_control.empty());
  }
  const HubMetrics h = (*hub)->Metrics();
  EXPECT_EQ(h.sessions.size(), 3u);
  EXPECT_EQ(h.sessions_started, 3u);
  EXPECT_EQ(h.refused_tls, 0u);
  for (const auto& s : h.sessions) {
    EXPECT_EQ(s.identity, "longhaul://edge/edge-1");
    EXPECT_EQ(s.pipeline, "orders-pipeline");
  }
}

// Plain TCP to the hub: sends `bytes`, then waits until the hub closes the
// connection. True if it did within the timeout.
bool HubHangsUpOnGarbage(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  const auto deadline = std::chrono::steady_clock::now() + seconds(15);
  char buf[4096];
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) closed = ::recv(fd, buf, sizeof buf, 0) <= 0;
  }
  ::close(fd);
  return closed;
}

// An edge that must never come up: returns its last error once it has
// failed to connect at least twice.
std::string RefusedEdgeError(EdgeLinkOptions options) {
  options.reconnect_initial = milliseconds(50);
  options.reconnect_max = milliseconds(200);
  EdgeLinkCallbacks callbacks;
  std::atomic<bool> came_up{false};
  callbacks.on_state = [&](LinkState s, const absl::Status&) {
    if (s == LinkState::kUp) came_up = true;
  };
  auto edge = EdgeLink::Start(std::move(options), callbacks);
  if (!edge.ok()) return std::string(edge.status().message());
  EXPECT_TRUE(WaitFor([&] { return (*edge)->Metrics().connect_failures >= 2; }, seconds(20)));
  EXPECT_FALSE(came_up.load());
  EXPECT_FALSE((*edge)->Metrics().up);
  return (*edge)->Metrics().last_error;
}

TEST(TransportLink, RefusesUntrustedNoCertAndGarbageClientsWhileAGoodEdgeKeepsStreaming) {
  Source source;
  source.partitions = 4;
  source.per_partition = 20'000;
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  const int port = (*hub)->port();
  TestReader reader(source, 100);
  EdgeLinkOptions good = EdgeOptions(port);
  good.connections = 2;
  auto edge = EdgeLink::Start(good, reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return writer.CommittedTotal() > 0; }, seconds(20)));

  // Signed by a CA the hub does not trust.
  EdgeLinkOptions rogue = EdgeOptions(port);
  rogue.tls.cert_file = Cert("rogue-edge.pem");
  rogue.tls.key_file = Cert("rogue-edge.key");
  EXPECT_THAT(RefusedEdgeError(rogue), HasSubstr("the hub refused our certificate"));
  // No client certificate at all.
  EdgeLinkOptions anonymous = EdgeOptions(port);
  anonymous.tls.cert_file.clear();
  anonymous.tls.key_file.clear();
  EXPECT_THAT(RefusedEdgeError(anonymous), HasSubstr("the hub refused our certificate"));
  // Plain TCP speaking HTTP, and random bytes.
  EXPECT_TRUE(HubHangsUpOnGarbage(port, "GET /longhaul/v1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string noise(3000, '\0');
  std::mt19937 rng(5);
  for (char& c : noise) c = static_cast<char>(rng());
  EXPECT_TRUE(HubHangsUpOnGarbage(port, noise));
  // An edge that does not trust the hub (wrong CA) refuses it.
  EdgeLinkOptions distrustful = EdgeOptions(port);
  distrustful.tls.ca_file = Cert("rogue-ca.pem");
  EXPECT_THAT(RefusedEdgeError(distrustful),
              HasSubstr("TLS handshake with hub 127.0.0.1:" + std::to_string(port) + " failed"));

  const HubMetrics during = (*hub)->Metrics();
  EXPECT_GE(during.refused_tls, 5u);  // 2+ rogue, 2+ anonymous, garbage x2, distrustful
  // The good edge never noticed.
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120)));
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
  const EdgeLinkMetrics m = (*edge)->Metrics();
  EXPECT_EQ(m.disconnects, 0u);
  EXPECT_EQ(m.connects, 2u);
  EXPECT_EQ(writer.hellos(), 2);
}

TEST(TransportLink, RefusesACertificateIdentityNotMappedToThePipeline) {
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  // other-edge may feed "another-pipeline" only.
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  options.tls.cert_file = Cert("other-edge.pem");
  options.tls.key_file = Cert("other-edge.key");
  EXPECT_THAT(RefusedEdgeError(options),
              HasSubstr("certificate identity 'longhaul://edge/other-edge' may not feed pipeline 'orders-pipeline'"));
  EXPECT_GE((*hub)->Metrics().refused_identity, 2u);
  EXPECT_EQ(writer.hellos(), 0);
}

// Fencing is the handler's (it issues generations): the hub admits two
// instances of one edge side by side, tells the handler each one's link
// instance and certificate name, and delivers the handler's verdict to the
// edge it fences as an error frame with the handler's code and message.
TEST(TransportLink, LeavesFencingToTheHandlerAndDeliversItsVerdict) {
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  options.connections = 1;
  auto older = EdgeLink::Start(options, {});
  ASSERT_THAT(older, IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*older)->Metrics().up; }, seconds(20)));
  auto newer = EdgeLink::Start(options, {});
  ASSERT_THAT(newer, IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*newer)->Metrics().up; }, seconds(20)));
  EXPECT_TRUE((*older)->Metrics().up);  // the transport fenced nobody
  const std::vector<uint64_t> links = writer.LinkIds();
  ASSERT_EQ(links.size(), 2u);
  ASSERT_NE(links[0], links[1]);
  for (const std::string& e : writer.Events()) EXPECT_THAT(e, HasSubstr("name=edge-1 "));  // from the URI SAN

  ASSERT_EQ(writer.CloseLink(links[0], absl::FailedPreconditionError("stale generation: a newer instance took over")),
            1);
  EXPECT_TRUE(WaitFor([&] { return (*older)->Metrics().last_error.find("stale generation: a newer instance took "
                                                                       "over") != std::string::npos; },
                      seconds(20)))
      << (*older)->Metrics().last_error;
  EXPECT_TRUE((*newer)->Metrics().up);
  EXPECT_EQ((*newer)->Metrics().disconnects, 0u);
  EXPECT_TRUE((*older)->Metrics().failed) << "told it is stale, the older instance stops for good";
  (*older)->Stop();
}

// A reconnect of the same connection of the same link instance replaces the
// session it left half open (the hub would otherwise keep it until its dead
// link timeout), and the handler hears the old one close before the new
// hello; no record is lost or doubled.
TEST(TransportLink, AReconnectReplacesItsHalfOpenPredecessorBeforeTheHandlerHearsIt) {
  Source source;
  source.partitions = 2;
  source.per_partition = 20'000;
  TestWriter writer;
  writer.SetRecordsPerCommit(200);
  HubServerOptions hub_options = HubOptions();
  hub_options.dead_link_timeout = seconds(60);  // the hub alone would wait a minute
  auto hub = HubServer::Start(hub_options, &writer);
  ASSERT_THAT(hub, IsOk());
  FaultProxy proxy((*hub)->port());
  TestReader reader(source, 100);
  EdgeLinkOptions options = EdgeOptions(proxy.port());
  options.connections = 1;
  auto edge = EdgeLink::Start(options, reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return writer.CommittedTotal() > 2000; }, seconds(30)));
  proxy.BlackholeExisting();  // the edge's dead-link check (3 s) redials
  ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().reconnects >= 1 && (*edge)->Metrics().up; }, seconds(20)));
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120))) << writer.CommittedTotal();
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
  const std::vector<std::string> events = writer.Events();
  ASSERT_GE(events.size(), 3u);
  EXPECT_THAT(events[0], HasSubstr("hello 1 "));
  EXPECT_THAT(events[1], HasSubstr("closed 1: replaced by a newer connection of the same edge link instance"));
  EXPECT_THAT(events[2], HasSubstr("hello 2 "));
}

TEST(TransportLink, RefusesACertificateRevokedByACrlReplacedOnDiskWithoutRestart) {
  const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat("longhaul-crl-", getpid());
  fs::create_directories(dir);
  const std::string crl = (dir / "crl.pem").string();
  fs::copy_file(Cert("ca-empty.crl.pem"), crl, fs::copy_options::overwrite_existing);
  TestWriter writer;
  HubServerOptions hub_options = HubOptions();
  hub_options.tls.crl_file = crl;
  auto hub = HubServer::Start(hub_options, &writer);
  ASSERT_THAT(hub, IsOk());
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  options.connections = 1;
  {
    auto edge = EdgeLink::Start(options, {});
    ASSERT_THAT(edge, IsOk());
    ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().up; }, seconds(20)));
  }
  // Rotate the CRL the way tools do: write aside, rename over.
  fs::copy_file(Cert("ca-revoked-edge.crl.pem"), dir / "crl.tmp", fs::copy_options::overwrite_existing);
  fs::rename(dir / "crl.tmp", crl);
  const uint64_t tls_refusals = (*hub)->Metrics().refused_tls;
  EXPECT_THAT(RefusedEdgeError(options), HasSubstr("the hub refused our certificate"));
  const HubMetrics m = (*hub)->Metrics();
  EXPECT_GE(m.refused_tls, tls_refusals + 2);
  EXPECT_GE((m.refusals.at({"", "tls"})), 2u);
  // Another certificate of the same CA is not revoked.
  EdgeLinkOptions other = options;
  other.pipeline = "another-pipeline";
  other.tls.cert_file = Cert("other-edge.pem");
  other.tls.key_file = Cert("other-edge.key");
  auto fine = EdgeLink::Start(other, {});
  ASSERT_THAT(fine, IsOk());
  EXPECT_TRUE(WaitFor([&] { return (*fine)->Metrics().up; }, seconds(20)));
  (*fine)->Stop();
  fs::remove_all(dir);
}

TEST(TransportLink, AppliesChangedIdentityRulesToTheNextHello) {
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  options.connections = 1;
  options.tls.cert_file = Cert("other-edge.pem");
  options.tls.key_file = Cert("other-edge.key");
  options.reconnect_initial = milliseconds(50);
  options.reconnect_max = milliseconds(200);
  auto edge = EdgeLink::Start(options, {});
  ASSERT_THAT(edge, IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*hub)->Metrics().refused_identity >= 1; }, seconds(20)));
  EXPECT_FALSE((*edge)->Metrics().up);
  // A bad rule set is refused and changes nothing.
  EXPECT_THAT((*hub)->UpdateIdentities({{"other-edge", {}}}),
              ::longhaul::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lists no pipelines")));
  ASSERT_THAT((*hub)->UpdateIdentities({{"longhaul://edge/other-edge", {"orders-pipeline"}}}), IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().up; }, seconds(20)));
  const HubMetrics m = (*hub)->Metrics();
  ASSERT_EQ(m.sessions.size(), 1u);
  EXPECT_EQ(m.sessions[0].edge_name, "other-edge");
  EXPECT_GE(m.refusals.at({"", "identity"}), 1u);
  // Taking the right away again stops the next hello, not the session.
  ASSERT_THAT((*hub)->UpdateIdentities({{"edge-1", {"orders-pipeline"}}}), IsOk());
  EXPECT_TRUE((*edge)->Metrics().up);
  (*edge)->Stop();
}

// Idle TCP connections from one address take its handshake slots; beyond
// them the hub closes new ones at once (counted), and once the idle ones
// time out a good edge from the same address gets in.
TEST(TransportLink, LimitsHandshakesPerAddressAndRecovers) {
  TestWriter writer;
  HubServerOptions hub_options = HubOptions();
  hub_options.max_pending_handshakes_per_address = 4;
  hub_options.handshake_timeout = milliseconds(1500);
  auto hub = HubServer::Start(hub_options, &writer);
  ASSERT_THAT(hub, IsOk());
  std::vector<int> idle;
  for (int i = 0; i < 10; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>((*hub)->port()));
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    idle.push_back(fd);
  }
  EXPECT_TRUE(WaitFor(
      [&] {
        const HubMetrics m = (*hub)->Metrics();
        auto it = m.refusals.find({"", "handshakes"});
        return it != m.refusals.end() && it->second >= 6;
      },
      seconds(10)));
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  options.connections = 1;
  auto edge = EdgeLink::Start(options, {});
  ASSERT_THAT(edge, IsOk());
  EXPECT_TRUE(WaitFor([&] { return (*edge)->Metrics().up; }, seconds(20)));
  for (int fd : idle) ::close(fd);
  (*edge)->Stop();
}

TEST(TransportLink, SaysHelloWithTheHubIssuedGenerationAndStopsForGoodWhenToldItIsStale) {
  Source source;
  source.partitions = 4;
  source.per_partition = 5'000;
  TestWriter writer;
  const uint64_t generation = (uint64_t{0x5eed} << 32) | 1;
  writer.SetGeneration(generation);
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  FaultProxy proxy((*hub)->port());
  TestReader reader(source, 200);
  EdgeLinkCallbacks callbacks = reader.Callbacks();
  std::atomic<int> failed{0};
  auto on_state = callbacks.on_state;
  callbacks.on_state = [&, on_state](LinkState state, const absl::Status& why) {
    if (state == LinkState::kFailed) ++failed;
    on_state(state, why);
  };
  EdgeLinkOptions options = EdgeOptions(proxy.port());
  options.connections = 2;
  auto edge = EdgeLink::Start(options, callbacks);
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(60)));
  EXPECT_EQ(writer.HelloGenerations().front(), 0u) << "a new link instance asks for a generation";
  EXPECT_EQ((*edge)->Metrics().generation, generation);
  // Every reconnect says hello with the generation the hub issued.
  const size_t before = writer.HelloGenerations().size();
  proxy.CutAll();
  ASSERT_TRUE(WaitFor([&] { return writer.HelloGenerations().size() >= before + 2 && (*edge)->Metrics().up; },
                      seconds(20)));
  const std::vector<uint64_t> hellos = writer.HelloGenerations();
  for (size_t i = before; i < hellos.size(); ++i) EXPECT_EQ(hellos[i], generation) << "hello " << i;

  // A newer instance took over: the hub refuses this one as stale (on
  // connection 0; the others meanwhile are refused as unavailable and keep
  // redialling). It stops for good: no connection redials, no more
  // batches, the owner told once.
  writer.SetRefusal(absl::UnavailableError("not served here (the test refuses it)"));
  proxy.CutAll();
  // Let the connections fall into their redial back-off, out of step.
  const int hellos_refused = writer.hellos();
  ASSERT_TRUE(WaitFor([&] { return writer.hellos() >= hellos_refused + 6; }, seconds(20)));
  writer.SetRefusal(absl::FailedPreconditionError(
                        "stale generation 6000000000001: a newer instance of edge 'test-edge' took over"),
                    /*connection=*/0);
  ASSERT_TRUE(WaitFor([&] { return failed.load() == 1; }, seconds(20)));
  const EdgeLinkMetrics m = (*edge)->Metrics();
  EXPECT_TRUE(m.failed);
  EXPECT_FALSE(m.up);
  EXPECT_THAT(m.last_error, HasSubstr("stale generation"));
  OutgoingBatch batch;
  batch.partition = TopicPartition{source.topic, 0};
  batch.records.push_back(source.Make(0, source.per_partition));
  EXPECT_EQ((*edge)->SendBatch(std::move(batch)).status().code(), absl::StatusCode::kCancelled);
  // Redialling would fence the newer instance: the link never does. Give it
  // many of its reconnect intervals (20..300 ms) to prove it.
  const int hellos_when_failed = writer.hellos();
  EXPECT_FALSE(WaitFor([&] { return writer.hellos() > hellos_when_failed; }, seconds(2)));
  EXPECT_EQ(failed.load(), 1);
  reader.Stop();
  (*edge)->Stop();
  ExpectExactlyTheSource(writer, source);
}

TEST(TransportLink, ResumesAfterTenConnectionCutsWithoutLosingOrDuplicatingARecord) {
  Source source;
  source.partitions = 6;
  source.per_partition = 30'000;
  TestWriter writer;
  writer.SetRecordsPerCommit(300);  // a slower target: the transfer takes a while
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  FaultProxy proxy((*hub)->port());
  TestReader reader(source, 200);
  auto edge = EdgeLink::Start(EdgeOptions(proxy.port()), reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());

  // Ten cuts spread over the transfer, each at a random moment once the
  // link is up again and a fifteenth of the records more were committed:
  // batches are in flight and unacknowledged every time.
  std::mt19937 rng(20261128);
  int cuts = 0;
  int64_t last_cut_at = 0;
  while (cuts < 10) {
    ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().up &&
                                     writer.CommittedTotal() >= last_cut_at + source.total() / 15; },
                        seconds(60)))
        << "cut " << cuts + 1;
    std::this_thread::sleep_for(milliseconds(rng() % 10));
    if (proxy.CutAll() > 0) {
      ++cuts;
      last_cut_at = writer.CommittedTotal();
    }
  }
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120))) << writer.CommittedTotal();
  reader.Stop();
  EXPECT_EQ(cuts, 10);
  ExpectExactlyTheSource(writer, source);
  const EdgeLinkMetrics m = (*edge)->Metrics();
  EXPECT_GE(m.reconnects, 10u);
  EXPECT_GT(m.batches_resent + m.batches_acked, 0u);
  EXPECT_TRUE(WaitFor([&] { return (*edge)->BufferedBytes() == 0; }, seconds(10)));
  const HubMetrics h = (*hub)->Metrics();
  std::cout << "10 cuts: " << m.batches_sent << " batches sent, " << m.batches_resent << " resent, "
            << h.duplicate_batches << " dropped by the hub as already committed, " << m.reconnects << " reconnects\n";
  // Batches in flight at a cut go again (they were not committed), but
  // nothing the hub had committed: the resume points told the edge to drop
  // those, so the hub never had to discard a duplicate.
  EXPECT_GT(m.batches_resent, 0u);
  EXPECT_EQ(h.duplicate_batches, 0u);
}

TEST(TransportLink, CorruptedBytesCloseTheConnectionAndLoseNothing) {
  Source source;
  source.partitions = 4;
  source.per_partition = 20'000;
  TestWriter writer;
  writer.SetRecordsPerCommit(300);
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  FaultProxy proxy((*hub)->port());
  TestReader reader(source, 200);
  auto edge = EdgeLink::Start(EdgeOptions(proxy.port()), reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  for (int k = 1; k <= 3; ++k) {
    ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().up && writer.CommittedTotal() >= source.total() * k / 5; },
                        seconds(60)));
    const uint64_t disconnects = (*edge)->Metrics().disconnects;
    proxy.CorruptOnce();  // TLS notices (bad record MAC) and the hub drops the connection
    ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().disconnects > disconnects; }, seconds(30)));
  }
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120)));
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
}

TEST(TransportLink, ReportsWireBytesAndCompressionRatioForJsonPayloads) {
  for (Compression codec : {Compression::kZstd, Compression::kLz4, Compression::kNone}) {
    SCOPED_TRACE(std::string(CompressionName(codec)));
    Source source;
    source.partitions = 2;
    source.per_partition = 10'000;
    TestWriter writer;
    auto hub = HubServer::Start(HubOptions(), &writer);
    ASSERT_THAT(hub, IsOk());
    TestReader reader(source, 1000);
    EdgeLinkOptions options = EdgeOptions((*hub)->port());
    options.compression = {codec, 3};
    auto edge = EdgeLink::Start(options, reader.Callbacks());
    ASSERT_THAT(edge, IsOk());
    reader.Start(edge->get());
    ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(60)));
    reader.Stop();
    ExpectExactlyTheSource(writer, source);
    const EdgeLinkMetrics m = (*edge)->Metrics();
    const HubMetrics h = (*hub)->Metrics();
    EXPECT_GT(m.bytes_uncompressed, 10'000u * 2 * 100);
    EXPECT_GE(m.wire_bytes_sent, m.bytes_compressed);
    EXPECT_EQ(h.bytes_uncompressed, m.bytes_uncompressed);
    if (codec == Compression::kNone) {
      EXPECT_DOUBLE_EQ(m.compression_ratio(), 1.0);
    } else {
      EXPECT_GT(m.compression_ratio(), 3.0);
      EXPECT_LT(m.wire_bytes_sent, m.bytes_uncompressed / 3);
    }
    std::cout << CompressionName(codec) << ": " << m.bytes_uncompressed << " bytes of records, "
              << m.bytes_compressed << " compressed, " << m.wire_bytes_sent << " on the wire, ratio "
              << m.compression_ratio() << "\n";
  }
}

TEST(TransportLink, BoundsEdgeMemoryWhileTheWriterStallsAndCatchesUpAfter) {
  Source source;
  source.partitions = 4;
  source.per_partition = 20'000;
  TestWriter writer;
  writer.SetPaused(true);  // the target cluster is down
  HubServerOptions hub_options = HubOptions();
  hub_options.receive_window_bytes = 1 << 20;  // x 3 connections: the hub takes 3 MiB
  hub_options.max_batch_bytes = 512 << 10;
  auto hub = HubServer::Start(hub_options, &writer);
  ASSERT_THAT(hub, IsOk());
  TestReader reader(source, 200);
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  options.compression = {Compression::kNone, 0};  // so that bytes are easy to reason about
  options.buffer_budget_bytes = 4 << 20;          // the edge holds 4 MiB
  options.max_batch_bytes = 512 << 10;
  auto edge = EdgeLink::Start(options, reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());

  // The hub's credit runs out, then the edge's budget: the reader is held back.
  ASSERT_TRUE(WaitFor([&] { return reader.paused() > 0 && (*edge)->Metrics().credit_waits > 0; }, seconds(20)))
      << reader.paused() << " pauses, " << (*edge)->Metrics().credit_waits << " credit waits";
  std::this_thread::sleep_for(milliseconds(500));
  const EdgeLinkMetrics stalled = (*edge)->Metrics();
  EXPECT_LE(stalled.buffered_bytes, options.buffer_budget_bytes);
  EXPECT_LE(reader.max_buffered(), options.buffer_budget_bytes);
  EXPECT_GT(stalled.credit_waits, 0u);
  EXPECT_LT(writer.PendingRecords(), static_cast<size_t>(source.total()));
  EXPECT_EQ(writer.CommittedTotal(), 0);

  writer.SetPaused(false);  // the target is back
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120)));
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
  EXPECT_LE(reader.max_buffered(), options.buffer_budget_bytes);
}

TEST(TransportLink, DetectsADeadLinkAndRedials) {
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  FaultProxy proxy((*hub)->port());
  EdgeLinkOptions options = EdgeOptions(proxy.port());
  options.connections = 1;
  options.heartbeat_interval = milliseconds(100);
  options.dead_link_timeout = milliseconds(800);
  auto edge = EdgeLink::Start(options, {});
  ASSERT_THAT(edge, IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().up; }, seconds(20)));
  proxy.SetBlackhole(true);  // packets vanish, nobody closes anything
  ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().disconnects > 0; }, seconds(10)));
  EXPECT_THAT((*edge)->Metrics().last_error, HasSubstr("dead link: nothing from the hub for"));
  proxy.SetBlackhole(false);
  ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().up; }, seconds(20)));
  EXPECT_GE((*edge)->Metrics().reconnects, 1u);
}

TEST(TransportLink, TunnelsThroughAnHttpConnectProxy) {
  Source source;
  source.partitions = 2;
  source.per_partition = 5'000;
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  FaultProxy proxy((*hub)->port(), {.connect_mode = true, .required_auth = "Basic ZWRnZTpzZWNyZXQ="});
  {
    EdgeLinkOptions wrong = EdgeOptions((*hub)->port());
    wrong.proxy = ProxyOptions{"127.0.0.1", static_cast<uint16_t>(proxy.port()), "Basic bm9ib2R5Og=="};
    EXPECT_THAT(RefusedEdgeError(wrong), HasSubstr("proxy CONNECT 127.0.0.1:" + std::to_string((*hub)->port()) +
                                                   ": 407 Proxy Authentication Required"));
  }
  TestReader reader(source, 500);
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  options.proxy = ProxyOptions{"127.0.0.1", static_cast<uint16_t>(proxy.port()), "Basic ZWRnZTpzZWNyZXQ="};
  auto edge = EdgeLink::Start(options, reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(60)));
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
  EXPECT_THAT(proxy.connect_requests(),
              ::testing::Contains("CONNECT 127.0.0.1:" + std::to_string((*hub)->port()) + " HTTP/1.1"));
}

TEST(TransportLink, PicksUpCertificatesChangedOnDisk) {
  const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat("longhaul-rotate-", getpid());
  fs::create_directories(dir);
  auto put = [&](const std::string& from, const std::string& to) {
    // Write a new file and rename it over the old one, as rotation tools do.
    fs::copy_file(Cert(from), dir / (to + ".tmp"), fs::copy_options::overwrite_existing);
    fs::rename(dir / (to + ".tmp"), dir / to);
  };
  // The hub starts trusting only the rogue CA; the edge starts with the rogue cert.
  put("rogue-ca.pem", "hub-trusts.pem");
  put("edge.pem", "edge.pem");
  put("edge.key", "edge.key");
  TestWriter writer;
  HubServerOptions hub_options = HubOptions();
  hub_options.tls.ca_file = (dir / "hub-trusts.pem").string();
  auto hub = HubServer::Start(hub_options, &writer);
  ASSERT_THAT(hub, IsOk());
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  options.connections = 1;
  options.reconnect_initial = milliseconds(50);
  options.reconnect_max = milliseconds(200);
  options.tls.cert_file = (dir / "edge.pem").string();
  options.tls.key_file = (dir / "edge.key").string();
  auto edge = EdgeLink::Start(options, {});
  ASSERT_THAT(edge, IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().connect_failures >= 2; }, seconds(20)));
  EXPECT_FALSE((*edge)->Metrics().up);
  // Rotate the hub's CA bundle: the next accept uses it.
  put("ca.pem", "hub-trusts.pem");
  ASSERT_TRUE(WaitFor([&] { return (*edge)->Metrics().up; }, seconds(20))) << (*edge)->Metrics().last_error;
  (*edge)->Stop();

  // And the edge side: start with the rogue client cert, rotate to the good one.
  put("rogue-edge.pem", "edge.pem");
  put("rogue-edge.key", "edge.key");
  auto edge2 = EdgeLink::Start(options, {});
  ASSERT_THAT(edge2, IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*edge2)->Metrics().connect_failures >= 2; }, seconds(20)));
  put("edge.pem", "edge.pem");
  put("edge.key", "edge.key");
  ASSERT_TRUE(WaitFor([&] { return (*edge2)->Metrics().up; }, seconds(20))) << (*edge2)->Metrics().last_error;
  fs::remove_all(dir);
}

TEST(TransportLink, ARestartedEdgeResumesFromTheHubsResumePoints) {
  Source source;
  source.partitions = 4;
  source.per_partition = 25'000;
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  TestReader reader(source, 300);
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  auto edge = EdgeLink::Start(options, reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return writer.CommittedTotal() > source.total() / 3; }, seconds(60)));
  // The edge process dies: its unacknowledged batches are gone with it.
  reader.Stop();
  (*edge)->Stop();
  edge->reset();
  ASSERT_LT(writer.CommittedTotal(), source.total());
  reader.Reset();
  auto restarted = EdgeLink::Start(options, reader.Callbacks());  // a new link instance
  ASSERT_THAT(restarted, IsOk());
  reader.Start(restarted->get());
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120)));
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
}

TEST(TransportLink, SurvivesAHubRestart) {
  Source source;
  source.partitions = 4;
  source.per_partition = 25'000;
  TestWriter writer;  // the target cluster: outlives the hub process
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  FaultProxy front((*hub)->port());  // a stable address for the edge
  TestReader reader(source, 300);
  auto edge = EdgeLink::Start(EdgeOptions(front.port()), reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return writer.CommittedTotal() > source.total() / 3; }, seconds(60)));
  (*hub)->Stop();
  hub->reset();
  front.CutAll();
  auto restarted = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(restarted, IsOk());
  front.SetTarget((*restarted)->port());
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120)));
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
  EXPECT_GE((*edge)->Metrics().reconnects, 1u);
}

// ---------------------------------------------------------------- several hubs

// A loopback port with nothing listening (connections are refused).
int DeadPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

HubAddress Loopback(int port) { return HubAddress{"127.0.0.1", static_cast<uint16_t>(port)}; }

TEST(TransportLink, AHubThatDoesNotServeTheEdgeSendsItToTheNextHubOnItsList) {
  Source source;
  source.partitions = 4;
  source.per_partition = 10'000;
  TestWriter refusing;
  refusing.SetRefusal(absl::UnavailableError("lane 3 of pipeline orders-pipeline is not served by this hub"));
  TestWriter serving;
  auto first = HubServer::Start(HubOptions(), &refusing);
  ASSERT_THAT(first, IsOk());
  auto second = HubServer::Start(HubOptions(), &serving);
  ASSERT_THAT(second, IsOk());
  TestReader reader(source, 250);
  EdgeLinkOptions options = EdgeOptions((*first)->port());
  options.hubs.push_back(Loopback((*second)->port()));
  options.reconnect_initial = milliseconds(5'000);  // moving on needs no back-off
  options.reconnect_max = milliseconds(5'000);
  auto edge = EdgeLink::Start(options, reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return Finished(serving, source); }, seconds(60))) << (*edge)->Metrics().last_error;
  reader.Stop();
  ExpectExactlyTheSource(serving, source);
  EXPECT_EQ(refusing.CommittedTotal(), 0);
  EXPECT_GE(refusing.hellos(), 1);
  const EdgeLinkMetrics m = (*edge)->Metrics();
  EXPECT_EQ(m.hub, Loopback((*second)->port()).ToString());
  EXPECT_EQ(m.hub_moves, 1u) << "every connection moved together, once";
  // Every connection streams from the second hub (all of them said hello there).
  EXPECT_EQ(serving.hellos(), options.connections);
}

TEST(TransportLink, WhenEveryHubRefusesTheWholeLinkBacksOffInsteadOfSpinning) {
  // Two hubs that both send the edge on, an edge with several connections:
  // one round of moves, then every connection waits out the back-off. (A move
  // by one connection used to wake the others, which moved again at once:
  // hundreds of thousands of moves a minute.)
  TestWriter first_writer, second_writer;
  first_writer.SetRefusal(absl::UnavailableError("lane 1 of pipeline orders-pipeline is not served by this hub"));
  second_writer.SetRefusal(absl::UnavailableError("lane 1 of pipeline orders-pipeline is not served by this hub"));
  auto first = HubServer::Start(HubOptions(), &first_writer);
  ASSERT_THAT(first, IsOk());
  auto second = HubServer::Start(HubOptions(), &second_writer);
  ASSERT_THAT(second, IsOk());
  EdgeLinkOptions options = EdgeOptions((*first)->port());
  options.hubs.push_back(Loopback((*second)->port()));
  options.connections = 3;
  options.reconnect_initial = milliseconds(2'000);
  options.reconnect_max = milliseconds(2'000);
  auto edge = EdgeLink::Start(options, {});
  ASSERT_THAT(edge, IsOk());
  std::this_thread::sleep_for(seconds(5));  // about two back-off periods
  const EdgeLinkMetrics m = (*edge)->Metrics();
  (*edge)->Stop();
  // A round is 2 moves, and within 5 s about 3 rounds start (at 0, 2, 4 s);
  // connections that were mid-dial when the link moved say hello once more.
  // The bounds leave room for that and are still far below a spinning link
  // (thousands of moves and hellos a second).
  EXPECT_GE(m.hub_moves, 2u);
  EXPECT_LE(m.hub_moves, 12u) << "the link spun through the hub list";
  EXPECT_LE(first_writer.hellos() + second_writer.hellos(), 60) << "connections redialled without backing off";
}

TEST(TransportLink, SkipsADeadHubAddress) {
  Source source;
  source.partitions = 4;
  source.per_partition = 10'000;
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  TestReader reader(source, 250);
  EdgeLinkOptions options = EdgeOptions(DeadPort());
  options.hubs.push_back(Loopback((*hub)->port()));
  options.reconnect_initial = milliseconds(5'000);
  options.reconnect_max = milliseconds(5'000);
  auto edge = EdgeLink::Start(options, reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(60))) << (*edge)->Metrics().last_error;
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
  const EdgeLinkMetrics m = (*edge)->Metrics();
  EXPECT_EQ(m.hub, Loopback((*hub)->port()).ToString());
  EXPECT_EQ(m.hub_moves, 1u);
  EXPECT_EQ(writer.hellos(), options.connections);
}

TEST(TransportLink, MovesToAnotherHubWhenItsHubDiesAndLosesNothing) {
  Source source;
  source.partitions = 4;
  source.per_partition = 25'000;
  TestWriter writer;  // the target cluster, shared by both hubs
  writer.SetRecordsPerCommit(300);
  auto first = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(first, IsOk());
  auto second = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(second, IsOk());
  TestReader reader(source, 300);
  EdgeLinkOptions options = EdgeOptions((*first)->port());
  options.hubs.push_back(Loopback((*second)->port()));
  auto edge = EdgeLink::Start(options, reader.Callbacks());
  ASSERT_THAT(edge, IsOk());
  reader.Start(edge->get());
  ASSERT_TRUE(WaitFor([&] { return writer.CommittedTotal() > source.total() / 4; }, seconds(60)));
  ASSERT_EQ((*edge)->Metrics().hub, Loopback((*first)->port()).ToString());
  (*first)->Stop();
  ASSERT_TRUE(WaitFor([&] { return Finished(writer, source); }, seconds(120))) << (*edge)->Metrics().last_error;
  reader.Stop();
  ExpectExactlyTheSource(writer, source);
  EXPECT_EQ((*edge)->Metrics().hub, Loopback((*second)->port()).ToString());
  EXPECT_GE((*edge)->Metrics().hub_moves, 1u);
}

TEST(TransportLink, DeliversTheEdgesReportToTheHubAfterTheResume) {
  TestWriter writer;
  auto hub = HubServer::Start(HubOptions(), &writer);
  ASSERT_THAT(hub, IsOk());
  EdgeLinkOptions options = EdgeOptions((*hub)->port());
  auto edge = EdgeLink::Start(options, {});
  ASSERT_THAT(edge, IsOk());
  ReportFrame report;
  report.wall_ms = 1'700'000'000'000;
  report.partitions.push_back(PartitionReport{{"orders", 1}, 500, 420, 1'699'999'990'000, 3, 0});
  report.partitions.push_back(PartitionReport{{"orders", 0}, 100, 100, -1, 0, 0});
  ASSERT_THAT((*edge)->SetReport(report), IsOk());
  ASSERT_TRUE(WaitFor([&] { return writer.reports() >= 1; }, seconds(20))) << (*edge)->Metrics().last_error;
  const ReportFrame got = writer.LastReport();
  ASSERT_EQ(got.partitions.size(), 2u);
  EXPECT_EQ(got.partitions[0], report.partitions[1]);  // sorted by partition
  EXPECT_EQ(got.partitions[1], report.partitions[0]);
  EXPECT_EQ(got.wall_ms, report.wall_ms);
  EXPECT_EQ(got.buffer_budget_bytes, options.buffer_budget_bytes);  // filled by the link
  // A malformed report is refused, naming the fault, and sends nothing.
  report.partitions.push_back(PartitionReport{{"orders", 0}, 1, 1, -1, 0, 0});
  EXPECT_THAT((*edge)->SetReport(report).message(), HasSubstr("orders[0] is listed twice"));
}

}  // namespace
}  // namespace longhaul::transport
