// AdminServer on Boost.Beast: one I/O thread owns the listener and every
// connection; calls into the process (metrics collectors, StatusSource) run
// on a small worker pool so that a slow status answer can never hold up
// /livez or the other connections.
#include "longhaul/gateway/admin_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/message_generator.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "live_page.h"
#include "query_string.h"
#include "longhaul/base/check.h"
#include "longhaul/base/host_port.h"
#include "longhaul/base/logging.h"
#include "longhaul/metrics/registry.h"

namespace longhaul::gateway {

absl::StatusOr<std::string> StatusSource::TranslateOffsetsJson(const std::string&, const std::string&) {
  return absl::UnimplementedError("this process does not translate offsets");
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A request must arrive within this long of the previous response (idle
// keep-alive connections are closed after it), a response must drain in it.
constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr size_t kMaxConnections = 64;
constexpr int kWorkerThreads = 2;
constexpr uint32_t kHeaderLimit = 8 * 1024;
constexpr uint64_t kBodyLimit = 64 * 1024;

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr char kJsonContentType[] = "application/json";
constexpr char kHtmlContentType[] = "text/html; charset=utf-8";
// The page is one self-contained document: inline script and style, data
// only from this origin.
constexpr char kPagePolicy[] =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

enum class Route { kMetrics, kLivez, kReadyz, kStatus, kTranslate, kPage, kNone };

Route FindRoute(std::string_view path) {
  if (path == "/metrics") return Route::kMetrics;
  if (path == "/livez") return Route::kLivez;
  if (path == "/readyz") return Route::kReadyz;
  if (path == "/api/v1/status") return Route::kStatus;
  if (path == "/api/v1/offsets/translate") return Route::kTranslate;
  if (path == "/") return Route::kPage;
  return Route::kNone;
}

struct Reply {
  http::status status = http::status::ok;
  const char* content_type = kTextContentType;
  std::string body;
  bool allow_get_head = false;  // 405 answers say what is allowed
  bool page = false;
};

Reply ErrorReply(http::status status, std::string_view message) {
  Reply reply{status, kJsonContentType, absl::StrCat("{\"error\":{\"code\":", static_cast<int>(status),
                                                     ",\"message\":\"")};
  AppendJsonEscaped(&reply.body, message);
  reply.body.append("\"}}");
  return reply;
}

http::status HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return http::status::bad_request;
    case absl::StatusCode::kNotFound:
      return http::status::not_found;
    case absl::StatusCode::kUnimplemented:
      return http::status::not_implemented;
    default:
      return http::status::service_unavailable;
  }
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

absl::Status BindError(const beast::error_code& ec, std::string_view listen) {
  std::string message = absl::StrCat("admin server cannot listen on ", std::string(listen), ": ", ec.message());
  if (ec == asio::error::address_in_use) return absl::UnavailableError(message);
  if (ec == asio::error::access_denied) return absl::PermissionDeniedError(message);
  if (ec == asio::error::address_family_not_supported || ec == boost::system::errc::address_not_available ||
      ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again ||
      ec == asio::error::service_not_found) {
    return absl::InvalidArgumentError(message);
  }
  return absl::InternalError(message);
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  if (address.is_v6()) return absl::StrCat("[", address.to_string(), "]:", endpoint.port());
  return absl::StrCat(address.to_string(), ":", endpoint.port());
}

}  // namespace

class AdminServer::Impl {
 public:
  Impl(metrics::Registry* registry, StatusSource* status)
      : registry_(registry), status_(status), workers_(kWorkerThreads), acceptor_(ioc_), accept_retry_(ioc_) {}
  ~Impl() { Stop(); }

  absl::Status Listen(std::string_view listen);
  void Run();
  void Stop();

  int port() const { return port_; }
  const std::string& address() const { return address_; }

  // Everything below runs on the I/O thread, except Compute (worker pool).
  asio::thread_pool& workers() { return workers_; }
  Reply Compute(Route route, std::string_view query);

 private:
  class Session;
  void Accept();

  metrics::Registry* const registry_;
  StatusSource* const status_;

  // Declared first so it is destroyed last: pending handlers own sessions,
  // whose sockets need the io_context's services while being destroyed.
  asio::io_context ioc_{1};
  asio::thread_pool workers_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  std::vector<std::weak_ptr<Session>> sessions_;  // I/O thread only (or after it stopped)
  std::thread io_thread_;

  int port_ = 0;
  std::string address_;

  std::mutex stop_mu_;
  bool stopped_ = false;

  // A translation asks Kafka for seconds; one at a time keeps the other
  // worker thread free for /metrics and /api/v1/status.
  std::atomic<bool> translating_{false};
};

// One HTTP/1.1 connection: read a request, answer it, repeat while the
// client keeps the connection alive.
class AdminServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Impl* server) : stream_(std::move(socket)), server_(server) {}

  void Start() { Read(); }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  struct RequestInfo {
    unsigned version = 11;
    bool keep_alive = true;
    bool head = false;
  };

  void Read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIoTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      // A malformed request still gets an answer; a vanished or idle client
      // just loses the connection.
      if (IsHttpParseError(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
        Write(ErrorReply(http::status::bad_request, absl::StrCat("bad request: ", ec.message())),
              RequestInfo{11, false, false});
      } else {
        Close();
      }
      return;
    }
    const http::request<http::string_body>& req = parser_->get();
    RequestInfo info{req.version(), req.keep_alive(), req.method() == http::verb::head};
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const Route route = FindRoute(path);

    if (route == Route::kNone) {
      Write(ErrorReply(http::status::not_found, absl::StrCat("no such endpoint: ", std::string(path))), info);
      return;
    }
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      Reply reply = ErrorReply(
          http::status::method_not_allowed,
          absl::StrCat("method ", std::string(req.method_string().data(), req.method_string().size()),
                       " not allowed on ", std::string(path),
                       "; use GET"));
      reply.allow_get_head = true;
      Write(std::move(reply), info);
      return;
    }
    if (route == Route::kLivez) {
      Write(Reply{http::status::ok, kTextContentType, "ok"}, info);
      return;
    }
    if (route == Route::kPage) {
      Reply reply{http::status::ok, kHtmlContentType, std::string(LivePageHtml())};
      reply.page = true;
      Write(std::move(reply), info);
      return;
    }
    // Calls into the process leave the I/O thread and come back with the answer.
    asio::post(server_->workers(), [self = shared_from_this(), route, info,
                                    query = std::string(path.size() < target.size() ? target.substr(path.size() + 1)
                                                                                    : std::string_view())]() mutable {
      Reply reply = self->server_->Compute(route, query);
      auto executor = self->stream_.get_executor();
      asio::post(executor, [self = std::move(self), reply = std::move(reply), info]() mutable {
        self->Write(std::move(reply), info);
      });
    });
  }

  void Write(Reply reply, const RequestInfo& info) {
    auto set_headers = [&](auto& res) {
      res.set(http::field::server, "longhaul");
      res.set(http::field::content_type, reply.content_type);
      res.set(http::field::cache_control, "no-store");
      res.set("X-Content-Type-Options", "nosniff");
      if (reply.allow_get_head) res.set(http::field::allow, "GET, HEAD");
      if (reply.page) {
        res.set("Content-Security-Policy", kPagePolicy);
        res.set("Referrer-Policy", "no-referrer");
      }
      res.keep_alive(info.keep_alive);
    };
    std::optional<http::message_generator> message;
    if (info.head) {
      http::response<http::empty_body> res{reply.status, info.version};
      set_headers(res);
      res.content_length(reply.body.size());
      message.emplace(std::move(res));
    } else {
      http::response<http::string_body> res{reply.status, info.version};
      set_headers(res);
      res.body() = std::move(reply.body);
      res.prepare_payload();
      message.emplace(std::move(res));
    }
    stream_.expires_after(kIoTimeout);
    beast::async_write(stream_, std::move(*message),
                       [self = shared_from_this(), keep_alive = info.keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) {
                           self->Close();
                           return;
                         }
                         self->Read();
                       });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Impl* const server_;
};

absl::Status AdminServer::Impl::Listen(std::string_view listen) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(listen, /*allow_port_zero=*/true);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("admin listen address '", std::string(listen),
                                                   "': ", parsed.status().message()));
  }

  std::vector<tcp::endpoint> endpoints;
  beast::error_code ec;
  const asio::ip::address literal = asio::ip::make_address(parsed->host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, parsed->port);
  } else {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(parsed->host, absl::StrCat(parsed->port), tcp::resolver::numeric_service, ec);
    if (ec) return BindError(ec, listen);
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }

  beast::error_code last_error = asio::error::host_not_found;
  for (const tcp::endpoint& endpoint : endpoints) {
    acceptor_.close(ec);
    ec = {};
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) {
      const tcp::endpoint bound = acceptor_.local_endpoint(ec);
      if (!ec) {
        port_ = bound.port();
        address_ = FormatEndpoint(bound);
        return absl::OkStatus();
      }
    }
    last_error = ec;
  }
  acceptor_.close(ec);
  return BindError(last_error, listen);
}

void AdminServer::Impl::Run() {
  Accept();
  io_thread_ = std::thread([this] {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        // Nothing of ours throws on purpose; keep serving if something does.
        LogError("admin server handler threw", {{"error", e.what()}});
      }
    }
  });
  LogInfo("admin server listening", {{"address", address_}});
}

void AdminServer::Impl::Accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Usually out of file descriptors: back off instead of spinning.
      LogWarn("admin server accept failed", {{"error", ec.message()}});
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    std::erase_if(sessions_, [](const std::weak_ptr<Session>& s) { return s.expired(); });
    if (sessions_.size() >= kMaxConnections) {
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<Session>(std::move(socket), this);
      sessions_.push_back(session);
      session->Start();
    }
    Accept();
  });
}

Reply AdminServer::Impl::Compute(Route route, std::string_view query) {
  try {
    switch (route) {
      case Route::kMetrics:
        return Reply{http::status::ok, kMetricsContentType, registry_->RenderText()};
      case Route::kStatus:
        return Reply{http::status::ok, kJsonContentType, status_->StatusJson()};
      case Route::kReadyz: {
        std::string reason;
        if (status_->Ready(&reason)) return Reply{http::status::ok, kTextContentType, "ok"};
        if (reason.empty()) reason = "not ready";
        return Reply{http::status::service_unavailable, kTextContentType, std::move(reason)};
      }
      case Route::kTranslate: {
        auto pipeline = QueryParameter(query, "pipeline");
        if (!pipeline.ok()) return ErrorReply(http::status::bad_request, std::string(pipeline.status().message()));
        auto group = QueryParameter(query, "group");
        if (!group.ok()) return ErrorReply(http::status::bad_request, std::string(group.status().message()));
        if (translating_.exchange(true)) {
          return ErrorReply(http::status::too_many_requests, "another offset translation is running; retry shortly");
        }
        absl::StatusOr<std::string> json;
        try {
          json = status_->TranslateOffsetsJson(*pipeline, *group);
        } catch (...) {
          translating_ = false;
          throw;
        }
        translating_ = false;
        if (!json.ok()) return ErrorReply(HttpStatusOf(json.status()), std::string(json.status().message()));
        return Reply{http::status::ok, kJsonContentType, std::move(*json)};
      }
      case Route::kLivez:
      case Route::kPage:
      case Route::kNone:
        break;
    }
  } catch (const std::exception& e) {
    LogError("admin server request failed", {{"error", e.what()}});
    return ErrorReply(http::status::internal_server_error, absl::StrCat("internal error: ", e.what()));
  } catch (...) {
    LogError("admin server request failed", {{"error", "unknown exception"}});
    return ErrorReply(http::status::internal_server_error, "internal error");
  }
  LH_CHECK(false);  // routes answered on the I/O thread never come here
}

void AdminServer::Impl::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  ioc_.stop();
  if (io_thread_.joinable()) io_thread_.join();
  // Waits for a StatusSource or collector call in progress; queued ones are dropped.
  workers_.stop();
  workers_.join();
  // No thread runs the io_context now, so its objects can be touched here.
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  for (const auto& weak : sessions_) {
    if (auto session = weak.lock()) session->Close();
  }
  sessions_.clear();
  if (!address_.empty()) LogInfo("admin server stopped", {{"address", address_}});
}

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(std::string listen, metrics::Registry* registry,
                                                                StatusSource* status) {
  LH_CHECK(registry != nullptr);
  LH_CHECK(status != nullptr);
  auto impl = std::make_unique<Impl>(registry, status);
  if (absl::Status s = impl->Listen(listen); !s.ok()) return s;
  impl->Run();
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminServer::~AdminServer() = default;
int AdminServer::port() const { return impl_->port(); }
std::string AdminServer::address() const { return impl_->address(); }
void AdminServer::Stop() { impl_->Stop(); }

}  // namespace longhaul::gateway
