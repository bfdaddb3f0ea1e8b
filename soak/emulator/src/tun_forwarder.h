// The forwarding loop of longhaul-linkemu: reads packets from the two TUN
// devices, asks the LinkModel what becomes of each, holds delivered ones
// until their release time and writes them to the other device. One thread
// owns the loop, the model and the control socket, so no locks are needed.
// Private to the emulator executable.
#pragma once

#include <sys/types.h>

#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/base/clock.h"
#include "longhaul/soak/link_model.h"

namespace longhaul::soak {

struct ForwarderOptions {
  SteadyTime deadline;
  int stop_fd = -1;         // readable = stop (a signalfd or an eventfd); -1 = none
  int control_fd = -1;      // a listening Unix stream socket; -1 = none
  pid_t owner_pid = 0;      // stop when this process is gone; 0 = none
  Nanos status_interval{0};  // status line on stderr; 0 = never
  // Bound on bytes held between read and release, over both directions.
  int64_t max_in_flight_bytes = int64_t{256} << 20;
};

class TunForwarder {
 public:
  // Does not take ownership of the descriptors or the model.
  TunForwarder(int edge_tun, int hub_tun, LinkModel* model) : edge_tun_(edge_tun), hub_tun_(hub_tun), model_(model) {}

  // Forwards until the deadline, a readable stop_fd or the owner's exit, and
  // says which. Errors: a TUN device that fails to read (e.g. deleted).
  absl::StatusOr<std::string> Run(const ForwarderOptions& options);

  int64_t write_errors() const { return write_errors_; }

 private:
  struct Packet {
    SteadyTime release;
    std::vector<char> data;
  };
  absl::Status ReadFrom(int fd, Direction d, SteadyTime now);
  void Flush(SteadyTime now);
  void ServeControl(int listen_fd);

  int edge_tun_;
  int hub_tun_;
  LinkModel* model_;
  std::deque<Packet> queues_[2];
  int64_t in_flight_bytes_ = 0;
  int64_t max_in_flight_bytes_ = 0;
  std::vector<char> read_buffer_;
  int64_t write_errors_ = 0;
};

// Binds and listens on a Unix stream socket at `path` (replacing a stale
// socket file, creating the parent directory).
absl::StatusOr<int> ListenControlSocket(const std::string& path);

// Sends one command to a running emulator and returns its reply line.
absl::StatusOr<std::string> SendControlCommand(const std::string& path, const std::string& command);

}  // namespace longhaul::soak
