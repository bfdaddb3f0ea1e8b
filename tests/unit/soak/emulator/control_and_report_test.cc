#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/soak/control_protocol.h"
#include "longhaul/soak/linkemu_options.h"
#include "longhaul/soak/selftest_report.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::soak {
namespace {

using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime t0 = SteadyTime{} + seconds(1000);

TEST(ControlProtocol, SwitchesProfileCutsAndRestores) {
  LinkModel m(*BuiltinProfile("geo-satellite"), 1, t0);
  EXPECT_EQ(HandleControlLine("profile mobile", m, t0), "ok profile=mobile");
  EXPECT_EQ(m.profile().name, "mobile");
  EXPECT_EQ(HandleControlLine("cut 20s", m, t0), "ok link cut for 20s");
  EXPECT_TRUE(m.InOutage(t0 + seconds(19)));
  EXPECT_FALSE(m.InOutage(t0 + seconds(21)));
  EXPECT_EQ(HandleControlLine("cut", m, t0), "ok link cut until restore");
  EXPECT_TRUE(m.InOutage(t0 + seconds(60)));
  EXPECT_EQ(HandleControlLine("restore", m, t0), "ok link restored");
  EXPECT_FALSE(m.InOutage(t0 + seconds(60)));
  EXPECT_THAT(HandleControlLine("status", m, t0), StartsWith("ok profile=mobile link=up"));
}

TEST(ControlProtocol, RejectsBadCommandsWithoutChangingTheLink) {
  LinkModel m(*BuiltinProfile("ocean"), 1, t0);
  EXPECT_THAT(HandleControlLine("profile moon", m, t0), StartsWith("error: no built-in profile 'moon'"));
  EXPECT_THAT(HandleControlLine("cut soon", m, t0), HasSubstr("not a duration"));
  EXPECT_THAT(HandleControlLine("explode", m, t0), HasSubstr("unknown command"));
  EXPECT_THAT(HandleControlLine("", m, t0), HasSubstr("empty command"));
  EXPECT_EQ(m.profile().name, "ocean");
  EXPECT_FALSE(m.InOutage(t0));
}

SelftestMeasurement Good(double rtt_ms, int64_t sent, int64_t lost_each_way, double bps) {
  SelftestMeasurement m;
  m.probes_sent = sent;
  m.probes_at_hub = sent - lost_each_way;
  m.probes_back = m.probes_at_hub - lost_each_way;
  m.rtt_ms.assign(static_cast<size_t>(m.probes_back), rtt_ms);
  m.tcp_edge_to_hub_bps = m.tcp_hub_to_edge_bps = bps;
  m.cut_seconds = 2;
  m.cut_probes_sent = 390;
  m.after_probes_sent = 200;
  m.after_probes_back = 195;
  return m;
}

TEST(SelftestReport, PassesWithinTheIssuesTolerances) {
  LinkProfile geo = *BuiltinProfile("geo-satellite");
  auto rows = EvaluateSelftest(geo, Good(640, 20000, 200, 18.5e6));
  EXPECT_TRUE(SelftestPassed(rows)) << RenderSelftest(geo, rows);
  EXPECT_THAT(RenderSelftest(geo, rows), HasSubstr("selftest PASSED profile=geo-satellite"));
}

TEST(SelftestReport, FailsOnRoundTripLossOrRateOutOfTolerance) {
  LinkProfile geo = *BuiltinProfile("geo-satellite");
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(geo, Good(670, 20000, 200, 18e6))));   // RTT +11.7 %
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(geo, Good(600, 20000, 90, 18e6))));    // loss x0.45
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(geo, Good(600, 20000, 450, 18e6))));   // loss x2.25
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(geo, Good(600, 20000, 200, 22e6))));   // over the cap
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(geo, Good(600, 20000, 200, 5e6))));    // far under it
  SelftestMeasurement leaky = Good(600, 20000, 200, 18e6);
  leaky.cut_probes_back = 1;
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(geo, leaky)));
}

TEST(SelftestReport, LanMustBeFastAndLossless) {
  LinkProfile lan = *BuiltinProfile("lan");
  EXPECT_TRUE(SelftestPassed(EvaluateSelftest(lan, Good(0.2, 20000, 0, 3e9))));
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(lan, Good(0.2, 20000, 1, 3e9))));
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(lan, Good(3, 20000, 0, 3e9))));
  SelftestMeasurement hiccups = Good(0.2, 20000, 0, 3e9);
  hiccups.rtt_ms.back() = 80;  // one scheduling stall does not fail the median
  EXPECT_TRUE(SelftestPassed(EvaluateSelftest(lan, hiccups)));
}

TEST(SelftestReport, JitteryProfileChecksMeanAndRange) {
  LinkProfile mobile = *BuiltinProfile("mobile");
  SelftestMeasurement m = Good(190, 20000, 400, 9e6);
  m.rtt_ms.front() = 85;
  m.rtt_ms.back() = 295;
  EXPECT_TRUE(SelftestPassed(EvaluateSelftest(mobile, m)));
  m.rtt_ms.back() = 400;
  EXPECT_FALSE(SelftestPassed(EvaluateSelftest(mobile, m)));
}

TEST(LinkemuOptions, ParsesRunAndCtl) {
  auto run = ParseLinkemuOptions({"run", "--name", "soak1", "--profile", "ocean", "--duration", "10m", "--setup",
                                  "--owner-pid", "42"});
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->command, LinkemuOptions::Command::kRun);
  EXPECT_EQ(run->profiles, std::vector<std::string>{"ocean"});
  EXPECT_EQ(run->duration, absl::Minutes(10));
  EXPECT_TRUE(run->setup);
  EXPECT_EQ(run->control, "/run/longhaul-linkemu/soak1.sock");

  auto ctl = ParseLinkemuOptions({"ctl", "--name", "soak1", "cut", "20s"});
  ASSERT_THAT(ctl, IsOk());
  EXPECT_EQ(ctl->ctl_command, "cut 20s");
  EXPECT_EQ(ctl->control, "/run/longhaul-linkemu/soak1.sock");

  auto all = ParseLinkemuOptions({"selftest", "--profile", "all"});
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->profiles.size(), 4u);
}

TEST(LinkemuOptions, RejectsMissingOrUnknownPieces) {
  EXPECT_THAT(ParseLinkemuOptions({}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name a command")));
  EXPECT_THAT(ParseLinkemuOptions({"fly"}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'fly'")));
  EXPECT_THAT(ParseLinkemuOptions({"run", "--name", "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--profile")));
  EXPECT_THAT(ParseLinkemuOptions({"setup"}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--name")));
  EXPECT_THAT(ParseLinkemuOptions({"ctl", "--name", "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("give a command")));
  EXPECT_THAT(ParseLinkemuOptions({"run", "--name", "x", "--profile", "lan", "--duration", "soon"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--duration")));
  EXPECT_THAT(ParseLinkemuOptions({"teardown", "--name", "x", "--setup"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--setup")));
}

}  // namespace
}  // namespace longhaul::soak
