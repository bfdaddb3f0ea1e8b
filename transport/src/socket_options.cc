#include "socket_options.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "longhaul/base/logging.h"

namespace longhaul::transport {
namespace {

// The last number of a sysctl file ("4096 16384 4194304" -> 4194304), 0 if
// unreadable.
long ReadSysctlMax(const char* path) {
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return 0;
  long value = 0, last = 0;
  while (std::fscanf(f, "%ld", &value) == 1) last = value;
  std::fclose(f);
  return last;
}

// Sets one buffer only when that helps: below the autotuning ceiling
// (tcp_wmem / tcp_rmem max) the kernel grows the buffer by itself, and a
// fixed size would switch that off; above net.core.*mem_max the kernel caps
// the request, so ask only if the cap still beats autotuning.
void SizeBuffer(int fd, int option, int wanted, const char* autotune_sysctl, const char* cap_sysctl) {
  const long autotune_max = ReadSysctlMax(autotune_sysctl);
  if (wanted <= autotune_max) return;
  const long cap = ReadSysctlMax(cap_sysctl);
  const long effective = cap > 0 && cap < wanted ? cap : wanted;
  if (effective <= autotune_max) {
    LogDebug("socket buffer wanted above the kernel's limits; raise the sysctl for larger windows",
             {{"wanted", wanted}, {"sysctl", cap_sysctl}, {"cap", effective}});
    return;
  }
  const int value = static_cast<int>(effective);
  ::setsockopt(fd, SOL_SOCKET, option, &value, sizeof value);
}

std::string CurrentCongestionControl(int fd) {
  char name[32] = {};
  socklen_t len = sizeof name;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) != 0) return "";
  return std::string(name, strnlen(name, sizeof name));
}

}  // namespace

void SetNotSentLowat(int fd, int bytes) { ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof bytes); }

std::string TuneConnectedSocket(int fd, const SocketTuning& tuning) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (tuning.notsent_lowat_bytes > 0) {
    SetNotSentLowat(fd, tuning.notsent_lowat_bytes);
  }
  if (!tuning.congestion_control.empty()) {
    const std::string& cc = tuning.congestion_control;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc.data(), static_cast<socklen_t>(cc.size())) != 0) {
      // ENOENT: not built or loaded; EPERM: not in tcp_allowed_congestion_control.
      LogDebug("TCP congestion control not available; keeping the kernel default",
               {{"wanted", cc}, {"errno", std::strerror(errno)}});
    }
  }
  return CurrentCongestionControl(fd);
}

std::string TuneSocket(int fd, const SocketTuning& tuning) {
  if (tuning.buffer_bytes > 0) {
    SizeBuffer(fd, SO_SNDBUF, tuning.buffer_bytes, "/proc/sys/net/ipv4/tcp_wmem", "/proc/sys/net/core/wmem_max");
    SizeBuffer(fd, SO_RCVBUF, tuning.buffer_bytes, "/proc/sys/net/ipv4/tcp_rmem", "/proc/sys/net/core/rmem_max");
  }
  return TuneConnectedSocket(fd, tuning);
}

}  // namespace longhaul::transport
