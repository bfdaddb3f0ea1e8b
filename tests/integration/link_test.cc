// A pipeline via the long-haul link, against real brokers: the edge and the
// hub run as separate `longhaul run --role edge|hub` processes on loopback
// with mutual TLS (certificates from scripts/make-test-certs). Exactly once
// and byte for byte through 200,000 records, through link cuts made by a
// TCP proxy in the middle and kill -9 of either side; edges with a wrong or
// no certificate and plain-TCP garbage are refused while the good edge
// keeps streaming; compression shows in /metrics; and a 60 s target outage
// keeps the edge's memory within its budget.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/unique_name.h"
#include "admin_http.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

namespace fs = std::filesystem;

// ---- certificates, ports, HTTP ----

// One throw-away PKI for the whole test binary.
const std::string& CertDir() {
  static const std::string dir = [] {
    std::string d = absl::StrCat(::testing::TempDir(), "/longhaul-link-certs-", getpid());
    const fs::path script = fs::path(LONGHAUL_SOURCE_DIR) / "scripts/make-test-certs";
    auto p = ChildProcess::Spawn(script.string(), {d, "--edge-name", "edge-1"});
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      EXPECT_EQ((*p)->WaitForExit(seconds(60)), 0) << (*p)->Output();
    }
    return d;
  }();
  return dir;
}

std::string Cert(const std::string& name) { return CertDir() + "/" + name; }




// The value of the first sample of `name` whose labels contain `label`
// (e.g. "role=\"edge\""), or -1.
double MetricValue(const std::string& metrics, const std::string& name, const std::string& label = "") {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    if (!label.empty() && !absl::StrContains(line, label)) continue;
    double v = -1;
    size_t space = line.rfind(' ');
    if (absl::SimpleAtod(line.substr(space + 1), &v)) return v;
  }
  return -1;
}

int64_t VmRssBytes(int pid) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(f, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kb = 0;
      absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(line).substr(6, line.size() - 9)), &kb);
      return kb * 1024;
    }
  }
  return -1;
}

// ---- a TCP proxy between edge and hub that can cut every connection ----

class CuttingProxy {
 public:
  CuttingProxy(int listen_port, int target_port) : target_port_(target_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(listen_port));
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listen_fd_, 64), 0);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~CuttingProxy() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    acceptor_.join();
    Cut();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : pumps_) t.join();
  }
  // Drops every live connection (both sides see the TCP connection end).
  int Cut() {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : live_) shutdown(fd, SHUT_RDWR);
    return static_cast<int>(live_.size() / 2);
  }
  int live() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(live_.size() / 2);
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      pumps_.emplace_back([this, client] { Pump(client); });
    }
  }
  void Pump(int client) {
    int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(target_port_));
    if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(upstream);
      close(client);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_.insert(client);
      live_.insert(upstream);
    }
    std::vector<char> buf(256 * 1024);
    bool open = true;
    while (open && !stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      if (poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if (fds[i].revents == 0) continue;
        int from = i == 0 ? client : upstream, to = i == 0 ? upstream : client;
        ssize_t n = recv(from, buf.data(), buf.size(), 0);
        if (n <= 0) {
          open = false;
          break;
        }
        for (ssize_t sent = 0; sent < n;) {
          ssize_t w = send(to, buf.data() + sent, n - sent, MSG_NOSIGNAL);
          if (w <= 0) {
            open = false;
            break;
          }
          sent += w;
        }
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_.erase(client);
      live_.erase(upstream);
    }
    shutdown(client, SHUT_RDWR);
    shutdown(upstream, SHUT_RDWR);
    close(client);
    close(upstream);
  }

  const int target_port_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  std::set<int> live_;
};

// ---- configs and processes ----

struct LinkSpec {
  std::string pipeline = "p";
  std::vector<std::string> include;
  std::string rename = "l.{topic}";
  int lanes = 4;
  int hub_port = 0;   // the hub listens here
  int dial_port = 0;  // the edge dials here (the hub, or a proxy in front of it)
  std::string edge_cert = "edge.pem";  // "" sends no client certificate
  std::string edge_key = "edge.key";
  std::string edge_ca = "ca.pem";
  std::string compression = "zstd";
  std::string buffer_bytes = "64MiB";
  std::string commit_interval = "200ms";
  int connections = 2;
  std::string edges = "one";  // the pipeline's `edges`
  // More hub addresses for the edge to try (an edge hub list), after dial_port.
  std::vector<int> more_dial_ports;
  std::string on_source_gap;  // the default (stop) when empty
  // Extra lines for the pipeline's section, each indented by four spaces.
  std::vector<std::string> pipeline_lines;
};

std::string WriteLinkConfig(const std::string& source, const std::string& target, const LinkSpec& s,
                            const std::string& tag) {
  std::string path = absl::StrCat(::testing::TempDir(), "/longhaul-link-", s.pipeline, "-", tag, "-",
                                  std::random_device{}(), ".yaml");
  std::ofstream f(path);
  f << "clusters:\n  src:\n    bootstrap: \"" << source << "\"\n  dst:\n    bootstrap: \"" << target << "\"\n";
  f << "links:\n  sat:\n";
  f << "    edge:\n      hub: \"127.0.0.1:" << s.dial_port;
  for (int port : s.more_dial_ports) f << ",127.0.0.1:" << port;
  f << "\"\n      server_name: localhost\n";
  f << "      ca_file: " << Cert(s.edge_ca) << "\n";
  if (!s.edge_cert.empty()) {
    f << "      cert_file: " << Cert(s.edge_cert) << "\n      key_file: " << Cert(s.edge_key) << "\n";
  }
  f << "      connections: " << s.connections << "\n      compression: " << s.compression << "\n      buffer_bytes: " << s.buffer_bytes
    << "\n      heartbeat_interval: 200ms\n      dead_link_timeout: 3s\n";
  f << "    hub:\n      listen: \"127.0.0.1:" << s.hub_port << "\"\n      ca_file: " << Cert("ca.pem")
    << "\n      cert_file: " << Cert("hub.pem") << "\n      key_file: " << Cert("hub.key")
    << "\n      identities:\n        \"longhaul://edge/edge-1\": [\"" << s.pipeline << "\"]\n";
  if (s.edges == "many") f << "        \"longhaul://edge/other-edge\": [\"" << s.pipeline << "\"]\n";
  f << "pipelines:\n  " << s.pipeline << ":\n    source: src\n    target: dst\n    via: sat\n    topics:\n"
    << "      include: [";
  for (size_t i = 0; i < s.include.size(); ++i) f << (i ? ", " : "") << '"' << s.include[i] << '"';
  f << "]\n    edges: " << s.edges << "\n    rename: \"" << s.rename << "\"\n    lanes: " << s.lanes
    << "\n    commit_interval: "
    << s.commit_interval << "\n    discovery_interval: 2s\n";
  if (!s.on_source_gap.empty()) f << "    on_source_gap: " << s.on_source_gap << "\n";
  for (const std::string& line : s.pipeline_lines) f << "    " << line << "\n";
  f << "worker:\n  drain_timeout: 10s\n";
  f << "admin:\n  listen: \"127.0.0.1:0\"\n";
  return path;
}

std::unique_ptr<ChildProcess> StartRole(const std::string& config, const std::string& role) {
  auto p = ChildProcess::Spawn(LonghaulBinary(), {"run", "-c", config, "--role", role});
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}


class LinkMirror : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(CertDir().empty());
    ASSERT_TRUE(fs::exists(Cert("edge.pem"))) << "scripts/make-test-certs did not run";
    source_bootstrap_ = KafkaClusters::SharedSourceBootstrap();
    target_bootstrap_ = KafkaClusters::SharedTargetBootstrap();
    ASSERT_FALSE(source_bootstrap_.empty());
    ASSERT_FALSE(target_bootstrap_.empty());
    source_ = std::make_unique<KafkaTestClient>(source_bootstrap_);
    target_ = std::make_unique<KafkaTestClient>(target_bootstrap_);
  }
  std::string source_bootstrap_, target_bootstrap_;
  std::unique_ptr<KafkaTestClient> source_, target_;
};

// True once the edge logged that the hub refused its certificate (or the
// TLS handshake failed): the clear log line on the edge's side.
bool Refused(ChildProcess& p) {
  std::string out = p.Output();
  return absl::StrContains(out, "the hub refused our certificate") || absl::StrContains(out, "TLS handshake with hub");
}

TEST_F(LinkMirror, EdgeAndHubProcessesReplicate200000RecordsExactlyOnceAndRefuseBadClients) {
  const std::string topic = UniqueName("link-200k");
  ASSERT_TRUE(source_->CreateTopic(topic, 4).ok());
  for (int p = 0; p < 4; ++p) ASSERT_TRUE(source_->Produce(topic, p, VariedRecords(50'000, 7000 + p, 5'000)).ok());

  LinkSpec spec;
  spec.pipeline = UniqueName("lp");
  spec.include = {topic};
  spec.hub_port = FreePort();
  spec.dial_port = spec.hub_port;
  auto hub = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "hub"), "hub");
  auto edge = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "edge"), "edge");
  ASSERT_TRUE(hub && edge);

  // While the good edge streams: an edge with a certificate from another
  // CA, one with no certificate, and a client that sends garbage.
  LinkSpec rogue = spec;
  rogue.edge_cert = "rogue-edge.pem";
  rogue.edge_key = "rogue-edge.key";
  auto rogue_edge = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, rogue, "rogue"), "edge");
  LinkSpec anonymous = spec;
  anonymous.edge_cert = "";
  auto anonymous_edge = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, anonymous, "anon"), "edge");
  bool garbage_closed = false;
  {
    ASSERT_TRUE(WaitFor([&] { return absl::StrContains(hub->Output(), "hub listening for edges"); }, seconds(60)))
        << hub->Describe();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(spec.hub_port));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      std::string junk = "GET / HTTP/1.0\r\n\r\n\x01\x02\x03 this is not TLS \xff\xfe";
      send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
      char buf[256];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
      }
      garbage_closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
    close(fd);
  }
  EXPECT_TRUE(garbage_closed) << "the hub kept a plain-TCP garbage connection open";

  ExpectExactlyOnce(*source_, *target_, topic, "l." + topic, 4, seconds(150), edge.get());
  EXPECT_TRUE(hub->IsRunning()) << hub->Describe();
  EXPECT_TRUE(edge->IsRunning()) << edge->Describe();

  EXPECT_TRUE(WaitFor([&] { return Refused(*rogue_edge) && Refused(*anonymous_edge); }, seconds(30)))
      << rogue_edge->Describe() << "\n" << anonymous_edge->Describe();
  EXPECT_THAT(hub->Output(), ::testing::HasSubstr("hub server: refused connection: TLS handshake failed"));
  int hub_admin = AdminPort(*hub);
  ASSERT_GT(hub_admin, 0) << hub->Describe();
  auto hub_metrics = HttpGet(hub_admin, "/metrics");
  ASSERT_TRUE(hub_metrics.ok());
  // Two refused certificates and the garbage client: all at the TLS step.
  EXPECT_GE(MetricValue(hub_metrics->body, "longhaul_link_refused_total", "reason=\"tls\""), 3) << hub_metrics->body;
  EXPECT_EQ(MetricValue(hub_metrics->body, "longhaul_link_refused_total", "reason=\"identity\""), 0);

  for (auto* p : {rogue_edge.get(), anonymous_edge.get(), edge.get(), hub.get()}) p->Kill(SIGTERM);
  EXPECT_EQ(edge->WaitForExit(seconds(30)), 0) << edge->Describe();
  EXPECT_EQ(hub->WaitForExit(seconds(30)), 0) << hub->Describe();
}

TEST_F(LinkMirror, StaysExactlyOnceThroughTenLinkCutsAndKill9OfEdgeAndHub) {
  const std::string topic = UniqueName("link-cuts");
  ASSERT_TRUE(source_->CreateTopic(topic, 4).ok());
  for (int p = 0; p < 4; ++p) ASSERT_TRUE(source_->Produce(topic, p, VariedRecords(5'000, 8000 + p)).ok());

  LinkSpec spec;
  spec.pipeline = UniqueName("lc");
  spec.include = {topic};
  spec.hub_port = FreePort();
  spec.dial_port = FreePort();
  CuttingProxy proxy(spec.dial_port, spec.hub_port);
  const std::string hub_config = WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "hub");
  const std::string edge_config = WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "edge");
  auto hub = StartRole(hub_config, "hub");
  auto edge = StartRole(edge_config, "edge");
  ASSERT_TRUE(hub && edge);
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(edge->Output(), "edge: link up"); }, seconds(90)))
      << edge->Describe() << "\n" << hub->Describe();

  BackgroundProducer producer(source_bootstrap_, topic, 4, 300, milliseconds(100), 1000);
  std::mt19937 rng(std::random_device{}());
  int cuts = 0;
  for (int round = 0; round < 12; ++round) {
    std::this_thread::sleep_for(milliseconds(1000 + rng() % 2500));
    if (proxy.Cut() > 0) ++cuts;
    if (round == 4) {
      edge->Kill(SIGKILL);
      edge->WaitForExit(seconds(10));
      edge = StartRole(edge_config, "edge");
    }
    if (round == 8) {
      hub->Kill(SIGKILL);
      hub->WaitForExit(seconds(10));
      hub = StartRole(hub_config, "hub");
      // The new hub takes the lanes once the dead one's lane-group session
      // expires; cut again only once the edge streams to it.
      EXPECT_TRUE(WaitFor([&] { return absl::StrContains(hub->Output(), "hub: edge session accepted"); },
                          seconds(90)))
          << hub->Describe();
    }
  }
  producer.Stop();
  EXPECT_GE(cuts, 10);
  EXPECT_EQ(producer.errors(), 0);
  ExpectExactlyOnce(*source_, *target_, topic, "l." + topic, 4, seconds(150), hub.get());
  EXPECT_TRUE(edge->IsRunning()) << edge->Describe();
  EXPECT_TRUE(hub->IsRunning()) << hub->Describe();
  edge->Kill(SIGTERM);
  hub->Kill(SIGTERM);
  EXPECT_EQ(edge->WaitForExit(seconds(30)), 0) << edge->Describe();
  EXPECT_EQ(hub->WaitForExit(seconds(30)), 0) << hub->Describe();
}

// ---- a fleet: many edges in one pipeline (edges: many) ----

// Two edges with their own certificates (edge-1 and other-edge) feed one
// edges: many pipeline with different connection counts; each edge's copy
// of the source topic lands in its own target topic ({edge}.{topic}),
// every record once and in order, through a kill -9 and restart of one
// edge while records keep coming.
TEST_F(LinkMirror, TwoEdgesOfOneEdgesManyPipelineArriveExactlyOnceInTheirOwnTopicsThroughAnEdgeRestart) {
  const std::string topic = UniqueName("fleet");
  ASSERT_TRUE(source_->CreateTopic(topic, 3).ok());
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(source_->Produce(topic, p, VariedRecords(3'000, 9100 + p)).ok());

  LinkSpec spec;
  spec.pipeline = UniqueName("fl");
  spec.include = {topic};
  spec.edges = "many";
  spec.rename = "{edge}.{topic}";
  spec.hub_port = FreePort();
  spec.dial_port = spec.hub_port;
  LinkSpec first = spec, second = spec;
  first.connections = 1;
  second.connections = 3;
  second.edge_cert = "other-edge.pem";
  second.edge_key = "other-edge.key";
  auto hub = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "hub"), "hub");
  const std::string second_config = WriteLinkConfig(source_bootstrap_, target_bootstrap_, second, "edge2");
  auto edge1 = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, first, "edge1"), "edge");
  auto edge2 = StartRole(second_config, "edge");
  ASSERT_TRUE(hub && edge1 && edge2);
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(edge1->Output(), "edge: link up") && absl::StrContains(edge2->Output(), "edge: link up");
  }, seconds(90))) << edge1->Describe() << "\n" << edge2->Describe() << "\n" << hub->Describe();

  {
    BackgroundProducer producer(source_bootstrap_, topic, 3, 200, milliseconds(100), 9200);
    std::this_thread::sleep_for(seconds(3));
    edge2->Kill(SIGKILL);
    edge2->WaitForExit(seconds(10));
    std::this_thread::sleep_for(seconds(1));
    edge2 = StartRole(second_config, "edge");
    ASSERT_TRUE(edge2);
    std::this_thread::sleep_for(seconds(4));
    producer.Stop();
    EXPECT_EQ(producer.errors(), 0);
  }
  ExpectExactlyOnce(*source_, *target_, topic, "edge-1." + topic, 3, seconds(150), hub.get());
  ExpectExactlyOnce(*source_, *target_, topic, "other-edge." + topic, 3, seconds(150), hub.get());
  EXPECT_TRUE(hub->IsRunning()) << hub->Describe();
  EXPECT_TRUE(edge1->IsRunning()) << edge1->Describe();
  EXPECT_TRUE(edge2->IsRunning()) << edge2->Describe();
  for (auto* p : {edge1.get(), edge2.get(), hub.get()}) p->Kill(SIGTERM);
  EXPECT_EQ(hub->WaitForExit(seconds(30)), 0) << hub->Describe();
}

// One edges: many pipeline served by three hub processes that share its
// lanes through the lane group; the edges list all three hubs and move to
// the hub that runs their lane. One hub is killed with kill -9 mid-run:
// its lanes move to the others and the edges follow, every record once.
TEST_F(LinkMirror, ThreeHubsShareAnEdgesManyPipelineAndAHubKill9LosesAndDuplicatesNothing) {
  const std::string topic = UniqueName("fleet3");
  ASSERT_TRUE(source_->CreateTopic(topic, 3).ok());
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(source_->Produce(topic, p, VariedRecords(2'000, 9300 + p)).ok());
  LinkSpec spec;
  spec.pipeline = UniqueName("f3");
  spec.include = {topic};
  spec.edges = "many";
  spec.rename = "{edge}.{topic}";
  spec.lanes = 4;
  std::vector<int> ports = {FreePort(), FreePort(), FreePort()};
  std::vector<std::unique_ptr<ChildProcess>> hubs;
  std::vector<std::string> hub_configs;
  for (int port : ports) {
    LinkSpec h = spec;
    h.hub_port = port;
    h.dial_port = port;  // unused by a hub, but the link's edge section must be valid
    hub_configs.push_back(WriteLinkConfig(source_bootstrap_, target_bootstrap_, h, absl::StrCat("hub", port)));
    hubs.push_back(StartRole(hub_configs.back(), "hub"));
    ASSERT_TRUE(hubs.back());
  }
  LinkSpec first = spec, second = spec;
  first.dial_port = second.dial_port = ports[0];
  first.more_dial_ports = second.more_dial_ports = {ports[1], ports[2]};
  first.connections = 1;
  second.connections = 2;
  second.edge_cert = "other-edge.pem";
  second.edge_key = "other-edge.key";
  auto edge1 = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, first, "edge1"), "edge");
  auto edge2 = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, second, "edge2"), "edge");
  ASSERT_TRUE(edge1 && edge2);
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(edge1->Output(), "edge: link up") && absl::StrContains(edge2->Output(), "edge: link up");
  }, seconds(120))) << edge1->Describe() << "\n" << edge2->Describe();
  {
    BackgroundProducer producer(source_bootstrap_, topic, 3, 200, milliseconds(100), 9400);
    std::this_thread::sleep_for(seconds(3));
    // Kill the hub that serves edge-1 (the one that logged its acceptance last).
    size_t victim = 0;
    for (size_t i = 0; i < hubs.size(); ++i) {
      if (absl::StrContains(hubs[i]->Output(), "edge=edge-1")) victim = i;
    }
    hubs[victim]->Kill(SIGKILL);
    hubs[victim]->WaitForExit(seconds(10));
    std::this_thread::sleep_for(seconds(20));  // lane-group session timeout, then the edges move
    producer.Stop();
    EXPECT_EQ(producer.errors(), 0);
    hubs.erase(hubs.begin() + static_cast<long>(victim));
  }
  ExpectExactlyOnce(*source_, *target_, topic, "edge-1." + topic, 3, seconds(180), hubs.front().get());
  ExpectExactlyOnce(*source_, *target_, topic, "other-edge." + topic, 3, seconds(180), hubs.front().get());
  for (auto& h : hubs) h->Kill(SIGTERM);
  edge1->Kill(SIGTERM);
  edge2->Kill(SIGTERM);
}

// Realistic JSON-like events: repetitive keys and values compress well.
std::vector<Record> JsonRecords(int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* kinds[] = {"order_created", "order_paid", "order_shipped", "order_cancelled"};
  const char* cities[] = {"Hamburg", "Rotterdam", "Singapore", "Valparaiso", "Antwerp"};
  std::vector<Record> out;
  // The process's start time: a fixed instant would age past the broker's
  // retention; fixed per process so the same records can be made again.
  static const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int i = 0; i < count; ++i) {
    Record r;
    r.key = absl::StrCat("order-", rng() % 100000);
    r.value = absl::StrCat(R"({"event":")", kinds[rng() % 4], R"(","order_id":)", rng() % 100000,
                           R"(,"customer":{"id":)", rng() % 5000, R"(,"city":")", cities[rng() % 5],
                           R"(","tier":"gold"},"items":[{"sku":"SKU-)", rng() % 900 + 100,
                           R"(","qty":)", rng() % 5 + 1, R"(,"price_cents":)", rng() % 100000,
                           R"(}],"currency":"EUR","ts":"2026-11-28T12:)", rng() % 60, R"(:00Z","source":"pos"})");
    r.headers = {{"content-type", "application/json"}};
    r.timestamp_ms = now_ms + i;
    out.push_back(std::move(r));
  }
  return out;
}

TEST_F(LinkMirror, CompressesJsonPayloadsAndReportsTheRatioInMetricsAndStatus) {
  const std::string topic = UniqueName("link-json");
  ASSERT_TRUE(source_->CreateTopic(topic, 2).ok());
  for (int p = 0; p < 2; ++p) ASSERT_TRUE(source_->Produce(topic, p, JsonRecords(20'000, 9000 + p)).ok());

  LinkSpec spec;
  spec.pipeline = UniqueName("lj");
  spec.include = {topic};
  spec.hub_port = FreePort();
  spec.dial_port = spec.hub_port;
  auto hub = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "hub"), "hub");
  auto edge = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "edge"), "edge");
  ASSERT_TRUE(hub && edge);
  ExpectExactlyOnce(*source_, *target_, topic, "l." + topic, 2, seconds(120), edge.get());

  int admin = AdminPort(*edge);
  ASSERT_GT(admin, 0) << edge->Describe();
  auto metrics = HttpGet(admin, "/metrics");
  ASSERT_TRUE(metrics.ok());
  const double before = MetricValue(metrics->body, "longhaul_link_bytes_uncompressed_total");
  const double after = MetricValue(metrics->body, "longhaul_link_bytes_compressed_total");
  const double ratio = MetricValue(metrics->body, "longhaul_link_compression_ratio");
  EXPECT_GT(before, 40'000 * 200) << metrics->body;
  EXPECT_GT(after, 0) << metrics->body;
  EXPECT_GT(ratio, 3.0) << "zstd on JSON events: " << metrics->body;
  // Round trips are a histogram: pings were counted into its buckets.
  EXPECT_GT(MetricValue(metrics->body, "longhaul_link_rtt_seconds_count"), 0) << metrics->body;
  EXPECT_GT(MetricValue(metrics->body, "longhaul_link_rtt_seconds_bucket", "le=\"+Inf\""), 0) << metrics->body;
  EXPECT_NEAR(ratio, before / after, 0.01);
  auto status = HttpGet(admin, "/api/v1/status");
  ASSERT_TRUE(status.ok());
  EXPECT_THAT(status->body, ::testing::HasSubstr(R"("link":{"name":"sat","role":"edge","state":"up")")) << status->body;
  EXPECT_THAT(status->body, ::testing::HasSubstr("\"compression_ratio\":")) << status->body;
  edge->Kill(SIGTERM);
  hub->Kill(SIGTERM);
  EXPECT_EQ(edge->WaitForExit(seconds(30)), 0) << edge->Describe();
}

// Records with a provenance header cross the link with it, and the hub adds
// its hop (it must not strip the header); records whose header says they
// have been in the hub's target cluster are not written there, and their
// offsets still count as copied (acknowledged to the edge: no lag).
TEST_F(LinkMirror, ProvenanceCrossesTheLinkAndTheHubRefusesRecordsThatVisitedItsTarget) {
  const std::string topic = UniqueName("link-prov");
  ASSERT_TRUE(source_->CreateTopic(topic, 1).ok());
  LinkSpec spec;
  spec.pipeline = UniqueName("lprov");
  spec.include = {topic};
  spec.hub_port = FreePort();
  spec.dial_port = spec.hub_port;
  spec.pipeline_lines = {"provenance: on"};
  auto with_provenance = [](std::vector<Record> records, const std::string& value) {
    for (Record& r : records) r.headers.push_back(RecordHeader{"longhaul-provenance", value});
    return records;
  };
  // Native records, records that came to src from a cluster x, records
  // that came to src from dst (must not go back), in runs, ending with the
  // refused kind so that the last offsets are ones never written.
  const std::vector<Record> native1 = VariedRecords(100, 31), native2 = VariedRecords(100, 32);
  const std::vector<Record> from_x = with_provenance(VariedRecords(100, 33), "x,x-to-src=src");
  const std::vector<Record> from_dst1 = with_provenance(VariedRecords(100, 34), "dst,dst-to-src=src");
  const std::vector<Record> from_dst2 = with_provenance(VariedRecords(50, 35), "dst,dst-to-src=src");
  for (const auto* run : {&native1, &from_x, &from_dst1, &native2, &from_dst2}) {
    ASSERT_TRUE(source_->Produce(topic, 0, *run).ok());
  }
  std::vector<Record> expected = with_provenance(native1, "src," + spec.pipeline + "=dst");
  for (const Record& r : with_provenance(from_x, "x,x-to-src=src," + spec.pipeline + "=dst")) {
    Record stamped = r;
    // The hub replaces the header: the old value goes, the new one is last.
    stamped.headers.erase(stamped.headers.end() - 2);
    expected.push_back(std::move(stamped));
  }
  for (const Record& r : with_provenance(native2, "src," + spec.pipeline + "=dst")) expected.push_back(r);

  auto hub = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "hub"), "hub");
  auto edge = StartRole(WriteLinkConfig(source_bootstrap_, target_bootstrap_, spec, "edge"), "edge");
  ASSERT_TRUE(hub && edge);
  std::vector<Record> found;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto got = target_->ReadAll("l." + topic, 0);
        if (!got.ok()) return false;
        found = std::move(*got);
        return found.size() >= expected.size();
      },
      seconds(90), milliseconds(500)))
      << "target has " << found.size() << " of " << expected.size() << "; " << hub->Describe();
  EXPECT_EQ(DescribeDifference(expected, found), "");

  const int hub_admin = AdminPort(*hub), edge_admin = AdminPort(*edge);
  ASSERT_GT(hub_admin, 0);
  ASSERT_GT(edge_admin, 0);
  std::string metrics, status;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto reply = HttpGet(hub_admin, "/metrics");
        if (!reply.ok()) return false;
        metrics = reply->body;
        return MetricValue(metrics, "longhaul_records_filtered_total", "pipeline=\"" + spec.pipeline + "\"") == 150;
      },
      seconds(30), milliseconds(250)))
      << metrics;
  // The edge hears every offset acknowledged, the refused ones included.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto reply = HttpGet(edge_admin, "/api/v1/status");
        if (!reply.ok()) return false;
        status = reply->body;
        return absl::StrContains(status, "\"replicated_offset\":450,");
      },
      seconds(30), milliseconds(250)))
      << status;
  edge->Kill(SIGTERM);
  hub->Kill(SIGTERM);
  EXPECT_EQ(edge->WaitForExit(seconds(30)), 0) << edge->Describe();
  EXPECT_EQ(hub->WaitForExit(seconds(30)), 0) << hub->Describe();
}

TEST(LinkMirrorFaults, EdgeMemoryStaysWithinBudgetWhileTheTargetIsDownAndEverythingArrivesAfter) {
  ASSERT_FALSE(CertDir().empty());
  auto clusters = KafkaClusters::Start({"source", "target"});
  ASSERT_NE(clusters, nullptr);
  KafkaTestClient source(clusters->Bootstrap("source"));
  KafkaTestClient target(clusters->Bootstrap("target"));
  const std::string topic = "budget";
  ASSERT_TRUE(source.CreateTopic(topic, 4).ok());
  ASSERT_TRUE(source.Produce(topic, 0, VariedRecords(1'000, 1)).ok());

  LinkSpec spec;
  spec.include = {topic};
  spec.hub_port = FreePort();
  spec.dial_port = spec.hub_port;
  spec.buffer_bytes = "16MiB";
  const int64_t budget = (int64_t{16} << 20) + (int64_t{64} << 20);  // buffer_bytes + kEdgeMemoryAllowanceBytes
  auto hub = StartRole(WriteLinkConfig(clusters->Bootstrap("source"), clusters->Bootstrap("target"), spec, "hub"),
                       "hub");
  auto edge = StartRole(WriteLinkConfig(clusters->Bootstrap("source"), clusters->Bootstrap("target"), spec, "edge"),
                        "edge");
  ASSERT_TRUE(hub && edge);
  ExpectExactlyOnce(source, target, topic, "l." + topic, 1, seconds(120), edge.get());

  ASSERT_TRUE(clusters->Stop("target").ok());
  // About 100 MB of incompressible records arrive while the target is
  // down: more than the edge may hold.
  std::atomic<int64_t> max_rss{0};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      max_rss = std::max<int64_t>(max_rss, VmRssBytes(edge->pid()));
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  const auto outage_start = std::chrono::steady_clock::now();
  for (int round = 0; round < 3; ++round) {
    for (int p = 0; p < 4; ++p) {
      std::vector<Record> records = VariedRecords(2'000, 100 * round + p);
      for (auto& r : records) {
        std::string v(4'000, '\0');
        std::mt19937_64 rng(r.timestamp_ms);
        for (auto& c : v) c = static_cast<char>(rng());
        r.value = std::move(v);
      }
      ASSERT_TRUE(source.Produce(topic, p, records).ok());
    }
  }
  std::this_thread::sleep_until(outage_start + seconds(60));
  ASSERT_TRUE(edge->IsRunning()) << edge->Describe();
  // The edge filled its buffer and paused the source instead of growing.
  int admin = AdminPort(*edge);
  ASSERT_GT(admin, 0) << edge->Describe();
  auto metrics = HttpGet(admin, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_GE(MetricValue(metrics->body, "longhaul_link_source_pauses_total"), 1) << metrics->body;
  EXPECT_LE(MetricValue(metrics->body, "longhaul_link_buffered_bytes"), 16 << 20) << metrics->body;
  ASSERT_TRUE(hub->IsRunning()) << hub->Describe();
  ASSERT_TRUE(clusters->Restart("target").ok());
  ExpectExactlyOnce(source, target, topic, "l." + topic, 4, seconds(150), edge.get());
  sampling = false;
  sampler.join();
  EXPECT_GT(max_rss.load(), 0);
  EXPECT_LT(max_rss.load(), budget) << "edge VmRSS peaked at " << max_rss.load() / (1 << 20) << " MiB; budget "
                                    << budget / (1 << 20) << " MiB";
  RecordProperty("edge_max_rss_mib", static_cast<int>(max_rss.load() / (1 << 20)));
  std::printf("edge VmRSS peak during the outage: %lld MiB (budget %lld MiB)\n",
              static_cast<long long>(max_rss.load() >> 20), static_cast<long long>(budget >> 20));
  edge->Kill(SIGTERM);
  hub->Kill(SIGTERM);
  EXPECT_EQ(edge->WaitForExit(seconds(30)), 0) << edge->Describe();
}

// Retention overrun at the edge: while the edge is stopped, the source's log
// start passes 10,000 records of partition 0 it never sent (DeleteRecords,
// as retention would). The edge counts them exactly and, with stop, stops
// only that partition naming the range; with skip, goes on from the log
// start so that everything after the gap arrives exactly once.
void EdgeMeetsASourceGap(const std::string& policy, const std::string& source_bootstrap,
                         const std::string& target_bootstrap, KafkaTestClient& source, KafkaTestClient& target) {
  const std::string topic = UniqueName("edge-gap-" + policy);
  ASSERT_TRUE(source.CreateTopic(topic, 2).ok());
  for (int p = 0; p < 2; ++p) ASSERT_TRUE(source.Produce(topic, p, VariedRecords(1000, 30 + p)).ok());
  LinkSpec spec;
  spec.pipeline = UniqueName("gap");
  spec.include = {topic};
  spec.hub_port = FreePort();
  spec.dial_port = spec.hub_port;
  spec.on_source_gap = policy;
  auto hub = StartRole(WriteLinkConfig(source_bootstrap, target_bootstrap, spec, "hub"), "hub");
  const std::string edge_config = WriteLinkConfig(source_bootstrap, target_bootstrap, spec, "edge");
  auto edge = StartRole(edge_config, "edge");
  ASSERT_TRUE(hub && edge);
  ExpectExactlyOnce(source, target, topic, "l." + topic, 2, seconds(120), edge.get());
  edge->Kill(SIGTERM);
  EXPECT_EQ(edge->WaitForExit(seconds(30)), 0) << edge->Describe();

  ASSERT_TRUE(source.Produce(topic, 0, VariedRecords(10'000, 40)).ok());  // offsets 1000..10999: lost
  ASSERT_TRUE(source.Produce(topic, 0, VariedRecords(500, 41)).ok());     // 11000..11499: kept
  ASSERT_TRUE(source.Produce(topic, 1, VariedRecords(500, 42)).ok());
  ASSERT_TRUE(source.DeleteRecordsBefore(topic, 0, 11'000).ok());

  edge = StartRole(edge_config, "edge");
  ASSERT_NE(edge, nullptr);
  const int admin = AdminPort(*edge);
  ASSERT_GT(admin, 0) << edge->Describe();
  std::string metrics;
  const std::string counter = absl::StrCat("longhaul_source_gap_records_total{pipeline=\"", spec.pipeline,
                                           "\",role=\"edge\",topic=\"", topic, "\",partition=\"0\"} ");
  EXPECT_TRUE(WaitFor(
      [&] {
        auto m = HttpGet(admin, "/metrics");
        if (m.ok()) metrics = m->body;
        return absl::StrContains(metrics, counter + "10000");
      },
      seconds(90), milliseconds(500)))
      << "the edge did not count the 10000 lost records; " << edge->Describe();
  auto status = HttpGet(admin, "/api/v1/status");
  ASSERT_TRUE(status.ok());
  EXPECT_THAT(status->body, ::testing::HasSubstr("\"source_gap\":{\"records_total\":10000,\"first_offset\":1000,"
                                                 "\"last_offset\":10999}"));

  // Partition 1 goes on either way.
  auto p1 = source.ReadAll(topic, 1);
  ASSERT_TRUE(p1.ok());
  std::vector<Record> p1_target;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto got = target.ReadAll("l." + topic, 1);
        if (got.ok()) p1_target = std::move(*got);
        return p1_target.size() >= p1->size();
      },
      seconds(90), milliseconds(500)));
  EXPECT_EQ(DescribeDifference(*p1, p1_target), "");

  std::vector<Record> expected0 = VariedRecords(1000, 30);
  if (policy == "stop") {
    EXPECT_THAT(status->body, ::testing::HasSubstr("\"state\":\"error\""));
    EXPECT_THAT(status->body, ::testing::HasSubstr("source offsets 1000..10999 of " + topic + "[0]"));
  } else {
    auto after = VariedRecords(500, 41);
    expected0.insert(expected0.end(), after.begin(), after.end());
  }
  std::vector<Record> p0_target;
  WaitFor(
      [&] {
        auto got = target.ReadAll("l." + topic, 0);
        if (got.ok()) p0_target = std::move(*got);
        return p0_target.size() >= expected0.size();
      },
      seconds(60), milliseconds(500));
  EXPECT_EQ(DescribeDifference(expected0, p0_target), "") << "partition 0 with on_source_gap: " << policy;

  edge->Kill(SIGTERM);
  EXPECT_EQ(edge->WaitForExit(seconds(30)), 0) << edge->Describe();
  hub->Kill(SIGTERM);
  EXPECT_EQ(hub->WaitForExit(seconds(30)), 0) << hub->Describe();
}

TEST_F(LinkMirror, EdgeStopsOnlyThePartitionWhoseRecordsTheSourceDeletedBeforeTheyWereSent) {
  EdgeMeetsASourceGap("stop", source_bootstrap_, target_bootstrap_, *source_, *target_);
}

TEST_F(LinkMirror, EdgeWithSkipGoesOnFromTheLogStartAndCountsTheGapExactly) {
  EdgeMeetsASourceGap("skip", source_bootstrap_, target_bootstrap_, *source_, *target_);
}

}  // namespace
}  // namespace longhaul::testing
