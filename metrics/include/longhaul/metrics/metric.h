// The three kinds of series the gateway records. Counter and Gauge are
// prometheus-cpp's own (lock-free atomics, safe from any thread);
// Histogram is a thin handle on prometheus-cpp's histogram that adds what it
// lacks: many observations of one value at the cost of one, and NaN counted
// only in +Inf (docs/architecture.md, "Metrics on prometheus-cpp"). Series
// are created and owned by a metrics::Family (registry.h); callers hold
// references, never construct them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace longhaul::metrics {

// A monotonically increasing value: Increment(), Increment(amount), Value().
// A negative amount is ignored (prometheus-cpp).
using Counter = prometheus::Counter;
// A value that goes up and down: Set, Increment, Decrement, Value.
using Gauge = prometheus::Gauge;

// Observations counted into fixed buckets (latencies, batch sizes). Bucket
// upper bounds are inclusive (`le`), as Prometheus defines them; values above
// the last bound, and NaN, land only in the implicit +Inf bucket.
class Histogram {
 public:
  Histogram(prometheus::Histogram& native, std::span<const double> bounds) : native_(native), bounds_(bounds) {}
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value) { Observe(value, 1); }
  // `count` observations of the same value at the cost of one: for callers
  // that aggregate (a transaction's records created in the same millisecond).
  void Observe(double value, uint64_t count);

  // A histogram counted elsewhere (by the link, in its own buckets), handed
  // to CollectorSink::AddHistogram at scrape time.
  struct Snapshot {
    std::vector<double> bounds;              // finite upper bounds, ascending
    std::vector<uint64_t> cumulative_counts; // bounds.size() + 1 entries, last is +Inf
    uint64_t count = 0;                      // == cumulative_counts.back()
    double sum = 0.0;
  };

 private:
  prometheus::Histogram& native_;
  std::span<const double> bounds_;  // owned by the family, which outlives us
};

// `count` bounds start, start*factor, start*factor^2, ...
// LH_CHECKs start > 0, factor > 1, count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// `count` bounds start, start+width, start+2*width, ... LH_CHECKs width > 0, count >= 1.
std::vector<double> LinearBuckets(double start, double width, int count);

}  // namespace longhaul::metrics
