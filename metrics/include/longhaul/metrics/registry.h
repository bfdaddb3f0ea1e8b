// The metrics registry on prometheus-cpp: named families of counters, gauges
// and histograms, each with a fixed list of label names, plus collectors
// that compute values at scrape time (lag, lanes owned, link state).
// RenderText() produces the Prometheus text format 0.0.4 (prometheus-cpp's
// TextSerializer) that the admin server serves on /metrics.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "longhaul/metrics/metric.h"
#include "prometheus/family.h"
#include "prometheus/labels.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace longhaul::metrics {

class Registry;

// A label name and value, both borrowed for the duration of the call.
struct Label {
  std::string_view name;
  std::string_view value;
};

namespace internal {
// What the registry keeps of a definition, to hand the same family back when
// another module defines it again.
struct Definition {
  prometheus::MetricType type;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms only
};

template <typename T> struct Native;
template <> struct Native<Counter> { using type = prometheus::Counter; };
template <> struct Native<Gauge> { using type = prometheus::Gauge; };
template <> struct Native<Histogram> { using type = prometheus::Histogram; };
}  // namespace internal

// All series of one metric name. Thread-safe. T is Counter, Gauge or Histogram.
// Series live as long as the registry: values that come and go with
// partitions, edges or sessions are emitted by collectors instead, so nothing
// is ever removed (docs/architecture.md says why).
template <typename T>
class Family {
 public:
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // Returns the series for these label values (one per label name, in the
  // family's order; LH_CHECK on a count mismatch), creating it at zero. The
  // reference stays valid for the registry's lifetime, so the hot path looks
  // it up once and caches it. Takes a lock: do not call per record.
  T& WithLabels(std::initializer_list<std::string_view> values);
  T& WithLabels(std::span<const std::string> values);

 private:
  friend class Registry;
  Family(const internal::Definition& definition, prometheus::Family<typename internal::Native<T>::type>& native)
      : definition_(definition), native_(native) {}
  T& Series(prometheus::Labels labels);

  const internal::Definition& definition_;  // owned by the registry
  prometheus::Family<typename internal::Native<T>::type>& native_;
  // Histograms only: our handles on prometheus-cpp's series.
  absl::Mutex mu_;
  std::map<prometheus::Labels, std::unique_ptr<Histogram>> histograms_ ABSL_GUARDED_BY(mu_);
};

// Handed to collectors during RenderText(). Samples with the same name from
// any number of collectors (and a registered family of the same name and
// type) are merged into one family in the output. Names are checked against
// the Prometheus rules (LH_CHECK: they are ours).
class CollectorSink {
 public:
  CollectorSink(const CollectorSink&) = delete;
  CollectorSink& operator=(const CollectorSink&) = delete;

  // `help` is taken from the first sample of a family. A collector must not
  // emit the same name and labels twice in one scrape.
  void AddGauge(std::string_view name, std::string_view help, std::initializer_list<Label> labels, double value);
  void AddGauge(std::string_view name, std::string_view help, std::span<const Label> labels, double value);
  void AddCounter(std::string_view name, std::string_view help, std::initializer_list<Label> labels, double value);
  void AddCounter(std::string_view name, std::string_view help, std::span<const Label> labels, double value);
  // A histogram kept elsewhere (e.g. by the link, in its own buckets).
  void AddHistogram(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                    const Histogram::Snapshot& snapshot);

 private:
  friend class Registry;
  explicit CollectorSink(std::map<std::string, prometheus::MetricFamily>* out) : out_(out) {}
  prometheus::ClientMetric& Add(prometheus::MetricType type, std::string_view name, std::string_view help,
                                std::span<const Label> labels);

  std::map<std::string, prometheus::MetricFamily>* out_;  // by name: the output's order
};

// Keeps a collector registered while alive; destroying or Reset()ting it
// unregisters the collector and waits for a running invocation to return,
// so whatever the collector captured may be destroyed right after.
class [[nodiscard]] CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(CollectorHandle&& other) noexcept;
  CollectorHandle& operator=(CollectorHandle&& other) noexcept;
  ~CollectorHandle() { Reset(); }
  void Reset();

 private:
  friend class Registry;
  CollectorHandle(Registry* registry, uint64_t id) : registry_(registry), id_(id) {}
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

// Owns families; all methods are thread-safe. Families live as long as the
// registry; adding a family whose name is already registered returns the
// existing one if type, help, label names and buckets are equal, and
// LH_CHECK-fails otherwise (two modules disagreeing about a metric is a bug).
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // `help` must not contain a newline or a backslash (LH_CHECK).
  Family<Counter>& AddCounter(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  // `bounds`: finite, strictly ascending upper bounds; a trailing +Inf may be
  // given and is dropped (the +Inf bucket is always there).
  Family<Histogram>& AddHistogram(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                                  std::vector<double> bounds);

  // Registers a function called on every RenderText() (on the scraping
  // thread) to emit values computed at that moment. It must not call back
  // into this registry's collector methods. The handle must not outlive the
  // registry.
  CollectorHandle AddCollector(std::function<void(CollectorSink&)> collector);

  // Prometheus text format 0.0.4: families sorted by name, HELP and TYPE once
  // each, series sorted by labels, families without series omitted.
  std::string RenderText() const;

 private:
  friend class CollectorHandle;
  template <typename T>
  Family<T>& Add(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                 std::vector<double> bounds);
  void RemoveCollector(uint64_t id);

  prometheus::Registry native_;
  absl::Mutex families_mu_;
  // By name; the family is a Family<T> of the definition's type.
  std::map<std::string, std::pair<internal::Definition, std::shared_ptr<void>>, std::less<>> families_
      ABSL_GUARDED_BY(families_mu_);

  // Held while collectors run, so removing one waits for it to finish.
  mutable absl::Mutex collectors_mu_;
  uint64_t next_collector_id_ ABSL_GUARDED_BY(collectors_mu_) = 1;
  std::vector<std::pair<uint64_t, std::function<void(CollectorSink&)>>> collectors_ ABSL_GUARDED_BY(collectors_mu_);
};

}  // namespace longhaul::metrics
