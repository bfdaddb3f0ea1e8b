// longhaul-fleet: many simulated edges in one process, for tests and bench.
//
//   longhaul-fleet run   ...   N edges, each with its own certificate and its
//                              own EdgeLink (real protocol, real TLS) to the
//                              hub, a trickle of records, random disconnects;
//                              then waits until every record is acknowledged
//                              and writes what it generated (--expect FILE)
//   longhaul-fleet check ...   reads each edge's target topic on the hub's
//                              cluster and verifies every record exactly
//                              once, in order, as generated
//
// Each edge keeps the records it generated from the hub's committed point on
// (its "source log"); on a resume it sends again from where the hub says, as
// the real edge re-reads its source, so exactly-once holds across
// disconnects. See soak/fleet/README.md.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "longhaul/base/clock.h"
#include "longhaul/base/host_port.h"
#include "longhaul/base/logging.h"
#include "longhaul/soak/flag_table.h"
#include "longhaul/soak/fleet_records.h"
#include "longhaul/transport/edge_link.h"
#include "rdkafka_topic_reader.h"

namespace longhaul::soak {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted = true; }

// ---------------------------------------------------------------- options

using HubAddress = HostPort;

struct RunOptions {
  std::vector<HubAddress> hubs;
  std::string server_name;
  std::string certs;  // ca.pem and edges/NAME.pem/.key
  int edges = 10;
  int first_edge = 0;
  std::string edge_prefix = "ship-";
  std::string layout = "many";  // many | per-edge
  std::string pipeline = "fleet";
  std::string topic = "telemetry";
  std::string target_pattern = "{edge}.{topic}";
  int partitions = 2;
  double rate = 10;  // records/s per edge
  int value_size = 100;
  absl::Duration duration = absl::Seconds(60);
  absl::Duration drain_timeout = absl::Seconds(120);
  // After the drain, every link stays connected with nothing to send for
  // this long (to measure what an idle connected edge costs the hub).
  absl::Duration idle = absl::ZeroDuration();
  absl::Duration start_spread = absl::Seconds(5);
  double disconnects_per_minute = 0;  // over the whole fleet
  absl::Duration max_down_time = absl::Seconds(3);
  // With several hubs: a link not up for this long is restarted on the next
  // hub of the list (until the EdgeLink dials a list itself). 0: never.
  absl::Duration failover_after = absl::ZeroDuration();
  int connections = 1;
  int threads = 4;
  int64_t buffer_bytes = int64_t{8} << 20;
  int64_t max_batch_records = 500;
  std::string expect_file;
  std::string json_file;
  std::string run_tag;
  uint64_t seed = 0;
  std::string log_level = "warn";
};

struct CheckOptions {
  std::string expect_file;
  std::string bootstrap;
  // Each reader checks one edge's topic at a time, mostly waiting on the
  // broker: 500 edges took 3 minutes with 4 readers, 13 s with 16.
  int threads = 16;
  absl::Duration timeout = absl::Minutes(5);
  std::vector<std::pair<std::string, std::string>> properties;
};

absl::Status ParseHubs(absl::string_view value, std::vector<HubAddress>* hubs) {
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    absl::StatusOr<HostPort> hub = ParseHostPort(std::string_view(item.data(), item.size()));
    if (!hub.ok()) return absl::InvalidArgumentError(absl::StrCat("--hub '", item, "': ", hub.status().message()));
    hubs->push_back(*hub);
  }
  return absl::OkStatus();
}

absl::StatusOr<RunOptions> ParseRunOptions(const std::vector<std::string>& args) {
  RunOptions o;
  FlagTable t;
  t.Value("--hub", [&](absl::string_view, absl::string_view v) { return ParseHubs(v, &o.hubs); });
  t.Value("--server-name", StringInto(&o.server_name));
  t.Value("--certs", StringInto(&o.certs));
  t.Value("--edges", IntInto(&o.edges, 1));
  t.Value("--first-edge", IntInto(&o.first_edge, 0));
  t.Value("--edge-prefix", StringInto(&o.edge_prefix));
  t.Value("--layout", StringInto(&o.layout));
  t.Value("--pipeline", StringInto(&o.pipeline));
  t.Value("--topic", StringInto(&o.topic));
  t.Value("--target-pattern", StringInto(&o.target_pattern));
  t.Value("--partitions", IntInto(&o.partitions, 1));
  t.Value("--rate", [&](absl::string_view f, absl::string_view v) -> absl::Status {
    if (!absl::SimpleAtod(v, &o.rate) || !(o.rate > 0 && o.rate <= 100000)) {
      return absl::InvalidArgumentError(absl::StrCat(f, ": expected records/s per edge in (0, 100000], got '", v, "'"));
    }
    return absl::OkStatus();
  });
  t.Value("--value-size", IntInto(&o.value_size, 0));
  t.Value("--duration", DurationInto(&o.duration));
  t.Value("--drain-timeout", DurationInto(&o.drain_timeout));
  t.Value("--idle", DurationInto(&o.idle));
  t.Value("--start-spread", DurationInto(&o.start_spread));
  t.Value("--disconnects-per-minute", [&](absl::string_view f, absl::string_view v) -> absl::Status {
    if (!absl::SimpleAtod(v, &o.disconnects_per_minute) || !(o.disconnects_per_minute >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat(f, ": expected a number >= 0, got '", v, "'"));
    }
    return absl::OkStatus();
  });
  t.Value("--max-down-time", DurationInto(&o.max_down_time));
  t.Value("--failover-after", DurationInto(&o.failover_after));
  t.Value("--connections", IntInto(&o.connections, 1));
  t.Value("--threads", IntInto(&o.threads, 1));
  t.Value("--buffer-bytes", IntInto(&o.buffer_bytes, 1 << 20));
  t.Value("--max-batch-records", IntInto(&o.max_batch_records, 1));
  t.Value("--expect", StringInto(&o.expect_file));
  t.Value("--json", StringInto(&o.json_file));
  t.Value("--run-tag", StringInto(&o.run_tag));
  t.Value("--seed", IntInto(&o.seed, 0));
  t.Value("--log-level", StringInto(&o.log_level));
  if (absl::Status s = t.Parse(args); !s.ok()) return s;
  if (o.hubs.empty()) return absl::InvalidArgumentError("--hub host:port is required");
  if (o.certs.empty()) return absl::InvalidArgumentError("--certs DIR is required (scripts/make-test-certs --edges N)");
  if (o.layout != "many" && o.layout != "per-edge") {
    return absl::InvalidArgumentError(absl::StrCat("--layout: expected many or per-edge, got '", o.layout, "'"));
  }
  if (o.duration <= absl::ZeroDuration()) return absl::InvalidArgumentError("--duration must be > 0");
  return o;
}

absl::StatusOr<CheckOptions> ParseCheckOptions(const std::vector<std::string>& args) {
  CheckOptions o;
  FlagTable t;
  t.Value("--expect", StringInto(&o.expect_file));
  t.Value("--bootstrap", StringInto(&o.bootstrap));
  t.Value("--threads", IntInto(&o.threads, 1));
  t.Value("--timeout", DurationInto(&o.timeout));
  t.Value("--property", KeyValueInto(&o.properties));
  if (absl::Status s = t.Parse(args); !s.ok()) return s;
  if (o.expect_file.empty()) return absl::InvalidArgumentError("--expect FILE is required (written by run)");
  if (o.bootstrap.empty()) return absl::InvalidArgumentError("--bootstrap is required (the hub's target cluster)");
  return o;
}

// ------------------------------------------------------------ expect file

// What a run generated, per edge: enough for `check` to verify the target.
struct ExpectedEdge {
  std::string name;
  uint32_t run_id = 0;
  std::string target_topic;
  std::vector<int64_t> counts;  // per partition: sequences [0, count)
};

absl::Status WriteExpect(const std::string& path, const std::string& run_tag, const std::vector<ExpectedEdge>& edges) {
  std::ofstream out(path);
  out << "longhaul-fleet-expect 1\nrun_tag " << run_tag << "\n";
  for (const auto& e : edges) {
    out << "edge " << e.name << " " << e.run_id << " " << e.target_topic << " " << absl::StrJoin(e.counts, ",")
        << "\n";
  }
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ExpectedEdge>> ReadExpect(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<ExpectedEdge> edges;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": ", why));
    };
    if (number == 1) {
      if (f.size() != 2 || f[0] != "longhaul-fleet-expect" || f[1] != "1") return bad("not a longhaul-fleet expect file");
      continue;
    }
    if (f.empty() || f[0] == "run_tag") continue;
    if (f[0] != "edge" || f.size() != 5) return bad("expected 'edge NAME RUN_ID TOPIC COUNTS'");
    ExpectedEdge e;
    e.name = f[1];
    e.target_topic = f[3];
    if (!absl::SimpleAtoi(f[2], &e.run_id)) return bad("bad run id");
    for (absl::string_view c : absl::StrSplit(f[4], ',')) {
      int64_t n = 0;
      if (!absl::SimpleAtoi(c, &n) || n < 0) return bad("bad count");
      e.counts.push_back(n);
    }
    edges.push_back(std::move(e));
  }
  if (number == 0) return absl::InvalidArgumentError(absl::StrCat(path, ": empty"));
  return edges;
}

// ------------------------------------------------------------------ run

// The hubs a link instance dials, starting at hubs[first % size]. Compiles
// against either shape of EdgeLinkOptions: one hub (hub_host/hub_port; the
// simulator then moves to the next hub itself: --failover-after, "not
// served here") or a list (`hubs`, the EdgeLink moves by itself; the
// simulator's moves only add to it).
template <typename Options>
auto PointAtHubs(Options& lo, const std::vector<HubAddress>& hubs, size_t first, int)
    -> decltype(lo.hub_host, void()) {
  lo.hub_host = hubs[first % hubs.size()].host;
  lo.hub_port = hubs[first % hubs.size()].port;
}
template <typename Options>
void PointAtHubs(Options& lo, const std::vector<HubAddress>& hubs, size_t first, long) {
  lo.hubs.clear();
  for (size_t i = 0; i < hubs.size(); ++i) {
    const HubAddress& h = hubs[(first + i) % hubs.size()];
    lo.hubs.push_back({h.host, h.port});
  }
}

struct LinkEvent {
  uint64_t link_instance = 0;  // events of a stopped link are dropped
  std::variant<transport::ResumeEvent, transport::AckEvent, std::pair<transport::LinkState, absl::Status>,
               std::monostate>
      what;  // monostate: writable
};

struct PartitionLog {
  // Generated records from the hub's committed point on: offsets
  // [log_start, next), log[i] has offset log_start + i.
  std::deque<Record> log;
  int64_t log_start = 0;
  int64_t next = 0;
  int64_t committed = 0;      // the hub's committed next offset, as last heard
  int64_t send_next = -1;     // next offset to hand to the link; -1: wait for the resume
  int64_t last_sent_first = -1;
};

struct EdgeStats {
  int64_t restarts = 0;        // links stopped and started by the simulator (disconnect faults, resyncs)
  int64_t resyncs = 0;         // of those, after a refused batch with no resume explaining it
  int64_t failovers = 0;       // of those, to the next hub after --failover-after without the link up
  int64_t link_downs = 0;      // connections lost while the link ran (kDown)
  int64_t sends = 0;
  int64_t max_lag_records = 0;
  int64_t max_lag_ms = 0;
  std::string last_error;
};

class SimulatedEdge {
 public:
  SimulatedEdge(const RunOptions& o, int index, const std::string& run_tag)
      : o_(o),
        name_(absl::StrFormat("%s%0*d", o.edge_prefix, std::max<int>(3, absl::StrCat(o.first_edge + o.edges - 1).size()),
                              index)),
        run_id_(FleetRunId(run_tag, name_)),
        parts_(static_cast<size_t>(o.partitions)),
        hub_index_(static_cast<size_t>(index)) {}  // edges spread over the hubs

  const std::string& name() const { return name_; }

  std::string Pipeline() const { return o_.layout == "many" ? o_.pipeline : absl::StrCat(o_.pipeline, "-", name_); }

  ExpectedEdge Expected() {
    std::lock_guard<std::mutex> lock(mu_);
    ExpectedEdge e{name_, run_id_, ExpandFleetPattern(o_.target_pattern, name_, o_.topic), {}};
    for (const auto& p : parts_) e.counts.push_back(p.next);
    return e;
  }

  // Starts the link when it is due (first start, or after a disconnect's down time).
  void MaybeStart(Steady::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (link_ || failed_ || now < start_at_) return;
    transport::EdgeLinkOptions lo;
    PointAtHubs(lo, o_.hubs, hub_index_, 0);
    lo.server_name = o_.server_name;
    lo.tls.ca_file = absl::StrCat(o_.certs, "/ca.pem");
    lo.tls.cert_file = absl::StrCat(o_.certs, "/edges/", name_, ".pem");
    lo.tls.key_file = absl::StrCat(o_.certs, "/edges/", name_, ".key");
    lo.pipeline = Pipeline();
    lo.edge_name = name_;
    lo.connections = o_.connections;
    lo.buffer_budget_bytes = static_cast<uint64_t>(o_.buffer_bytes);
    lo.max_batch_bytes = std::min<uint64_t>(lo.buffer_budget_bytes, uint64_t{1} << 20);
    lo.window.initial_bytes = uint64_t{1} << 20;
    lo.window.min_bytes = uint64_t{256} << 10;
    lo.window.max_bytes = uint64_t{8} << 20;
    lo.socket_buffer_bytes = 256 << 10;
    lo.reconnect_max = milliseconds(5'000);
    const uint64_t instance = ++link_instance_;
    transport::EdgeLinkCallbacks cb;
    cb.on_resume = [this, instance](const transport::ResumeEvent& e) { Post({instance, e}); };
    cb.on_ack = [this, instance](const transport::AckEvent& e) { Post({instance, e}); };
    cb.on_state = [this, instance](transport::LinkState s, const absl::Status& why) {
      Post({instance, std::make_pair(s, why)});
    };
    cb.on_writable = [this, instance] { Post({instance, std::monostate{}}); };
    absl::StatusOr<std::unique_ptr<transport::EdgeLink>> link = transport::EdgeLink::Start(lo, std::move(cb));
    if (!link.ok()) {
      failed_ = true;
      stats_.last_error = std::string(link.status().message());
      LogError("fleet: cannot start the edge link", {{"edge", name_}, {"error", stats_.last_error}});
      return;
    }
    link_ = std::move(*link);
    not_up_since_ = now;
    not_served_ = false;
    ready_ = false;
    blocked_ = false;
    resync_since_.reset();
    for (auto& p : parts_) {
      p.send_next = -1;
      p.last_sent_first = -1;
    }
  }

  // A disconnect fault (or a resync): stop the link, keep the source log,
  // start a new link instance after `down`.
  // False when the link was not running (down already, or failed).
  bool Restart(Steady::time_point now, Steady::duration down, bool resync, bool failover = false) {
    std::unique_ptr<transport::EdgeLink> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!link_) return false;
      old = std::move(link_);
      ++stats_.restarts;
      if (resync) ++stats_.resyncs;
      if (failover) ++stats_.failovers;
      start_at_ = now + down;
      ++hub_index_;  // with several hubs, try the next one
    }
    old->Stop();  // joins the I/O thread: no callback of it runs after this
    return true;
  }

  void Stop() {
    std::unique_ptr<transport::EdgeLink> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      old = std::move(link_);
      start_at_ = Steady::time_point::max();
    }
    if (old) old->Stop();
  }

  // Generates the records due by `now` (rate per edge, round-robin over the
  // partitions), applies link events, hands what is unsent to the link.
  void Tick(Steady::time_point now, bool generate) {
    std::lock_guard<std::mutex> lock(mu_);
    if (generate) {
      if (!last_tick_) last_tick_ = now;
      due_ += o_.rate * std::chrono::duration<double>(now - *last_tick_).count();
      last_tick_ = now;
      const int64_t wall = SystemClock::Instance().WallMillis();
      while (due_ >= 1) {
        due_ -= 1;
        PartitionLog& p = parts_[static_cast<size_t>(generated_ % o_.partitions)];
        p.log.push_back(MakeFleetRecord(name_, run_id_, static_cast<int32_t>(generated_ % o_.partitions), p.next, wall,
                                        static_cast<size_t>(o_.value_size)));
        ++p.next;
        ++generated_;
      }
    } else {
      last_tick_.reset();
    }
    ProcessEvents();
    if (link_ && ready_ && !blocked_ && !resync_since_ && !failed_) {
      for (size_t i = 0; i < parts_.size(); ++i) Send(static_cast<int32_t>(i));
    }
    // Lag: uncommitted records and the age of the oldest.
    int64_t lag = 0, age = 0;
    const int64_t wall = SystemClock::Instance().WallMillis();
    for (const auto& p : parts_) {
      lag += p.next - p.committed;
      if (!p.log.empty()) age = std::max(age, wall - p.log.front().timestamp_ms);
    }
    stats_.max_lag_records = std::max(stats_.max_lag_records, lag);
    stats_.max_lag_ms = std::max(stats_.max_lag_ms, age);
  }

  // Several hubs: the link has not been up for --failover-after.
  bool NeedsFailover(Steady::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!link_ || o_.hubs.size() < 2) return false;
    if (not_served_) return true;
    return o_.failover_after > absl::ZeroDuration() && not_up_since_ &&
           now - *not_up_since_ > absl::ToChronoMilliseconds(o_.failover_after);
  }

  // A refused batch that no resume explained within 2 s: start over.
  bool NeedsResync(Steady::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    return resync_since_ && now - *resync_since_ > milliseconds(2'000);
  }

  struct Progress {
    int64_t generated = 0, committed = 0;
    bool up = false, failed = false;
  };
  Progress Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    Progress out{generated_, 0, link_up_, failed_};
    for (const auto& p : parts_) out.committed += p.committed;
    return out;
  }
  EdgeStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  void Post(LinkEvent e) {
    std::lock_guard<std::mutex> lock(events_mu_);
    events_.push_back(std::move(e));
  }

  void Fail(std::string why) {
    if (!failed_) LogError("fleet: edge failed", {{"edge", name_}, {"error", why}});
    failed_ = true;
    stats_.last_error = std::move(why);
  }

  PartitionLog* PartOf(const TopicPartition& tp) {
    if (tp.topic != o_.topic || tp.partition < 0 || tp.partition >= o_.partitions) {
      Fail(absl::StrCat("the hub named partition ", tp.ToString(), ", which this edge never had"));
      return nullptr;
    }
    return &parts_[static_cast<size_t>(tp.partition)];
  }

  void Committed(const transport::PartitionOffset& c) {
    PartitionLog* p = PartOf(c.partition);
    if (p == nullptr) return;
    if (c.offset > p->next) {
      Fail(absl::StrCat("the hub says ", c.partition.ToString(), " committed up to ", c.offset, ", beyond the ",
                        p->next, " records generated"));
      return;
    }
    if (c.offset < p->committed) {
      Fail(absl::StrCat("the hub's committed offset of ", c.partition.ToString(), " went back from ", p->committed,
                        " to ", c.offset));
      return;
    }
    p->committed = c.offset;
    while (p->log_start < p->committed) {
      p->log.pop_front();
      ++p->log_start;
    }
  }

  void Seek(const transport::PartitionOffset& s) {
    PartitionLog* p = PartOf(s.partition);
    if (p == nullptr) return;
    resync_since_.reset();
    if (p->last_sent_first == s.offset && p->send_next > s.offset) return;  // the link took that batch after the seek
    if (s.offset < p->log_start || s.offset > p->next) {
      Fail(absl::StrCat("the hub resumes ", s.partition.ToString(), " at ", s.offset, ", outside the retained ",
                        p->log_start, "..", p->next));
      return;
    }
    p->send_next = s.offset;
    p->last_sent_first = -1;
  }

  void ProcessEvents() {
    std::deque<LinkEvent> events;
    {
      std::lock_guard<std::mutex> lock(events_mu_);
      events.swap(events_);
    }
    for (auto& e : events) {
      if (e.link_instance != link_instance_ || !link_) continue;
      if (auto* resume = std::get_if<transport::ResumeEvent>(&e.what)) {
        for (const auto& c : resume->committed) Committed(c);
        for (const auto& s : resume->seek) Seek(s);
      } else if (auto* ack = std::get_if<transport::AckEvent>(&e.what)) {
        for (const auto& c : ack->committed) Committed(c);
      } else if (auto* state = std::get_if<std::pair<transport::LinkState, absl::Status>>(&e.what)) {
        const bool up = state->first == transport::LinkState::kUp;
        if (!up && link_up_) ++stats_.link_downs;
        if (!up && !state->second.ok()) stats_.last_error = std::string(state->second.message());
        // The hub does not serve this edge's lane: try the next hub now.
        // Fenced as stale although this is the newest link instance of the
        // edge (the simulator stops the old one before starting the next):
        // the link has stopped for good; that is a finding, not a retry.
        if (!up && absl::StrContains(state->second.message(), "stale generation")) {
          Fail(absl::StrCat("link fenced: ", state->second.message()));
        }
        if (!up && absl::StrContains(state->second.message(), "not served")) {
          not_served_ = true;
        }
        link_up_ = up;
        if (up) {
          not_up_since_.reset();
        } else if (!not_up_since_) {
          not_up_since_ = Steady::now();
        }
        if (up && !ready_) {
          // Every connection resumed once: partitions the hub did not name
          // are new to it and start at 0, which we must still hold.
          ready_ = true;
          for (size_t i = 0; i < parts_.size(); ++i) {
            PartitionLog& p = parts_[i];
            if (p.send_next >= 0) continue;
            if (p.log_start != 0) {
              Fail(absl::StrCat("the hub does not know ", o_.topic, "[", i, "] although it committed ", p.log_start,
                                " records of it"));
              return;
            }
            p.send_next = 0;
          }
        }
      } else {
        blocked_ = false;
      }
    }
  }

  void Send(int32_t partition) {
    PartitionLog& p = parts_[static_cast<size_t>(partition)];
    while (p.send_next >= 0 && p.send_next < p.next) {
      if (p.send_next < p.log_start) {
        Fail(absl::StrCat("must send ", o_.topic, "[", partition, "] from ", p.send_next, " but holds only from ",
                          p.log_start));
        return;
      }
      const int64_t first = p.send_next;
      const int64_t end = std::min(p.next, first + o_.max_batch_records);
      transport::OutgoingBatch batch;
      batch.partition = TopicPartition{o_.topic, partition};
      batch.first_offset = first;
      batch.last_offset = end - 1;
      uint64_t bytes = 4096;
      for (int64_t off = first; off < end; ++off) {
        const Record& r = p.log[static_cast<size_t>(off - p.log_start)];
        bytes += 64 + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
        for (const auto& h : r.headers) bytes += 16 + h.name.size() + (h.value ? h.value->size() : 0);
        batch.records.push_back(r);
      }
      if (!link_->CanSend(bytes)) {
        blocked_ = true;
        return;
      }
      absl::StatusOr<uint64_t> sent = link_->SendBatch(std::move(batch));
      if (sent.ok()) {
        ++stats_.sends;
        p.last_sent_first = first;
        p.send_next = end;
        continue;
      }
      switch (sent.status().code()) {
        case absl::StatusCode::kFailedPrecondition:
          // Raced with a resume seek, which repositions us; if none comes,
          // NeedsResync restarts the link.
          resync_since_ = Steady::now();
          return;
        case absl::StatusCode::kResourceExhausted:
          blocked_ = true;
          return;
        case absl::StatusCode::kCancelled:
          return;
        default:
          Fail(absl::StrCat("SendBatch ", o_.topic, "[", partition, "] at ", first, ": ", sent.status().message()));
          return;
      }
    }
  }

  const RunOptions& o_;
  const std::string name_;
  const uint32_t run_id_;

  std::mutex mu_;
  std::vector<PartitionLog> parts_;
  std::unique_ptr<transport::EdgeLink> link_;
  uint64_t link_instance_ = 0;
  size_t hub_index_;
  Steady::time_point start_at_ = Steady::time_point::min();
  bool ready_ = false;
  bool link_up_ = false;
  bool blocked_ = false;
  bool failed_ = false;
  std::optional<Steady::time_point> resync_since_;
  std::optional<Steady::time_point> not_up_since_;
  bool not_served_ = false;
  std::optional<Steady::time_point> last_tick_;
  double due_ = 0;
  int64_t generated_ = 0;
  EdgeStats stats_;

  std::mutex events_mu_;
  std::deque<LinkEvent> events_;

 public:
  void DelayFirstStart(Steady::time_point at) {
    std::lock_guard<std::mutex> lock(mu_);
    start_at_ = at;
  }
};

std::string RandomTag() {
  std::random_device rd;
  return absl::StrFormat("%08x", rd());
}

int64_t Percentile(std::vector<int64_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

int Run(RunOptions o) {
  LogLevel level;
  if (!ParseLogLevel(o.log_level, &level)) {
    std::cerr << "longhaul-fleet: --log-level: expected debug, info, warn or error\n";
    return kExitUsage;
  }
  SetLogLevel(level);
  if (o.run_tag.empty()) o.run_tag = RandomTag();
  if (o.seed == 0) o.seed = std::random_device{}();
  std::mt19937_64 rng(o.seed);

  std::vector<std::unique_ptr<SimulatedEdge>> edges;
  const Steady::time_point t0 = Steady::now();
  for (int i = 0; i < o.edges; ++i) {
    edges.push_back(std::make_unique<SimulatedEdge>(o, o.first_edge + i, o.run_tag));
    // Spread the first dials so N TLS handshakes do not land at once.
    edges.back()->DelayFirstStart(t0 + absl::ToChronoMilliseconds(o.start_spread) * i / o.edges);
  }
  std::cerr << absl::StrFormat(
      "longhaul-fleet: %d edges (%s..%s), layout %s, %d partitions of %s each, %.1f records/s per edge, %s, "
      "%.1f disconnects/min, run tag %s, seed %d\n",
      o.edges, edges.front()->name(), edges.back()->name(), o.layout, o.partitions, o.topic, o.rate,
      absl::FormatDuration(o.duration), o.disconnects_per_minute, o.run_tag, o.seed);

  std::atomic<bool> generating{true};
  std::atomic<bool> stop_workers{false};
  const auto generate_until = t0 + absl::ToChronoMilliseconds(o.duration);
  std::vector<std::thread> workers;
  for (int w = 0; w < o.threads; ++w) {
    workers.emplace_back([&, w] {
      while (!stop_workers) {
        const auto now = Steady::now();
        for (size_t i = static_cast<size_t>(w); i < edges.size(); i += static_cast<size_t>(o.threads)) {
          edges[i]->MaybeStart(now);
          edges[i]->Tick(now, generating);
          if (edges[i]->NeedsResync(now)) edges[i]->Restart(now, milliseconds(0), /*resync=*/true);
          if (edges[i]->NeedsFailover(now)) edges[i]->Restart(now, milliseconds(0), false, /*failover=*/true);
        }
        std::this_thread::sleep_for(milliseconds(50));
      }
    });
  }

  // Disconnect faults: a Poisson process over the fleet, each hitting a
  // random edge, which stays down for up to --max-down-time.
  std::exponential_distribution<double> gap(std::max(o.disconnects_per_minute, 1e-9) / 60.0);
  std::uniform_int_distribution<size_t> pick(0, edges.size() - 1);
  std::uniform_int_distribution<int64_t> down_ms(0, absl::ToInt64Milliseconds(o.max_down_time));
  auto next_fault = t0 + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(gap(rng)));
  int64_t faults = 0;
  auto last_progress = t0;
  auto report = [&](const char* phase) {
    int64_t generated = 0, committed = 0, up = 0, failed = 0;
    for (auto& e : edges) {
      auto p = e->Snapshot();
      generated += p.generated;
      committed += p.committed;
      up += p.up;
      failed += p.failed;
    }
    std::cerr << absl::StrFormat("longhaul-fleet: %s %.0fs: edges up %d/%d, failed %d, generated %d, acked %d, "
                                 "unacked %d, disconnects %d\n",
                                 phase, std::chrono::duration<double>(Steady::now() - t0).count(), up, edges.size(),
                                 failed, generated, committed, generated - committed, faults);
    return std::make_pair(generated, committed);
  };
  while (Steady::now() < generate_until && !g_interrupted) {
    const auto now = Steady::now();
    if (o.disconnects_per_minute > 0 && now >= next_fault) {
      // An edge that is down already is not hit twice; the fault counts only when a link was stopped.
      if (edges[pick(rng)]->Restart(now, milliseconds(down_ms(rng)), /*resync=*/false)) ++faults;
      next_fault += std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(gap(rng)));
      continue;
    }
    if (now - last_progress >= std::chrono::seconds(10)) {
      report("run");
      last_progress = now;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  generating = false;
  // Drain: no more faults; links that are down start now.
  for (auto& e : edges) e->DelayFirstStart(Steady::time_point::min());
  const auto drain_until = Steady::now() + absl::ToChronoMilliseconds(o.drain_timeout);
  std::pair<int64_t, int64_t> totals{0, 0};
  bool drained = false;
  while (Steady::now() < drain_until && !g_interrupted) {
    totals = report("drain");
    if (totals.first == totals.second) {
      drained = true;
      break;
    }
    std::this_thread::sleep_for(milliseconds(2'000));
  }
  totals = report("end");
  drained = totals.first == totals.second;
  // Idle: links stay up (heartbeats only) while the caller measures the hub.
  double idle_start_s = -1, idle_end_s = -1;
  if (drained && o.idle > absl::ZeroDuration() && !g_interrupted) {
    idle_start_s = std::chrono::duration<double>(Steady::now() - t0).count();
    std::cerr << absl::StrFormat("longhaul-fleet: idle from %.1fs for %s\n", idle_start_s,
                                 absl::FormatDuration(o.idle));
    const auto idle_until = Steady::now() + absl::ToChronoMilliseconds(o.idle);
    while (Steady::now() < idle_until && !g_interrupted) std::this_thread::sleep_for(milliseconds(200));
    idle_end_s = std::chrono::duration<double>(Steady::now() - t0).count();
    report("idle end");
  }
  stop_workers = true;
  for (auto& t : workers) t.join();
  {
    // Stop the links in parallel (each sends close frames and joins its thread).
    std::vector<std::thread> stoppers;
    for (int w = 0; w < o.threads; ++w) {
      stoppers.emplace_back([&, w] {
        for (size_t i = static_cast<size_t>(w); i < edges.size(); i += static_cast<size_t>(o.threads)) {
          edges[i]->Stop();
        }
      });
    }
    for (auto& t : stoppers) t.join();
  }

  std::vector<ExpectedEdge> expected;
  std::vector<int64_t> lag_ms, lag_records;
  int64_t restarts = 0, resyncs = 0, failovers = 0, downs = 0, failed = 0, unacked_edges = 0;
  std::ostringstream per_edge_json;
  for (auto& e : edges) {
    ExpectedEdge x = e->Expected();
    const EdgeStats s = e->Stats();
    const auto p = e->Snapshot();
    lag_ms.push_back(s.max_lag_ms);
    lag_records.push_back(s.max_lag_records);
    restarts += s.restarts;
    resyncs += s.resyncs;
    failovers += s.failovers;
    downs += s.link_downs;
    failed += p.failed;
    unacked_edges += p.generated != p.committed;
    if (p.failed || p.generated != p.committed) {
      std::cerr << absl::StrFormat("longhaul-fleet: edge %s: generated %d, acked %d%s%s\n", e->name(), p.generated,
                                   p.committed, s.last_error.empty() ? "" : ", last error: ", s.last_error);
    }
    per_edge_json << (per_edge_json.tellp() > 0 ? ",\n" : "")
                  << absl::StrFormat(
                         "    {\"edge\": \"%s\", \"generated\": %d, \"acked\": %d, \"max_lag_ms\": %d, "
                         "\"max_lag_records\": %d, \"restarts\": %d, \"resyncs\": %d, \"link_downs\": %d, "
                         "\"failed\": %s}",
                         e->name(), p.generated, p.committed, s.max_lag_ms, s.max_lag_records, s.restarts, s.resyncs,
                         s.link_downs, p.failed ? "true" : "false");
    expected.push_back(std::move(x));
  }
  if (!o.expect_file.empty()) {
    if (absl::Status s = WriteExpect(o.expect_file, o.run_tag, expected); !s.ok()) {
      std::cerr << "longhaul-fleet: " << s.message() << "\n";
      return kExitFailed;
    }
  }
  const double seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  const bool ok = drained && failed == 0 && !g_interrupted;
  std::string summary = absl::StrFormat(
      "longhaul-fleet: %s edges=%d layout=%s generated=%d acked=%d unacked_edges=%d failed_edges=%d "
      "disconnect_faults=%d restarts=%d resyncs=%d failovers=%d link_downs=%d max_lag_ms=%d p50_edge_max_lag_ms=%d "
      "p99_edge_max_lag_ms=%d max_lag_records=%d seconds=%.1f run_tag=%s",
      ok ? "done" : (g_interrupted ? "interrupted" : "FAILED"), o.edges, o.layout, totals.first, totals.second,
      unacked_edges, failed, faults, restarts, resyncs, failovers, downs, Percentile(lag_ms, 1.0), Percentile(lag_ms, 0.5),
      Percentile(lag_ms, 0.99), Percentile(lag_records, 1.0), seconds, o.run_tag);
  std::cout << summary << std::endl;
  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    out << absl::StrFormat(
        "{\"passed\": %s, \"edges\": %d, \"layout\": \"%s\", \"generated\": %d, \"acked\": %d, \"failed_edges\": %d, "
        "\"unacked_edges\": %d, \"disconnect_faults\": %d, \"restarts\": %d, \"resyncs\": %d, \"failovers\": %d, "
        "\"link_downs\": %d, \"max_lag_ms\": %d, \"p50_edge_max_lag_ms\": %d, \"p99_edge_max_lag_ms\": %d, \"seconds\": %.1f, "
        "\"idle_start_s\": %.1f, \"idle_end_s\": %.1f, \"run_tag\": \"%s\",\n  \"per_edge\": [\n%s\n  ]}\n",
        ok ? "true" : "false", o.edges, o.layout, totals.first, totals.second, failed, unacked_edges, faults, restarts,
        resyncs, failovers, downs, Percentile(lag_ms, 1.0), Percentile(lag_ms, 0.5), Percentile(lag_ms, 0.99), seconds,
        idle_start_s, idle_end_s, o.run_tag, per_edge_json.str());
  }
  return ok ? kExitOk : kExitFailed;
}

// ---------------------------------------------------------------- check

struct EdgeVerdict {
  std::string edge;
  std::string topic;
  std::vector<FleetPartitionVerifier> partitions;
  std::string error;  // topic missing, read failed
};

EdgeVerdict CheckEdge(RdKafkaTopicReader& reader, const ExpectedEdge& e, absl::Duration timeout) {
  EdgeVerdict v{e.name, e.target_topic, {}, ""};
  for (size_t p = 0; p < e.counts.size(); ++p) {
    v.partitions.emplace_back(e.name, e.run_id, static_cast<int32_t>(p), e.counts[p]);
  }
  absl::StatusOr<int32_t> count = reader.PartitionCount(e.target_topic, absl::Seconds(30));
  if (!count.ok()) {
    v.error = std::string(count.status().message());
    for (auto& p : v.partitions) p.Finish();
    return v;
  }
  // Partitions beyond the edge's are judged too (every record there is extra).
  while (static_cast<int32_t>(v.partitions.size()) < *count) {
    v.partitions.emplace_back(e.name, e.run_id, static_cast<int32_t>(v.partitions.size()), 0);
  }
  absl::StatusOr<std::vector<int64_t>> ends = reader.EndOffsets(e.target_topic, *count, absl::Seconds(30));
  absl::Status s = ends.ok() ? reader.Assign(e.target_topic, *count) : ends.status();
  if (s.ok()) {
    absl::StatusOr<bool> done = reader.ReadTo(*ends, absl::Now() + timeout, /*stop_at_end=*/true,
                                              [&](int32_t partition, const RecordView& r) {
                                                v.partitions[static_cast<size_t>(partition)].Observe(r);
                                              });
    if (!done.ok()) {
      s = done.status();
    } else if (!*done) {
      s = absl::DeadlineExceededError(absl::StrCat("end offsets not reached within ", absl::FormatDuration(timeout)));
    }
    reader.Unassign().IgnoreError();
  }
  if (!s.ok()) v.error = std::string(s.message());
  for (auto& p : v.partitions) p.Finish();
  return v;
}

int Check(const CheckOptions& o) {
  absl::StatusOr<std::vector<ExpectedEdge>> expected = ReadExpect(o.expect_file);
  if (!expected.ok()) {
    std::cerr << "longhaul-fleet check: " << expected.status().message() << "\n";
    return kExitUsage;
  }
  std::vector<EdgeVerdict> verdicts(expected->size());
  std::atomic<size_t> next{0};
  std::atomic<bool> setup_failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min<int>(o.threads, static_cast<int>(expected->size())); ++t) {
    threads.emplace_back([&] {
      // The end of a read_committed partition shows as an EOF event after an
      // empty fetch, which the broker holds for fetch.wait.max.ms (500 ms
      // by default) per topic: short waits, unless --property says otherwise.
      std::vector<std::pair<std::string, std::string>> properties = {{"fetch.wait.max.ms", "20"}};
      properties.insert(properties.end(), o.properties.begin(), o.properties.end());
      auto reader = RdKafkaTopicReader::Create("target", o.bootstrap, properties);
      if (!reader.ok()) {
        std::cerr << "longhaul-fleet check: " << reader.status().message() << "\n";
        setup_failed = true;
        return;
      }
      for (size_t i = next++; i < expected->size(); i = next++) {
        verdicts[i] = CheckEdge(**reader, (*expected)[i], o.timeout);
      }
    });
  }
  for (auto& t : threads) t.join();
  if (setup_failed) return kExitUsage;

  int64_t exp = 0, found = 0, ok = 0, missing = 0, dup = 0, ooo = 0, corrupt = 0, extra = 0, bad_edges = 0;
  for (const auto& v : verdicts) {
    bool edge_ok = v.error.empty();
    for (const auto& p : v.partitions) {
      exp += p.expected();
      found += p.found();
      ok += p.ok();
      missing += p.missing();
      dup += p.duplicated();
      ooo += p.out_of_order();
      corrupt += p.corrupted();
      extra += p.extra();
      edge_ok = edge_ok && p.passed();
    }
    if (edge_ok) continue;
    ++bad_edges;
    std::cout << absl::StrFormat("FAIL edge %s topic %s%s\n", v.edge, v.topic, v.error.empty() ? "" : ": " + v.error);
    for (const auto& p : v.partitions) {
      if (p.passed()) continue;
      std::cout << absl::StrFormat(
          "  partition %d: expected %d found %d ok %d missing %d duplicated %d out-of-order %d corrupted %d extra %d\n",
          p.partition(), p.expected(), p.found(), p.ok(), p.missing(), p.duplicated(), p.out_of_order(),
          p.corrupted(), p.extra());
      for (const auto& x : p.examples()) std::cout << "    " << x << "\n";
    }
  }
  const bool passed = bad_edges == 0;
  std::cout << absl::StrFormat(
      "TOTAL %s exactly-once per edge: edges %d (failing %d), expected %d, found %d, ok %d, missing %d, "
      "duplicated %d, out of order %d, corrupted %d, extra %d\n",
      passed ? "ok" : "FAIL", verdicts.size(), bad_edges, exp, found, ok, missing, dup, ooo, corrupt, extra);
  return passed ? kExitOk : kExitFailed;
}

int Usage() {
  std::cerr << "usage: longhaul-fleet run --hub HOST:PORT[,...] --certs DIR [--edges N] [--layout many|per-edge] ...\n"
               "       longhaul-fleet check --expect FILE --bootstrap HOST:PORT [--threads N]\n"
               "see soak/fleet/README.md\n";
  return kExitUsage;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "run") {
    absl::StatusOr<RunOptions> o = ParseRunOptions(args);
    if (!o.ok()) {
      std::cerr << "longhaul-fleet run: " << o.status().message() << "\n";
      return kExitUsage;
    }
    return Run(*std::move(o));
  }
  if (command == "check") {
    absl::StatusOr<CheckOptions> o = ParseCheckOptions(args);
    if (!o.ok()) {
      std::cerr << "longhaul-fleet check: " << o.status().message() << "\n";
      return kExitUsage;
    }
    return Check(*o);
  }
  return Usage();
}

}  // namespace
}  // namespace longhaul::soak

int main(int argc, char** argv) { return longhaul::soak::Main(argc, argv); }
