// Exponential backoff with full jitter, as pure logic: the caller sleeps or
// schedules; this only says how long. Used for reconnects and retries.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace longhaul {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed = std::random_device{}())
      : initial_(initial), max_(max), rng_(seed) {}

  // Delay before the next attempt: uniform in [cap/2, cap] where cap doubles
  // per failure up to max (half-jitter keeps retries from bunching while never
  // retrying instantly).
  std::chrono::milliseconds Next() {
    auto cap = initial_ * (int64_t{1} << std::min(attempts_, 20));
    if (cap > max_ || cap <= std::chrono::milliseconds::zero()) cap = max_;
    ++attempts_;
    std::uniform_int_distribution<int64_t> dist(cap.count() / 2, cap.count());
    return std::chrono::milliseconds(dist(rng_));
  }
  void Reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_, max_;
  int attempts_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace longhaul
