// Private to longhaul_transport: TCP tuning for link sockets, on a plain file
// descriptor (no Asio here): congestion control (BBR where the kernel
// offers it, silently the default otherwise), buffers sized to the window,
// no Nagle delay, and a small unsent-bytes limit so our own frames do not
// queue for long in the socket behind each other (pings stay honest).
#pragma once

#include <string>

namespace longhaul::transport {

struct SocketTuning {
  std::string congestion_control;  // "" = leave the kernel default
  // SO_SNDBUF and SO_RCVBUF; 0 = leave. Applied only where it beats the
  // kernel's autotuning (see SizeBuffer in the .cc).
  int buffer_bytes = 0;
  int notsent_lowat_bytes = 0;     // TCP_NOTSENT_LOWAT; 0 = leave
};

// Applies what it can (call before connect or listen, so the window scale
// reflects the buffers) and returns the congestion control the socket
// ended up with ("" if unknown). Failures are not errors: a kernel without
// BBR, or caps on buffer sizes, leave the defaults in place.
std::string TuneSocket(int fd, const SocketTuning& tuning);

// Changes TCP_NOTSENT_LOWAT on a connected socket; failures are ignored
// (as in TuneSocket).
void SetNotSentLowat(int fd, int bytes);

// Only the settings that can change on a connected socket (TCP_NODELAY,
// congestion control, TCP_NOTSENT_LOWAT); returns the congestion control.
std::string TuneConnectedSocket(int fd, const SocketTuning& tuning);

}  // namespace longhaul::transport
