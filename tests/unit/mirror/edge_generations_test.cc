// Link generations issued by the hub: which instance of an edge may stream,
// decided without any clock (a clock step on the edge cannot lock it out,
// and a made-up generation cannot lock the real edge out).
#include <gtest/gtest.h>

#include "absl/strings/match.h"

// Private to mirror/.
#include "../../../mirror/src/edge_generations.h"

namespace longhaul::mirror {
namespace {

constexpr uint32_t kNonce = 0xA1B2C3D4;

TEST(EdgeGenerations, IssuesOneGenerationPerEdgeInstanceAndSharesItWithItsOtherConnections) {
  EdgeGenerations g(kNonce);
  auto first = g.OnHello("ship-1", 0, /*link_id=*/11);
  ASSERT_TRUE(first.status.ok()) << first.status;
  EXPECT_EQ(first.generation >> 32, kNonce) << "the hub instance's nonce is the high half";
  EXPECT_FALSE(first.supersedes);
  auto second_connection = g.OnHello("ship-1", 0, 11);
  EXPECT_EQ(second_connection.generation, first.generation);
  auto rejoin = g.OnHello("ship-1", first.generation, 11);
  EXPECT_TRUE(rejoin.status.ok());
  EXPECT_EQ(rejoin.generation, first.generation);
  auto other_edge = g.OnHello("ship-2", 0, 11);
  EXPECT_NE(other_edge.generation, first.generation) << "generations are per edge";
  EXPECT_FALSE(other_edge.supersedes);
}

TEST(EdgeGenerations, ANewInstanceSupersedesTheOldOneWhichIsThenStale) {
  EdgeGenerations g(kNonce);
  auto old_instance = g.OnHello("ship-1", 0, 11);
  auto new_instance = g.OnHello("ship-1", 0, 22);
  ASSERT_TRUE(new_instance.status.ok());
  EXPECT_TRUE(new_instance.supersedes);
  EXPECT_GT(new_instance.generation, old_instance.generation);
  EXPECT_EQ(g.Current("ship-1"), new_instance.generation);
  auto zombie = g.OnHello("ship-1", old_instance.generation, 11);
  EXPECT_EQ(zombie.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(zombie.status.message(), "stale generation")) << zombie.status;
  EXPECT_EQ(g.Current("ship-1"), new_instance.generation) << "a stale hello changes nothing";
}

TEST(EdgeGenerations, AGenerationThisHubInstanceNeverIssuedIsUnknownAndChangesNothing) {
  EdgeGenerations g(kNonce);
  auto current = g.OnHello("ship-1", 0, 11);
  for (uint64_t bogus : {uint64_t{UINT64_MAX}, (uint64_t{kNonce} << 32) | 999, (uint64_t{0x1234} << 32) | 1,
                         uint64_t{kNonce} << 32}) {
    auto answer = g.OnHello("ship-1", bogus, 11);
    EXPECT_EQ(answer.status.code(), absl::StatusCode::kAborted) << bogus;
    EXPECT_EQ(g.Current("ship-1"), current.generation);
  }
  auto unknown_edge = g.OnHello("ship-9", current.generation, 11);
  EXPECT_EQ(unknown_edge.status.code(), absl::StatusCode::kAborted)
      << "a generation of another edge, after a hub restart for example";
  auto after_reset = g.OnHello("ship-1", 0, 11);
  EXPECT_EQ(after_reset.generation, current.generation) << "the same instance saying hello with 0 rejoins";
}

TEST(EdgeGenerations, AnotherHubInstanceDoesNotKnowThisOnesGenerations) {
  EdgeGenerations before_restart(kNonce), after_restart(kNonce + 1);
  auto issued = before_restart.OnHello("ship-1", 0, 11);
  EXPECT_EQ(after_restart.OnHello("ship-1", issued.generation, 11).status.code(), absl::StatusCode::kAborted);
  EXPECT_NE(EdgeGenerations::RandomNonce(), 0u);
}

}  // namespace
}  // namespace longhaul::mirror
