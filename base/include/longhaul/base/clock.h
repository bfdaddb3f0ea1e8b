// The injectable clock. Replication logic is given a Clock& (or a `now`) and
// never reads the system clock itself, so tests advance time by hand.
#pragma once

#include <chrono>
#include <cstdint>

namespace longhaul {

using SteadyTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for intervals and deadlines.
  virtual SteadyTime Now() const = 0;
  // Wall-clock milliseconds since the Unix epoch, for comparing with Kafka
  // record timestamps.
  virtual int64_t WallMillis() const = 0;
  // Waits `d` on the calling thread. A ManualClock moves its own time
  // instead, so a loop that waits ends in a test without sleeping.
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override;
  int64_t WallMillis() const override;
  void SleepFor(std::chrono::nanoseconds d) override;
  static SystemClock& Instance();
};

// A clock that only moves when told to; for unit tests.
class ManualClock final : public Clock {
 public:
  SteadyTime Now() const override { return now_; }
  int64_t WallMillis() const override { return wall_ms_; }
  void Advance(std::chrono::nanoseconds d) {
    now_ += d;
    wall_ms_ += std::chrono::duration_cast<Millis>(d).count();
  }
  void SetWallMillis(int64_t ms) { wall_ms_ = ms; }
  void SleepFor(std::chrono::nanoseconds d) override { Advance(d); }

 private:
  SteadyTime now_{};
  int64_t wall_ms_ = 1'700'000'000'000;
};

}  // namespace longhaul
