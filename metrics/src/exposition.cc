#include "exposition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"

namespace longhaul::metrics::internal {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if invalid
// (truncated, overlong, surrogate, above U+10FFFF).
size_t Utf8SequenceLength(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t min;
  uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

void AppendLabels(std::string* out, const std::vector<std::pair<std::string, std::string>>& labels,
                  const std::string* le) {
  if (labels.empty() && le == nullptr) return;
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out->push_back(',');
    first = false;
    out->append(name).append("=\"");
    AppendEscapedLabelValue(out, value);
    out->push_back('"');
  }
  if (le != nullptr) {
    if (!first) out->push_back(',');
    out->append("le=\"").append(*le).push_back('"');
  }
  out->push_back('}');
}

void AppendSample(std::string* out, std::string_view name, std::string_view suffix,
                  const std::vector<std::pair<std::string, std::string>>& labels, const std::string* le,
                  std::string_view value) {
  out->append(name).append(suffix);
  AppendLabels(out, labels, le);
  out->push_back(' ');
  out->append(value).push_back('\n');
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  if (!IsAsciiLetter(name[0]) && name[0] != '_' && name[0] != ':') return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return IsAsciiLetter(c) || IsDigit(c) || c == '_' || c == ':'; });
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  if (!IsAsciiLetter(name[0]) && name[0] != '_') return false;
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) { return IsAsciiLetter(c) || IsDigit(c) || c == '_'; });
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Integral values print as integers (no "1e+06", no "-0"): what people
  // expect from counters, and exactly representable up to 2^53.
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  LH_CHECK(ec == std::errc());
  return std::string(buf, end);
}

void AppendEscapedHelp(std::string* out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendEscapedLabelValue(std::string* out, std::string_view value) {
  while (!value.empty()) {
    const size_t len = Utf8SequenceLength(value);
    if (len == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD replacement character
      value.remove_prefix(1);
      continue;
    }
    if (len == 1) {
      switch (value[0]) {
        case '\\': out->append("\\\\"); break;
        case '"': out->append("\\\""); break;
        case '\n': out->append("\\n"); break;
        default: out->push_back(value[0]);
      }
    } else {
      out->append(value.substr(0, len));
    }
    value.remove_prefix(len);
  }
}

std::string RenderExposition(Exposition exposition) {
  std::vector<FamilyOut*> families;
  families.reserve(exposition.families.size());
  for (auto& [name, family] : exposition.families) {
    if (!family.series.empty()) families.push_back(&family);
  }
  std::sort(families.begin(), families.end(), [](const FamilyOut* a, const FamilyOut* b) { return a->name < b->name; });

  std::string out;
  for (FamilyOut* family : families) {
    std::stable_sort(family->series.begin(), family->series.end(),
                     [](const SeriesOut& a, const SeriesOut& b) { return a.labels < b.labels; });
    out.append("# HELP ").append(family->name).push_back(' ');
    AppendEscapedHelp(&out, family->help);
    out.append("\n# TYPE ").append(family->name).push_back(' ');
    out.append(TypeName(family->type)).push_back('\n');
    for (const SeriesOut& series : family->series) {
      if (family->type != MetricType::kHistogram) {
        AppendSample(&out, family->name, "", series.labels, nullptr, FormatValue(series.value));
        continue;
      }
      LH_CHECK(series.histogram.has_value());
      const Histogram::Snapshot& h = *series.histogram;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        const std::string le = FormatValue(h.bounds[i]);
        AppendSample(&out, family->name, "_bucket", series.labels, &le, absl::StrCat(h.cumulative_counts[i]));
      }
      const std::string inf = "+Inf";
      AppendSample(&out, family->name, "_bucket", series.labels, &inf, absl::StrCat(h.count));
      AppendSample(&out, family->name, "_sum", series.labels, nullptr, FormatValue(h.sum));
      AppendSample(&out, family->name, "_count", series.labels, nullptr, absl::StrCat(h.count));
    }
  }
  return out;
}

}  // namespace longhaul::metrics::internal
