// Private to longhaul_transport: the edge's pacing as pure logic (given
// `now`, never reading a clock). Two independent limits gate each data
// frame: the hub's credit (bytes it can hold) and the in-flight window
// (sized to the measured bandwidth-delay product, so a long link stays full
// without queueing more than needed in socket buffers).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

#include "longhaul/base/clock.h"
#include "longhaul/transport/link_options.h"

namespace longhaul::transport {

// Max (or min) of the samples taken within the last `window`, in O(1)
// amortized per sample (monotonic deque).
class WindowedExtremum {
 public:
  enum class Kind { kMax, kMin };
  WindowedExtremum(Kind kind, std::chrono::nanoseconds window) : kind_(kind), window_(window) {}
  void Add(double value, SteadyTime now);
  // False when no sample is younger than the window.
  bool Get(SteadyTime now, double* value);

 private:
  struct Sample {
    SteadyTime at;
    double value;
  };
  bool Dominates(double a, double b) const { return kind_ == Kind::kMax ? a >= b : a <= b; }
  void Expire(SteadyTime now);
  Kind kind_;
  std::chrono::nanoseconds window_;
  std::deque<Sample> samples_;
};

// In-flight window: a frame may go while the bytes sent and not yet
// acknowledged are below window(), whatever the frame's size (as a TCP
// congestion window works). Requiring room for the whole next frame would
// pin the window when frames are large next to it: with one frame in
// flight, the delivery rate measured is one frame per ack time, which
// yields a window of under two frames, so a second frame would never fit
// and the link would carry one frame per round trip for ever. The overshoot
// is at most one frame (the edge cuts batches at 1 MiB).
//
// window() = gain x max delivery rate x latency, clamped to [min_bytes,
// max_bytes], where the rate is the largest delivery-rate sample (bytes
// acknowledged between a frame's send and its ack, over that time) within
// the filter window, and
//   latency = min ping round trip (filter window) + smoothed hub hold time.
// The hub acknowledges a batch only after its commit, so by Little's law
// the window must cover the commit time (the hold time each ack reports)
// as well as the round trip. The round trip is a windowed minimum so that
// queueing we cause ourselves does not feed back into a bigger window (the
// socket's TCP_NOTSENT_LOWAT keeps that queue short anyway). Until a ping
// has come back, the smoothed send-to-ack time stands in for the latency.
// A gain above 1 lets the window grow geometrically until the link, the
// hub's credit or the source is the limit. Before the first ack (and while
// the rate filter is empty on an idle link) the window keeps its last
// value, initially initial_bytes.
class DeliveryWindow {
 public:
  struct SendStamp {
    SteadyTime sent_at{};
    uint64_t delivered_at_send = 0;
  };
  explicit DeliveryWindow(const WindowOptions& options);

  bool Allows(uint64_t /*bytes*/) const { return in_flight_ < window_; }
  SendStamp OnSent(uint64_t bytes, SteadyTime now);
  // An acknowledged frame: a delivery-rate sample (bytes delivered between
  // its send and now, over that time) and a latency sample.
  void OnDelivered(uint64_t bytes, const SendStamp& stamp, SteadyTime now);
  // In-flight frames that will never be acknowledged on this connection
  // (it was lost; they will be resent on the next one).
  void OnAbandoned(uint64_t bytes);
  // The hold time an ack frame reported (smoothed, EWMA 1/8).
  void OnHubHold(std::chrono::nanoseconds hold, SteadyTime now);
  // A ping round trip.
  void OnRtt(std::chrono::nanoseconds rtt, SteadyTime now);

  uint64_t window() const { return window_; }
  uint64_t in_flight() const { return in_flight_; }
  double rate_bytes_per_second() const { return last_rate_; }
  std::chrono::nanoseconds latency() const { return std::chrono::nanoseconds(static_cast<int64_t>(last_latency_ns_)); }

 private:
  void Recompute(SteadyTime now);
  WindowOptions options_;
  WindowedExtremum max_rate_;
  WindowedExtremum min_rtt_;
  double smoothed_ack_ns_ = 0;
  double smoothed_hold_ns_ = 0;
  uint64_t window_;
  uint64_t in_flight_ = 0;
  uint64_t delivered_ = 0;
  double last_rate_ = 0;
  double last_latency_ns_ = 0;
};

// Hub credit on one connection: the hub grants a cumulative total; the edge
// may send while the bytes it has sent since hello stay within it.
class CreditLedger {
 public:
  void Reset() { granted_ = sent_ = 0; }
  // Grants never shrink: a smaller total (reordered or buggy) is ignored.
  void OnGrant(uint64_t total) {
    if (total > granted_) granted_ = total;
  }
  bool Allows(uint64_t bytes) const { return sent_ + bytes <= granted_; }
  void OnSent(uint64_t bytes) { sent_ += bytes; }
  uint64_t available() const { return granted_ > sent_ ? granted_ - sent_ : 0; }

 private:
  uint64_t granted_ = 0;
  uint64_t sent_ = 0;
};

// A link-wide cap on the rate data frames go out at (`rate_limit`): a ship
// shares its satellite uplink with its crew. A token bucket that may go into
// debt: a frame is sent whenever the balance is not negative and is charged
// in full, so frames larger than the burst still go and the long-run rate is
// exactly the cap. The charge is the frame's estimated bytes on the wire
// (WebSocket, TLS and TCP/IP headers added: EstimatedWireBytes), so the link
// itself, as a router counts it, stays at the cap. Shared by the link's
// connections under the link's lock.
class RateLimiter {
 public:
  // bits_per_second 0: no cap (Allows always true).
  explicit RateLimiter(uint64_t bits_per_second);
  bool enabled() const { return bytes_per_second_ > 0; }
  // A frame of `frame_bytes` may be written now.
  bool Allows(SteadyTime now);
  void OnSent(uint64_t frame_bytes, SteadyTime now);
  // When Allows will next be true (now when it is).
  SteadyTime ReadyAt(SteadyTime now);
  uint64_t bytes_per_second() const { return static_cast<uint64_t>(bytes_per_second_); }

 private:
  void Refill(SteadyTime now);

  const double bytes_per_second_;
  // At most this much unused allowance is kept (100 ms of the rate), so an
  // idle link does not burst far above the cap when data comes back.
  const double burst_bytes_;
  double balance_;
  SteadyTime last_{};
  bool started_ = false;
};

// Bytes a data frame of `frame_bytes` takes on the wire: the WebSocket
// header, TLS 1.3 record overhead (5-byte header, 16-byte tag, 1 type byte
// per 16 KiB record) and TCP/IPv4 headers with timestamps (52 bytes per
// 1448-byte segment). An estimate: the real segmentation depends on the
// path MTU, and IPv6 adds 20 bytes a segment.
uint64_t EstimatedWireBytes(uint64_t frame_bytes);

// Accumulates how often and how long something waited (credit, window).
class WaitTracker {
 public:
  void Update(bool waiting, SteadyTime now);
  uint64_t count() const { return count_; }
  double seconds(SteadyTime now) const;

 private:
  bool waiting_ = false;
  SteadyTime since_{};
  uint64_t count_ = 0;
  std::chrono::nanoseconds total_{0};
};

}  // namespace longhaul::transport
