#include "namespaces.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace longhaul::soak {
namespace {

absl::Status Errno(std::string_view what) {
  return absl::InternalError(absl::StrCat(std::string(what), ": ", std::strerror(errno)));
}

// Runs argv, returns its exit status; stderr and stdout go to `output`.
absl::Status Run(const std::vector<std::string>& argv) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Errno("pipe");
  pid_t pid = fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) output.append(buf, n);
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("`", absl::StrJoin(argv, " "), "` failed",
                                          WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (not found)" : "", ": ",
                                          absl::StripAsciiWhitespace(output)));
}

// Moves the calling thread into a namespace and back out on destruction.
class ScopedNetns {
 public:
  static absl::StatusOr<std::unique_ptr<ScopedNetns>> Enter(const std::string& ns) {
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return Errno("open /proc/thread-self/ns/net");
    std::string path = absl::StrCat("/run/netns/", ns);
    int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      absl::Status s = Errno(absl::StrCat("open ", path, " (does namespace ", ns, " exist?)"));
      close(self);
      return s;
    }
    if (setns(target, CLONE_NEWNET) != 0) {
      absl::Status s = Errno(absl::StrCat("setns into ", ns));
      close(self);
      close(target);
      return s;
    }
    close(target);
    return std::unique_ptr<ScopedNetns>(new ScopedNetns(self));
  }
  ~ScopedNetns() {
    // Failing to return would leave this thread's later sockets in the wrong
    // namespace: never acceptable.
    if (setns(self_, CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "longhaul-linkemu: cannot return to the original network namespace: %s\n",
                   std::strerror(errno));
      std::abort();
    }
    close(self_);
  }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

 private:
  explicit ScopedNetns(int self) : self_(self) {}
  int self_;
};

absl::Status WriteFile(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("open ", path));
  ssize_t n = write(fd, value.data(), value.size());
  absl::Status s = n == static_cast<ssize_t>(value.size()) ? absl::OkStatus() : Errno(absl::StrCat("write ", path));
  close(fd);
  return s;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

constexpr const char* kBufferMax = "67108864";  // 64 MiB: 20 Mbit/s x 600 ms is 1.5 MB, 1 Gbit/s x 300 ms 37.5 MB

absl::Status TuneNamespace(const std::string& ns, std::string* notes) {
  auto scoped = ScopedNetns::Enter(ns);
  if (!scoped.ok()) return scoped.status();
  struct Setting {
    const char* key;
    std::string value;
    bool required;
  };
  const std::vector<Setting> settings = {
      {"net/ipv4/tcp_rmem", absl::StrCat("4096 131072 ", kBufferMax), true},
      {"net/ipv4/tcp_wmem", absl::StrCat("4096 65536 ", kBufferMax), true},
      {"net/ipv4/tcp_no_metrics_save", "1", false},
      {"net/ipv6/conf/all/disable_ipv6", "1", false},
      {"net/ipv6/conf/default/disable_ipv6", "1", false},
  };
  for (const Setting& s : settings) {
    absl::Status st = WriteFile(absl::StrCat("/proc/sys/", s.key), s.value);
    if (!st.ok()) {
      if (s.required) return st;
      absl::StrAppend(notes, ns, ": ", s.key, " not set (", st.message(), ")\n");
    }
  }
  // net.core.rmem_max/wmem_max are not per namespace on this kernel (the
  // host's value caps only an explicit SO_RCVBUF/SO_SNDBUF); TCP autotuning
  // is capped by tcp_rmem/tcp_wmem above, which are.
  auto available = ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control");
  if (available.ok() && absl::StrContains(absl::StrCat(" ", *available, " "), " bbr ")) {
    absl::Status st = WriteFile("/proc/sys/net/ipv4/tcp_congestion_control", "bbr");
    if (!st.ok()) absl::StrAppend(notes, ns, ": bbr not enabled (", st.message(), ")\n");
  } else {
    absl::StrAppend(notes, ns, ": bbr is not available; TCP uses the default congestion control\n");
  }
  return absl::OkStatus();
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 40) return false;
  for (char c : n) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return absl::ascii_isalnum(n[0]);
}

}  // namespace

absl::StatusOr<NamespacePlan> PlanNamespaces(std::string_view name, std::string_view edge_addr,
                                             std::string_view hub_addr) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("--name '", std::string(name),
                                                   "': use up to 40 letters, digits, - _ . (starting with a letter "
                                                   "or digit)"));
  }
  NamespacePlan p;
  p.name = std::string(name);
  p.edge_ns = absl::StrCat(std::string(name), "-edge");
  p.hub_ns = absl::StrCat(std::string(name), "-hub");
  if (!edge_addr.empty()) p.edge_addr = std::string(edge_addr);
  if (!hub_addr.empty()) p.hub_addr = std::string(hub_addr);
  return p;
}

bool NamespaceExists(const std::string& ns) {
  struct stat st;
  return stat(absl::StrCat("/run/netns/", ns).c_str(), &st) == 0;
}

absl::Status CreateNamespaces(const NamespacePlan& plan, std::string* notes) {
  if (absl::Status s = DestroyNamespaces(plan); !s.ok()) return s;
  auto build = [&]() -> absl::Status {
    struct Side {
      const std::string& ns;
      const std::string& local;
      const std::string& peer;
    };
    for (const Side& side : {Side{plan.edge_ns, plan.edge_addr, plan.hub_addr},
                             Side{plan.hub_ns, plan.hub_addr, plan.edge_addr}}) {
      const std::string mtu = std::to_string(plan.mtu);
      for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
               {"ip", "netns", "add", side.ns},
               {"ip", "-n", side.ns, "link", "set", "lo", "up"},
               {"ip", "-n", side.ns, "tuntap", "add", "dev", plan.device, "mode", "tun"},
               // A deep TUN queue rides out moments when the forwarder is not
               // scheduled (a busy machine) instead of dropping: 10000 packets
               // are 5 s of probes or ~120 ms at 1 Gbit/s.
               {"ip", "-n", side.ns, "link", "set", plan.device, "mtu", mtu, "txqueuelen", "10000"},
               {"ip", "-n", side.ns, "addr", "add", side.local, "peer", side.peer, "dev", plan.device},
               {"ip", "-n", side.ns, "link", "set", plan.device, "up"},
           }) {
        if (absl::Status s = Run(argv); !s.ok()) return s;
      }
      if (absl::Status s = TuneNamespace(side.ns, notes); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  absl::Status s = build();
  if (!s.ok()) DestroyNamespaces(plan).IgnoreError();
  return s;
}

absl::Status DestroyNamespaces(const NamespacePlan& plan) {
  for (const std::string& ns : {plan.edge_ns, plan.hub_ns}) {
    if (!NamespaceExists(ns)) continue;
    if (absl::Status s = Run({"ip", "netns", "del", ns}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> OpenTun(const std::string& ns, const std::string& device) {
  auto scoped = ScopedNetns::Enter(ns);
  if (!scoped.ok()) return scoped.status();
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Errno("open /dev/net/tun");
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, device.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    absl::Status s = Errno(absl::StrCat("attach TUN device ", device, " in namespace ", ns));
    close(fd);
    return s;
  }
  return fd;
}

absl::StatusOr<int> SocketIn(const std::string& ns, int domain, int type) {
  auto scoped = ScopedNetns::Enter(ns);
  if (!scoped.ok()) return scoped.status();
  int fd = socket(domain, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno(absl::StrCat("socket in namespace ", ns));
  return fd;
}

absl::StatusOr<int64_t> TunQueueDrops(const std::string& ns, const std::string& device) {
  auto scoped = ScopedNetns::Enter(ns);
  if (!scoped.ok()) return scoped.status();
  // /proc/thread-self/net follows this thread's namespace (/proc/net follows
  // the process's).
  auto dev = ReadFile("/proc/thread-self/net/dev");
  if (!dev.ok()) return dev.status();
  std::istringstream lines(*dev);
  std::string line;
  while (std::getline(lines, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos || absl::StripAsciiWhitespace(line.substr(0, colon)) != device) continue;
    std::istringstream fields(line.substr(colon + 1));
    int64_t v[16] = {};
    for (int64_t& x : v) fields >> x;
    return v[11];  // transmit drops: packets the kernel could not queue to the forwarder
  }
  return absl::NotFoundError(absl::StrCat("no device ", device, " in namespace ", ns));
}

absl::StatusOr<std::string> ReadSysctlIn(const std::string& ns, const std::string& key) {
  auto scoped = ScopedNetns::Enter(ns);
  if (!scoped.ok()) return scoped.status();
  return ReadFile(absl::StrCat("/proc/sys/", key));
}

}  // namespace longhaul::soak
