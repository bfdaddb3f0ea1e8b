#include "flow_control.h"

#include <algorithm>

namespace longhaul::transport {

void WindowedExtremum::Expire(SteadyTime now) {
  while (!samples_.empty() && now - samples_.front().at > window_) samples_.pop_front();
}

void WindowedExtremum::Add(double value, SteadyTime now) {
  Expire(now);
  while (!samples_.empty() && Dominates(value, samples_.back().value)) samples_.pop_back();
  samples_.push_back(Sample{now, value});
}

bool WindowedExtremum::Get(SteadyTime now, double* value) {
  Expire(now);
  if (samples_.empty()) return false;
  *value = samples_.front().value;
  return true;
}

DeliveryWindow::DeliveryWindow(const WindowOptions& options)
    : options_(options),
      max_rate_(WindowedExtremum::Kind::kMax, options.filter_window),
      min_rtt_(WindowedExtremum::Kind::kMin, options.filter_window),
      window_(std::clamp(options.initial_bytes, options.min_bytes, options.max_bytes)) {}

DeliveryWindow::SendStamp DeliveryWindow::OnSent(uint64_t bytes, SteadyTime now) {
  in_flight_ += bytes;
  return SendStamp{now, delivered_};
}

void DeliveryWindow::OnDelivered(uint64_t bytes, const SendStamp& stamp, SteadyTime now) {
  in_flight_ -= std::min(in_flight_, bytes);
  delivered_ += bytes;
  const auto elapsed = now - stamp.sent_at;
  if (elapsed.count() > 0) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    max_rate_.Add(static_cast<double>(delivered_ - stamp.delivered_at_send) / seconds, now);
    const double ns = static_cast<double>(std::chrono::nanoseconds(elapsed).count());
    smoothed_ack_ns_ = smoothed_ack_ns_ == 0 ? ns : smoothed_ack_ns_ + (ns - smoothed_ack_ns_) / 8;
  }
  Recompute(now);
}

void DeliveryWindow::OnAbandoned(uint64_t bytes) { in_flight_ -= std::min(in_flight_, bytes); }

void DeliveryWindow::OnHubHold(std::chrono::nanoseconds hold, SteadyTime now) {
  const double ns = static_cast<double>(std::max<int64_t>(hold.count(), 0));
  smoothed_hold_ns_ = smoothed_hold_ns_ == 0 ? ns : smoothed_hold_ns_ + (ns - smoothed_hold_ns_) / 8;
  Recompute(now);
}

void DeliveryWindow::OnRtt(std::chrono::nanoseconds rtt, SteadyTime now) {
  if (rtt.count() <= 0) return;
  min_rtt_.Add(static_cast<double>(rtt.count()), now);
  Recompute(now);
}

void DeliveryWindow::Recompute(SteadyTime now) {
  double rate = 0, rtt_ns = 0;
  double latency_ns = smoothed_ack_ns_;
  if (min_rtt_.Get(now, &rtt_ns)) latency_ns = rtt_ns + smoothed_hold_ns_;
  if (latency_ns > 0) last_latency_ns_ = latency_ns;
  if (!max_rate_.Get(now, &rate) || latency_ns <= 0) return;
  last_rate_ = rate;
  const double bdp = options_.gain * rate * latency_ns / 1e9;
  const double clamped = std::clamp(bdp, static_cast<double>(options_.min_bytes), static_cast<double>(options_.max_bytes));
  window_ = static_cast<uint64_t>(clamped);
}

void WaitTracker::Update(bool waiting, SteadyTime now) {
  if (waiting && !waiting_) {
    ++count_;
    since_ = now;
  } else if (!waiting && waiting_) {
    total_ += now - since_;
  }
  waiting_ = waiting;
}

double WaitTracker::seconds(SteadyTime now) const {
  auto total = total_;
  if (waiting_) total += now - since_;
  return std::chrono::duration<double>(total).count();
}


RateLimiter::RateLimiter(uint64_t bits_per_second)
    : bytes_per_second_(static_cast<double>(bits_per_second) / 8.0),
      burst_bytes_(bytes_per_second_ / 10.0),
      balance_(burst_bytes_) {}

void RateLimiter::Refill(SteadyTime now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  balance_ = std::min(burst_bytes_, balance_ + seconds * bytes_per_second_);
  last_ = now;
}

bool RateLimiter::Allows(SteadyTime now) {
  if (!enabled()) return true;
  Refill(now);
  return balance_ >= 0;
}

void RateLimiter::OnSent(uint64_t frame_bytes, SteadyTime now) {
  if (!enabled()) return;
  Refill(now);
  balance_ -= static_cast<double>(EstimatedWireBytes(frame_bytes));
}

SteadyTime RateLimiter::ReadyAt(SteadyTime now) {
  if (!enabled() || Allows(now)) return now;
  const double seconds = -balance_ / bytes_per_second_;
  return now + std::chrono::ceil<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds));
}

uint64_t EstimatedWireBytes(uint64_t frame_bytes) {
  constexpr uint64_t kWebSocketHeader = 2 + 8 + 4;  // at most: 64-bit length, and the client's mask
  constexpr uint64_t kTlsRecordPayload = 16384;
  constexpr uint64_t kTlsRecordOverhead = 5 + 16 + 1;
  constexpr uint64_t kSegmentPayload = 1448;
  constexpr uint64_t kSegmentHeaders = 20 + 20 + 12;  // IPv4, TCP, timestamps option
  const uint64_t ws = frame_bytes + kWebSocketHeader;
  const uint64_t tls = ws + (ws + kTlsRecordPayload - 1) / kTlsRecordPayload * kTlsRecordOverhead;
  return tls + (tls + kSegmentPayload - 1) / kSegmentPayload * kSegmentHeaders;
}

}  // namespace longhaul::transport
