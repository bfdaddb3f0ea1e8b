// A loopback TCP proxy that injects link faults for tests: it forwards
// connections to a target port and can cut every live connection, blackhole
// them (open, but bytes go nowhere), flip a bit, or act as an HTTP CONNECT
// proxy first. Used between edge and hub, in process or as processes.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace longhaul::testing {

class FaultProxy {
 public:
  struct Options {
    int listen_port = 0;          // 0: a free port (see port())
    bool connect_mode = false;    // answer an HTTP CONNECT first, then forward
    std::string required_auth;    // CONNECT mode: the Proxy-Authorization value to demand (407 otherwise)
  };

  explicit FaultProxy(int target_port) : FaultProxy(target_port, Options{}) {}
  FaultProxy(int target_port, Options options);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  void SetTarget(int port) { target_port_ = port; }
  // Drops every live connection (both sides see a reset or EOF); returns how many.
  int CutAll();
  // Connections forwarded now.
  int live();
  // Stops forwarding on every connection, now and later, without closing.
  void SetBlackhole(bool on) { blackhole_ = on; }
  // Stops forwarding on the connections open now (they stay open, neither
  // side hears of a close); new connections are forwarded.
  void BlackholeExisting() { blackhole_below_ = next_connection_.load(); }
  // While on, new connections are closed at once (a link that stays down);
  // CutAll() ends the ones already open.
  void SetRefuseNew(bool on) { refuse_new_ = on; }
  // Flips one bit in the next chunk forwarded from client to target.
  void CorruptOnce() { corrupt_ = true; }
  int accepted() const { return accepted_; }
  // CONNECT mode: the request lines seen ("CONNECT host:port HTTP/1.1").
  std::vector<std::string> connect_requests();

 private:
  void AcceptLoop();
  bool Handshake(int client);
  void Serve(int client);

  std::atomic<int> target_port_;
  const Options options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> blackhole_{false};
  std::atomic<int> next_connection_{0};
  std::atomic<int> blackhole_below_{0};
  std::atomic<bool> corrupt_{false};
  std::atomic<bool> refuse_new_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  std::set<int> live_;  // both descriptors of each forwarded connection
  std::vector<std::string> connect_requests_;
};

}  // namespace longhaul::testing
