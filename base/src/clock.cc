#include "longhaul/base/clock.h"

namespace longhaul {

SteadyTime SystemClock::Now() const { return std::chrono::steady_clock::now(); }

int64_t SystemClock::WallMillis() const {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace longhaul
