// When a lane commits: on the interval, on size, and early when it has read
// everything available, but never more often than min_commit_interval.
#include "longhaul/mirror/commit_policy.h"

#include <gtest/gtest.h>

namespace longhaul::mirror {
namespace {

using namespace std::chrono_literals;

TEST(CommitPolicy, UnderABacklogCommitsOnlyOnIntervalOrSize) {
  ManualClock clock;
  CommitPolicy policy(1s, 100ms, 1000);
  policy.OnRecord(clock.Now(), 10);
  clock.Advance(999ms);
  EXPECT_FALSE(policy.ShouldCommit(clock.Now(), /*caught_up=*/false));
  clock.Advance(1ms);
  EXPECT_TRUE(policy.ShouldCommit(clock.Now(), false));
  policy.OnCommitted(clock.Now());

  policy.OnRecord(clock.Now(), 999);
  EXPECT_FALSE(policy.Full());
  policy.OnRecord(clock.Now(), 1);
  EXPECT_TRUE(policy.Full());
  EXPECT_TRUE(policy.ShouldCommit(clock.Now(), false));
}

TEST(CommitPolicy, CaughtUpLaneCommitsEarlyButAtMostOncePerMinInterval) {
  ManualClock clock;
  clock.Advance(10s);
  CommitPolicy policy(1s, 100ms, 1 << 20);
  EXPECT_FALSE(policy.ShouldCommit(clock.Now(), true)) << "nothing to commit";
  policy.OnRecord(clock.Now(), 10);
  EXPECT_TRUE(policy.ShouldCommit(clock.Now(), true)) << "first commit: no previous one to keep apart from";
  policy.OnCommitted(clock.Now());

  clock.Advance(30ms);
  policy.OnRecord(clock.Now(), 10);
  EXPECT_FALSE(policy.MayCommitEarly(clock.Now()));
  EXPECT_FALSE(policy.ShouldCommit(clock.Now(), true));
  EXPECT_EQ(policy.TimeUntilDue(clock.Now()), 70ms) << "wait for input only until an early commit is allowed";
  EXPECT_EQ(policy.TimeUntilDue(clock.Now(), /*early=*/false), 1s) << "a lane still behind waits for records";
  clock.Advance(70ms);
  EXPECT_TRUE(policy.MayCommitEarly(clock.Now()));
  EXPECT_FALSE(policy.ShouldCommit(clock.Now(), false)) << "records still waiting: keep filling the transaction";
  EXPECT_TRUE(policy.ShouldCommit(clock.Now(), true));
}

TEST(CommitPolicy, SlowCommitsSpaceEarlyCommitsFurtherApart) {
  // An overloaded target: a commit took 400 ms. Committing again 100 ms
  // later would keep the lane committing 80 % of the time.
  ManualClock clock;
  clock.Advance(10s);
  CommitPolicy policy(1s, 100ms, 1 << 20);
  policy.OnRecord(clock.Now(), 10);
  policy.OnCommitted(clock.Now(), 400ms);
  policy.OnRecord(clock.Now(), 10);
  clock.Advance(100ms);
  EXPECT_FALSE(policy.ShouldCommit(clock.Now(), true));
  EXPECT_EQ(policy.TimeUntilDue(clock.Now()), 300ms);
  clock.Advance(300ms);
  EXPECT_TRUE(policy.ShouldCommit(clock.Now(), true));
}

TEST(CommitPolicy, MinIntervalAtOrAboveIntervalTurnsEarlyCommitsOff) {
  ManualClock clock;
  clock.Advance(10s);
  CommitPolicy policy(1s, 1s, 1 << 20);
  policy.OnRecord(clock.Now(), 10);
  EXPECT_FALSE(policy.MayCommitEarly(clock.Now()));
  EXPECT_FALSE(policy.ShouldCommit(clock.Now(), true));
  EXPECT_EQ(policy.TimeUntilDue(clock.Now()), 1s);
  clock.Advance(1s);
  EXPECT_TRUE(policy.ShouldCommit(clock.Now(), false));
}

TEST(CommitPolicy, IdleLaneWaitsTheFullIntervalForInput) {
  ManualClock clock;
  CommitPolicy policy(1s, 100ms, 1 << 20);
  EXPECT_EQ(policy.TimeUntilDue(clock.Now()), 1s);
  EXPECT_FALSE(policy.HasWork());
}

}  // namespace
}  // namespace longhaul::mirror
