// The admin server over real loopback HTTP: every route's status, content
// type and body, the error envelope, readiness flips, and a prompt Stop().
#include "longhaul/gateway/admin_server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "longhaul/metrics/registry.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kClientTimeout = std::chrono::seconds(10);

class FakeStatus : public StatusSource {
 public:
  std::string StatusJson() override {
    calls_++;
    if (block_) {
      if (!entered_.HasBeenNotified()) entered_.Notify();
      released_.WaitForNotification();
    }
    if (throw_) throw std::runtime_error("status exploded");
    std::lock_guard<std::mutex> lock(mu_);
    return json_;
  }
  bool Ready(std::string* reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    *reason = reason_;
    return ready_;
  }
  void SetReady(bool ready, std::string reason = "") {
    std::lock_guard<std::mutex> lock(mu_);
    ready_ = ready;
    reason_ = std::move(reason);
  }
  void SetJson(std::string json) {
    std::lock_guard<std::mutex> lock(mu_);
    json_ = std::move(json);
  }
  // Unset: the StatusSource default (a process that cannot translate).
  std::optional<absl::StatusOr<std::string>> translation;
  absl::StatusOr<std::string> TranslateOffsetsJson(const std::string& pipeline, const std::string& group) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      translate_args_.push_back(pipeline + "|" + group);
    }
    if (block_) {
      if (!entered_.HasBeenNotified()) entered_.Notify();
      released_.WaitForNotification();
    }
    if (!translation) return StatusSource::TranslateOffsetsJson(pipeline, group);
    return *translation;
  }
  std::vector<std::string> translate_args() {
    std::lock_guard<std::mutex> lock(mu_);
    return translate_args_;
  }
  void BlockStatus() { block_ = true; }
  bool WaitUntilStatusEntered() { return entered_.WaitForNotificationWithTimeout(absl::Seconds(10)); }
  void Release() {
    if (!released_.HasBeenNotified()) released_.Notify();
  }
  void ThrowFromStatus() { throw_ = true; }
  int calls() const { return calls_; }

 private:
  std::mutex mu_;
  bool ready_ = true;
  std::string reason_;
  std::vector<std::string> translate_args_;
  std::string json_ = R"({"version":"0.1.0","worker":"w-1","pipelines":[],"link":null})";
  std::atomic<bool> block_{false};
  std::atomic<bool> throw_{false};
  std::atomic<int> calls_{0};
  absl::Notification entered_;
  absl::Notification released_;
};

struct Reply {
  beast::error_code ec;
  http::response<http::string_body> res;
  int status() const { return static_cast<int>(res.result_int()); }
  std::string header(http::field f) const { return std::string(res[f]); }
  std::string header(std::string_view name) const {
    auto v = res[beast::string_view(name.data(), name.size())];
    return std::string(v.data(), v.size());
  }
};

// A blocking HTTP/1.1 client with a deadline, so a broken server fails the
// test instead of hanging it. Sends `requests` on one connection in turn.
std::vector<Reply> FetchAll(int port, const std::vector<http::request<http::string_body>>& requests) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(kClientTimeout);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  std::vector<Reply> replies;
  if (ec) {
    replies.push_back(Reply{ec, {}});
    return replies;
  }
  beast::flat_buffer buffer;
  for (const auto& req : requests) {
    Reply reply;
    http::response_parser<http::string_body> parser;
    parser.skip(req.method() == http::verb::head);
    stream.expires_after(kClientTimeout);
    http::async_write(stream, req, [&](beast::error_code write_ec, size_t) {
      if (write_ec) {
        reply.ec = write_ec;
        return;
      }
      http::async_read(stream, buffer, parser, [&](beast::error_code read_ec, size_t) { reply.ec = read_ec; });
    });
    ioc.restart();
    ioc.run();
    reply.res = parser.release();
    const bool failed = static_cast<bool>(reply.ec);
    replies.push_back(std::move(reply));
    if (failed) break;
  }
  return replies;
}

http::request<http::string_body> Request(http::verb verb, std::string target, bool keep_alive = false) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::user_agent, "admin_server_test");
  req.keep_alive(keep_alive);
  req.prepare_payload();
  return req;
}

Reply Fetch(int port, http::verb verb, std::string target) {
  return FetchAll(port, {Request(verb, std::move(target))}).front();
}
Reply Get(int port, std::string target) { return Fetch(port, http::verb::get, std::move(target)); }

// Reads until the peer closes (or the deadline passes), on `stream`'s own
// io_context; returns the bytes and the error that ended the read.
std::pair<std::string, beast::error_code> ReadUntilClosed(asio::io_context& ioc, beast::tcp_stream& stream) {
  std::string out;
  beast::error_code last;
  char buf[4096];
  std::function<void()> read_more = [&] {
    stream.async_read_some(asio::buffer(buf), [&](beast::error_code ec, size_t n) {
      out.append(buf, n);
      last = ec;
      if (!ec) read_more();
    });
  };
  stream.expires_after(kClientTimeout);
  read_more();
  ioc.restart();
  ioc.run();
  return {out, last};
}

// Writes raw bytes and returns whatever comes back before the server closes.
std::string RawExchange(int port, const std::string& bytes) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  asio::write(stream, asio::buffer(bytes));
  return ReadUntilClosed(ioc, stream).first;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = AdminServer::Start("127.0.0.1:0", &registry_, &status_);
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
    port_ = server_->port();
  }
  void TearDown() override {
    status_.Release();  // never leave a worker blocked
    server_.reset();
  }

  metrics::Registry registry_;
  FakeStatus status_;
  std::unique_ptr<AdminServer> server_;
  int port_ = 0;
};

TEST_F(AdminServerTest, BindsAnEphemeralLoopbackPortAndReportsIt) {
  EXPECT_GT(port_, 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(port_));
}

TEST_F(AdminServerTest, ServesMetricsInPrometheusTextFormatIncludingCollectorValues) {
  auto& records = registry_.AddCounter("longhaul_records_total", "Records replicated.", {"pipeline", "topic"});
  records.WithLabels({"p", "orders"}).Increment(42);
  std::atomic<int> lag{7};
  metrics::CollectorHandle collector = registry_.AddCollector([&](metrics::CollectorSink& sink) {
    sink.AddGauge("longhaul_lag_records", "Records behind.", {{"pipeline", "p"}}, lag.load());
  });

  Reply first = Get(port_, "/metrics");
  ASSERT_FALSE(first.ec) << first.ec.message();
  EXPECT_EQ(first.status(), 200);
  EXPECT_EQ(first.header(http::field::content_type), "text/plain; version=0.0.4; charset=utf-8");
  std::vector<std::string> samples;
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(first.res.body(), '\n', absl::SkipEmpty()))) {
    if (line.starts_with("#")) {
      EXPECT_TRUE(line.starts_with("# HELP ") || line.starts_with("# TYPE ")) << line;
    } else {
      samples.push_back(line);
    }
  }
  EXPECT_THAT(samples, ::testing::ElementsAre("longhaul_lag_records{pipeline=\"p\"} 7",
                                              "longhaul_records_total{pipeline=\"p\",topic=\"orders\"} 42"));

  lag = 3;  // computed at scrape time, so a second scrape sees the new value
  Reply second = Get(port_, "/metrics");
  EXPECT_THAT(second.res.body(), HasSubstr("longhaul_lag_records{pipeline=\"p\"} 3\n"));
}

TEST_F(AdminServerTest, LivezIsOkWithoutAskingTheProcess) {
  status_.SetReady(false, "kafka unreachable");
  Reply reply = Get(port_, "/livez");
  ASSERT_FALSE(reply.ec) << reply.ec.message();
  EXPECT_EQ(reply.status(), 200);
  EXPECT_EQ(reply.res.body(), "ok");
  EXPECT_EQ(reply.header(http::field::content_type), "text/plain; charset=utf-8");
  EXPECT_EQ(status_.calls(), 0);
}

TEST_F(AdminServerTest, LivezAnswersWhileAStatusCallIsStuck) {
  status_.BlockStatus();
  auto stuck = std::async(std::launch::async, [&] { return Get(port_, "/api/v1/status"); });
  ASSERT_TRUE(status_.WaitUntilStatusEntered());
  Reply live = Get(port_, "/livez");
  EXPECT_EQ(live.status(), 200);
  EXPECT_EQ(stuck.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  status_.Release();
  EXPECT_EQ(stuck.get().status(), 200);
}

TEST_F(AdminServerTest, ReadyzFollowsTheStatusSourceAndGivesTheReason) {
  Reply ready = Get(port_, "/readyz");
  EXPECT_EQ(ready.status(), 200);
  EXPECT_EQ(ready.res.body(), "ok");

  status_.SetReady(false, "pipeline orders: lane assignment pending");
  Reply not_ready = Get(port_, "/readyz");
  EXPECT_EQ(not_ready.status(), 503);
  EXPECT_EQ(not_ready.res.body(), "pipeline orders: lane assignment pending");
  EXPECT_EQ(not_ready.header(http::field::content_type), "text/plain; charset=utf-8");

  status_.SetReady(true);
  EXPECT_EQ(Get(port_, "/readyz").status(), 200);
}

TEST_F(AdminServerTest, ServesTheStatusJsonVerbatim) {
  const std::string json =
      R"({"version":"0.1.0","worker":"host-1","pipelines":[{"name":"p","state":"lagging","lag_records":12}],"link":null})";
  status_.SetJson(json);
  Reply reply = Get(port_, "/api/v1/status?pretty=0");
  EXPECT_EQ(reply.status(), 200);
  EXPECT_EQ(reply.header(http::field::content_type), "application/json");
  EXPECT_EQ(reply.header(http::field::cache_control), "no-store");
  EXPECT_EQ(reply.res.body(), json);
}

TEST_F(AdminServerTest, ServesASelfContainedLivePage) {
  Reply reply = Get(port_, "/");
  EXPECT_EQ(reply.status(), 200);
  EXPECT_EQ(reply.header(http::field::content_type), "text/html; charset=utf-8");
  EXPECT_THAT(reply.header("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  const std::string& page = reply.res.body();
  EXPECT_THAT(page, StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(page, HasSubstr("fetch(\"/api/v1/status\""));
  EXPECT_THAT(page, HasSubstr("data-partition"));
  EXPECT_THAT(page, HasSubstr("id=\"link\""));
  // Nothing loaded from elsewhere: the page must work on an air-gapped site.
  EXPECT_THAT(page, ::testing::Not(HasSubstr("<script src")));
  EXPECT_THAT(page, ::testing::Not(HasSubstr("<link")));
  EXPECT_THAT(page, ::testing::Not(HasSubstr("https://")));
}

TEST_F(AdminServerTest, UnknownPathGetsAJsonErrorEnvelope) {
  Reply reply = Get(port_, "/nope");
  EXPECT_EQ(reply.status(), 404);
  EXPECT_EQ(reply.header(http::field::content_type), "application/json");
  EXPECT_EQ(reply.res.body(), R"({"error":{"code":404,"message":"no such endpoint: /nope"}})");
}

TEST_F(AdminServerTest, OtherMethodsGet405WithTheEnvelopeAndAllowHeader) {
  Reply reply = Fetch(port_, http::verb::post, "/metrics");
  EXPECT_EQ(reply.status(), 405);
  EXPECT_EQ(reply.header(http::field::allow), "GET, HEAD");
  EXPECT_EQ(reply.header(http::field::content_type), "application/json");
  EXPECT_EQ(reply.res.body(), R"({"error":{"code":405,"message":"method POST not allowed on /metrics; use GET"}})");
}

TEST_F(AdminServerTest, HeadGivesHeadersWithoutBody) {
  Reply reply = Fetch(port_, http::verb::head, "/livez");
  ASSERT_FALSE(reply.ec) << reply.ec.message();
  EXPECT_EQ(reply.status(), 200);
  EXPECT_EQ(reply.header(http::field::content_length), "2");
  EXPECT_EQ(reply.res.body(), "");
}

TEST_F(AdminServerTest, StatusSourceExceptionBecomesA500Envelope) {
  status_.ThrowFromStatus();
  Reply reply = Get(port_, "/api/v1/status");
  EXPECT_EQ(reply.status(), 500);
  EXPECT_EQ(reply.res.body(), R"({"error":{"code":500,"message":"internal error: status exploded"}})");
  EXPECT_EQ(Get(port_, "/livez").status(), 200);  // the server survives
}

TEST_F(AdminServerTest, MalformedRequestGetsA400EnvelopeAndClose) {
  const std::string response = RawExchange(port_, "GARBAGE\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(response, HasSubstr("\"code\":400"));
}

TEST_F(AdminServerTest, KeepAliveConnectionServesSeveralRequests) {
  std::vector<Reply> replies = FetchAll(port_, {Request(http::verb::get, "/livez", true),
                                                Request(http::verb::get, "/readyz", true),
                                                Request(http::verb::get, "/metrics", false)});
  ASSERT_EQ(replies.size(), 3u);
  for (const Reply& r : replies) {
    EXPECT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.status(), 200);
  }
}

TEST_F(AdminServerTest, StopIsPromptIdempotentAndClosesOpenConnections) {
  // An idle keep-alive client must not hold up Stop().
  asio::io_context ioc;
  beast::tcp_stream idle(ioc);
  idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)));
  ASSERT_EQ(Get(port_, "/livez").status(), 200);

  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(1));
  server_->Stop();  // second call is a no-op

  // The idle connection was closed by the server: reading gives EOF, not a hang.
  auto [bytes, ec] = ReadUntilClosed(ioc, idle);
  EXPECT_EQ(bytes, "");
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();

  // And the port no longer accepts.
  Reply after = Get(port_, "/livez");
  EXPECT_TRUE(after.ec) << "server still answering after Stop()";
  server_.reset();  // destructor after Stop() is fine too
}

TEST(AdminServerStart, RejectsMalformedListenAddresses) {
  metrics::Registry registry;
  FakeStatus status;
  for (const char* bad : {"", "9644", ":9644", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000", "::1:9644",
                          "[::1", "[::1]9644"}) {
    EXPECT_THAT(AdminServer::Start(bad, &registry, &status),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("admin listen address")))
        << bad;
  }
}

TEST(AdminServerStart, PortInUseIsUnavailableAndNamesTheAddress) {
  metrics::Registry registry;
  FakeStatus status;
  auto first = AdminServer::Start("127.0.0.1:0", &registry, &status);
  ASSERT_THAT(first, IsOk());
  const std::string taken = (*first)->address();
  EXPECT_THAT(AdminServer::Start(taken, &registry, &status),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(taken)));
}

TEST(AdminServerStart, ListensOnIpv6LoopbackWhenAvailable) {
  metrics::Registry registry;
  FakeStatus status;
  auto server = AdminServer::Start("[::1]:0", &registry, &status);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << server.status().ToString();
  EXPECT_EQ((*server)->address(), "[::1]:" + std::to_string((*server)->port()));
}

TEST_F(AdminServerTest, TranslateRoutePassesTheDecodedPipelineAndGroupAndReturnsTheJson) {
  status_.translation = std::string(R"({"pipeline":"p 1","group":"g/&x","partitions":[]})");
  Reply reply = Get(port_, "/api/v1/offsets/translate?group=g%2F%26x&pipeline=p+1");
  ASSERT_FALSE(reply.ec) << reply.ec.message();
  EXPECT_EQ(reply.status(), 200);
  EXPECT_EQ(reply.header(http::field::content_type), "application/json");
  EXPECT_EQ(reply.res.body(), R"({"pipeline":"p 1","group":"g/&x","partitions":[]})");
  EXPECT_THAT(status_.translate_args(), ::testing::ElementsAre("p 1|g/&x"));
}

TEST_F(AdminServerTest, TranslateRouteNamesAMissingOrBadParameter) {
  status_.translation = std::string("{}");
  Reply missing = Get(port_, "/api/v1/offsets/translate?pipeline=p");
  EXPECT_EQ(missing.status(), 400);
  EXPECT_EQ(missing.res.body(), R"({"error":{"code":400,"message":"missing query parameter 'group'"}})");
  Reply no_query = Get(port_, "/api/v1/offsets/translate");
  EXPECT_EQ(no_query.status(), 400);
  EXPECT_THAT(no_query.res.body(), HasSubstr("missing query parameter 'pipeline'"));
  Reply twice = Get(port_, "/api/v1/offsets/translate?pipeline=p&group=a&group=b");
  EXPECT_EQ(twice.status(), 400);
  EXPECT_THAT(twice.res.body(), HasSubstr("query parameter 'group' given twice"));
  Reply bad = Get(port_, "/api/v1/offsets/translate?pipeline=p&group=a%zz");
  EXPECT_EQ(bad.status(), 400);
  EXPECT_THAT(bad.res.body(), HasSubstr("bad percent-encoding"));
  EXPECT_TRUE(status_.translate_args().empty());  // nothing reached the process
}

TEST_F(AdminServerTest, TranslateErrorsMapToHttpCodesInTheEnvelope) {
  status_.translation = absl::NotFoundError("no pipeline 'nope' in longhaul.yaml");
  Reply not_found = Get(port_, "/api/v1/offsets/translate?pipeline=nope&group=g");
  EXPECT_EQ(not_found.status(), 404);
  EXPECT_EQ(not_found.res.body(), R"({"error":{"code":404,"message":"no pipeline 'nope' in longhaul.yaml"}})");
  status_.translation = absl::UnavailableError("cluster 'src' (127.0.0.1:1): timed out");
  Reply unavailable = Get(port_, "/api/v1/offsets/translate?pipeline=p&group=g");
  EXPECT_EQ(unavailable.status(), 503);
  EXPECT_THAT(unavailable.res.body(), HasSubstr("cluster 'src' (127.0.0.1:1): timed out"));
  status_.translation.reset();
  Reply unimplemented = Get(port_, "/api/v1/offsets/translate?pipeline=p&group=g");
  EXPECT_EQ(unimplemented.status(), 501);
  EXPECT_THAT(unimplemented.res.body(), HasSubstr("does not translate offsets"));
}

TEST_F(AdminServerTest, OneTranslationAtATimeAndMetricsStillServedMeanwhile) {
  status_.translation = std::string("{}");
  status_.BlockStatus();
  std::thread first([&] { EXPECT_EQ(Get(port_, "/api/v1/offsets/translate?pipeline=p&group=g").status(), 200); });
  ASSERT_TRUE(status_.WaitUntilStatusEntered());
  Reply second = Get(port_, "/api/v1/offsets/translate?pipeline=p&group=h");
  EXPECT_EQ(second.status(), 429);
  EXPECT_THAT(second.res.body(), HasSubstr("another offset translation is running"));
  EXPECT_EQ(Get(port_, "/metrics").status(), 200);
  status_.Release();
  first.join();
  EXPECT_EQ(Get(port_, "/api/v1/offsets/translate?pipeline=p&group=h").status(), 200);
}

}  // namespace
}  // namespace longhaul::gateway
