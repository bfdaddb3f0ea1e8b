#include "selftest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/tcp.h>  // struct tcp_info with the *_limited fields; glibc's lags behind
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "longhaul/soak/link_model.h"
#include "namespaces.h"
#include "tun_forwarder.h"

namespace longhaul::soak {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

absl::Status Errno(std::string_view what) {
  return absl::InternalError(absl::StrCat(std::string(what), ": ", std::strerror(errno)));
}

Nanos Secs(double s) { return Nanos(static_cast<int64_t>(s * 1e9)); }

sockaddr_in Address(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

void SetTimeout(int fd, int optname, milliseconds t) {
  timeval tv{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>((t.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, optname, &tv, sizeof tv);
}

constexpr int kEchoPort = 7777;
constexpr int kTcpPort = 7778;
constexpr int kParallelFlows = 4;

enum Phase : uint32_t { kMeasure = 0, kCut = 1, kAfter = 2, kWarmup = 3, kPhases = 4 };

struct Probe {
  uint64_t seq;
  int64_t sent_ns;
  uint32_t phase;
  char pad[44];
};
static_assert(sizeof(Probe) == 64);

// Echoes every probe back to its sender and counts arrivals per phase.
class EchoServer {
 public:
  explicit EchoServer(int fd) : fd_(fd), thread_([this] { Loop(); }) {}
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }
  int64_t received(Phase p) const { return received_[p].load(); }

 private:
  void Loop() {
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 100) <= 0) continue;
      Probe p;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n;
      while ((n = recvfrom(fd_, &p, sizeof p, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len)) == sizeof p) {
        if (p.phase < kPhases) ++received_[p.phase];
        sendto(fd_, &p, sizeof p, 0, reinterpret_cast<sockaddr*>(&from), len);
        len = sizeof from;
      }
    }
  }
  int fd_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> received_[kPhases] = {};
  std::thread thread_;
};

struct ProbeResult {
  int64_t sent = 0;
  int64_t back = 0;
  std::vector<double> rtt_ms;
};

// Sends probes of one phase at `rate` per second for `duration`, collecting
// echoes until `linger` after the last send. Echoes of other phases that are
// still arriving are ignored.
ProbeResult SendProbes(int fd, Phase phase, int rate, Nanos duration, Nanos linger, uint64_t* seq) {
  ProbeResult r;
  const Nanos interval(1'000'000'000 / std::max(rate, 1));
  const auto start = Clock::now();
  const auto end = start + duration;
  const auto stop = end + linger;
  auto next = start;
  while (true) {
    auto now = Clock::now();
    if (now >= stop) break;
    while (now < end && now >= next) {
      Probe p{};
      p.seq = (*seq)++;
      p.sent_ns = std::chrono::duration_cast<Nanos>(now.time_since_epoch()).count();
      p.phase = phase;
      if (send(fd, &p, sizeof p, MSG_DONTWAIT) == sizeof p) ++r.sent;
      next += interval;
    }
    Nanos wait = (now < end ? std::min<Nanos>(next - now, milliseconds(5)) : std::min<Nanos>(stop - now, milliseconds(20)));
    timespec ts{0, static_cast<long>(std::max<Nanos>(wait, Nanos(0)).count())};
    pollfd pfd{fd, POLLIN, 0};
    if (ppoll(&pfd, 1, &ts, nullptr) <= 0) continue;
    Probe p;
    while (recv(fd, &p, sizeof p, MSG_DONTWAIT) == sizeof p) {
      if (p.phase != phase) continue;
      ++r.back;
      const int64_t now_ns = std::chrono::duration_cast<Nanos>(Clock::now().time_since_epoch()).count();
      r.rtt_ms.push_back(static_cast<double>(now_ns - p.sent_ns) / 1e6);
    }
  }
  return r;
}

// Packets the kernel dropped from its per-CPU input backlogs (machine-wide,
// /proc/net/softnet_stat column 2): TUN writes land there.
int64_t BacklogDrops() {
  std::FILE* f = std::fopen("/proc/net/softnet_stat", "r");
  if (!f) return 0;
  int64_t sum = 0;
  unsigned processed, dropped;
  char rest[512];
  while (std::fscanf(f, "%x %x", &processed, &dropped) == 2) {
    sum += dropped;
    if (!std::fgets(rest, sizeof rest, f)) break;
  }
  std::fclose(f);
  return sum;
}

// In-order bytes the receivers' kernels took: the app's reads lag behind
// and would blur the window's edges.
int64_t BytesReceived(const std::vector<int>& fds) {
  int64_t sum = 0;
  for (int fd : fds) {
    struct tcp_info ti {};
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) sum += static_cast<int64_t>(ti.tcpi_bytes_received);
  }
  return sum;
}

// Bulk TCP transfers between the namespaces over `flows` connections at
// once; returns their total goodput in bits/s measured after `warmup` over
// `window`, and describes the first sender's TCP_INFO in `sender_info`.
absl::StatusOr<double> MeasureTcp(const NamespacePlan& plan, bool edge_sends, int port, int flows, Nanos warmup,
                                  Nanos window, std::string* congestion_control, std::string* sender_info) {
  auto listener = SocketIn(plan.hub_ns, AF_INET, SOCK_STREAM);
  if (!listener.ok()) return listener.status();
  absl::Cleanup close_listener = [&] { close(*listener); };
  int one = 1;
  setsockopt(*listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in hub = Address(plan.hub_addr, port);
  if (bind(*listener, reinterpret_cast<sockaddr*>(&hub), sizeof hub) != 0 || listen(*listener, flows) != 0) {
    return Errno("TCP listener in the hub namespace");
  }
  SetTimeout(*listener, SO_RCVTIMEO, seconds(10));
  std::vector<int> senders, receivers, all;
  absl::Cleanup close_all = [&] {
    for (int fd : all) close(fd);
  };
  for (int i = 0; i < flows; ++i) {
    auto client = SocketIn(plan.edge_ns, AF_INET, SOCK_STREAM);
    if (!client.ok()) return client.status();
    all.push_back(*client);
    SetTimeout(*client, SO_SNDTIMEO, seconds(10));
    if (connect(*client, reinterpret_cast<sockaddr*>(&hub), sizeof hub) != 0) return Errno("TCP connect edge->hub");
    int accepted = accept4(*listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (accepted < 0) return Errno("TCP accept in the hub namespace");
    all.push_back(accepted);
    senders.push_back(edge_sends ? *client : accepted);
    receivers.push_back(edge_sends ? accepted : *client);
  }
  char cc[32] = {};
  socklen_t cc_len = sizeof cc;
  if (getsockopt(senders[0], IPPROTO_TCP, TCP_CONGESTION, cc, &cc_len) == 0) *congestion_control = cc;

  const auto start = Clock::now();
  const auto warm_at = start + warmup;
  const auto end_at = warm_at + window;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int fd : senders) {
    writers.emplace_back([&stop, fd, end_at] {
      SetTimeout(fd, SO_SNDTIMEO, milliseconds(100));
      std::vector<char> chunk(1 << 16, 'x');
      while (!stop && Clock::now() < end_at + seconds(1)) {
        if (send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0 && errno != EAGAIN && errno != EINTR) break;
      }
    });
  }
  std::vector<pollfd> pfds;
  for (int fd : receivers) pfds.push_back({fd, POLLIN, 0});
  std::vector<char> buf(1 << 20);
  int64_t at_warm = -1, at_end = 0;
  Clock::time_point warm_time{}, last_time{};
  size_t open_flows = receivers.size();
  while (open_flows > 0) {
    poll(pfds.data(), pfds.size(), 100);
    for (pollfd& p : pfds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = recv(p.fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        p.fd = -1;
        --open_flows;
      }
    }
    auto now = Clock::now();
    if (at_warm < 0 && now >= warm_at) {
      at_warm = BytesReceived(receivers);
      warm_time = now;
    }
    last_time = now;
    if (now >= end_at) {
      at_end = BytesReceived(receivers);
      break;
    }
  }
  // Whether the sender was held back by the link or by the receiver.
  struct tcp_info ti {};
  socklen_t ti_len = sizeof ti;
  if (getsockopt(senders[0], IPPROTO_TCP, TCP_INFO, &ti, &ti_len) == 0 && ti.tcpi_busy_time > 0) {
    *sender_info = absl::StrFormat(
        "retransmitted %.1f %%, receive-window-limited %.0f %%, send-buffer-limited %.0f %%",
        ti.tcpi_data_segs_out ? 100.0 * ti.tcpi_total_retrans / ti.tcpi_data_segs_out : 0.0,
        100.0 * static_cast<double>(ti.tcpi_rwnd_limited) / static_cast<double>(ti.tcpi_busy_time),
        100.0 * static_cast<double>(ti.tcpi_sndbuf_limited) / static_cast<double>(ti.tcpi_busy_time));
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  if (at_warm < 0 || last_time <= warm_time) return absl::InternalError("TCP transfer ended before the measurement window");
  return static_cast<double>(at_end - at_warm) * 8 / std::chrono::duration<double>(last_time - warm_time).count();
}

}  // namespace

absl::StatusOr<SelftestMeasurement> MeasureProfile(const LinkProfile& profile, const SelftestOptions& o) {
  // The self-test measures the emulator, not how busy the machine is: its
  // probe and TCP threads (created below, inheriting this) get a head start
  // over other work, or a starved receiver shows up as a slow link.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -10);
  auto plan = PlanNamespaces(o.name, "", "");
  if (!plan.ok()) return plan.status();
  std::string notes;
  if (absl::Status s = CreateNamespaces(*plan, &notes); !s.ok()) return s;
  absl::Cleanup destroy = [&] { DestroyNamespaces(*plan).IgnoreError(); };
  if (!notes.empty()) std::fprintf(stderr, "%s", notes.c_str());

  auto edge_tun = OpenTun(plan->edge_ns, plan->device);
  if (!edge_tun.ok()) return edge_tun.status();
  absl::Cleanup close_edge = [&] { close(*edge_tun); };
  auto hub_tun = OpenTun(plan->hub_ns, plan->device);
  if (!hub_tun.ok()) return hub_tun.status();
  absl::Cleanup close_hub = [&] { close(*hub_tun); };
  const std::string control_path = absl::StrCat("/run/longhaul-linkemu/", o.name, ".sock");
  auto control = ListenControlSocket(control_path);
  if (!control.ok()) return control.status();
  absl::Cleanup close_control = [&] {
    close(*control);
    unlink(control_path.c_str());
  };
  int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (stop_fd < 0) return Errno("eventfd");
  absl::Cleanup close_stop = [&] { close(stop_fd); };

  LinkProfile measured_profile = profile;
  measured_profile.outage_every = Nanos(0);
  LinkModel model(measured_profile, o.seed, Clock::now());
  TunForwarder forwarder(*edge_tun, *hub_tun, &model);
  absl::Status forwarder_status;
  std::thread forwarding([&] {
    ForwarderOptions fo;
    fo.deadline = Clock::now() + std::chrono::hours(1);
    fo.stop_fd = stop_fd;
    fo.control_fd = *control;
    auto r = forwarder.Run(fo);
    if (!r.ok()) forwarder_status = r.status();
  });
  absl::Cleanup stop_forwarding = [&] {
    uint64_t one = 1;
    (void)!write(stop_fd, &one, sizeof one);
    forwarding.join();
  };

  SelftestMeasurement m;
  // Probes.
  auto echo_fd = SocketIn(plan->hub_ns, AF_INET, SOCK_DGRAM);
  if (!echo_fd.ok()) return echo_fd.status();
  absl::Cleanup close_echo = [&] { close(*echo_fd); };
  auto probe_fd = SocketIn(plan->edge_ns, AF_INET, SOCK_DGRAM);
  if (!probe_fd.ok()) return probe_fd.status();
  absl::Cleanup close_probe = [&] { close(*probe_fd); };
  int big = 8 << 20;
  for (int fd : {*echo_fd, *probe_fd}) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  }
  sockaddr_in echo_addr = Address(plan->hub_addr, kEchoPort);
  if (bind(*echo_fd, reinterpret_cast<sockaddr*>(&echo_addr), sizeof echo_addr) != 0) return Errno("bind echo socket");
  if (connect(*probe_fd, reinterpret_cast<sockaddr*>(&echo_addr), sizeof echo_addr) != 0) {
    return Errno("connect probe socket");
  }
  const Nanos linger = profile.RttMax() + profile.RttMax() / 2 + milliseconds(500);
  auto tun_drops = [&] {
    int64_t sum = 0;
    for (const std::string* ns : {&plan->edge_ns, &plan->hub_ns}) {
      if (auto drops = TunQueueDrops(*ns, plan->device); drops.ok()) sum += *drops;
    }
    return sum;
  };
  int64_t tun_drops_before = 0;
  int64_t backlog_drops_before = 0;
  uint64_t seq = 0;
  {
    EchoServer echo(*echo_fd);
    // The kernel brings a TUN device's queue up asynchronously after the
    // forwarder attaches (link watch, up to a second): a packet sent before
    // then is dropped by the kernel, not by the link. Wait for an echo.
    const auto warm_until = Clock::now() + seconds(5) + 2 * linger;
    while (Clock::now() < warm_until) {
      if (SendProbes(*probe_fd, kWarmup, 20, milliseconds(100), linger, &seq).back > 0) break;
    }
    tun_drops_before = tun_drops();
    backlog_drops_before = BacklogDrops();
    ProbeResult r = SendProbes(*probe_fd, kMeasure, o.probe_rate, Secs(o.probe_seconds), linger, &seq);
    m.probes_sent = r.sent;
    m.probes_back = r.back;
    m.rtt_ms = std::move(r.rtt_ms);
    m.probes_at_hub = echo.received(kMeasure);
    std::fprintf(stderr, "longhaul-linkemu selftest: %lld probes sent, %lld back\n", static_cast<long long>(r.sent),
                 static_cast<long long>(r.back));

    if (o.cut_seconds > 0) {
      auto reply = SendControlCommand(control_path, absl::StrCat("cut ", static_cast<int>(o.cut_seconds * 1000), "ms"));
      if (!reply.ok()) return reply.status();
      if (reply->rfind("ok", 0) != 0) return absl::InternalError(absl::StrCat("cut: ", *reply));
      const auto cut_at = Clock::now();
      ProbeResult during = SendProbes(*probe_fd, kCut, 200, Secs(o.cut_seconds) - milliseconds(50), Nanos(0), &seq);
      std::this_thread::sleep_until(cut_at + Secs(o.cut_seconds) + milliseconds(20));
      ProbeResult after = SendProbes(*probe_fd, kAfter, 200, seconds(1), linger, &seq);
      m.cut_seconds = o.cut_seconds;
      m.cut_probes_sent = during.sent;
      // A probe sent during the cut may neither reach the hub nor come back.
      m.cut_probes_back = during.back + echo.received(kCut);
      m.after_probes_sent = after.sent;
      m.after_probes_back = after.back;
    }
  }

  // Drops outside the model during the probes (before TCP floods the queues).
  m.tun_queue_drops = tun_drops() - tun_drops_before;
  m.backlog_drops = BacklogDrops() - backlog_drops_before;

  if (o.tcp) {
    // BBR needs ~10 round trips of startup and, with a queue shallower than
    // the bandwidth-delay product, some loss recovery after it: measure the
    // steady state only, over enough round trips to average its probing.
    // One flow on a 600 ms link with 1 % loss may take tens of seconds to
    // find the rate (its bandwidth probe grows 25 % per 8 round trips), so
    // the cap is judged with four flows at once; one flow is reported too.
    const Nanos rtt = std::max<Nanos>(profile.RttMax(), milliseconds(1));
    const Nanos warmup = std::max<Nanos>(seconds(2), 15 * rtt);
    const Nanos window = std::max<Nanos>(seconds(5), 30 * rtt);
    auto one = MeasureTcp(*plan, true, kTcpPort, 1, warmup, window, &m.congestion_control, &m.tcp_single_flow_info);
    if (!one.ok()) return one.status();
    m.tcp_single_flow_bps = *one;
    auto e2h = MeasureTcp(*plan, true, kTcpPort + 1, kParallelFlows, warmup, window, &m.congestion_control,
                          &m.tcp_edge_to_hub_info);
    if (!e2h.ok()) return e2h.status();
    m.tcp_edge_to_hub_bps = *e2h;
    auto h2e = MeasureTcp(*plan, false, kTcpPort + 2, kParallelFlows, warmup, window, &m.congestion_control,
                          &m.tcp_hub_to_edge_info);
    if (!h2e.ok()) return h2e.status();
    m.tcp_hub_to_edge_bps = *h2e;
    m.tcp_flows = kParallelFlows;
  }
  // The forwarder thread owns the model: ask it through the control socket.
  if (auto status = SendControlCommand(control_path, "status"); status.ok()) {
    std::fprintf(stderr, "longhaul-linkemu selftest: %s\n", status->c_str());
  }
  std::move(stop_forwarding).Invoke();
  if (!forwarder_status.ok()) return forwarder_status;
  return m;
}

}  // namespace longhaul::soak
