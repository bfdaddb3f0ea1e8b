// The injectable clock (base/clock.h): a ManualClock moves only when told,
// and its SleepFor moves it instead of blocking, so loops that wait through
// the Clock finish in tests without sleeping.
#include "longhaul/base/clock.h"

#include <gtest/gtest.h>

namespace longhaul {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, SleepForMovesBothClocksInsteadOfBlocking) {
  ManualClock clock;
  const SteadyTime start = clock.Now();
  const int64_t wall = clock.WallMillis();
  clock.SleepFor(90s);  // would take a minute and a half on a SystemClock
  EXPECT_EQ(clock.Now() - start, 90s);
  EXPECT_EQ(clock.WallMillis() - wall, 90'000);
}

}  // namespace
}  // namespace longhaul
