#include "longhaul/soak/link_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace longhaul::soak {
namespace {

using std::chrono::milliseconds;
using std::chrono::microseconds;
using std::chrono::seconds;

LinkProfile Fixed(Nanos one_way, double loss = 0, int64_t rate = 0, int64_t queue = 0) {
  LinkProfile p;
  p.name = "t";
  for (DirectionImpairment* d : {&p.edge_to_hub, &p.hub_to_edge}) {
    d->delay = one_way;
    d->loss = loss;
    d->rate_bps = rate;
    d->queue_bytes = queue;
  }
  return p;
}

const SteadyTime t0 = SteadyTime{} + seconds(1000);

TEST(LinkModel, DelaysEachDirectionByItsOneWayDelay) {
  LinkModel m(Fixed(milliseconds(300)), 1, t0);
  Verdict v = m.Admit(Direction::kEdgeToHub, 100, t0 + milliseconds(5));
  ASSERT_EQ(v.fate, Fate::kDeliver);
  EXPECT_EQ(v.release, t0 + milliseconds(305));
  EXPECT_EQ(m.counters(Direction::kEdgeToHub).delivered, 1);
  EXPECT_EQ(m.counters(Direction::kHubToEdge).packets, 0);
}

TEST(LinkModel, LosesAboutTheProfilesShareOfPackets) {
  LinkModel m(Fixed(milliseconds(1), 0.01), 7, t0);
  for (int i = 0; i < 200'000; ++i) m.Admit(Direction::kHubToEdge, 100, t0 + microseconds(i));
  const double lost = static_cast<double>(m.counters(Direction::kHubToEdge).lost) / 200'000;
  EXPECT_NEAR(lost, 0.01, 0.001);
}

TEST(LinkModel, BottleneckSpacesPacketsAtTheRateAndTailDropsBeyondTheQueue) {
  // 8 Mbit/s: a 1000-byte packet takes 1 ms; the queue holds 5 of them.
  LinkModel m(Fixed(milliseconds(0), 0, 8'000'000, 5000), 1, t0);
  std::vector<Verdict> v;
  for (int i = 0; i < 8; ++i) v.push_back(m.Admit(Direction::kEdgeToHub, 1000, t0));
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(v[i].fate, Fate::kDeliver) << i;
    EXPECT_EQ(v[i].release, t0 + milliseconds(i + 1));
  }
  for (int i = 5; i < 8; ++i) EXPECT_EQ(v[i].fate, Fate::kQueueFull) << i;
  EXPECT_EQ(m.counters(Direction::kEdgeToHub).queue_drops, 3);
  // Once the queue drained, packets pass again without waiting.
  Verdict later = m.Admit(Direction::kEdgeToHub, 1000, t0 + milliseconds(10));
  EXPECT_EQ(later.fate, Fate::kDeliver);
  EXPECT_EQ(later.release, t0 + milliseconds(11));
}

TEST(LinkModel, SustainedThroughputDoesNotExceedTheRate) {
  LinkModel m(Fixed(milliseconds(50), 0, 20'000'000, 250'000), 1, t0);
  int64_t delivered = 0;
  SteadyTime last{};
  // Offer 40 Mbit/s for one second.
  for (int i = 0; i < 3333; ++i) {
    Verdict v = m.Admit(Direction::kEdgeToHub, 1500, t0 + microseconds(300 * i));
    if (v.fate == Fate::kDeliver) {
      delivered += 1500;
      last = v.release;
    }
  }
  const double secs = std::chrono::duration<double>(last - (t0 + milliseconds(50))).count();
  EXPECT_NEAR(delivered * 8 / secs, 20e6, 0.2e6);
}

TEST(LinkModel, JitterStaysInRangeAndNeverReorders) {
  LinkProfile p = Fixed(milliseconds(40));
  p.edge_to_hub.jitter = milliseconds(110);
  p.jitter_period = milliseconds(400);
  LinkModel m(p, 3, t0);
  SteadyTime prev{};
  double sum = 0;
  int n = 0;
  for (int i = 0; i < 100'000; ++i) {
    SteadyTime at = t0 + microseconds(100 * i);
    Verdict v = m.Admit(Direction::kEdgeToHub, 100, at);
    ASSERT_EQ(v.fate, Fate::kDeliver);
    ASSERT_GE(v.release, prev) << "packet " << i << " overtook the one ahead";
    prev = v.release;
    Nanos delay = v.release - at;
    ASSERT_GE(delay, milliseconds(40));
    ASSERT_LE(delay, milliseconds(150));
    sum += std::chrono::duration<double, std::milli>(delay).count();
    ++n;
  }
  // Ten seconds of samples: the mean extra delay is near half the range.
  EXPECT_NEAR(sum / n, 95, 15);
}

TEST(LinkModel, ScheduledOutagesDropEverythingForTheirDuration) {
  LinkProfile p = Fixed(milliseconds(10));
  p.outage_every = seconds(180);
  p.outage_duration = seconds(20);
  p.outage_first = seconds(90);
  LinkModel m(p, 1, t0);
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(89)).fate, Fate::kDeliver);
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(90)).fate, Fate::kOutage);
  EXPECT_EQ(m.Admit(Direction::kHubToEdge, 100, t0 + seconds(109)).fate, Fate::kOutage);
  EXPECT_NEAR(m.OutageRemainingSeconds(t0 + seconds(100)), 10, 1e-9);
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(110)).fate, Fate::kDeliver);
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(270)).fate, Fate::kOutage);
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(291)).fate, Fate::kDeliver);
  EXPECT_EQ(m.outages_started(), 2);
  EXPECT_EQ(m.counters(Direction::kEdgeToHub).outage_drops, 2);
}

TEST(LinkModel, SwitchingProfilesRestartsTheOutageScheduleAndKeepsOrder) {
  LinkProfile slow = Fixed(milliseconds(300));
  LinkProfile fast = Fixed(milliseconds(10));
  fast.name = "fast";
  fast.outage_every = seconds(60);
  fast.outage_duration = seconds(5);
  fast.outage_first = seconds(30);
  LinkModel m(slow, 1, t0);
  Verdict before = m.Admit(Direction::kEdgeToHub, 100, t0);
  m.SetProfile(fast, t0 + seconds(100));
  EXPECT_EQ(m.profile().name, "fast");
  // Delay dropped from 300 to 10 ms, but a packet never overtakes.
  Verdict after = m.Admit(Direction::kEdgeToHub, 100, t0 + milliseconds(1));
  EXPECT_GE(after.release, before.release);
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(129)).fate, Fate::kDeliver);
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(130)).fate, Fate::kOutage);
}

TEST(LinkModel, CutHoldsForItsDurationOrUntilRestored) {
  LinkModel m(Fixed(milliseconds(1)), 1, t0);
  m.Cut(t0, seconds(20));
  EXPECT_EQ(m.OutageAt(t0 + seconds(19)), "cut");
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(19)).fate, Fate::kOutage);
  EXPECT_EQ(m.Admit(Direction::kEdgeToHub, 100, t0 + seconds(20)).fate, Fate::kDeliver);
  m.Cut(t0 + seconds(30), std::nullopt);
  EXPECT_LT(m.OutageRemainingSeconds(t0 + seconds(500)), 0);
  EXPECT_EQ(m.Admit(Direction::kHubToEdge, 100, t0 + seconds(500)).fate, Fate::kOutage);
  m.Restore();
  EXPECT_EQ(m.Admit(Direction::kHubToEdge, 100, t0 + seconds(501)).fate, Fate::kDeliver);
  EXPECT_EQ(m.outages_started(), 2);
}

TEST(LinkModel, StatusLineNamesProfileStateAndCounters) {
  LinkModel m(Fixed(milliseconds(1)), 1, t0);
  m.Admit(Direction::kEdgeToHub, 100, t0);
  m.Cut(t0, seconds(10));
  std::string s = m.StatusLine(t0 + seconds(4));
  EXPECT_THAT(s, ::testing::HasSubstr("profile=t link=down (cut, 6.0s left)"));
  EXPECT_THAT(s, ::testing::HasSubstr("edge->hub packets=1 bytes=100 delivered=1"));
}

}  // namespace
}  // namespace longhaul::soak
