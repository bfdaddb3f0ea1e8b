#include "longhaul/metrics/metric.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "longhaul/base/check.h"

namespace longhaul::metrics {

void Counter::Increment(double amount) {
  LH_CHECK(amount >= 0.0);
  value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double value) { Observe(value, 1); }

void Histogram::Observe(double value, uint64_t count) {
  if (count == 0) return;
  // NaN compares false with every bound, so it goes to +Inf explicitly.
  const size_t index = std::isnan(value)
                           ? bounds_.size()
                           : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                                 bounds_.begin());
  buckets_[index].fetch_add(count, std::memory_order_relaxed);
  sum_.fetch_add(value * static_cast<double>(count), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.bounds.assign(bounds_.begin(), bounds_.end());
  snapshot.cumulative_counts.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts[i] = total;
  }
  snapshot.count = total;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

void Histogram::Reset() {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
  sum_.store(0.0, std::memory_order_relaxed);
}

namespace {
// Rounds to 15 significant digits so that 0.1 * 3 gives a bound that prints
// as le="0.3", not le="0.30000000000000004".
double Tidy(double bound) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", bound);
  return std::strtod(buf, nullptr);
}
}  // namespace

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  LH_CHECK(start > 0.0);
  LH_CHECK(factor > 1.0);
  LH_CHECK(count >= 1);
  std::vector<double> bounds;
  bounds.reserve(count);
  for (int i = 0; i < count; ++i) bounds.push_back(Tidy(start * std::pow(factor, i)));
  return bounds;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  LH_CHECK(width > 0.0);
  LH_CHECK(count >= 1);
  std::vector<double> bounds;
  bounds.reserve(count);
  for (int i = 0; i < count; ++i) bounds.push_back(Tidy(start + width * i));
  return bounds;
}

}  // namespace longhaul::metrics
