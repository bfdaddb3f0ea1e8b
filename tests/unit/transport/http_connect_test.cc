// The HTTP CONNECT handshake (http_connect.h) driven over
// boost::beast::test::stream: what it sends, how it reads each kind of
// answer, and, with fail_count, that a failure at every single step of the
// operation gives a clear error instead of a crash or a hang.
#include "http_connect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <exception>
#include <optional>
#include <string>

#include "longhaul/testing/status_matchers.h"

namespace longhaul::transport {
namespace {

namespace asio = boost::asio;
namespace test = boost::beast::test;
using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::Status Tunnel(asio::io_context& ioc, test::stream& stream, std::string authorization = "") {
  std::optional<absl::Status> result;
  asio::co_spawn(ioc, HttpConnectTunnel(stream, "hub.example.com", 443, std::move(authorization)),
                 [&](std::exception_ptr error, absl::Status status) {
                   result = error ? absl::InternalError("exception escaped") : std::move(status);
                 });
  ioc.run();
  ioc.restart();
  return result.value_or(absl::InternalError("the operation never completed"));
}

TEST(HttpConnectTunnel, AsksForTheHubWithCredentialsAndAcceptsA200) {
  asio::io_context ioc;
  test::stream edge(ioc), proxy(ioc);
  edge.connect(proxy);
  edge.append("HTTP/1.1 200 Connection established\r\nProxy-Agent: squid\r\n\r\n");
  EXPECT_THAT(Tunnel(ioc, edge, "Basic ZWRnZTpzZWNyZXQ="), IsOk());
  const std::string request(proxy.str());
  EXPECT_THAT(request, StartsWith("CONNECT hub.example.com:443 HTTP/1.1\r\n"));
  EXPECT_THAT(request, HasSubstr("Host: hub.example.com:443\r\n"));
  EXPECT_THAT(request, HasSubstr("Proxy-Authorization: Basic ZWRnZTpzZWNyZXQ=\r\n"));
}

TEST(HttpConnectTunnel, SendsNoAuthorizationWhenNoneIsConfigured) {
  asio::io_context ioc;
  test::stream edge(ioc), proxy(ioc);
  edge.connect(proxy);
  edge.append("HTTP/1.0 200 OK\r\n\r\n");
  EXPECT_THAT(Tunnel(ioc, edge), IsOk());
  EXPECT_THAT(std::string(proxy.str()), ::testing::Not(HasSubstr("Proxy-Authorization")));
}

TEST(HttpConnectTunnel, ReportsMissingCredentialsAsPermissionDenied) {
  asio::io_context ioc;
  test::stream edge(ioc), proxy(ioc);
  edge.connect(proxy);
  edge.append("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  EXPECT_THAT(Tunnel(ioc, edge),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("proxy CONNECT hub.example.com:443: 407 Proxy Authentication Required")));
}

TEST(HttpConnectTunnel, ReportsARefusalWithTheProxysStatus) {
  asio::io_context ioc;
  test::stream edge(ioc), proxy(ioc);
  edge.connect(proxy);
  edge.append("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  EXPECT_THAT(Tunnel(ioc, edge), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("refused with 403 Forbidden")));
}

TEST(HttpConnectTunnel, RefusesBytesAfterTheAnswer) {
  asio::io_context ioc;
  test::stream edge(ioc), proxy(ioc);
  edge.connect(proxy);
  edge.append("HTTP/1.1 200 OK\r\n\r\nsurprise");
  EXPECT_THAT(Tunnel(ioc, edge), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("8 unexpected bytes")));
}

TEST(HttpConnectTunnel, ReportsAnAnswerThatIsNotHttp) {
  asio::io_context ioc;
  test::stream edge(ioc), proxy(ioc);
  edge.connect(proxy);
  edge.append("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  EXPECT_THAT(Tunnel(ioc, edge), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reading the answer")));
}

TEST(HttpConnectTunnel, ReportsAProxyThatHangsUp) {
  asio::io_context ioc;
  test::stream edge(ioc), proxy(ioc);
  edge.connect(proxy);
  edge.append("HTTP/1.1 200");
  proxy.close();
  EXPECT_THAT(Tunnel(ioc, edge), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reading the answer")));
}

TEST(HttpConnectTunnel, FailsCleanlyAtEveryStep) {
  // fail_count(n) makes the n-th I/O step fail; walk n up until the whole
  // handshake goes through, checking each failure is reported, not thrown.
  int failures = 0;
  for (std::size_t n = 0; n < 100; ++n) {
    asio::io_context ioc;
    test::fail_count fc(n);
    test::stream edge(ioc, fc, "HTTP/1.1 200 Connection established\r\n\r\n");
    test::stream proxy(ioc);
    edge.connect(proxy);
    edge.read_size(7);  // the answer arrives in pieces: more steps to fail
    const absl::Status status = Tunnel(ioc, edge);
    if (status.ok()) break;
    ++failures;
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable, StartsWith("proxy CONNECT hub.example.com:443: ")))
        << "step " << n;
  }
  EXPECT_GE(failures, 3);
  EXPECT_LT(failures, 100);
}

}  // namespace
}  // namespace longhaul::transport
