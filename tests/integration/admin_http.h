// Talking to a running `longhaul` process's admin server from integration
// tests: a minimal blocking HTTP/1.1 GET over loopback (10 s deadline), the
// admin port from the process's log, and a free port for configs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "longhaul/testing/child_process.h"
#include "longhaul/testing/wait_for.h"

namespace longhaul::testing {

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

inline absl::StatusOr<HttpReply> HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to 127.0.0.1:", port, " failed"));
  }
  std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("send failed");
  }
  std::string raw;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, n);
  close(fd);
  if (n < 0) return absl::DeadlineExceededError(absl::StrCat("GET ", path, ": no complete answer in 10 s"));
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) {
    return absl::DataLossError(absl::StrCat("GET ", path, ": not an HTTP response: ", raw.substr(0, 200)));
  }
  HttpReply reply;
  absl::SimpleAtoi(raw.substr(9, 3), &reply.status);
  for (absl::string_view line : absl::StrSplit(absl::string_view(raw).substr(0, head_end), "\r\n")) {
    if (absl::StartsWithIgnoreCase(line, "content-type:")) {
      reply.content_type = std::string(absl::StripAsciiWhitespace(line.substr(13)));
    }
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

// The status code of GET `path`, or -1 when there was no answer.
inline int HttpStatus(int port, const std::string& path) {
  auto reply = HttpGet(port, path);
  return reply.ok() ? reply->status : -1;
}

// The admin port from the process's "status page url=http://127.0.0.1:PORT/"
// log line (text or JSON format); 0 if it does not appear within `timeout`.
inline int AdminPort(ChildProcess& process, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  int port = 0;
  WaitFor(
      [&] {
        std::string out = process.Output();
        size_t at = out.find("status page");
        if (at == std::string::npos) return false;
        at = out.find("http://127.0.0.1:", at);
        if (at == std::string::npos) return false;
        return absl::SimpleAtoi(out.substr(at + 17, out.find('/', at + 17) - (at + 17)), &port);
      },
      timeout, std::chrono::milliseconds(100));
  return port;
}

// A loopback TCP port that was free a moment ago.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace longhaul::testing
