#include "longhaul/testing/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace longhaul::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

int Dial(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

FaultProxy::FaultProxy(int target_port, Options options) : target_port_(target_port), options_(std::move(options)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = Loopback(options_.listen_port);
  EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(listen_fd_, 64), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  CutAll();
  for (auto& t : pumps_) t.join();  // the acceptor has stopped: no more pumps
}

int FaultProxy::CutAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : live_) ::shutdown(fd, SHUT_RDWR);
  return static_cast<int>(live_.size() / 2);
}

int FaultProxy::live() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(live_.size() / 2);
}

std::vector<std::string> FaultProxy::connect_requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return connect_requests_;
}

void FaultProxy::AcceptLoop() {
  while (!stop_) {
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    ++accepted_;
    if (refuse_new_) {
      ::close(client);
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    pumps_.emplace_back([this, client] { Serve(client); });
  }
}

bool FaultProxy::Handshake(int client) {
  std::string request;
  char buf[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
    const ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) return false;
    request.append(buf, static_cast<size_t>(n));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    connect_requests_.push_back(request.substr(0, request.find("\r\n")));
  }
  if (!options_.required_auth.empty() &&
      request.find("Proxy-Authorization: " + options_.required_auth) == std::string::npos) {
    const std::string no = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n";
    ::send(client, no.data(), no.size(), MSG_NOSIGNAL);
    return false;
  }
  const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
  return ::send(client, ok.data(), ok.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ok.size());
}

void FaultProxy::Serve(int client) {
  const int connection = next_connection_++;
  if (options_.connect_mode && !Handshake(client)) {
    ::close(client);
    return;
  }
  const int upstream = Dial(target_port_);
  if (upstream < 0) {
    ::close(client);
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
    if (::poll(fds, 2, 20) <= 0) continue;
    if (blackhole_ || connection < blackhole_below_) continue;  // connections stay open, bytes go nowhere
    for (int i = 0; i < 2 && open; ++i) {
      if (fds[i].revents == 0) continue;
      const int from = i == 0 ? client : upstream;
      const int to = i == 0 ? upstream : client;
      const ssize_t n = ::recv(from, buf.data(), buf.size(), 0);
      if (n <= 0) {
        open = false;
        break;
      }
      if (i == 0 && corrupt_.exchange(false)) buf[n / 2] = static_cast<char>(buf[n / 2] ^ 0x20);
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t w = ::send(to, buf.data() + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
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
  ::shutdown(client, SHUT_RDWR);
  ::shutdown(upstream, SHUT_RDWR);
  ::close(client);
  ::close(upstream);
}

}  // namespace longhaul::testing
