#include "status_command.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli_options.h"
#include "command_help.h"
#include "longhaul/base/logging.h"
#include "longhaul/config/config.h"

namespace longhaul::gateway {
namespace {

int Usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "longhaul status: %s\n\n", error.c_str());
  std::fputs(CommandHelpText(*FindCommand("status")).c_str(), stderr);
  return 2;
}

void AppendString(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendJsonEscaped(out, s);
  out->push_back('"');
}

std::string TimeText(int64_t ms) {
  if (ms < 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string AgeText(int64_t ms, int64_t now_ms) {
  if (ms < 0) return "-";
  int64_t s = std::max<int64_t>(0, (now_ms - ms) / 1000);
  if (s < 120) return absl::StrCat(s, "s");
  if (s < 7200) return absl::StrCat(s / 60, "m");
  if (s < 172800) return absl::StrCat(s / 3600, "h");
  return absl::StrCat(s / 86400, "d");
}

std::string Number(int64_t v) { return v < 0 ? "-" : absl::StrCat(v); }


}  // namespace

std::string LaneReportsText(const std::vector<mirror::PipelineLaneReport>& reports, int64_t now_ms) {
  std::string out;
  for (const auto& r : reports) {
    if (!out.empty()) out += "\n";
    int owned = 0;
    for (const auto& l : r.lane_status) owned += l.owned;
    absl::StrAppend(&out, "pipeline ", r.pipeline, ": ", r.source_cluster, " -> ", r.target_cluster,
                    r.via.empty() ? "" : absl::StrCat(" via ", r.via), ", ", owned, "/", r.lanes,
                    " lanes owned by ", r.members, " workers; lane group ", r.lane_group, " (", r.group_state,
                    ")\n");
    std::vector<std::vector<std::string>> lanes = {{"LANE", "OWNER", "HOST", "LAST CHECKPOINT", "AGE", "PARTITIONS",
                                                    "LAG"}};
    for (const auto& l : r.lane_status) {
      lanes.push_back({absl::StrCat(l.lane), l.owned ? l.owner.member_id : "(no owner)", l.owned ? l.owner.host : "-",
                       TimeText(l.last_checkpoint_ms), AgeText(l.last_checkpoint_ms, now_ms),
                       absl::StrCat(l.partitions.size()), absl::StrCat(l.lag_records)});
    }
    out += FormatTable(lanes);
    std::vector<std::vector<std::string>> parts = {
        {"PARTITION", "LANE", "CHECKPOINT OFFSET", "SOURCE END", "LAG", "LAST CHECKPOINT"}};
    for (const auto& l : r.lane_status) {
      for (const auto& p : l.partitions) {
        parts.push_back({p.source.ToString(), absl::StrCat(p.lane),
                         p.checkpointed ? Number(p.next_source_offset) : "(none)", Number(p.source_end_offset),
                         Number(p.lag_records), TimeText(p.commit_time_ms)});
      }
    }
    std::sort(parts.begin() + 1, parts.end());
    if (parts.size() > 1) {
      out += "\n";
      out += FormatTable(parts);
    }
    for (const auto& w : r.warnings) absl::StrAppend(&out, "warning: ", w, "\n");
  }
  return out;
}

std::string LaneReportsJson(const std::vector<mirror::PipelineLaneReport>& reports, int64_t now_ms) {
  std::string out = "{\"time_ms\":";
  absl::StrAppend(&out, now_ms, ",\"pipelines\":[");
  for (size_t i = 0; i < reports.size(); ++i) {
    const auto& r = reports[i];
    if (i) out += ",";
    out += "{\"name\":";
    AppendString(&out, r.pipeline);
    out += ",\"source\":";
    AppendString(&out, r.source_cluster);
    out += ",\"target\":";
    AppendString(&out, r.target_cluster);
    out += ",\"via\":";
    AppendString(&out, r.via);
    out += ",\"lane_group\":";
    AppendString(&out, r.lane_group);
    out += ",\"group_state\":";
    AppendString(&out, r.group_state);
    absl::StrAppend(&out, ",\"lanes_total\":", r.lanes, ",\"members\":", r.members, ",\"lanes\":[");
    for (size_t l = 0; l < r.lane_status.size(); ++l) {
      const auto& ls = r.lane_status[l];
      if (l) out += ",";
      absl::StrAppend(&out, "{\"lane\":", ls.lane, ",\"owner\":");
      if (ls.owned) {
        out += "{\"member_id\":";
        AppendString(&out, ls.owner.member_id);
        out += ",\"client_id\":";
        AppendString(&out, ls.owner.client_id);
        out += ",\"host\":";
        AppendString(&out, ls.owner.host);
        out += "}";
      } else {
        out += "null";
      }
      absl::StrAppend(&out, ",\"last_checkpoint_ms\":", ls.last_checkpoint_ms, ",\"lag_records\":", ls.lag_records,
                      ",\"partitions\":[");
      for (size_t p = 0; p < ls.partitions.size(); ++p) {
        const auto& ps = ls.partitions[p];
        if (p) out += ",";
        out += "{\"topic\":";
        AppendString(&out, ps.source.topic);
        absl::StrAppend(&out, ",\"partition\":", ps.source.partition, ",\"checkpointed\":",
                        ps.checkpointed ? "true" : "false", ",\"next_source_offset\":", ps.next_source_offset,
                        ",\"source_end_offset\":", ps.source_end_offset, ",\"lag_records\":", ps.lag_records,
                        ",\"commit_time_ms\":", ps.commit_time_ms, "}");
      }
      out += "]}";
    }
    out += "],\"warnings\":[";
    for (size_t w = 0; w < r.warnings.size(); ++w) {
      if (w) out += ",";
      AppendString(&out, r.warnings[w]);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

int StatusCommand(const std::vector<std::string>& args) {
  std::string config_file, pipeline;
  bool json = false;
  SetLogLevel(LogLevel::kWarn);  // the report is the output; librdkafka chatter is not
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string log_error;
    if (LogOptionResult r = ApplyLogOption(args, &i, &log_error); r != LogOptionResult::kNotALogOption) {
      if (r == LogOptionResult::kError) return Usage(log_error);
      continue;
    }
    if (IsOption(a, "--config", "-c")) {
      if (!OptionValue(args, &i, &config_file)) return Usage("missing value for " + a);
    } else if (IsOption(a, "--pipeline")) {
      if (!OptionValue(args, &i, &pipeline)) return Usage("missing value for --pipeline");
    } else if (a == "--json") {
      json = true;
    } else {
      return Usage("unknown option '" + a + "'");
    }
  }
  if (config_file.empty()) return Usage("'status' needs -c FILE");
  auto config = config::LoadConfigFile(config_file);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> names;
  if (!pipeline.empty()) {
    names.push_back(pipeline);
  } else {
    for (const auto& [name, _] : config->pipelines) names.push_back(name);
  }
  std::vector<mirror::PipelineLaneReport> reports;
  for (const auto& name : names) {
    auto report = mirror::ReadPipelineLaneStatus(*config, name);
    if (!report.ok()) {
      std::fprintf(stderr, "longhaul status: pipeline '%s': %s\n", name.c_str(),
                   std::string(report.status().message()).c_str());
      return 1;
    }
    reports.push_back(std::move(*report));
  }
  int64_t now_ms = absl::ToUnixMillis(absl::Now());
  std::string text = json ? LaneReportsJson(reports, now_ms) + "\n" : LaneReportsText(reports, now_ms);
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace longhaul::gateway
