#include "longhaul/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "exposition.h"
#include "longhaul/base/check.h"
#include "longhaul/base/logging.h"

namespace longhaul::metrics {
namespace {

// Our own metric definitions are invariants: a bad one aborts, but names the
// metric first so the CHECK line is not the only clue.
void CheckDefinition(bool ok, std::string_view metric, std::string_view problem) {
  if (!ok) LogError("invalid metric definition", {{"metric", metric}, {"problem", problem}});
  LH_CHECK(ok);
}

std::vector<std::string> SampleNames(std::string_view name, MetricType type) {
  const std::string base(name);
  if (type == MetricType::kHistogram) return {base, base + "_bucket", base + "_sum", base + "_count"};
  return {base};
}

template <typename T>
std::vector<std::string> ToKey(const T& values) {
  return std::vector<std::string>(values.begin(), values.end());
}

}  // namespace

namespace internal {
FamilyBase::FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}
}  // namespace internal

// ---- Family<T> ----

template <typename T>
Family<T>::Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), bounds_(std::move(bounds)) {}

template <typename T>
T& Family<T>::WithLabels(std::initializer_list<std::string_view> values) {
  return GetOrCreate(ToKey(values));
}

template <typename T>
T& Family<T>::WithLabels(std::span<const std::string> values) {
  return GetOrCreate(ToKey(values));
}

template <typename T>
bool Family<T>::Remove(std::initializer_list<std::string_view> values) {
  return Hide(ToKey(values));
}

template <typename T>
bool Family<T>::Remove(std::span<const std::string> values) {
  return Hide(ToKey(values));
}

template <typename T>
void Family<T>::RemoveAll() {
  absl::MutexLock lock(&mu_);
  for (auto& [key, entry] : series_) entry.exported = false;
}

template <typename T>
T& Family<T>::GetOrCreate(std::vector<std::string> key) {
  CheckDefinition(key.size() == label_names().size(), name(), "label value count differs from label name count");
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = series_.try_emplace(std::move(key));
  Entry& entry = it->second;
  if (inserted) {
    if constexpr (std::is_same_v<T, Histogram>) {
      entry.series.reset(new Histogram(bounds_));
    } else {
      entry.series.reset(new T());
    }
  } else if (!entry.exported) {
    entry.series->Reset();  // a revived series starts a new life, as Prometheus expects after a gap
  }
  entry.exported = true;
  return *entry.series;
}

template <typename T>
bool Family<T>::Hide(const std::vector<std::string>& key) {
  CheckDefinition(key.size() == label_names().size(), name(), "label value count differs from label name count");
  absl::MutexLock lock(&mu_);
  auto it = series_.find(key);
  if (it == series_.end() || !it->second.exported) return false;
  it->second.exported = false;
  return true;
}

template <typename T>
void Family<T>::Collect(std::vector<internal::SeriesOut>* out) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [key, entry] : series_) {
    if (!entry.exported) continue;
    internal::SeriesOut& series = out->emplace_back();
    series.labels.reserve(key.size());
    for (size_t i = 0; i < key.size(); ++i) series.labels.emplace_back(label_names()[i], key[i]);
    if constexpr (std::is_same_v<T, Histogram>) {
      series.histogram = entry.series->Read();
    } else {
      series.value = entry.series->Value();
    }
  }
}

template <typename T>
size_t Family<T>::RemoveMatching(std::span<const std::pair<size_t, std::string_view>> match) {
  absl::MutexLock lock(&mu_);
  size_t removed = 0;
  for (auto& [key, entry] : series_) {
    if (!entry.exported) continue;
    const bool matches = std::all_of(match.begin(), match.end(), [&](const auto& m) { return key[m.first] == m.second; });
    if (matches) {
      entry.exported = false;
      ++removed;
    }
  }
  return removed;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- CollectorSink ----

void CollectorSink::AddGauge(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                             double value) {
  Add(MetricType::kGauge, name, help, std::span<const Label>(labels.begin(), labels.size()), value);
}
void CollectorSink::AddGauge(std::string_view name, std::string_view help, std::span<const Label> labels,
                             double value) {
  Add(MetricType::kGauge, name, help, labels, value);
}
void CollectorSink::AddCounter(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                               double value) {
  Add(MetricType::kCounter, name, help, std::span<const Label>(labels.begin(), labels.size()), value);
}
void CollectorSink::AddCounter(std::string_view name, std::string_view help, std::span<const Label> labels,
                               double value) {
  Add(MetricType::kCounter, name, help, labels, value);
}

void CollectorSink::AddHistogram(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                                 Histogram::Snapshot snapshot) {
  CheckDefinition(snapshot.cumulative_counts.size() == snapshot.bounds.size() + 1, name,
                  "histogram snapshot needs one cumulative count per bound plus +Inf");
  Add(MetricType::kHistogram, name, help, std::span<const Label>(labels.begin(), labels.size()), 0.0,
      std::move(snapshot));
}

void CollectorSink::Add(MetricType type, std::string_view name, std::string_view help, std::span<const Label> labels,
                        double value, std::optional<Histogram::Snapshot> histogram) {
  auto& families = out_->families;
  auto it = families.find(absl::string_view(name.data(), name.size()));
  if (it == families.end()) {
    CheckDefinition(internal::IsValidMetricName(name), name, "metric name does not match [a-zA-Z_:][a-zA-Z0-9_:]*");
    CheckDefinition(!help.empty(), name, "empty help");
    // A histogram's generated names are taken even though no family has them.
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        auto base = families.find(absl::string_view(name.data(), name.size() - suffix.size()));
        CheckDefinition(base == families.end() || base->second.type != MetricType::kHistogram, name,
                        "collides with a histogram's generated sample name");
      }
    }
    it = families.emplace(std::string(name), internal::FamilyOut{std::string(name), std::string(help), type, {}})
             .first;
  }
  CheckDefinition(it->second.type == type, name, "emitted with two different types");
  internal::SeriesOut& series = it->second.series.emplace_back();
  series.labels.reserve(labels.size());
  for (const Label& label : labels) {
    CheckDefinition(internal::IsValidLabelName(label.name), name,
                    "label name '" + std::string(label.name) + "' does not match [a-zA-Z_][a-zA-Z0-9_]*");
    series.labels.emplace_back(std::string(label.name), std::string(label.value));
  }
  series.value = value;
  series.histogram = std::move(histogram);
}

// ---- CollectorHandle ----

CollectorHandle::CollectorHandle(CollectorHandle&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), id_(std::exchange(other.id_, 0)) {}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void CollectorHandle::Reset() {
  if (registry_ != nullptr) registry_->RemoveCollector(id_);
  registry_ = nullptr;
  id_ = 0;
}

// ---- Registry ----

Registry::~Registry() {
  absl::MutexLock lock(&collectors_mu_);
  // A CollectorHandle that outlives its registry would call into freed memory.
  LH_CHECK(collectors_.empty());
}

internal::FamilyBase* Registry::Find(std::string_view name, MetricType type, std::string_view help,
                                     const std::vector<std::string>& label_names, const std::vector<double>& bounds) {
  CheckDefinition(internal::IsValidMetricName(name), name, "metric name does not match [a-zA-Z_:][a-zA-Z0-9_:]*");
  CheckDefinition(!help.empty(), name, "empty help");
  absl::flat_hash_set<std::string_view> seen;
  for (const std::string& label : label_names) {
    CheckDefinition(internal::IsValidLabelName(label), name,
                    absl::StrCat("label name '", label, "' does not match [a-zA-Z_][a-zA-Z0-9_]* or starts with __"));
    CheckDefinition(seen.insert(label).second, name, absl::StrCat("label name '", label, "' repeated"));
  }
  for (const auto& family : families_) {
    if (family->name() != name) continue;
    bool same = family->type() == type && family->help() == help && family->label_names() == label_names;
    if (same && type == MetricType::kHistogram) {
      same = static_cast<Family<Histogram>*>(family.get())->bounds() == bounds;
    }
    CheckDefinition(same, name, "registered twice with different type, help, labels or buckets");
    return family.get();
  }
  for (const std::string& sample_name : SampleNames(name, type)) {
    CheckDefinition(!sample_names_.contains(sample_name), name,
                    absl::StrCat("sample name '", sample_name, "' is already produced by another family"));
  }
  return nullptr;
}

void Registry::Insert(std::unique_ptr<internal::FamilyBase> family) {
  for (std::string& sample_name : SampleNames(family->name(), family->type())) {
    sample_names_.insert(std::move(sample_name));
  }
  families_.push_back(std::move(family));
}

Family<Counter>& Registry::AddCounter(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  absl::MutexLock lock(&families_mu_);
  if (auto* existing = Find(name, MetricType::kCounter, help, label_names, {})) {
    return *static_cast<Family<Counter>*>(existing);
  }
  auto* family = new Family<Counter>(std::string(name), std::string(help), MetricType::kCounter,
                                     std::move(label_names), {});
  Insert(std::unique_ptr<internal::FamilyBase>(family));
  if (family->label_names().empty()) family->WithLabels({});  // an unlabelled series exists from the start
  return *family;
}

Family<Gauge>& Registry::AddGauge(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
  absl::MutexLock lock(&families_mu_);
  if (auto* existing = Find(name, MetricType::kGauge, help, label_names, {})) {
    return *static_cast<Family<Gauge>*>(existing);
  }
  auto* family =
      new Family<Gauge>(std::string(name), std::string(help), MetricType::kGauge, std::move(label_names), {});
  Insert(std::unique_ptr<internal::FamilyBase>(family));
  if (family->label_names().empty()) family->WithLabels({});
  return *family;
}

Family<Histogram>& Registry::AddHistogram(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names, std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (size_t i = 0; i < bounds.size(); ++i) {
    CheckDefinition(std::isfinite(bounds[i]), name, "histogram bucket bound is not finite");
    CheckDefinition(i == 0 || bounds[i - 1] < bounds[i], name, "histogram bucket bounds are not strictly ascending");
  }
  for (const std::string& label : label_names) {
    CheckDefinition(label != "le", name, "histogram label 'le' is reserved for buckets");
  }
  absl::MutexLock lock(&families_mu_);
  if (auto* existing = Find(name, MetricType::kHistogram, help, label_names, bounds)) {
    return *static_cast<Family<Histogram>*>(existing);
  }
  auto* family = new Family<Histogram>(std::string(name), std::string(help), MetricType::kHistogram,
                                       std::move(label_names), std::move(bounds));
  Insert(std::unique_ptr<internal::FamilyBase>(family));
  if (family->label_names().empty()) family->WithLabels({});
  return *family;
}

CollectorHandle Registry::AddCollector(std::function<void(CollectorSink&)> collector) {
  LH_CHECK(collector != nullptr);
  absl::MutexLock lock(&collectors_mu_);
  const uint64_t id = next_collector_id_++;
  collectors_.emplace_back(id, std::move(collector));
  return CollectorHandle(this, id);
}

void Registry::RemoveCollector(uint64_t id) {
  absl::MutexLock lock(&collectors_mu_);
  std::erase_if(collectors_, [id](const auto& entry) { return entry.first == id; });
}

size_t Registry::RemoveLabels(std::initializer_list<Label> match) {
  absl::MutexLock lock(&families_mu_);
  size_t removed = 0;
  std::vector<std::pair<size_t, std::string_view>> indexed;
  for (const auto& family : families_) {
    indexed.clear();
    const auto& names = family->label_names();
    for (const Label& label : match) {
      auto it = std::find(names.begin(), names.end(), label.name);
      if (it == names.end()) break;
      indexed.emplace_back(static_cast<size_t>(it - names.begin()), label.value);
    }
    if (indexed.size() != match.size()) continue;  // this family lacks one of the labels
    removed += family->RemoveMatching(indexed);
  }
  return removed;
}

std::string Registry::RenderText() const {
  internal::Exposition exposition;
  {
    absl::MutexLock lock(&families_mu_);
    for (const auto& family : families_) {
      internal::FamilyOut& out = exposition.families[family->name()];
      out.name = family->name();
      out.help = family->help();
      out.type = family->type();
      family->Collect(&out.series);
    }
  }
  {
    absl::MutexLock lock(&collectors_mu_);
    CollectorSink sink(&exposition);
    for (const auto& [id, collector] : collectors_) collector(sink);
  }
  return internal::RenderExposition(std::move(exposition));
}

}  // namespace longhaul::metrics
