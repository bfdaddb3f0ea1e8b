// The three kinds of series the gateway records: Counter, Gauge, Histogram.
// Updates are lock-free atomics, safe from any thread, cheap enough for the
// replication hot path. Objects are created and owned by a metrics::Family
// (see registry.h); callers hold references, never construct them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace longhaul::metrics {

template <typename T>
class Family;

// A monotonically increasing value (records replicated, bytes sent).
class Counter {
 public:
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // `amount` must not be negative (LH_CHECK): a counter that goes down is a bug.
  void Increment(double amount = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  friend class Family<Counter>;
  Counter() = default;
  void Reset() { value_.store(0.0, std::memory_order_relaxed); }

  std::atomic<double> value_{0.0};
};

// A value that goes up and down (lanes owned, queue bytes, in-flight batches).
class Gauge {
 public:
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Increment(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void Decrement(double amount = 1.0) { value_.fetch_sub(amount, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  friend class Family<Gauge>;
  Gauge() = default;
  void Reset() { value_.store(0.0, std::memory_order_relaxed); }

  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets (latencies, batch sizes). Bucket
// upper bounds are inclusive (`le`), as Prometheus defines them; values above
// the last bound, and NaN, land only in the implicit +Inf bucket.
class Histogram {
 public:
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);
  // `count` observations of the same value at the cost of one: for callers
  // that aggregate (a transaction's records created in the same millisecond).
  void Observe(double value, uint64_t count);

  // A point-in-time copy. Taken without a lock, so under concurrent
  // Observe() the sum may trail the counts by an observation or two; the
  // counts themselves are always cumulative-consistent with `count`.
  struct Snapshot {
    std::vector<double> bounds;              // finite upper bounds, ascending
    std::vector<uint64_t> cumulative_counts; // bounds.size() + 1 entries, last is +Inf
    uint64_t count = 0;                      // == cumulative_counts.back()
    double sum = 0.0;
  };
  Snapshot Read() const;

 private:
  friend class Family<Histogram>;
  explicit Histogram(std::span<const double> bounds);
  void Reset();

  std::span<const double> bounds_;  // owned by the family, which outlives us
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0.0};
};

// `count` bounds start, start*factor, start*factor^2, ...
// LH_CHECKs start > 0, factor > 1, count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// `count` bounds start, start+width, start+2*width, ... LH_CHECKs width > 0, count >= 1.
std::vector<double> LinearBuckets(double start, double width, int count);

}  // namespace longhaul::metrics
