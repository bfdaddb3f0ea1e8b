// BeastEdgeLink: the EdgeLink on Boost.Beast WebSocket over OpenSSL TLS 1.3.
// One I/O thread runs a coroutine per connection: dial (optionally through
// an HTTP CONNECT proxy), TLS, WebSocket upgrade, hello; then a reader, a
// writer and a ticker until the connection fails; then back off and redial.
// The protocol itself lives in EdgeConnectionEngine (sans I/O); this file
// only moves its frames and feeds it time. Engines and buffer accounting
// are guarded by mu_ because SendBatch runs on the caller's threads.
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
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "edge_engine.h"
#include "http_connect.h"
#include "longhaul/base/backoff.h"
#include "longhaul/base/check.h"
#include "longhaul/base/logging.h"
#include "longhaul/transport/edge_link.h"
#include "longhaul/transport/record_codec.h"
#include "socket_options.h"
#include "tls.h"

namespace longhaul::transport {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using WsStream = websocket::stream<ssl::stream<beast::tcp_stream>>;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// Unsent bytes the kernel may hold per socket (TCP_NOTSENT_LOWAT): enough
// to keep a fast link busy between our writes, small enough that a ping
// does not wait behind much of our own data. Data the kernel holds is out of
// reach of the priority classes, so once the link's delivery rate is known
// the mark shrinks to about 50 ms of it (NotSentLowatFor): on a 2 Mbit/s
// link 256 KiB would be a second of bulk data ahead of every alarm.
constexpr int kNotSentLowat = 256 * 1024;
constexpr int kMinNotSentLowat = 16 * 1024;

int NotSentLowatFor(double delivery_bytes_per_second, uint64_t rate_limit_bits_per_second) {
  double rate = delivery_bytes_per_second;
  if (rate_limit_bits_per_second > 0) {
    const double cap = static_cast<double>(rate_limit_bits_per_second) / 8.0;
    rate = rate > 0 ? std::min(rate, cap) : cap;
  }
  if (rate <= 0) return kNotSentLowat;
  return static_cast<int>(std::clamp(rate * 0.05, double{kMinNotSentLowat}, double{kNotSentLowat}));
}

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

struct EdgeConnection {
  EdgeConnection(asio::io_context& ioc, EdgeEngineOptions options, const EdgeLinkOptions& link, uint64_t seed)
      : index(static_cast<int>(options.hello.connection_index)),
        engine(std::move(options)),
        wake(ioc),
        tick(ioc),
        retry(ioc),
        backoff(link.reconnect_initial, link.reconnect_max, seed) {}

  const int index;
  EdgeConnectionEngine engine;  // guarded by BeastEdgeLink::mu_
  // The rest belongs to the I/O thread.
  asio::steady_timer wake;
  asio::steady_timer tick;
  asio::steady_timer retry;
  bool wake_pending = false;
  Backoff backoff;
  // The hub and generation of the current session (guarded by mu_), and how
  // it ended (I/O thread).
  EdgeLinkPlan::Dial dial;
  SessionEnd end = SessionEnd::kOther;
  std::shared_ptr<WsStream> ws;
  bool session_over = true;
  absl::Status session_error;
  bool up = false;
  bool ever_up = false;
  // While dialling (resolve, connect, proxy, handshakes): aborts that step.
  std::function<void()> cancel_dial;
  std::string congestion_control;  // guarded by mu_ (read by Metrics)
  int notsent_lowat = 0;           // TCP_NOTSENT_LOWAT now on the socket (I/O thread)
};

class BeastEdgeLink final : public EdgeLink {
 public:
  BeastEdgeLink(EdgeLinkOptions options, EdgeLinkCallbacks callbacks, const Clock* clock)
      : options_(std::move(options)),
        callbacks_(std::move(callbacks)),
        clock_(clock),
        tls_(TlsContextSource::Role::kClient, options_.tls, true, "edge link"),
        rate_limiter_(options_.rate_limit_bits_per_second),
        plan_(options_.hubs.size()) {}

  ~BeastEdgeLink() override { Stop(); }

  absl::Status Init() {
    if (absl::StatusOr<std::shared_ptr<ssl::context>> ctx = tls_.Get(); !ctx.ok()) return ctx.status();
    std::random_device random;
    const uint64_t link_id = (uint64_t{random()} << 32) ^ random();
    for (int i = 0; i < options_.connections; ++i) {
      EdgeEngineOptions e;
      e.hello.pipeline = options_.pipeline;
      e.hello.lane = options_.lane;
      e.hello.link_id = link_id;
      e.hello.connection_index = static_cast<uint32_t>(i);
      e.hello.connection_count = static_cast<uint32_t>(options_.connections);
      e.hello.edge_name = options_.edge_name;
      e.window = options_.window;
      e.heartbeat_interval = options_.heartbeat_interval;
      e.dead_link_timeout = options_.dead_link_timeout;
      e.report_interval = options_.report_interval;
      e.limits.max_frame_bytes = options_.max_frame_bytes;
      for (const PriorityClass& c : options_.classes) e.class_weights.push_back(c.weight);
      e.rate_limiter = &rate_limiter_;
      connections_.push_back(std::make_shared<EdgeConnection>(ioc_, std::move(e), options_, link_id + i));
    }
    running_ = options_.connections;
    for (auto& c : connections_) asio::co_spawn(ioc_, RunConnection(c), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
    std::string hubs;
    for (const HubAddress& h : options_.hubs) absl::StrAppend(&hubs, hubs.empty() ? "" : ",", h.ToString());
    LogInfo("edge link started", {{"hubs", hubs},
                                  {"pipeline", options_.pipeline},
                                  {"lane", options_.lane},
                                  {"connections", options_.connections},
                                  {"link_id", std::to_string(link_id)},
                                  {"proxy", options_.proxy ? absl::StrCat(options_.proxy->host, ":", options_.proxy->port)
                                                           : std::string("none")}});
    return absl::OkStatus();
  }

  bool CanSend(uint64_t bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    const bool ok = buffered_ + bytes <= options_.buffer_budget_bytes;
    if (!ok) refused_ = true;
    return ok;
  }

  absl::StatusOr<uint64_t> SendBatch(OutgoingBatch batch) override {
    if (stopping_) return absl::CancelledError("edge link stopped");
    if (failed_) return absl::CancelledError("edge link stopped for good: a newer instance of this edge took over");
    const TopicPartition& tp = batch.partition;
    if (tp.topic.empty() || tp.topic.size() > kMaxTopicBytes || tp.partition < 0) {
      return absl::InvalidArgumentError(absl::StrCat("batch for ", tp.ToString(), ": bad topic or partition"));
    }
    if (batch.first_offset < 0) {
      if (batch.records.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("batch for ", tp.ToString(), ": an empty batch needs first_offset and last_offset"));
      }
      batch.first_offset = batch.records.front().offset;
    }
    if (batch.last_offset < 0) {
      if (batch.records.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("batch for ", tp.ToString(), ": an empty batch needs last_offset"));
      }
      batch.last_offset = batch.records.back().offset;
    }
    if (batch.last_offset < batch.first_offset) {
      return absl::InvalidArgumentError(absl::StrCat("batch for ", tp.ToString(), ": last offset ", batch.last_offset,
                                                     " is before first offset ", batch.first_offset));
    }
    DataFrame frame;
    frame.batch_id = next_batch_id_.fetch_add(1);
    frame.topic = tp.topic;
    frame.partition = tp.partition;
    frame.first_offset = batch.first_offset;
    frame.last_offset = batch.last_offset;
    if (absl::Status s = EncodeRecords(batch.records, options_.compression, &frame); !s.ok()) return s;
    if (frame.uncompressed_size > options_.max_batch_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("batch for ", tp.ToString(), ": ", frame.uncompressed_size,
                                                     " encoded bytes exceed max_batch_bytes ",
                                                     options_.max_batch_bytes));
    }
    PendingBatch pending;
    pending.id = frame.batch_id;
    pending.partition = tp;
    pending.first_offset = frame.first_offset;
    pending.last_offset = frame.last_offset;
    pending.record_count = frame.record_count;
    pending.uncompressed_bytes = frame.uncompressed_size;
    pending.credit_cost = BatchCreditCost(batch.records);
    pending.compressed_bytes = frame.records.size();
    pending.frame = std::make_shared<const std::string>(EncodeFrame(frame));
    if (options_.class_of) {
      pending.priority_class = static_cast<uint32_t>(
          std::min<size_t>(options_.class_of(tp.topic), std::max<size_t>(options_.classes.size(), 1) - 1));
    }
    const uint64_t size = pending.frame->size();
    if (size > options_.max_frame_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("batch for ", tp.ToString(), ": frame of ", size,
                                                     " bytes exceeds max_frame_bytes ", options_.max_frame_bytes));
    }
    std::shared_ptr<EdgeConnection> connection =
        connections_[ConnectionOf(tp, static_cast<uint32_t>(connections_.size()))];
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (buffered_ + size > options_.buffer_budget_bytes) {
        refused_ = true;
        ++budget_refusals_;
        return absl::ResourceExhaustedError(absl::StrCat("edge link buffer full: ", buffered_, " of ",
                                                         options_.buffer_budget_bytes,
                                                         " bytes held until the hub acknowledges; wait for on_writable"));
      }
      pending.enqueued_at = clock_->Now();
      if (absl::Status s = connection->engine.Enqueue(std::move(pending)); !s.ok()) return s;
      buffered_ += size;
    }
    asio::post(ioc_, [this, connection] { Wake(*connection); });
    return frame.batch_id;
  }

  absl::Status SetReport(ReportFrame report) override {
    std::sort(report.partitions.begin(), report.partitions.end(),
              [](const PartitionReport& a, const PartitionReport& b) { return a.partition < b.partition; });
    for (size_t i = 0; i < report.partitions.size(); ++i) {
      const PartitionReport& p = report.partitions[i];
      if (p.partition.topic.empty() || p.partition.topic.size() > kMaxTopicBytes || p.partition.partition < 0) {
        return absl::InvalidArgumentError(absl::StrCat("report: bad topic or partition ", p.partition.ToString()));
      }
      if (i > 0 && report.partitions[i - 1].partition == p.partition) {
        return absl::InvalidArgumentError(absl::StrCat("report: ", p.partition.ToString(), " is listed twice"));
      }
      for (int64_t v : {p.end_offset, p.committed_offset, p.oldest_unsent_timestamp_ms, p.log_start_offset,
                        p.lost_records}) {
        if (v < -1) {
          return absl::InvalidArgumentError(
              absl::StrCat("report: ", p.partition.ToString(), " has a value below -1 (unknown): ", v));
        }
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    report.buffered_bytes = buffered_;
    report.buffer_budget_bytes = options_.buffer_budget_bytes;
    connections_.front()->engine.SetReport(report);
    return absl::OkStatus();
  }

  uint64_t BufferedBytes() override {
    std::lock_guard<std::mutex> lock(mu_);
    return buffered_;
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    stopping_ = true;
    asio::post(ioc_, [this] {
      for (auto& c : connections_) {
        c->retry.cancel();
        if (c->cancel_dial) c->cancel_dial();
        if (!c->session_over) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            c->engine.QueueClose("edge link stopping");
          }
          Wake(*c);
        }
      }
      // Give the close frames a moment, then cut whatever is left; as a last
      // resort stop the loop (a resolver stuck in DNS, say).
      stop_timer_ = std::make_unique<asio::steady_timer>(ioc_, std::chrono::milliseconds(1000));
      stop_timer_->async_wait([this](beast::error_code ec) {
        if (ec) return;
        for (auto& c : connections_) Abort(*c, absl::CancelledError("edge link stopped"));
        stop_timer_->expires_after(std::chrono::milliseconds(2000));
        stop_timer_->async_wait([this](beast::error_code ec2) {
          if (!ec2) ioc_.stop();
        });
      });
      if (running_ == 0) stop_timer_->cancel();
    });
    if (thread_.joinable()) thread_.join();
    LogInfo("edge link stopped", {{"pipeline", options_.pipeline}});
  }

  EdgeLinkMetrics Metrics() override {
    std::lock_guard<std::mutex> lock(mu_);
    const SteadyTime now = clock_->Now();
    EdgeLinkMetrics m;
    m.connections_up = connections_up_;
    m.up = connections_up_ == static_cast<int>(connections_.size());
    m.connects = connects_;
    m.reconnects = reconnects_;
    m.disconnects = disconnects_;
    m.connect_failures = connect_failures_;
    m.buffered_bytes = buffered_;
    m.buffer_budget_bytes = options_.buffer_budget_bytes;
    m.budget_refusals = budget_refusals_;
    m.last_error = last_error_;
    m.hub = options_.hubs[plan_.hub()].ToString();
    m.hub_moves = plan_.moves();
    m.generation = plan_.generation();
    m.failed = plan_.stopped();
    m.reports_sent = connections_.front()->engine.reports_sent();
    for (const auto& c : connections_) {
      const EdgeEngineCounters& k = c->engine.counters();
      m.batches_sent += k.batches_sent;
      m.batches_resent += k.batches_resent;
      m.batches_acked += k.batches_acked;
      m.records_sent += k.records_sent;
      m.bytes_uncompressed += k.bytes_uncompressed;
      m.bytes_compressed += k.bytes_compressed;
      m.wire_bytes_sent += k.wire_bytes_sent;
      m.frames_sent += k.frames_sent;
      m.frames_received += k.frames_received;
      m.rtt.Merge(k.rtt);
      m.credit_waits += c->engine.credit_wait().count();
      m.credit_wait_seconds += c->engine.credit_wait().seconds(now);
      m.window_waits += c->engine.window_wait().count();
      m.window_wait_seconds += c->engine.window_wait().seconds(now);
      EdgeConnectionMetrics cm = c->engine.Snapshot(now);
      cm.congestion_control = c->congestion_control;
      m.frames_in_flight += cm.frames_in_flight;
      m.bytes_in_flight += cm.bytes_in_flight;
      m.connections.push_back(std::move(cm));
      const std::vector<EdgeClassSnapshot> classes = c->engine.ClassSnapshot();
      m.classes.resize(classes.size());
      for (size_t i = 0; i < classes.size(); ++i) {
        EdgeClassMetrics& k = m.classes[i];
        const EdgeClassSnapshot& snap = classes[i];
        k.queued_batches += snap.queued_batches;
        k.queued_bytes += snap.queued_bytes;
        k.bytes_sent += snap.bytes_sent;
        if (snap.queued_batches > 0) {
          k.oldest_queued_seconds =
              std::max(k.oldest_queued_seconds, std::chrono::duration<double>(now - snap.oldest_queued).count());
        }
      }
    }
    for (size_t i = 0; i < m.classes.size(); ++i) {
      m.classes[i].name = i < options_.classes.size() ? options_.classes[i].name : "default";
      m.classes[i].weight = i < options_.classes.size() ? options_.classes[i].weight : 1;
    }
    m.rate_limit_bits_per_second = options_.rate_limit_bits_per_second;
    return m;
  }

 private:
  void Wake(EdgeConnection& c) {
    c.wake_pending = true;
    c.wake.cancel();
  }

  // Ends the connection's current session (first error wins): every loop
  // of the session returns once its pending operation fails.
  void Abort(EdgeConnection& c, absl::Status why) {
    if (c.session_over) return;
    c.session_over = true;
    c.session_error = std::move(why);
    c.wake.cancel();
    c.tick.cancel();
    if (c.ws) {
      beast::error_code ignored;
      beast::get_lowest_layer(*c.ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(*c.ws).close();
    }
  }

  asio::awaitable<void> RunConnection(std::shared_ptr<EdgeConnection> c) {
    while (!stopping_ && !failed_) {  // failed_: stopped for good, never redial
      // After a whole round of hubs failed, the link (every connection) waits
      // out the back-off: a move by one connection must not wake the others
      // into an immediate redial, or N connections spin through the list.
      SteadyTime hold_until;
      {
        std::lock_guard<std::mutex> lock(mu_);
        hold_until = round_hold_until_;
      }
      if (const SteadyTime now = clock_->Now(); now < hold_until) {
        c->retry.expires_after(hold_until - now);
        co_await c->retry.async_wait(kNoThrow);
        continue;
      }
      absl::Status status = co_await RunSession(c);
      bool link_was_up = false;
      EdgeLinkPlan::Retry retry = EdgeLinkPlan::Retry::kBackOff;
      bool moved = false;
      bool now_failed = false;
      size_t hub = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        c->engine.OnDisconnected(clock_->Now());
        if (c->up) {
          link_was_up = connections_up_ == static_cast<int>(connections_.size());
          --connections_up_;
          ++disconnects_;
        } else if (!stopping_) {
          ++connect_failures_;
        }
        // Once stopped for good, the reason stays the error shown (the other
        // connections end only because of it).
        if (!stopping_ && !plan_.stopped()) last_error_ = absl::StrCat("connection ", c->index, ": ", Msg(status));
        if (!stopping_) {
          const bool was_stopped = plan_.stopped();
          const uint64_t moves = plan_.moves();
          retry = plan_.OnSessionEnded(c->dial, c->end);
          moved = plan_.moves() != moves;
          now_failed = plan_.stopped() && !was_stopped;
          hub = plan_.hub();
        }
      }
      const bool was_up = c->up;
      c->up = false;
      if (stopping_) break;
      const std::string dialled = options_.hubs[c->dial.hub].ToString();
      if (now_failed) {
        // A newer instance of this edge took over: never redial (that would
        // fence it in turn), silence the other connections, tell the owner.
        failed_ = true;
        LogError("edge link: stopped for good, a newer instance of this edge took over",
                 {{"connection", c->index}, {"hub", dialled}, {"error", Msg(status)}});
        for (auto& other : connections_) {
          other->retry.cancel();
          if (other->cancel_dial) other->cancel_dial();
          Abort(*other, status);
        }
        if (callbacks_.on_state) callbacks_.on_state(LinkState::kFailed, status);
        break;
      }
      if (retry == EdgeLinkPlan::Retry::kNever) break;
      if (link_was_up && callbacks_.on_state) callbacks_.on_state(LinkState::kDown, status);
      if (moved) {
        // Every connection of the link goes to the same hub: the others
        // leave the old one and those waiting to redial go now.
        LogWarn("edge link: moving to the next hub",
                {{"from", dialled}, {"to", options_.hubs[hub].ToString()}, {"error", Msg(status)},
                 {"back_off", retry == EdgeLinkPlan::Retry::kBackOff ? "yes (a whole round failed)" : "no"}});
        for (auto& other : connections_) {
          if (other == c) continue;
          if (!other->session_over && other->dial.hub != hub) {
            Abort(*other, absl::UnavailableError(
                              absl::StrCat("the link moved to hub ", options_.hubs[hub].ToString())));
          } else if (other->session_over && other->cancel_dial && other->dial.hub != hub) {
            other->cancel_dial();  // still dialling the old hub
          } else if (other->session_over && retry == EdgeLinkPlan::Retry::kNow) {
            other->retry.cancel();
          }
        }
      }
      if (retry == EdgeLinkPlan::Retry::kNow) continue;
      const auto delay = c->backoff.Next();
      if (moved) {  // a whole round failed: the link holds every connection back
        std::lock_guard<std::mutex> lock(mu_);
        round_hold_until_ = std::max(round_hold_until_, clock_->Now() + delay);
      }
      LogWarn(was_up ? "edge link: connection lost, redialling" : "edge link: cannot connect to the hub, retrying",
              {{"connection", c->index},
               {"hub", options_.hubs[hub].ToString()},
               {"error", Msg(status)},
               {"retry_in_ms", static_cast<long long>(delay.count())}});
      c->retry.expires_after(delay);
      co_await c->retry.async_wait(kNoThrow);
    }
    if (--running_ == 0 && stop_timer_) stop_timer_->cancel();
  }

  asio::awaitable<absl::Status> RunSession(std::shared_ptr<EdgeConnection> c) {
    struct ClearCancel {
      EdgeConnection& c;
      ~ClearCancel() { c.cancel_dial = nullptr; }
    } clear_cancel{*c};
    const absl::Status stopped = absl::CancelledError("edge link stopped");
    {
      std::lock_guard<std::mutex> lock(mu_);
      c->dial = plan_.Next();
    }
    c->end = SessionEnd::kOther;
    absl::StatusOr<std::shared_ptr<ssl::context>> ctx = tls_.Get();
    if (!ctx.ok()) co_return ctx.status();
    // Until the hello is written, any failure is this hub's: try the next.
    c->end = SessionEnd::kHubUnavailable;
    const HubAddress& target = options_.hubs[c->dial.hub];
    const std::string hub = target.ToString();
    const std::string dial_host = options_.proxy ? options_.proxy->host : target.host;
    const uint16_t dial_port = options_.proxy ? options_.proxy->port : target.port;

    tcp::resolver resolver(ioc_);
    c->cancel_dial = [&resolver] { resolver.cancel(); };
    auto [resolve_error, endpoints] = co_await resolver.async_resolve(dial_host, std::to_string(dial_port), kNoThrow);
    if (stopping_) co_return stopped;
    if (resolve_error) {
      co_return absl::UnavailableError(absl::StrCat("cannot resolve ", dial_host, ": ", resolve_error.message()));
    }
    SocketTuning tuning;
    tuning.congestion_control = options_.congestion_control;
    tuning.buffer_bytes = options_.socket_buffer_bytes > 0
                              ? options_.socket_buffer_bytes
                              : static_cast<int>(std::min<uint64_t>(options_.window.max_bytes, INT32_MAX));
    tuning.notsent_lowat_bytes = NotSentLowatFor(0, options_.rate_limit_bits_per_second);
    c->notsent_lowat = tuning.notsent_lowat_bytes;
    beast::tcp_stream stream(ioc_);
    c->cancel_dial = [&stream] { stream.close(); };
    beast::error_code connect_error = asio::error::host_not_found;
    std::string congestion;
    for (const auto& entry : endpoints) {
      beast::error_code ec;
      stream.socket().close(ec);
      stream.socket().open(entry.endpoint().protocol(), ec);
      if (ec) {
        connect_error = ec;
        continue;
      }
      congestion = TuneSocket(stream.socket().native_handle(), tuning);
      stream.expires_after(options_.connect_timeout);
      auto [error] = co_await stream.async_connect(entry.endpoint(), kNoThrow);
      if (stopping_) co_return stopped;
      connect_error = error;
      if (!error) break;
    }
    if (connect_error) {
      co_return absl::UnavailableError(absl::StrCat("cannot connect to ", options_.proxy ? "proxy " : "hub ", dial_host,
                                                    ":", dial_port, ": ", connect_error.message()));
    }
    if (options_.proxy) {
      stream.expires_after(options_.connect_timeout);
      absl::Status tunnel =
          co_await HttpConnectTunnel(stream, target.host, target.port, options_.proxy->authorization);
      if (stopping_) co_return stopped;
      if (!tunnel.ok()) co_return tunnel;
    }

    auto ws = std::make_shared<WsStream>(std::move(stream), **ctx);
    c->cancel_dial = [ws] { beast::get_lowest_layer(*ws).close(); };
    const std::string server_name = options_.server_name.empty() ? target.host : options_.server_name;
    if (absl::Status s = SetExpectedServerName(ws->next_layer().native_handle(), server_name); !s.ok()) co_return s;
    auto verify_failure = std::make_shared<std::string>();
    ws->next_layer().set_verify_callback([verify_failure](bool preverified, ssl::verify_context& vctx) {
      if (!preverified && verify_failure->empty()) {
        X509_STORE_CTX* store = vctx.native_handle();
        *verify_failure = absl::StrCat(X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)),
                                       " (certificate ", SubjectOf(X509_STORE_CTX_get_current_cert(store)), ")");
      }
      return preverified;
    });
    beast::get_lowest_layer(*ws).expires_after(options_.connect_timeout);
    auto [tls_error] = co_await ws->next_layer().async_handshake(ssl::stream_base::client, kNoThrow);
    if (stopping_) co_return stopped;
    if (tls_error) {
      const std::string reason = verify_failure->empty() ? tls_error.message() : *verify_failure;
      co_return absl::UnauthenticatedError(absl::StrCat("TLS handshake with hub ", hub, " failed: ", reason));
    }
    beast::get_lowest_layer(*ws).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.connect_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();  // our heartbeat decides
    timeouts.keep_alive_pings = false;
    ws->set_option(timeouts);
    ws->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& request) { request.set(beast::http::field::user_agent, "longhaul-edge"); }));
    ws->binary(true);
    ws->auto_fragment(false);
    ws->read_message_max(options_.max_frame_bytes);
    auto [ws_error] = co_await ws->async_handshake(hub, options_.hub_path, kNoThrow);
    if (stopping_) co_return stopped;
    if (ws_error) {
      // With TLS 1.3 the hub checks our certificate after our side of the
      // handshake finished: its refusal arrives here, as a TLS alert.
      const bool tls_alert = ws_error.category() == asio::error::get_ssl_category();
      co_return absl::Status(tls_alert ? absl::StatusCode::kUnauthenticated : absl::StatusCode::kUnavailable,
                             absl::StrCat(tls_alert ? "the hub refused our certificate: " : "WebSocket upgrade at hub ",
                                          tls_alert ? "" : absl::StrCat(hub, options_.hub_path, " failed: "),
                                          ws_error.message()));
    }

    c->cancel_dial = nullptr;
    std::string hello;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // The freshest generation: another connection may have resumed
      // (or been told to forget it) while this one was dialling.
      c->dial.generation = plan_.generation();
      hello = c->engine.OnConnected(clock_->Now(), c->dial.generation);
      c->congestion_control = congestion;
    }
    c->ws = ws;
    c->session_over = false;
    c->session_error = absl::OkStatus();
    auto [hello_error, written] = co_await ws->async_write(asio::buffer(hello), kNoThrow);
    if (hello_error) {
      c->session_over = true;
      c->ws.reset();
      co_return absl::UnavailableError(absl::StrCat("writing hello to hub ", hub, ": ", hello_error.message()));
    }
    c->end = SessionEnd::kOther;
    using namespace asio::experimental::awaitable_operators;
    co_await (ReadLoop(c, ws) && WriteLoop(c, ws) && TickLoop(c));
    c->ws.reset();
    beast::error_code ignored;
    beast::get_lowest_layer(*ws).socket().close(ignored);
    co_return c->session_error;
  }

  asio::awaitable<void> ReadLoop(std::shared_ptr<EdgeConnection> c, std::shared_ptr<WsStream> ws) {
    beast::flat_buffer buffer;
    for (;;) {
      buffer.clear();
      auto [error, n] = co_await ws->async_read(buffer, kNoThrow);
      if (c->session_over) co_return;
      if (error) {
        if (error == websocket::error::closed) {
          Abort(*c, absl::UnavailableError(absl::StrCat("the hub closed the WebSocket: ",
                                                        std::string(ws->reason().reason.c_str()))));
        } else {
          Abort(*c, absl::UnavailableError(absl::StrCat("reading from the hub: ", error.message())));
        }
        co_return;
      }
      const std::string_view message(static_cast<const char*>(buffer.data().data()), buffer.size());
      EdgeConnectionEngine::Inbound in;
      bool writable = false;
      bool link_up = false;
      bool wrong_hub = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        in = c->engine.OnMessage(message, clock_->Now());
        buffered_ -= std::min(buffered_, in.freed_bytes);
        if (in.freed_bytes > 0 && refused_ && buffered_ < options_.buffer_budget_bytes) {
          refused_ = false;
          writable = true;
        }
        if (in.resumed && !plan_.OnResumed(c->dial, in.generation)) wrong_hub = true;
        if (in.resumed && !wrong_hub) {
          c->up = true;
          ++connects_;
          if (c->ever_up) ++reconnects_;
          c->ever_up = true;
          ++connections_up_;
          link_up = connections_up_ == static_cast<int>(connections_.size());
        }
      }
      if (!in.error.ok()) {
        LogWarn("edge link: closing the connection", {{"connection", c->index}, {"error", Msg(in.error)}});
        c->end = in.end;
        Abort(*c, in.error);
        co_return;
      }
      if (wrong_hub) {
        // What the resume said is still true (it is the shared committed
        // state): the reader must hear the seeks. Then follow the link.
        if (callbacks_.on_resume) callbacks_.on_resume(ResumeEvent{c->index, std::move(in.seek), std::move(in.committed)});
        Abort(*c, absl::UnavailableError("resumed on a hub the link has moved away from"));
        co_return;
      }
      if (in.resumed) {
        c->backoff.Reset();
        LogInfo("edge link: connection resumed",
                {{"connection", c->index},
                 {"hub", options_.hubs[c->dial.hub].ToString()},
                 {"generation", std::to_string(in.generation)},
                 {"partitions", static_cast<long long>(in.committed.size())},
                 {"seek", static_cast<long long>(in.seek.size())},
                 {"congestion_control", c->congestion_control}});
        if (callbacks_.on_resume) callbacks_.on_resume(ResumeEvent{c->index, std::move(in.seek), std::move(in.committed)});
        if (link_up && callbacks_.on_state) callbacks_.on_state(LinkState::kUp, absl::OkStatus());
      }
      if ((!in.acked.empty() || !in.ack_offsets.empty()) && callbacks_.on_ack) {
        callbacks_.on_ack(AckEvent{c->index, std::move(in.acked), std::move(in.ack_offsets)});
      }
      if (writable && callbacks_.on_writable) callbacks_.on_writable();
      Wake(*c);  // credit, acks or a pong may let more go
    }
  }

  asio::awaitable<void> WriteLoop(std::shared_ptr<EdgeConnection> c, std::shared_ptr<WsStream> ws) {
    for (;;) {
      if (c->session_over) co_return;
      std::optional<EdgeConnectionEngine::Outbound> frame;
      {
        std::lock_guard<std::mutex> lock(mu_);
        frame = c->engine.NextFrame(clock_->Now());
      }
      if (frame) {
        auto [error, n] = co_await ws->async_write(asio::buffer(*frame->bytes), kNoThrow);
        if (c->session_over) co_return;
        if (error) {
          Abort(*c, absl::UnavailableError(absl::StrCat("writing to the hub: ", error.message())));
          co_return;
        }
        if (frame->is_close) {
          // Let the hub see the close before the socket goes.
          websocket::close_reason reason(websocket::close_code::going_away);
          auto [close_error] = co_await ws->async_close(reason, kNoThrow);
          (void)close_error;
          Abort(*c, absl::CancelledError("edge link stopped"));
          co_return;
        }
        continue;
      }
      if (c->wake_pending) {
        c->wake_pending = false;
        continue;
      }
      // Held back by the rate cap: try again when it allows (other wakes,
      // such as acks, come earlier and find it still closed).
      SteadyTime rate_ready;
      SteadyTime now;
      {
        std::lock_guard<std::mutex> lock(mu_);
        rate_ready = c->engine.rate_ready_at();
        now = clock_->Now();
      }
      if (rate_ready != SteadyTime::max()) {
        c->wake.expires_after(std::max<std::chrono::nanoseconds>(rate_ready - now, std::chrono::nanoseconds(0)));
      } else {
        c->wake.expires_at(asio::steady_timer::time_point::max());
      }
      co_await c->wake.async_wait(kNoThrow);
      c->wake_pending = false;
    }
  }

  asio::awaitable<void> TickLoop(std::shared_ptr<EdgeConnection> c) {
    const auto period = std::clamp<std::chrono::milliseconds>(options_.heartbeat_interval / 4,
                                                              std::chrono::milliseconds(10),
                                                              std::chrono::milliseconds(250));
    for (;;) {
      c->tick.expires_after(period);
      co_await c->tick.async_wait(kNoThrow);
      if (c->session_over) co_return;
      absl::Status status;
      double delivery_rate = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        status = c->engine.OnTick(clock_->Now());
        delivery_rate = c->engine.window().rate_bytes_per_second();
      }
      if (!status.ok()) {
        Abort(*c, status);
        co_return;
      }
      // Follow the measured rate, in steps of more than a quarter (a
      // setsockopt per tick would be noise).
      const int lowat = NotSentLowatFor(delivery_rate, options_.rate_limit_bits_per_second);
      if (c->ws && (lowat * 4 < c->notsent_lowat * 3 || lowat * 3 > c->notsent_lowat * 4)) {
        SetNotSentLowat(beast::get_lowest_layer(*c->ws).socket().native_handle(), lowat);
        c->notsent_lowat = lowat;
      }
      Wake(*c);
    }
  }

  const EdgeLinkOptions options_;
  const EdgeLinkCallbacks callbacks_;
  const Clock* clock_;
  TlsContextSource tls_;
  std::atomic<uint64_t> next_batch_id_{1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  // A newer instance of this edge took over (stale generation).
  std::atomic<bool> failed_{false};

  std::mutex mu_;
  RateLimiter rate_limiter_;  // shared by the connections' engines (mu_)
  uint64_t buffered_ = 0;
  bool refused_ = false;
  int connections_up_ = 0;
  // Set when a whole round of hubs failed: no connection dials before it (mu_).
  SteadyTime round_hold_until_{};
  uint64_t connects_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t disconnects_ = 0;
  uint64_t connect_failures_ = 0;
  uint64_t budget_refusals_ = 0;
  std::string last_error_;
  EdgeLinkPlan plan_;

  // Declared before the connections so that it is destroyed after them:
  // their timers belong to it.
  asio::io_context ioc_{1};
  std::vector<std::shared_ptr<EdgeConnection>> connections_;
  std::unique_ptr<asio::steady_timer> stop_timer_;
  int running_ = 0;  // I/O thread
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EdgeLink>> EdgeLink::Start(EdgeLinkOptions options, EdgeLinkCallbacks callbacks,
                                                          const Clock* clock) {
  if (absl::Status s = ValidateEdgeLinkOptions(options); !s.ok()) return s;
  auto link = std::make_unique<BeastEdgeLink>(std::move(options), std::move(callbacks), clock);
  if (absl::Status s = link->Init(); !s.ok()) return s;
  return std::unique_ptr<EdgeLink>(std::move(link));
}

}  // namespace longhaul::transport
