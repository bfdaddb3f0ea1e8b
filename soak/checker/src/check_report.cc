#include "longhaul/soak/check_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "longhaul/base/logging.h"

namespace longhaul::soak {
namespace {

constexpr const char* kRowFormat = "%9s %10s %10s %10s %8s %10s %12s %9s %7s  %s\n";

std::string Row(const std::string& label, const PartitionReport& r, const std::string& verdict) {
  return absl::StrFormat("%9s %10d %10d %10d %8d %10d %12d %9d %7d  %s\n", label, r.expected, r.found, r.ok,
                         r.missing, r.duplicated, r.out_of_order, r.corrupted, r.extra, verdict);
}

std::string Verdict(const PartitionReport& r) {
  std::string v = r.Passed() ? "ok" : "FAIL";
  if (r.source_invalid > 0) absl::StrAppend(&v, " (", r.source_invalid, " invalid in source)");
  return v;
}

void Json(std::string* out, std::string_view text) {
  out->push_back('"');
  AppendJsonEscaped(out, text);
  out->push_back('"');
}

void JsonCounts(std::string* out, const PartitionReport& r) {
  absl::StrAppend(out, "\"expected\":", r.expected, ",\"found\":", r.found, ",\"ok\":", r.ok, ",\"missing\":",
                  r.missing, ",\"duplicated\":", r.duplicated, ",\"out_of_order\":", r.out_of_order,
                  ",\"corrupted\":", r.corrupted, ",\"extra\":", r.extra, ",\"source_invalid\":", r.source_invalid,
                  ",\"passed\":", r.Passed() ? "true" : "false");
}

}  // namespace

const char* CheckModeName(CheckMode mode) {
  return mode == CheckMode::kExactlyOnce ? "exactly-once" : "at-least-once";
}

PartitionReport CheckReport::Totals() const {
  PartitionReport totals;
  totals.mode = mode;
  for (const TopicPairReport& topic : topics)
    for (const PartitionReport& p : topic.partitions) totals += p;
  return totals;
}

bool CheckReport::Passed() const { return Totals().Passed(); }

std::string FormatTable(const CheckReport& report) {
  std::string out;
  for (const TopicPairReport& topic : report.topics) {
    absl::StrAppend(&out, topic.source_topic, " -> ", topic.target_topic, " (", CheckModeName(report.mode), ")\n");
    for (const std::string& note : topic.notes) absl::StrAppend(&out, "  note: ", note, "\n");
    absl::StrAppend(&out, absl::StrFormat(kRowFormat, "partition", "expected", "found", "ok", "missing",
                                          "duplicated", "out-of-order", "corrupted", "extra", ""));
    PartitionReport sum;
    sum.mode = report.mode;
    for (const PartitionReport& p : topic.partitions) {
      absl::StrAppend(&out, Row(absl::StrCat(p.partition), p, Verdict(p)));
      sum += p;
    }
    if (topic.partitions.size() > 1) absl::StrAppend(&out, Row("all", sum, Verdict(sum)));
    for (const PartitionReport& p : topic.partitions) {
      for (const Finding& f : p.examples) {
        absl::StrAppend(&out, "  ", topic.target_topic, "[", p.partition, "] ", FindingKindName(f.kind), ":");
        if (f.source_offset >= 0) absl::StrAppend(&out, " source offset ", f.source_offset);
        if (f.target_offset >= 0) absl::StrAppend(&out, " target offset ", f.target_offset);
        absl::StrAppend(&out, ": ", f.detail, "\n");
      }
    }
  }
  PartitionReport t = report.Totals();
  absl::StrAppend(&out, absl::StrFormat(
                            "TOTAL %s %s: expected %d, found %d, ok %d, missing %d, duplicated %d, out of order %d, "
                            "corrupted %d, extra %d\n",
                            report.Passed() ? "PASS" : "FAIL", CheckModeName(report.mode), t.expected, t.found, t.ok,
                            t.missing, t.duplicated, t.out_of_order, t.corrupted, t.extra));
  return out;
}

std::string FormatJson(const CheckReport& report) {
  std::string out = "{\"mode\":";
  Json(&out, CheckModeName(report.mode));
  absl::StrAppend(&out, ",\"passed\":", report.Passed() ? "true" : "false", ",\"topics\":[");
  for (size_t i = 0; i < report.topics.size(); ++i) {
    const TopicPairReport& topic = report.topics[i];
    if (i > 0) out.push_back(',');
    out += "{\"source_topic\":";
    Json(&out, topic.source_topic);
    out += ",\"target_topic\":";
    Json(&out, topic.target_topic);
    out += ",\"notes\":[";
    for (size_t n = 0; n < topic.notes.size(); ++n) {
      if (n > 0) out.push_back(',');
      Json(&out, topic.notes[n]);
    }
    out += "],\"partitions\":[";
    for (size_t k = 0; k < topic.partitions.size(); ++k) {
      const PartitionReport& p = topic.partitions[k];
      if (k > 0) out.push_back(',');
      absl::StrAppend(&out, "{\"partition\":", p.partition, ",");
      JsonCounts(&out, p);
      out += ",\"examples\":[";
      for (size_t e = 0; e < p.examples.size(); ++e) {
        const Finding& f = p.examples[e];
        if (e > 0) out.push_back(',');
        out += "{\"kind\":";
        Json(&out, FindingKindName(f.kind));
        absl::StrAppend(&out, ",\"source_offset\":", f.source_offset, ",\"target_offset\":", f.target_offset,
                        ",\"detail\":");
        Json(&out, f.detail);
        out.push_back('}');
      }
      out += "]}";
    }
    out += "]}";
  }
  out += "],\"totals\":{";
  JsonCounts(&out, report.Totals());
  out += "}}\n";
  return out;
}

std::string FormatProgress(const CheckReport& report) {
  PartitionReport t = report.Totals();
  return absl::StrFormat(
      "%d/%d source records found intact in the target (found %d: missing %d, duplicated %d, out of order %d, "
      "corrupted %d, extra %d)",
      t.ok, t.expected, t.found, t.missing, t.duplicated, t.out_of_order, t.corrupted, t.extra);
}

}  // namespace longhaul::soak
