// The metrics registry: named families of counters, gauges and histograms,
// each with a fixed list of label names, plus collectors that compute values
// at scrape time (lag, lanes owned). RenderText() produces the Prometheus
// text exposition format 0.0.4 that the admin server serves on /metrics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "longhaul/metrics/metric.h"

namespace longhaul::metrics {

class Registry;

enum class MetricType { kCounter, kGauge, kHistogram };

// A label name and value, both borrowed for the duration of the call.
struct Label {
  std::string_view name;
  std::string_view value;
};

namespace internal {
struct SeriesOut;  // defined in metrics/src/exposition.h

// What the registry needs from a family without knowing its series type.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names);

 private:
  friend class ::longhaul::metrics::Registry;
  // Appends one entry per exported series, in no particular order.
  virtual void Collect(std::vector<SeriesOut>* out) const = 0;
  // Hides every series whose label at index `first` equals `second`, for all
  // pairs. Returns how many series were hidden.
  virtual size_t RemoveMatching(std::span<const std::pair<size_t, std::string_view>> match) = 0;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};
}  // namespace internal

// All series of one metric name. Thread-safe. T is Counter, Gauge or Histogram.
template <typename T>
class Family final : public internal::FamilyBase {
 public:
  // Returns the series for these label values (one per label name, in the
  // family's order; LH_CHECK on a count mismatch), creating it at zero. The
  // reference stays valid for the registry's lifetime, also after Remove(),
  // so the hot path looks it up once and caches it. Takes a lock: do not call
  // per record.
  T& WithLabels(std::initializer_list<std::string_view> values);
  T& WithLabels(std::span<const std::string> values);

  // Stops exporting the series (a partition this worker no longer owns).
  // Its storage is kept so cached references stay valid; a later
  // WithLabels() with the same values revives it from zero. Memory is thus
  // bounded by the number of distinct label sets ever used. Returns false if
  // no such series was exported.
  bool Remove(std::initializer_list<std::string_view> values);
  bool Remove(std::span<const std::string> values);
  void RemoveAll();

  // Histograms only: the finite bucket upper bounds, ascending.
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  friend class Registry;
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> bounds);

  struct Entry {
    std::unique_ptr<T> series;
    bool exported = false;
  };
  T& GetOrCreate(std::vector<std::string> key);
  bool Hide(const std::vector<std::string>& key);
  void Collect(std::vector<internal::SeriesOut>* out) const override;
  size_t RemoveMatching(std::span<const std::pair<size_t, std::string_view>> match) override;

  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::vector<std::string>, Entry> series_ ABSL_GUARDED_BY(mu_);
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

namespace internal {
struct Exposition;  // defined in metrics/src/exposition.h
}

// Handed to collectors during RenderText(). Samples with the same name from
// any number of collectors (and a registered family of the same name and
// type) are merged into one family in the output. Names are checked against
// the Prometheus rules (LH_CHECK: they are ours); label values may be any text.
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
  // A histogram kept elsewhere (e.g. by a library that counts into its own
  // buckets): `snapshot` as Histogram::Read() would give it.
  void AddHistogram(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                    Histogram::Snapshot snapshot);

 private:
  friend class Registry;
  explicit CollectorSink(internal::Exposition* out) : out_(out) {}
  void Add(MetricType type, std::string_view name, std::string_view help, std::span<const Label> labels,
           double value, std::optional<Histogram::Snapshot> histogram = std::nullopt);

  internal::Exposition* out_;
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

  // Hides, in every family that has all of these label names, the series
  // whose labels equal all these values (e.g. {{"pipeline","p"},{"topic","t"},
  // {"partition","3"}} when a partition is revoked). Returns how many.
  size_t RemoveLabels(std::initializer_list<Label> match);

  // Prometheus text format 0.0.4: families sorted by name, HELP and TYPE once
  // each, series sorted by label values, families without series omitted.
  std::string RenderText() const;

 private:
  friend class CollectorHandle;
  internal::FamilyBase* Find(std::string_view name, MetricType type, std::string_view help,
                             const std::vector<std::string>& label_names, const std::vector<double>& bounds)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(families_mu_);
  void Insert(std::unique_ptr<internal::FamilyBase> family) ABSL_EXCLUSIVE_LOCKS_REQUIRED(families_mu_);
  void RemoveCollector(uint64_t id);

  mutable absl::Mutex families_mu_;
  std::vector<std::unique_ptr<internal::FamilyBase>> families_ ABSL_GUARDED_BY(families_mu_);
  // Every sample name a family emits (histograms: _bucket, _sum, _count),
  // so two families can never produce the same sample name.
  absl::flat_hash_set<std::string> sample_names_ ABSL_GUARDED_BY(families_mu_);

  // Held while collectors run, so removing one waits for it to finish.
  mutable absl::Mutex collectors_mu_;
  uint64_t next_collector_id_ ABSL_GUARDED_BY(collectors_mu_) = 1;
  std::vector<std::pair<uint64_t, std::function<void(CollectorSink&)>>> collectors_ ABSL_GUARDED_BY(collectors_mu_);
};

}  // namespace longhaul::metrics
