#include "longhaul/base/clock.h"

#include <thread>

namespace longhaul {

SteadyTime SystemClock::Now() const { return std::chrono::steady_clock::now(); }

int64_t SystemClock::WallMillis() const {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void SystemClock::SleepFor(std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); }

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace longhaul
