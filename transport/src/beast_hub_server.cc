// BeastHubServer: the HubServer on Boost.Beast WebSocket over OpenSSL TLS 1.3
// with mutual TLS. Each accepted connection runs on its own strand: TLS
// handshake (certificate verified against the CA), WebSocket upgrade on the
// configured path, then a reader, a writer and a ticker around a
// HubSessionEngine (sans I/O) until the session ends. Identity rules are
// checked when the hello arrives, before the handler sees it; fencing is the
// handler's. Resource bounds: sessions in all and per identity, handshakes
// in all and per address, a small read limit until the hello is accepted,
// backoff on accept errors; the engine bounds the rest.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "hub_engine.h"
#include "identity.h"
#include "longhaul/base/logging.h"
#include "longhaul/transport/hub_server.h"
#include "socket_options.h"
#include "tls.h"

namespace longhaul::transport {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using WsStream = websocket::stream<ssl::stream<beast::tcp_stream>>;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// How long a closing session may take to get its last frame out.
constexpr auto kCloseGrace = std::chrono::seconds(2);

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

absl::StatusOr<tcp::endpoint> ParseListen(const std::string& listen) {
  std::string host, port;
  if (!listen.empty() && listen[0] == '[') {
    const size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("hub server: listen '", listen, "' is not [v6-address]:port"));
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("hub server: listen '", listen, "' is not host:port"));
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  int port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number < 0 || port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("hub server: listen '", listen, "' has a bad port"));
  }
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("hub server: listen '", listen, "' needs an IP address, got '",
                                                   host, "'"));
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port_number));
}

std::string Describe(const tcp::endpoint& e) {
  return e.address().is_v6() ? absl::StrCat("[", e.address().to_string(), "]:", e.port())
                             : absl::StrCat(e.address().to_string(), ":", e.port());
}

class BeastHubServer;

class BeastHubSession final : public HubSession, public std::enable_shared_from_this<BeastHubSession> {
 public:
  BeastHubSession(BeastHubServer* server, uint64_t id, Strand strand, const HubEngineOptions& engine_options,
                  SteadyTime now, std::shared_ptr<std::atomic<bool>> server_stopped)
      : server_(server),
        id_(id),
        strand_(std::move(strand)),
        engine_(engine_options, now),
        wake_(strand_),
        tick_(strand_),
        started_at_(now),
        server_stopped_(std::move(server_stopped)) {}

  uint64_t id() const override { return id_; }
  const EdgeInfo& edge() const override { return edge_; }

  void Accept(std::vector<PartitionOffset> resume, uint64_t generation) override;
  void Reject(absl::Status why) override;
  void Ack(std::vector<uint64_t> batch_ids, std::vector<PartitionOffset> committed) override;
  void Close(absl::Status why) override;

  // `address` is the peer's IP, whose handshake slot the server claimed.
  asio::awaitable<void> Run(tcp::socket socket, std::string address);

  // Strand only. Ends the session after sending an error frame for a non-OK
  // `why` (a close frame for OK).
  void Fail(absl::Status why);
  // Strand only. Ends it at once.
  void Abort(absl::Status why);
  // Strand only: the server stops. A streaming session says why; one still
  // in its handshakes is cut.
  void Shutdown() {
    if (streaming_) {
      Fail(absl::UnavailableError("hub server stopping"));
    } else {
      Abort(absl::UnavailableError("hub server stopping"));
    }
  }
  // Strand only. Tells the handler once, if it saw the hello.
  void NotifyClosed(const absl::Status& why);
  // Strand only: the hello passed identity and fencing checks.
  void DeliverHello();

  HubSessionMetrics Snapshot() {
    HubSessionMetrics m;
    {
      std::lock_guard<std::mutex> lock(mu_);
      engine_.FillMetrics(&m);
    }
    m.session_id = id_;
    m.identity = edge_.identity;
    m.edge_name = edge_.name;
    m.pipeline = edge_.hello.pipeline;
    m.lane = edge_.hello.lane;
    m.connection_index = edge_.hello.connection_index;
    m.peer = edge_.peer_address;
    return m;
  }
  bool hello_known() const { return hello_known_; }
  bool edge_ready() const { return edge_ready_; }
  const Strand& strand() const { return strand_; }
  // The pipeline label for refusals: the hello's pipeline once the identity
  // rules let this certificate feed it, "" before. Strand only.
  const std::string& authorised_pipeline() const { return authorised_pipeline_; }

 private:
  template <class F>
  void OnStrand(F f) {
    if (*server_stopped_) return;
    asio::post(strand_, [self = shared_from_this(), f = std::move(f)]() mutable { f(*self); });
  }
  void Wake() {
    wake_pending_ = true;
    wake_.cancel();
  }
  asio::awaitable<void> ReadLoop(std::shared_ptr<WsStream> ws);
  asio::awaitable<void> WriteLoop(std::shared_ptr<WsStream> ws);
  asio::awaitable<void> TickLoop();
  void OnHelloFrame(HelloFrame hello);

  BeastHubServer* server_;
  const uint64_t id_;
  Strand strand_;
  std::mutex mu_;  // engine_ (metrics snapshots come from other threads)
  HubSessionEngine engine_;
  asio::steady_timer wake_;
  asio::steady_timer tick_;
  bool wake_pending_ = false;
  std::shared_ptr<WsStream> ws_;
  EdgeInfo edge_;
  SteadyTime started_at_;
  SteadyTime hello_at_{};
  SteadyTime closing_since_{};
  std::atomic<bool> hello_known_{false};  // the handler saw OnHello
  std::atomic<bool> edge_ready_{false};   // edge_ is final
  bool closed_notified_ = false;
  bool identity_claimed_ = false;  // counted in the server's per-identity sessions
  bool closing_ = false;       // a final frame is to be written
  absl::Status closing_status_;
  bool over_ = false;
  bool streaming_ = false;  // past the handshakes
  absl::Status over_status_;
  std::shared_ptr<std::atomic<bool>> server_stopped_;
  std::string authorised_pipeline_;
};

class BeastHubServer final : public HubServer {
 public:
  BeastHubServer(HubServerOptions options, HubSessionHandler* handler, const Clock* clock)
      : options_(std::move(options)),
        handler_(handler),
        clock_(clock),
        tls_(TlsContextSource::Role::kServer, options_.tls, options_.require_client_cert, "hub server"),
        acceptor_(control_) {}

  ~BeastHubServer() override { Stop(); }

  absl::Status Init() {
    if (absl::StatusOr<std::shared_ptr<ssl::context>> ctx = tls_.Get(); !ctx.ok()) return ctx.status();
    absl::StatusOr<tcp::endpoint> endpoint = ParseListen(options_.listen);
    if (!endpoint.ok()) return endpoint.status();
    beast::error_code ec;
    acceptor_.open(endpoint->protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      SocketTuning tuning;
      tuning.buffer_bytes = BufferBytes();
      TuneSocket(acceptor_.native_handle(), tuning);  // accepted sockets inherit the buffers
      acceptor_.bind(*endpoint, ec);
    }
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      const bool taken = ec == asio::error::address_in_use;
      const bool denied = ec == asio::error::access_denied;
      const std::string message = absl::StrCat("hub server: cannot listen on ", options_.listen, ": ", ec.message());
      if (taken) return absl::UnavailableError(message);
      if (denied) return absl::PermissionDeniedError(message);
      return absl::InternalError(message);
    }
    local_ = acceptor_.local_endpoint();
    if (!options_.require_client_cert) {
      LogWarn("hub server: mutual TLS is OFF: any client may connect and feed any pipeline",
              {{"listen", address()}});
    }
    asio::co_spawn(control_, AcceptLoop(), asio::detached);
    for (int i = 0; i < options_.io_threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
    LogInfo("hub server listening", {{"address", address()},
                                     {"path", options_.path},
                                     {"mtls", options_.require_client_cert ? "on" : "off"},
                                     {"identities", static_cast<long long>(options_.identities.size())}});
    return absl::OkStatus();
  }

  int port() const override { return local_.port(); }
  std::string address() const override { return Describe(local_); }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(control_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      std::vector<std::shared_ptr<BeastHubSession>> live;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& [id, weak] : sessions_) {
          if (auto s = weak.lock()) live.push_back(std::move(s));
        }
      }
      for (auto& s : live) {
        asio::post(s->strand(), [s] { s->Shutdown(); });
      }
      stop_timer_ = std::make_unique<asio::steady_timer>(control_, std::chrono::seconds(4));
      stop_timer_->async_wait([this](beast::error_code ec) {
        if (!ec) ioc_.stop();
      });
      MaybeFinishStop();
    });
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_joined_ = true;
    *session_stop_flag_ = true;
    LogInfo("hub server stopped", {{"address", address()}});
  }

  HubMetrics Metrics() override {
    std::vector<std::shared_ptr<BeastHubSession>> live;
    HubMetrics m;
    {
      std::lock_guard<std::mutex> lock(mu_);
      m = counters_;
      for (auto& [id, weak] : sessions_) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) {
      if (s->edge_ready()) m.sessions.push_back(s->Snapshot());
    }
    return m;
  }

  // ---- for sessions ----
  const HubServerOptions& options() const { return options_; }
  HubSessionHandler* handler() const { return handler_; }
  const Clock* clock() const { return clock_; }
  TlsContextSource& tls() { return tls_; }
  size_t options_max_frame() const { return options_.max_frame_bytes; }
  int BufferBytes() const {
    return options_.socket_buffer_bytes > 0
               ? options_.socket_buffer_bytes
               : static_cast<int>(std::min<uint64_t>(options_.receive_window_bytes, INT32_MAX));
  }
  template <class F>
  void Count(F f) {
    std::lock_guard<std::mutex> lock(mu_);
    f(counters_);
  }

  // Counts a refusal (or a session closed for what its edge did) under the
  // pipeline label and reason. Pipeline labels are capped so that edges
  // allowed "*" cannot grow the metrics without bound.
  void Refuse(const std::string& pipeline, RefusalReason reason) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string label = pipeline;
    if (!label.empty() && !refusal_pipelines_.contains(label)) {
      if (refusal_pipelines_.size() >= kMaxRefusalPipelines) {
        label.clear();
      } else {
        refusal_pipelines_.insert(label);
      }
    }
    ++counters_.refusals[{label, std::string(RefusalReasonName(reason))}];
    switch (reason) {
      case RefusalReason::kTls: ++counters_.refused_tls; break;
      case RefusalReason::kProtocol: ++counters_.refused_protocol; break;
      case RefusalReason::kIdentity: ++counters_.refused_identity; break;
      case RefusalReason::kHub: ++counters_.refused_by_handler; break;
      case RefusalReason::kBadFrame: ++counters_.bad_frames; break;
      default: break;
    }
  }

  absl::Status UpdateIdentities(std::vector<IdentityRule> rules) override {
    if (absl::Status s = ValidateIdentityRules(rules); !s.ok()) return s;
    auto fresh = std::make_shared<const std::vector<IdentityRule>>(std::move(rules));
    {
      std::lock_guard<std::mutex> lock(mu_);
      rules_ = fresh;
    }
    LogInfo("hub server: identity rules replaced", {{"address", address()},
                                                    {"identities", static_cast<long long>(fresh->size())}});
    return absl::OkStatus();
  }

  // After TLS: the identity's session count, refused beyond the cap.
  // Counted until Unregister.
  absl::Status ClaimIdentity(const std::string& identity) {
    std::lock_guard<std::mutex> lock(mu_);
    int& n = sessions_per_identity_[identity];
    if (n >= options_.max_sessions_per_identity) {
      if (n == 0) sessions_per_identity_.erase(identity);
      return absl::ResourceExhaustedError(absl::StrCat("certificate identity '", identity, "' already has ", n,
                                                       " sessions (max_sessions_per_identity ",
                                                       options_.max_sessions_per_identity, ")"));
    }
    ++n;
    return absl::OkStatus();
  }
  void ReleaseIdentity(const std::string& identity) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_per_identity_.find(identity);
    if (it != sessions_per_identity_.end() && --it->second <= 0) sessions_per_identity_.erase(it);
  }

  // Handshakes in progress from one address; false when at the cap.
  bool ClaimHandshake(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    int& n = handshakes_per_address_[address];
    if (n >= options_.max_pending_handshakes_per_address) return false;
    ++n;
    return true;
  }
  void ReleaseHandshake(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = handshakes_per_address_.find(address);
    if (it != handshakes_per_address_.end() && --it->second <= 0) handshakes_per_address_.erase(it);
  }

  // Identity rules for a hello: fills edge->name. OK, or the error to refuse
  // it with; *replaced is the live session it supersedes (same pipeline,
  // identity, link instance and connection index), if any.
  absl::Status Admit(const std::shared_ptr<BeastHubSession>& session, EdgeInfo* edge,
                     std::shared_ptr<BeastHubSession>* replaced) {
    const HelloFrame& hello = edge->hello;
    if (options_.require_client_cert) {
      std::shared_ptr<const std::vector<IdentityRule>> rules;
      {
        std::lock_guard<std::mutex> lock(mu_);
        rules = rules_;
      }
      absl::StatusOr<std::string> name = AuthoriseEdge(
          *rules, options_.identity_match, PeerIdentity{edge->common_name, edge->uri_sans}, hello.pipeline);
      if (!name.ok()) return name.status();
      edge->name = *std::move(name);
    } else if (IsUsableEdgeName(hello.edge_name)) {
      edge->name = hello.edge_name;
    } else {
      return absl::PermissionDeniedError(absl::StrCat(
          "mutual TLS is off, so the edge is named by its hello, and edge_name '", hello.edge_name.substr(0, 80),
          "' is not 1..64 characters of [A-Za-z0-9._-]"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = connections_[ConnectionKey{hello.pipeline, edge->identity, hello.link_id, hello.connection_index}];
    *replaced = slot.lock();
    if (*replaced == session) replaced->reset();
    slot = session;
    return absl::OkStatus();
  }

  void Register(const std::shared_ptr<BeastHubSession>& s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_[s->id()] = s;
  }
  // `hello_seen`: edge.hello is final (its connection slot may be ours).
  void Unregister(uint64_t id, const EdgeInfo& edge, bool hello_seen, bool identity_claimed) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      sessions_.erase(id);
      if (hello_seen) {
        auto it = connections_.find(
            ConnectionKey{edge.hello.pipeline, edge.identity, edge.hello.link_id, edge.hello.connection_index});
        if (it != connections_.end()) {
          auto live = it->second.lock();
          if (!live || live->id() == id) connections_.erase(it);
        }
      }
    }
    if (identity_claimed) ReleaseIdentity(edge.identity);
    if (!threads_joined_) asio::post(control_, [this] { MaybeFinishStop(); });
  }

 private:
  // One connection of one link instance of one edge.
  using ConnectionKey = std::tuple<std::string, std::string, uint64_t, uint32_t>;
  static constexpr size_t kMaxRefusalPipelines = 64;
  // On control_, like everything touching the acceptor and the stop timer.
  void MaybeFinishStop() {
    if (!stopped_ || !stop_timer_) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.empty() && !accepting_) stop_timer_->cancel();
  }

  asio::awaitable<void> AcceptLoop() {
    accepting_ = true;
    // Out of descriptors or memory, accept fails at once and again: back off
    // (doubling to a second) instead of spinning, and say so once per run.
    constexpr auto kFirstBackoff = std::chrono::milliseconds(5);
    constexpr auto kMaxBackoff = std::chrono::milliseconds(1000);
    std::chrono::milliseconds backoff{0};
    asio::steady_timer pause(control_);
    for (;;) {
      auto [error, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kNoThrow);
      if (error) {
        if (!acceptor_.is_open() || stopped_) break;
        Count([](HubMetrics& m) { ++m.accept_errors; });
        if (backoff.count() == 0) {
          LogWarn("hub server: accept failed; backing off", {{"error", error.message()}});
        }
        backoff = std::min<std::chrono::milliseconds>(kMaxBackoff, backoff.count() == 0 ? kFirstBackoff : 2 * backoff);
        pause.expires_after(backoff);
        co_await pause.async_wait(kNoThrow);
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      Count([](HubMetrics& m) { ++m.connections_accepted; });
      beast::error_code ec;
      const tcp::endpoint peer = socket.remote_endpoint(ec);
      const std::string peer_text = ec ? std::string("unknown") : Describe(peer);
      const std::string address = ec ? std::string("unknown") : peer.address().to_string();
      size_t sessions = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        sessions = sessions_.size();
      }
      if (sessions >= static_cast<size_t>(options_.max_sessions)) {
        RefuseConnection(peer_text, RefusalReason::kSessions,
                         absl::StrCat("max_sessions (", options_.max_sessions, ") reached"));
        continue;  // the socket closes here
      }
      if (pending_handshakes_ >= options_.max_pending_handshakes) {
        RefuseConnection(peer_text, RefusalReason::kHandshakes,
                         absl::StrCat("max_pending_handshakes (", options_.max_pending_handshakes, ") reached"));
        continue;
      }
      if (!ClaimHandshake(address)) {
        RefuseConnection(peer_text, RefusalReason::kHandshakes,
                         absl::StrCat("max_pending_handshakes_per_address (",
                                      options_.max_pending_handshakes_per_address, ") reached for ", address));
        continue;
      }
      const uint64_t id = next_session_id_++;
      auto strand = Strand(socket.get_executor());
      auto session = std::make_shared<BeastHubSession>(this, id, strand, EngineOptionsFrom(options_), clock_->Now(),
                                                       session_stop_flag_);
      Register(session);
      asio::co_spawn(strand, session->Run(std::move(socket), address), asio::detached);
    }
    accepting_ = false;
    MaybeFinishStop();
  }

  // A connection closed at accept: counted, and logged at most once a
  // second per reason (a flood must not flood the log).
  void RefuseConnection(const std::string& peer, RefusalReason reason, const std::string& why) {
    Refuse("", reason);
    const SteadyTime now = clock_->Now();
    SteadyTime& last = last_refusal_log_[static_cast<int>(reason)];
    if (now - last < std::chrono::seconds(1)) return;
    last = now;
    LogWarn("hub server: refused a new connection", {{"peer", peer}, {"reason", why}});
  }

 public:
  std::atomic<int> pending_handshakes_{0};

 private:
  const HubServerOptions options_;
  HubSessionHandler* const handler_;
  const Clock* clock_;
  TlsContextSource tls_;
  std::atomic<bool> stopped_{false};
  std::shared_ptr<std::atomic<bool>> session_stop_flag_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<uint64_t> next_session_id_{1};

  std::atomic<bool> threads_joined_{false};

  // Declared before the io_context: session frames destroyed with it (on a
  // forced stop) still unregister under this mutex.
  std::mutex mu_;
  HubMetrics counters_;
  std::map<uint64_t, std::weak_ptr<BeastHubSession>> sessions_;
  std::shared_ptr<const std::vector<IdentityRule>> rules_ =
      std::make_shared<const std::vector<IdentityRule>>(options_.identities);
  std::map<ConnectionKey, std::weak_ptr<BeastHubSession>> connections_;
  std::map<std::string, int> sessions_per_identity_;
  std::map<std::string, int> handshakes_per_address_;
  std::set<std::string> refusal_pipelines_;
  std::map<int, SteadyTime> last_refusal_log_;  // control_ only

  asio::io_context ioc_;
  // Serializes the acceptor, the accept loop and the stop sequence (the
  // I/O threads may be several).
  Strand control_{asio::make_strand(ioc_)};
  tcp::acceptor acceptor_;
  tcp::endpoint local_;
  std::unique_ptr<asio::steady_timer> stop_timer_;
  std::atomic<bool> accepting_{false};
  std::vector<std::thread> threads_;
};

// ---- BeastHubSession ----

void BeastHubSession::Accept(std::vector<PartitionOffset> resume, uint64_t generation) {
  OnStrand([resume = std::move(resume), generation](BeastHubSession& s) {
    if (s.over_ || s.closing_ || !s.hello_known_) return;
    {
      std::lock_guard<std::mutex> lock(s.mu_);
      s.engine_.Accept(resume, generation);
    }
    s.server_->Count([](HubMetrics& m) { ++m.sessions_started; });
    LogInfo("hub server: edge session accepted", {{"session", std::to_string(s.id_)},
                                                  {"identity", s.edge_.identity},
                                                  {"pipeline", s.edge_.hello.pipeline},
                                                  {"lane", s.edge_.hello.lane},
                                                  {"connection", s.edge_.hello.connection_index},
                                                  {"resume_partitions", static_cast<long long>(resume.size())}});
    s.Wake();
  });
}

void BeastHubSession::Reject(absl::Status why) {
  OnStrand([why = std::move(why)](BeastHubSession& s) {
    if (s.over_ || s.closing_) return;
    s.server_->Refuse(s.authorised_pipeline_, RefusalReason::kHub);
    LogWarn("hub server: the writer refused an edge", {{"session", std::to_string(s.id_)},
                                                       {"identity", s.edge_.identity},
                                                       {"pipeline", s.edge_.hello.pipeline},
                                                       {"error", Msg(why)}});
    s.Fail(why.ok() ? absl::PermissionDeniedError("refused") : why);
  });
}

void BeastHubSession::Ack(std::vector<uint64_t> batch_ids, std::vector<PartitionOffset> committed) {
  OnStrand([ids = std::move(batch_ids), committed = std::move(committed)](BeastHubSession& s) {
    if (s.over_) return;
    {
      std::lock_guard<std::mutex> lock(s.mu_);
      s.engine_.Ack(ids, committed, s.server_->clock()->Now());
    }
    s.Wake();
  });
}

void BeastHubSession::Close(absl::Status why) {
  OnStrand([why = std::move(why)](BeastHubSession& s) { s.Fail(why); });
}

void BeastHubSession::Fail(absl::Status why) {
  if (over_ || closing_) return;
  closing_ = true;
  closing_status_ = why;
  closing_since_ = server_->clock()->Now();
  Wake();
  NotifyClosed(why.ok() ? absl::CancelledError("closed by the hub") : why);
}

void BeastHubSession::Abort(absl::Status why) {
  if (over_) return;
  over_ = true;
  over_status_ = why;
  wake_.cancel();
  tick_.cancel();
  if (ws_) {
    beast::error_code ignored;
    beast::get_lowest_layer(*ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*ws_).close();
  }
  NotifyClosed(why);
}

void BeastHubSession::NotifyClosed(const absl::Status& why) {
  if (closed_notified_) return;
  closed_notified_ = true;
  if (hello_known_) {
    server_->Count([](HubMetrics& m) { ++m.sessions_closed; });
    server_->handler()->OnClosed(*this, why);
  }
}

void BeastHubSession::DeliverHello() {
  if (over_ || closing_) return;
  hello_known_ = true;
  server_->handler()->OnHello(shared_from_this());
}

void BeastHubSession::OnHelloFrame(HelloFrame hello) {
  hello_at_ = server_->clock()->Now();
  edge_.hello = std::move(hello);
  std::shared_ptr<BeastHubSession> replaced;
  absl::Status admitted = server_->Admit(shared_from_this(), &edge_, &replaced);
  edge_ready_ = true;
  LogInfo("hub server: edge said hello", {{"session", std::to_string(id_)},
                                          {"peer", edge_.peer_address},
                                          {"identity", edge_.identity},
                                          {"edge", edge_.name},
                                          {"pipeline", edge_.hello.pipeline},
                                          {"lane", edge_.hello.lane},
                                          {"connection", absl::StrCat(edge_.hello.connection_index, "/",
                                                                      edge_.hello.connection_count)},
                                          {"generation", std::to_string(edge_.hello.generation)},
                                          {"link_id", std::to_string(edge_.hello.link_id)}});
  if (!admitted.ok()) {
    server_->Refuse("", RefusalReason::kIdentity);
    LogWarn("hub server: refused edge", {{"peer", edge_.peer_address},
                                         {"identity", edge_.identity},
                                         {"pipeline", edge_.hello.pipeline},
                                         {"error", Msg(admitted)}});
    Fail(admitted);
    return;
  }
  authorised_pipeline_ = edge_.hello.pipeline;
  if (!replaced) {
    DeliverHello();
    return;
  }
  // The superseded session must be over for the handler before it hears
  // this hello: close it on its strand, then come back to ours.
  asio::post(replaced->strand(), [replaced, self = shared_from_this()] {
    replaced->Fail(absl::CancelledError(
        "replaced by a newer connection of the same edge link instance and connection index"));
    asio::post(self->strand(), [self] { self->DeliverHello(); });
  });
}

asio::awaitable<void> BeastHubSession::Run(tcp::socket socket, std::string address) {
  auto self = shared_from_this();
  struct Unregister {
    BeastHubSession* s;
    ~Unregister() { s->server_->Unregister(s->id_, s->edge_, s->edge_ready_, s->identity_claimed_); }
  } unregister{this};
  const HubServerOptions& options = server_->options();
  beast::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  edge_.peer_address = ec ? "unknown" : Describe(peer);
  SocketTuning tuning;
  tuning.congestion_control = options.congestion_control;
  TuneConnectedSocket(socket.native_handle(), tuning);

  // This connection's handshake slots, in all and for its address (claimed
  // by the accept loop), until the WebSocket is up.
  struct Pending {
    BeastHubServer* server;
    std::string address;
    bool done = false;
    Pending(BeastHubServer* s, std::string a) : server(s), address(std::move(a)) { ++server->pending_handshakes_; }
    void Done() {
      if (done) return;
      done = true;
      --server->pending_handshakes_;
      server->ReleaseHandshake(address);
    }
    ~Pending() { Done(); }
  } pending(server_, std::move(address));

  absl::StatusOr<std::shared_ptr<ssl::context>> ctx = server_->tls().Get();
  if (!ctx.ok()) {
    LogError("hub server: no usable TLS context, closing connection", {{"error", Msg(ctx.status())}});
    co_return;
  }
  auto ws = std::make_shared<WsStream>(beast::tcp_stream(std::move(socket)), **ctx);
  ws_ = ws;  // so that Abort() can cut the handshakes short
  auto verify_failure = std::make_shared<std::string>();
  ws->next_layer().set_verify_callback([verify_failure](bool preverified, ssl::verify_context& vctx) {
    if (!preverified && verify_failure->empty()) {
      X509_STORE_CTX* store = vctx.native_handle();
      *verify_failure = absl::StrCat("certificate verify failed: ",
                                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)), " (certificate ",
                                     SubjectOf(X509_STORE_CTX_get_current_cert(store)), ")");
    }
    return preverified;
  });
  beast::get_lowest_layer(*ws).expires_after(options.handshake_timeout);
  auto [tls_error] = co_await ws->next_layer().async_handshake(ssl::stream_base::server, kNoThrow);
  if (over_) co_return;
  if (tls_error) {
    std::string reason = verify_failure->empty() ? tls_error.message() : *verify_failure;
    if (reason.find("peer did not return a certificate") != std::string::npos) {
      reason = "the client sent no certificate (mutual TLS is required)";
    } else if (tls_error == beast::error::timeout) {
      reason = "TLS handshake timed out";
    }
    server_->Refuse("", RefusalReason::kTls);
    LogWarn("hub server: refused connection: TLS handshake failed", {{"peer", edge_.peer_address}, {"reason", reason}});
    co_return;
  }
  const CertificateNames names = PeerNames(ws->next_layer().native_handle());
  edge_.identity = names.Identity();
  edge_.common_name = names.common_name;
  edge_.uri_sans = names.uris;
  if (absl::Status claimed = server_->ClaimIdentity(edge_.identity); !claimed.ok()) {
    server_->Refuse("", RefusalReason::kSessions);
    LogWarn("hub server: refused connection", {{"peer", edge_.peer_address}, {"reason", Msg(claimed)}});
    co_return;
  }
  identity_claimed_ = true;

  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(1024);
  auto [read_error, read] = co_await http::async_read(ws->next_layer(), buffer, parser, kNoThrow);
  if (over_) co_return;
  if (read_error) {
    server_->Refuse("", RefusalReason::kProtocol);
    LogWarn("hub server: refused connection: no WebSocket upgrade request",
            {{"peer", edge_.peer_address}, {"identity", edge_.identity}, {"error", read_error.message()}});
    co_return;
  }
  http::request<http::string_body> request = parser.release();
  if (!websocket::is_upgrade(request) || request.target() != options.path) {
    server_->Refuse("", RefusalReason::kProtocol);
    LogWarn("hub server: refused connection: not a WebSocket upgrade to the link path",
            {{"peer", edge_.peer_address},
             {"target", std::string(request.target().data(), request.target().size())},
             {"path", options.path}});
    http::response<http::string_body> response{http::status::not_found, request.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = "longhaul hub: the link is a WebSocket at " + options.path + "\n";
    response.keep_alive(false);
    response.prepare_payload();
    auto [write_error, written] = co_await http::async_write(ws->next_layer(), response, kNoThrow);
    (void)write_error;
    co_return;
  }
  beast::get_lowest_layer(*ws).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options.handshake_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();  // the engine's dead-link check decides
  timeouts.keep_alive_pings = false;
  ws->set_option(timeouts);
  ws->set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "longhaul-hub"); }));
  ws->binary(true);
  ws->auto_fragment(false);
  // Until a hello arrived only small frames are read (the engine says how
  // large before each read).
  ws->read_message_max(options.max_hello_frame_bytes);
  auto [accept_error] = co_await ws->async_accept(request, kNoThrow);
  if (over_) co_return;
  if (accept_error) {
    server_->Refuse("", RefusalReason::kProtocol);
    LogWarn("hub server: refused connection: WebSocket upgrade failed",
            {{"peer", edge_.peer_address}, {"error", accept_error.message()}});
    co_return;
  }
  pending.Done();
  streaming_ = true;
  {
    using namespace asio::experimental::awaitable_operators;
    co_await (ReadLoop(ws) && WriteLoop(ws) && TickLoop());
  }
  ws_.reset();
  beast::get_lowest_layer(*ws).close();
  NotifyClosed(over_status_);
  if (edge_ready_) {
    LogInfo("hub server: edge session ended", {{"session", std::to_string(id_)},
                                               {"peer", edge_.peer_address},
                                               {"identity", edge_.identity},
                                               {"pipeline", edge_.hello.pipeline},
                                               {"connection", edge_.hello.connection_index},
                                               {"reason", Msg(over_status_)}});
  }
}

asio::awaitable<void> BeastHubSession::ReadLoop(std::shared_ptr<WsStream> ws) {
  // A large message leaves a large buffer behind; an idle session should
  // not keep it (a hub holds hundreds of mostly idle edges: at 1 MiB kept,
  // an edge that once sent a full batch cost its hub a megabyte for good).
  constexpr size_t kKeptBufferBytes = size_t{64} << 10;
  beast::flat_buffer buffer;
  for (;;) {
    if (over_ || closing_) co_return;  // e.g. a refused hello: read nothing more
    buffer.clear();
    if (buffer.capacity() > kKeptBufferBytes) buffer.shrink_to_fit();
    size_t limit;
    {
      std::lock_guard<std::mutex> lock(mu_);
      limit = engine_.max_message_bytes();
    }
    ws->read_message_max(limit);
    auto [error, n] = co_await ws->async_read(buffer, kNoThrow);
    if (over_ || closing_) co_return;
    if (error == websocket::error::message_too_big) {
      server_->Refuse(authorised_pipeline_, RefusalReason::kBadFrame);
      const absl::Status why = absl::ResourceExhaustedError(
          absl::StrCat("a WebSocket message larger than ", limit, " bytes",
                       limit < server_->options_max_frame() ? " before the hello" : ""));
      LogWarn("hub server: closing an edge session", {{"session", std::to_string(id_)},
                                                       {"peer", edge_.peer_address},
                                                       {"identity", edge_.identity},
                                                       {"error", Msg(why)}});
      Fail(why);
      co_return;
    }
    if (error) {
      Abort(absl::UnavailableError(error == websocket::error::closed
                                       ? std::string("the edge closed the WebSocket")
                                       : absl::StrCat("reading from the edge: ", error.message())));
      co_return;
    }
    if (!ws->got_binary()) {
      server_->Refuse(authorised_pipeline_, RefusalReason::kBadFrame);
      Fail(absl::InvalidArgumentError("a text WebSocket message: the link speaks binary frames"));
      co_return;
    }
    const std::string_view message(static_cast<const char*>(buffer.data().data()), buffer.size());
    HubSessionEngine::Inbound in;
    {
      std::lock_guard<std::mutex> lock(mu_);
      in = engine_.OnMessage(message, server_->clock()->Now(), server_->clock()->WallMillis());
    }
    server_->Count([&](HubMetrics& m) {
      m.wire_bytes_received += message.size();
      if (in.batch) {
        m.bytes_uncompressed += in.batch->uncompressed_bytes;
        ++m.batches_received;
      }
      if (in.duplicate) ++m.duplicate_batches;
    });
    if (in.refusal) server_->Refuse(authorised_pipeline_, *in.refusal);
    if (!in.error.ok()) {
      LogWarn("hub server: closing an edge session", {{"session", std::to_string(id_)},
                                                       {"peer", edge_.peer_address},
                                                       {"identity", edge_.identity},
                                                       {"error", Msg(in.error)}});
      Fail(in.error);
      co_return;
    }
    if (in.peer_closed) {
      Abort(absl::CancelledError(absl::StrCat("the edge closed the connection: ", in.close_reason)));
      co_return;
    }
    if (in.hello) OnHelloFrame(std::move(*in.hello));
    if (in.batch && hello_known_ && !closing_) server_->handler()->OnData(*this, std::move(*in.batch));
    if (in.report && hello_known_ && !closing_) server_->handler()->OnReport(*this, std::move(*in.report));
    Wake();
  }
}

asio::awaitable<void> BeastHubSession::WriteLoop(std::shared_ptr<WsStream> ws) {
  for (;;) {
    if (over_) co_return;
    std::shared_ptr<const std::string> frame;
    {
      std::lock_guard<std::mutex> lock(mu_);
      frame = engine_.NextFrame();
    }
    if (frame) {
      auto [error, n] = co_await ws->async_write(asio::buffer(*frame), kNoThrow);
      if (over_) co_return;
      if (error) {
        Abort(absl::UnavailableError(absl::StrCat("writing to the edge: ", error.message())));
        co_return;
      }
      continue;
    }
    if (closing_) {
      const std::string last = closing_status_.ok()
                                   ? EncodeFrame(CloseFrame{"closed by the hub"})
                                   : EncodeFrame(ErrorFrame{closing_status_.code(), Msg(closing_status_)});
      auto [error, n] = co_await ws->async_write(asio::buffer(last), kNoThrow);
      if (!error && !over_) {
        auto [close_error] = co_await ws->async_close(websocket::close_code::normal, kNoThrow);
        (void)close_error;
      }
      Abort(closing_status_.ok() ? absl::CancelledError("closed by the hub") : closing_status_);
      co_return;
    }
    if (wake_pending_) {
      wake_pending_ = false;
      continue;
    }
    wake_.expires_at(asio::steady_timer::time_point::max());
    co_await wake_.async_wait(kNoThrow);
    wake_pending_ = false;
  }
}

asio::awaitable<void> BeastHubSession::TickLoop() {
  const HubServerOptions& options = server_->options();
  const auto period = std::clamp<std::chrono::milliseconds>(
      std::min(options.dead_link_timeout, options.handshake_timeout) / 8, std::chrono::milliseconds(10),
      std::chrono::milliseconds(250));
  for (;;) {
    tick_.expires_after(period);
    co_await tick_.async_wait(kNoThrow);
    if (over_) co_return;
    const SteadyTime now = server_->clock()->Now();
    if (closing_) {
      if (now - closing_since_ > kCloseGrace) {
        Abort(closing_status_.ok() ? absl::CancelledError("closed by the hub") : closing_status_);
        co_return;
      }
      continue;
    }
    absl::Status status;
    HubSessionEngine::State state;
    {
      std::lock_guard<std::mutex> lock(mu_);
      status = engine_.OnTick(now);
      state = engine_.state();
    }
    if (!status.ok()) {
      LogWarn("hub server: closing an edge session", {{"session", std::to_string(id_)},
                                                       {"peer", edge_.peer_address},
                                                       {"error", Msg(status)}});
      if (status.code() == absl::StatusCode::kResourceExhausted) {
        // The edge does not read what we queue: a frame more would not help.
        server_->Refuse(authorised_pipeline_, RefusalReason::kOutboundQueue);
      }
      Abort(status);
      co_return;
    }
    if (state == HubSessionEngine::State::kAwaitHello && now - started_at_ > options.handshake_timeout) {
      server_->Refuse("", RefusalReason::kProtocol);
      LogWarn("hub server: refused connection: no hello", {{"peer", edge_.peer_address}});
      Fail(absl::DeadlineExceededError("no hello frame within the handshake timeout"));
    } else if (state == HubSessionEngine::State::kAwaitAccept && hello_known_ &&
               now - hello_at_ > options.accept_timeout) {
      server_->Refuse(authorised_pipeline_, RefusalReason::kHub);
      LogWarn("hub server: the writer did not answer a hello in time", {{"session", std::to_string(id_)}});
      Fail(absl::DeadlineExceededError("the hub's writer did not accept the session in time; retry later"));
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<HubServer>> HubServer::Start(HubServerOptions options, HubSessionHandler* handler,
                                                            const Clock* clock) {
  if (absl::Status s = ValidateHubServerOptions(options); !s.ok()) return s;
  if (handler == nullptr) return absl::InvalidArgumentError("hub server: a session handler is required");
  auto server = std::make_unique<BeastHubServer>(std::move(options), handler, clock);
  if (absl::Status s = server->Init(); !s.ok()) return s;
  return std::unique_ptr<HubServer>(std::move(server));
}

}  // namespace longhaul::transport
