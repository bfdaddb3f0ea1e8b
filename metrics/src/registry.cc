#include "longhaul/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"
#include "longhaul/base/logging.h"
#include "prometheus/check_names.h"
#include "prometheus/text_serializer.h"

namespace longhaul::metrics {
namespace {

// Our own metric definitions are invariants: a bad one aborts, but names the
// metric first so the CHECK line is not the only clue.
void CheckDefinition(bool ok, std::string_view metric, std::string_view problem) {
  if (!ok) LogError("invalid metric definition", {{"metric", metric}, {"problem", problem}});
  LH_CHECK(ok);
}

// prometheus-cpp 1.0.1 checks names only when a family is built and writes
// HELP text unescaped, so a newline would end the line early: our help texts
// are constants, and one with a newline or backslash is refused.
void CheckNameAndHelp(std::string_view name, std::string_view help) {
  CheckDefinition(prometheus::CheckMetricName(std::string(name)), name,
                  "metric name does not match [a-zA-Z_:][a-zA-Z0-9_:]*");
  CheckDefinition(!help.empty() && help.find_first_of("\n\\") == std::string_view::npos, name,
                  "help is empty or has a newline or backslash");
}

void CheckLabelName(std::string_view metric, std::string_view label) {
  CheckDefinition(prometheus::CheckLabelName(std::string(label)), metric,
                  absl::StrCat("label name '", std::string(label), "' does not match [a-zA-Z_][a-zA-Z0-9_]* or starts with __"));
}

template <typename Values>
prometheus::Labels ToLabels(const internal::Definition& definition, std::string_view metric, const Values& values) {
  CheckDefinition(values.size() == definition.label_names.size(), metric,
                  "label value count differs from label name count");
  prometheus::Labels labels;
  auto value = values.begin();
  for (const std::string& name : definition.label_names) labels.emplace(name, std::string(*value++));
  return labels;
}

template <typename T> prometheus::detail::Builder<typename internal::Native<T>::type> Build();
template <> prometheus::detail::Builder<prometheus::Counter> Build<Counter>() { return prometheus::BuildCounter(); }
template <> prometheus::detail::Builder<prometheus::Gauge> Build<Gauge>() { return prometheus::BuildGauge(); }
template <> prometheus::detail::Builder<prometheus::Histogram> Build<Histogram>() { return prometheus::BuildHistogram(); }

// Rounds to 15 significant digits so that 0.1 * 3 gives a bound that prints
// as le="0.3", not le="0.30000000000000004".
double Tidy(double bound) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", bound);
  return std::strtod(buf, nullptr);
}

}  // namespace

// ---- Histogram ----

void Histogram::Observe(double value, uint64_t count) {
  if (count == 0) return;
  // prometheus-cpp counts a NaN into the lowest bucket (every comparison with
  // it is false); we count it only in +Inf, as the text format's `le` implies.
  if (count == 1 && !std::isnan(value)) return native_.Observe(value);
  const size_t bucket = std::isnan(value) ? bounds_.size()
                                          : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                                                bounds_.begin());
  std::vector<double> increments(bounds_.size() + 1, 0.0);
  increments[bucket] = static_cast<double>(count);
  native_.ObserveMultiple(increments, value * static_cast<double>(count));
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  LH_CHECK(start > 0.0);
  LH_CHECK(factor > 1.0);
  LH_CHECK(count >= 1);
  std::vector<double> bounds;
  for (int i = 0; i < count; ++i) bounds.push_back(Tidy(start * std::pow(factor, i)));
  return bounds;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  LH_CHECK(width > 0.0);
  LH_CHECK(count >= 1);
  std::vector<double> bounds;
  for (int i = 0; i < count; ++i) bounds.push_back(Tidy(start + width * i));
  return bounds;
}

// ---- Family<T> ----

template <typename T>
T& Family<T>::WithLabels(std::initializer_list<std::string_view> values) {
  return Series(ToLabels(definition_, native_.GetName(), values));
}

template <typename T>
T& Family<T>::WithLabels(std::span<const std::string> values) {
  return Series(ToLabels(definition_, native_.GetName(), values));
}

template <typename T>
T& Family<T>::Series(prometheus::Labels labels) {
  if constexpr (std::is_same_v<T, Histogram>) {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<Histogram>& series = histograms_[labels];
    if (series == nullptr) {
      series = std::make_unique<Histogram>(native_.Add(labels, definition_.bounds), definition_.bounds);
    }
    return *series;
  } else {
    return native_.Add(labels);  // returns the existing series for equal labels
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- CollectorSink ----

void CollectorSink::AddGauge(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                             double value) {
  AddGauge(name, help, std::span<const Label>(labels.begin(), labels.size()), value);
}
void CollectorSink::AddGauge(std::string_view name, std::string_view help, std::span<const Label> labels,
                             double value) {
  Add(prometheus::MetricType::Gauge, name, help, labels).gauge.value = value;
}
void CollectorSink::AddCounter(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                               double value) {
  AddCounter(name, help, std::span<const Label>(labels.begin(), labels.size()), value);
}
void CollectorSink::AddCounter(std::string_view name, std::string_view help, std::span<const Label> labels,
                               double value) {
  Add(prometheus::MetricType::Counter, name, help, labels).counter.value = value;
}

void CollectorSink::AddHistogram(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                                 const Histogram::Snapshot& snapshot) {
  CheckDefinition(snapshot.cumulative_counts.size() == snapshot.bounds.size() + 1, name,
                  "histogram snapshot needs one cumulative count per bound plus +Inf");
  auto& h = Add(prometheus::MetricType::Histogram, name, help, std::span<const Label>(labels.begin(), labels.size()))
                .histogram;
  h.sample_count = snapshot.count;
  h.sample_sum = snapshot.sum;
  for (size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
    const double bound = i < snapshot.bounds.size() ? snapshot.bounds[i] : std::numeric_limits<double>::infinity();
    h.bucket.push_back({snapshot.cumulative_counts[i], bound});
  }
}

prometheus::ClientMetric& CollectorSink::Add(prometheus::MetricType type, std::string_view name,
                                             std::string_view help, std::span<const Label> labels) {
  auto [it, inserted] = out_->try_emplace(std::string(name));
  prometheus::MetricFamily& family = it->second;
  if (inserted) {
    CheckNameAndHelp(name, help);
    family.name = name;
    family.help = help;
    family.type = type;
  }
  CheckDefinition(family.type == type, name, "emitted with two different types");
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  for (const Label& label : labels) {
    CheckLabelName(name, label.name);
    metric.label.push_back({std::string(label.name), std::string(label.value)});
  }
  return metric;
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

template <typename T>
Family<T>& Registry::Add(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                         std::vector<double> bounds) {
  CheckNameAndHelp(name, help);
  for (size_t i = 0; i < label_names.size(); ++i) {
    CheckLabelName(name, label_names[i]);
    CheckDefinition(std::find(label_names.begin(), label_names.begin() + i, label_names[i]) == label_names.begin() + i,
                    name, absl::StrCat("label name '", label_names[i], "' repeated"));
  }
  internal::Definition definition{internal::Native<T>::type::metric_type, std::string(help), std::move(label_names),
                                  std::move(bounds)};
  absl::MutexLock lock(&families_mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    const internal::Definition& existing = it->second.first;
    CheckDefinition(existing.type == definition.type && existing.help == definition.help &&
                        existing.label_names == definition.label_names && existing.bounds == definition.bounds,
                    name, "registered twice with different type, help, labels or buckets");
    return *static_cast<Family<T>*>(it->second.second.get());
  }
  auto& [stored, family] = families_[std::string(name)];
  stored = std::move(definition);
  auto& native = Build<T>().Name(std::string(name)).Help(stored.help).Register(native_);
  auto* typed = new Family<T>(stored, native);
  family = std::shared_ptr<void>(typed, [](void* p) { delete static_cast<Family<T>*>(p); });
  if (stored.label_names.empty()) typed->WithLabels({});  // an unlabelled series exists from the start
  return *typed;
}

Family<Counter>& Registry::AddCounter(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  return Add<Counter>(name, help, std::move(label_names), {});
}

Family<Gauge>& Registry::AddGauge(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
  return Add<Gauge>(name, help, std::move(label_names), {});
}

Family<Histogram>& Registry::AddHistogram(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names, std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (size_t i = 0; i < bounds.size(); ++i) {
    CheckDefinition(std::isfinite(bounds[i]), name, "histogram bucket bound is not finite");
    CheckDefinition(i == 0 || bounds[i - 1] < bounds[i], name, "histogram bucket bounds are not strictly ascending");
  }
  CheckDefinition(std::find(label_names.begin(), label_names.end(), "le") == label_names.end(), name,
                  "histogram label 'le' is reserved for buckets");
  return Add<Histogram>(name, help, std::move(label_names), std::move(bounds));
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

std::string Registry::RenderText() const {
  std::map<std::string, prometheus::MetricFamily> families;
  for (prometheus::MetricFamily& family : native_.Collect()) families[family.name] = std::move(family);
  {
    absl::MutexLock lock(&collectors_mu_);
    CollectorSink sink(&families);
    for (const auto& [id, collector] : collectors_) collector(sink);
  }
  std::vector<prometheus::MetricFamily> sorted;
  for (auto& [name, family] : families) {
    if (family.metric.empty()) continue;
    std::sort(family.metric.begin(), family.metric.end(),
              [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) { return a.label < b.label; });
    sorted.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(sorted);
}

}  // namespace longhaul::metrics
