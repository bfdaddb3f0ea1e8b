// Private to longhaul_metrics: the scrape-time snapshot of every family and
// the Prometheus text format 0.0.4 writer, plus the name rules. Kept apart
// from the registry so the format can be tested on its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "longhaul/metrics/metric.h"
#include "longhaul/metrics/registry.h"

namespace longhaul::metrics::internal {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(std::string_view name);

// A sample value as Prometheus parses it: "NaN", "+Inf", "-Inf", integral
// values below 2^53 without exponent or fraction, otherwise the shortest text
// that round-trips.
std::string FormatValue(double value);
// HELP text: backslash and newline escaped.
void AppendEscapedHelp(std::string* out, std::string_view help);
// Label value: backslash, double quote and newline escaped; invalid UTF-8
// (from Kafka or a config file) replaced by U+FFFD, since Prometheus rejects
// the whole scrape otherwise.
void AppendEscapedLabelValue(std::string* out, std::string_view value);

struct SeriesOut {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0.0;                      // counters and gauges
  std::optional<Histogram::Snapshot> histogram;
};

struct FamilyOut {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<SeriesOut> series;
};

// Everything one scrape will print, keyed by family name.
struct Exposition {
  absl::flat_hash_map<std::string, FamilyOut> families;
};

// Sorts families by name and series by labels, and writes the text.
std::string RenderExposition(Exposition exposition);

}  // namespace longhaul::metrics::internal
