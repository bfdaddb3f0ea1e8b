#include "flow_control.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>

#include "longhaul/base/clock.h"

namespace longhaul::transport {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kMiB = 1 << 20;

WindowOptions Options() {
  WindowOptions o;
  o.initial_bytes = 4 * kMiB;
  o.min_bytes = 1 * kMiB;
  o.max_bytes = 256 * kMiB;
  o.gain = 2.0;
  o.filter_window = seconds(10);
  return o;
}

// Simulates a link of `rate` bytes/s (a bottleneck with an unbounded queue)
// and a fixed round trip `rtt` for `duration`: frames of 64 KiB are sent
// whenever the window allows, pings see the round trip without our queue
// (TCP_NOTSENT_LOWAT), and the hub holds each batch `hold` before its ack.
// Returns the bytes acknowledged.
uint64_t RunLink(DeliveryWindow& w, ManualClock& clock, double rate, milliseconds rtt, milliseconds duration,
                 milliseconds hold = milliseconds(0), uint64_t frame = 64 * 1024) {
  struct InFlight {
    DeliveryWindow::SendStamp stamp;
    SteadyTime due;
    uint64_t bytes;
  };
  std::deque<InFlight> flight;
  uint64_t acked_bytes = 0;
  const auto end = clock.Now() + duration;
  SteadyTime link_free = clock.Now();
  SteadyTime next_ping = clock.Now();
  while (clock.Now() < end) {
    while (w.Allows(frame)) {
      const auto start = std::max(link_free, clock.Now());
      link_free = start + std::chrono::nanoseconds(static_cast<int64_t>(frame / rate * 1e9));
      flight.push_back({w.OnSent(frame, clock.Now()), link_free + rtt + hold, frame});
    }
    clock.Advance(milliseconds(1));
    if (clock.Now() >= next_ping) {
      w.OnRtt(rtt, clock.Now());
      next_ping = clock.Now() + milliseconds(100);
    }
    bool acked = false;
    while (!flight.empty() && flight.front().due <= clock.Now()) {
      w.OnDelivered(flight.front().bytes, flight.front().stamp, clock.Now());
      acked_bytes += flight.front().bytes;
      flight.pop_front();
      acked = true;
    }
    if (acked) w.OnHubHold(hold, clock.Now());
  }
  return acked_bytes;
}

TEST(DeliveryWindow, StartsAtTheInitialWindowAndAlwaysLetsOneFrameGo) {
  DeliveryWindow w(Options());
  EXPECT_EQ(w.window(), 4 * kMiB);
  EXPECT_TRUE(w.Allows(100 * kMiB));  // nothing in flight: even a huge frame goes
  ManualClock clock;
  w.OnSent(3 * kMiB, clock.Now());
  EXPECT_TRUE(w.Allows(1 * kMiB));  // in flight below the window: the next frame goes, whatever its size
  EXPECT_TRUE(w.Allows(8 * kMiB));
  w.OnSent(1 * kMiB, clock.Now());
  EXPECT_FALSE(w.Allows(1));  // the window is full
  w.OnAbandoned(1 * kMiB);
  EXPECT_EQ(w.in_flight(), 3 * kMiB);
  w.OnAbandoned(3 * kMiB);
  EXPECT_EQ(w.in_flight(), 0u);
}

TEST(DeliveryWindow, GrowsToTheBandwidthDelayProductOfALongLink) {
  // 20 Mbit/s = 2.5 MB/s with 600 ms round trips: BDP 1.5 MB, window ~ 2x.
  ManualClock clock;
  WindowOptions o = Options();
  o.initial_bytes = o.min_bytes = 256 * 1024;
  DeliveryWindow w(o);
  RunLink(w, clock, 2.5e6, milliseconds(600), seconds(20));
  EXPECT_NEAR(w.rate_bytes_per_second(), 2.5e6, 0.25e6);
  EXPECT_GE(w.window(), 2'500'000u);  // > 1 BDP: the link stays full
  EXPECT_LE(w.window(), 6'000'000u);  // but not unbounded
}

TEST(DeliveryWindow, FramesNearTheWindowSizeDoNotPinItToOneFrameInFlight) {
  // Geo-satellite with the edge's real batch size: 700 KB frames take 0.28 s
  // to serialize at 2.5 MB/s; with one frame in flight, each ack measures a
  // rate of one frame per (round trip + hold + serialization), which makes
  // a window of under two frames. Requiring room for the whole next frame
  // would keep one frame in flight for ever (2-4 Mbit/s of a 20 Mbit/s
  // link, as the link benchmark found); BBR-style, a frame goes whenever
  // in-flight is below the window, and the window grows to fill the link.
  ManualClock clock;
  WindowOptions o = Options();
  o.initial_bytes = o.min_bytes = 1 * kMiB;
  DeliveryWindow w(o);
  const uint64_t acked = RunLink(w, clock, 2.5e6, milliseconds(600), seconds(60), milliseconds(500), 700'000);
  // Over the whole minute, ramp-up included.
  EXPECT_GE(acked / 60.0, 0.85 * 2.5e6) << "window " << w.window() << " rate " << w.rate_bytes_per_second();
  EXPECT_GE(w.window(), 4'000'000u);
}

TEST(DeliveryWindow, CoversTheHubHoldTimeOnTopOfTheRoundTrip) {
  // Same link, but the hub commits (and acks) 400 ms after arrival.
  ManualClock clock;
  WindowOptions o = Options();
  o.initial_bytes = o.min_bytes = 256 * 1024;
  DeliveryWindow w(o);
  RunLink(w, clock, 2.5e6, milliseconds(600), seconds(20), milliseconds(400));
  EXPECT_NEAR(w.rate_bytes_per_second(), 2.5e6, 0.25e6);
  EXPECT_NEAR(std::chrono::duration<double>(w.latency()).count(), 1.0, 0.01);
  EXPECT_GE(w.window(), 4'000'000u);  // 2 x 2.5 MB/s x 1 s
  EXPECT_LE(w.window(), 6'000'000u);
}

TEST(DeliveryWindow, ShrinksOnAShortFastLinkAndIsClampedToTheMinimum) {
  ManualClock clock;
  DeliveryWindow w(Options());
  RunLink(w, clock, 50e6, milliseconds(2), seconds(5));
  // BDP 100 KB -> clamped up to min_bytes.
  EXPECT_EQ(w.window(), 1 * kMiB);
}

TEST(DeliveryWindow, IsClampedToTheMaximum) {
  ManualClock clock;
  WindowOptions o = Options();
  o.max_bytes = 8 * kMiB;
  DeliveryWindow w(o);
  RunLink(w, clock, 100e6, milliseconds(500), seconds(10));
  EXPECT_EQ(w.window(), 8 * kMiB);
}

TEST(DeliveryWindow, KeepsItsLastValueWhileTheLinkIsIdle) {
  ManualClock clock;
  WindowOptions o = Options();
  o.initial_bytes = o.min_bytes = 256 * 1024;
  DeliveryWindow w(o);
  RunLink(w, clock, 2.5e6, milliseconds(600), seconds(20));
  const uint64_t before = w.window();
  clock.Advance(std::chrono::minutes(5));
  w.OnRtt(milliseconds(600), clock.Now());
  EXPECT_EQ(w.window(), before);
}

TEST(DeliveryWindow, UsesThePingRoundTripAsTheFloorOfTheLatency) {
  ManualClock clock;
  DeliveryWindow w(Options());
  const auto stamp = w.OnSent(1000, clock.Now());
  clock.Advance(milliseconds(10));
  w.OnDelivered(1000, stamp, clock.Now());
  EXPECT_EQ(w.latency(), milliseconds(10));
  w.OnRtt(milliseconds(300), clock.Now());
  EXPECT_EQ(w.latency(), milliseconds(300));
}

TEST(CreditLedger, AllowsSendingWithinTheCumulativeGrant) {
  CreditLedger c;
  EXPECT_FALSE(c.Allows(1));
  EXPECT_TRUE(c.Allows(0));  // an empty batch needs no credit
  c.OnGrant(1000);
  EXPECT_TRUE(c.Allows(1000));
  c.OnSent(600);
  EXPECT_EQ(c.available(), 400u);
  EXPECT_FALSE(c.Allows(401));
  c.OnGrant(900);  // stale, smaller total: ignored
  EXPECT_EQ(c.available(), 400u);
  c.OnGrant(1600);
  EXPECT_TRUE(c.Allows(1000));
  c.Reset();
  EXPECT_EQ(c.available(), 0u);
}

TEST(WaitTracker, CountsWaitsAndTheirDuration) {
  ManualClock clock;
  WaitTracker t;
  t.Update(false, clock.Now());
  t.Update(true, clock.Now());
  clock.Advance(milliseconds(250));
  t.Update(true, clock.Now());  // still the same wait
  EXPECT_NEAR(t.seconds(clock.Now()), 0.25, 1e-9);
  t.Update(false, clock.Now());
  clock.Advance(seconds(1));
  t.Update(true, clock.Now());
  clock.Advance(milliseconds(500));
  EXPECT_EQ(t.count(), 2u);
  EXPECT_NEAR(t.seconds(clock.Now()), 0.75, 1e-9);
}


TEST(RateLimiter, KeepsTheLongRunRateExactlyAtTheCapWhateverTheFrameSizes) {
  RateLimiter limiter(2'000'000);  // 250 kB/s
  SteadyTime now{};
  uint64_t charged = 0;
  const uint64_t sizes[] = {200, 70'000, 1'500, 900'000, 16'384};
  size_t i = 0;
  const SteadyTime end = now + seconds(60);
  while (now < end) {
    if (limiter.Allows(now)) {
      const uint64_t size = sizes[i++ % 5];
      limiter.OnSent(size, now);
      charged += EstimatedWireBytes(size);
    } else {
      now = limiter.ReadyAt(now);
    }
  }
  // 15 MB in 60 s, give or take the last frame and the initial burst.
  EXPECT_NEAR(static_cast<double>(charged), 15'000'000.0, 950'000.0);
}

TEST(RateLimiter, AnIdleLinkBanksAtMostATenthOfASecond) {
  RateLimiter limiter(8'000'000);  // 1 MB/s
  SteadyTime now{};
  ASSERT_TRUE(limiter.Allows(now));
  now += seconds(3600);
  uint64_t sent = 0;
  while (limiter.Allows(now)) {
    limiter.OnSent(1'000, now);
    sent += EstimatedWireBytes(1'000);
  }
  EXPECT_LE(sent, 101'100u);
  EXPECT_GE(sent, 100'000u);
  EXPECT_GT(limiter.ReadyAt(now), now);
}

TEST(RateLimiter, ZeroMeansNoCap) {
  RateLimiter limiter(0);
  EXPECT_FALSE(limiter.enabled());
  SteadyTime now{};
  for (int i = 0; i < 1000; ++i) limiter.OnSent(1 << 20, now);
  EXPECT_TRUE(limiter.Allows(now));
  EXPECT_EQ(limiter.ReadyAt(now), now);
}

TEST(EstimatedWireBytes, AddsTheHeadersOfEachLayer) {
  // 1 MiB: ~3.6 % TCP/IP, ~0.1 % TLS, the WebSocket header.
  const double big = static_cast<double>(EstimatedWireBytes(1 << 20)) / (1 << 20);
  EXPECT_GT(big, 1.035);
  EXPECT_LT(big, 1.045);
  // A tiny frame pays a whole segment's and record's headers.
  EXPECT_EQ(EstimatedWireBytes(100), 100u + 14 + 22 + 52);
}

}  // namespace
}  // namespace longhaul::transport
