#include "tun_forwarder.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "longhaul/soak/control_protocol.h"

namespace longhaul::soak {
namespace {

using std::chrono::milliseconds;

absl::Status Errno(std::string_view what) {
  return absl::InternalError(absl::StrCat(std::string(what), ": ", std::strerror(errno)));
}

SteadyTime Now() { return std::chrono::steady_clock::now(); }

// At most this many packets per device per wake-up, so one busy direction
// cannot starve the other or the release of due packets.
constexpr int kReadBatch = 64;
constexpr size_t kMaxPacket = 65536;

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat("control socket path too long: ", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

}  // namespace

absl::StatusOr<std::string> TunForwarder::Run(const ForwarderOptions& o) {
  max_in_flight_bytes_ = o.max_in_flight_bytes;
  // The emulated network should not slow down when the soak it carries
  // loads the machine: raise this thread's priority (best effort).
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -10);
  read_buffer_.resize(kMaxPacket);
  SteadyTime next_status = Now() + o.status_interval;
  SteadyTime next_owner_check = Now();
  std::vector<pollfd> fds;
  while (true) {
    SteadyTime now = Now();
    Flush(now);
    if (now >= o.deadline) return std::string("duration reached");
    if (o.owner_pid > 0 && now >= next_owner_check) {
      if (kill(o.owner_pid, 0) != 0 && errno == ESRCH) return absl::StrCat("owner process ", o.owner_pid, " is gone");
      next_owner_check = now + milliseconds(500);
    }
    if (o.status_interval.count() > 0 && now >= next_status) {
      std::fprintf(stderr, "longhaul-linkemu: %s\n", model_->StatusLine(now).c_str());
      next_status = now + o.status_interval;
    }

    SteadyTime wake = std::min(o.deadline, now + milliseconds(500));
    for (const auto& q : queues_) {
      if (!q.empty()) wake = std::min(wake, q.front().release);
    }
    if (o.status_interval.count() > 0) wake = std::min(wake, next_status);
    const Nanos wait = std::max(Nanos(0), wake - now);
    timespec ts{static_cast<time_t>(wait.count() / 1'000'000'000), static_cast<long>(wait.count() % 1'000'000'000)};

    fds.clear();
    fds.push_back({edge_tun_, POLLIN, 0});
    fds.push_back({hub_tun_, POLLIN, 0});
    if (o.stop_fd >= 0) fds.push_back({o.stop_fd, POLLIN, 0});
    if (o.control_fd >= 0) fds.push_back({o.control_fd, POLLIN, 0});
    int n = ppoll(fds.data(), fds.size(), &ts, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("ppoll");
    }
    if (n == 0) continue;
    now = Now();
    if (fds[0].revents & (POLLERR | POLLNVAL)) return absl::InternalError("edge TUN device failed");
    if (fds[1].revents & (POLLERR | POLLNVAL)) return absl::InternalError("hub TUN device failed");
    if (fds[0].revents & POLLIN) {
      if (absl::Status s = ReadFrom(edge_tun_, Direction::kEdgeToHub, now); !s.ok()) return s;
    }
    if (fds[1].revents & POLLIN) {
      if (absl::Status s = ReadFrom(hub_tun_, Direction::kHubToEdge, now); !s.ok()) return s;
    }
    size_t i = 2;
    if (o.stop_fd >= 0) {
      if (fds[i].revents & POLLIN) return std::string("stop requested");
      ++i;
    }
    if (o.control_fd >= 0 && (fds[i].revents & POLLIN)) ServeControl(o.control_fd);
  }
}

absl::Status TunForwarder::ReadFrom(int fd, Direction d, SteadyTime now) {
  for (int i = 0; i < kReadBatch; ++i) {
    ssize_t n = read(fd, read_buffer_.data(), read_buffer_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
      return Errno(absl::StrCat("read from the ", d == Direction::kEdgeToHub ? "edge" : "hub", " TUN device"));
    }
    if (n == 0) return absl::OkStatus();
    Verdict v = model_->Admit(d, n, now);
    if (v.fate != Fate::kDeliver) continue;
    if (in_flight_bytes_ + n > max_in_flight_bytes_) {
      model_->CountOverflow(d, n);
      continue;
    }
    in_flight_bytes_ += n;
    queues_[static_cast<int>(d)].push_back({v.release, std::vector<char>(read_buffer_.data(), read_buffer_.data() + n)});
  }
  return absl::OkStatus();
}

void TunForwarder::Flush(SteadyTime now) {
  for (int d = 0; d < 2; ++d) {
    const int out = d == static_cast<int>(Direction::kEdgeToHub) ? hub_tun_ : edge_tun_;
    auto& q = queues_[d];
    while (!q.empty() && q.front().release <= now) {
      const std::vector<char>& p = q.front().data;
      if (write(out, p.data(), p.size()) != static_cast<ssize_t>(p.size())) ++write_errors_;
      in_flight_bytes_ -= static_cast<int64_t>(p.size());
      q.pop_front();
    }
  }
}

void TunForwarder::ServeControl(int listen_fd) {
  int c = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return;
  // A client gets half a second to send its line; the link waits meanwhile,
  // which is harmless next to the delays it emulates.
  timeval tv{0, 500'000};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string line;
  char buf[512];
  while (line.size() < 4096 && line.find('\n') == std::string::npos) {
    ssize_t n = read(c, buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, n);
  }
  std::string reply = HandleControlLine(std::string(absl::StripAsciiWhitespace(line.substr(0, line.find('\n')))), *model_, Now());
  reply += '\n';
  (void)!write(c, reply.data(), reply.size());
  close(c);
}

absl::StatusOr<int> ListenControlSocket(const std::string& path) {
  auto addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Errno("socket(AF_UNIX)");
  if (bind(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0 || listen(fd, 16) != 0) {
    absl::Status s = Errno(absl::StrCat("control socket ", path));
    close(fd);
    return s;
  }
  return fd;
}

absl::StatusOr<std::string> SendControlCommand(const std::string& path, const std::string& command) {
  auto addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket(AF_UNIX)");
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0) {
    absl::Status s = Errno(absl::StrCat("connect to ", path, " (is longhaul-linkemu running?)"));
    close(fd);
    return s;
  }
  std::string line = command + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    absl::Status s = Errno("send command");
    close(fd);
    return s;
  }
  shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) reply.append(buf, n);
  close(fd);
  if (reply.empty()) return absl::UnavailableError(absl::StrCat("no reply from ", path));
  return std::string(absl::StripTrailingAsciiWhitespace(reply));
}

}  // namespace longhaul::soak
