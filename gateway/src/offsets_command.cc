#include "offsets_command.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "longhaul/base/logging.h"
#include "longhaul/config/config.h"
#include "longhaul/mirror/offset_translation.h"
#include "cli_options.h"
#include "command_help.h"
#include "translation_json.h"

namespace longhaul::gateway {
namespace {

struct Options {
  std::string subcommand;
  std::string config_file;
  std::string pipeline;
  std::string group;
  bool json = false;
  bool allow_rewind = false;
};

int Usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "longhaul offsets: %s\n\n", error.c_str());
  std::fputs(CommandHelpText(*FindCommand("offsets translate")).c_str(), stderr);
  std::fputs("\n", stderr);
  std::fputs(CommandHelpText(*FindCommand("offsets failover")).c_str(), stderr);
  return 2;
}

std::string Offset(int64_t o) { return o < 0 ? "-" : std::to_string(o); }


int Translate(const config::Config& config, const Options& opts) {
  auto result = mirror::TranslateGroupOffsets(config, opts.pipeline, opts.group);
  if (!result.ok()) {
    std::fprintf(stderr, "longhaul offsets translate: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  if (opts.json) {
    std::printf("%s\n", GroupTranslationJson(opts.pipeline, opts.group, *result).c_str());
    return 0;
  }
  if (result->partitions.empty()) {
    std::printf("group '%s' has no committed offsets for topics of pipeline '%s'\n", opts.group.c_str(),
                opts.pipeline.c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"SOURCE TOPIC", "PARTITION", "SOURCE OFFSET", "TARGET TOPIC", "TARGET OFFSET", "STATUS"}};
  for (const auto& t : result->partitions) {
    rows.push_back({t.source_topic, std::to_string(t.partition), Offset(t.source_offset), t.target_topic,
                    Offset(t.target_offset), std::string(mirror::TranslationStatusName(t.status))});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);
  for (const auto& t : result->partitions) {
    if (!t.detail.empty()) std::printf("%s[%d]: %s\n", t.source_topic.c_str(), t.partition, t.detail.c_str());
  }
  return 0;
}

int Failover(const config::Config& config, const Options& opts) {
  auto report = mirror::SyncGroupOffsets(config, opts.pipeline, opts.group, {.allow_rewind = opts.allow_rewind});
  if (!report.ok()) {
    std::fprintf(stderr, "longhaul offsets failover: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  const bool complete = report->complete();
  if (opts.json) {
    std::string out = absl::StrCat("{\"pipeline\":", JsonString(opts.pipeline), ",\"group\":", JsonString(opts.group),
                                   ",\"target_state\":", JsonString(report->target_state),
                                   ",\"target_members\":", report->target_members,
                                   ",\"complete\":", complete ? "true" : "false", ",\"partitions\":[");
    for (size_t i = 0; i < report->partitions.size(); ++i) {
      const auto& p = report->partitions[i];
      out += i ? ",{" : "{";
      AppendTranslationJson(&out, p.translation);
      absl::StrAppend(&out, ",\"old_target_offset\":", p.old_target_offset,
                      ",\"new_target_offset\":", p.new_target_offset,
                      ",\"action\":", JsonString(mirror::SyncActionName(p.action)),
                      ",\"detail\":", JsonString(p.detail), "}");
    }
    out += "]}";
    std::printf("%s\n", out.c_str());
    return complete ? 0 : 3;
  }
  std::printf("group '%s' on the target: %s, %d member(s)\n", opts.group.c_str(), report->target_state.c_str(),
              report->target_members);
  if (report->partitions.empty()) {
    std::printf("group '%s' has no committed offsets for topics of pipeline '%s': nothing to do\n",
                opts.group.c_str(), opts.pipeline.c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"SOURCE TOPIC", "PARTITION", "SOURCE OFFSET", "TARGET TOPIC",
                                                 "OLD TARGET OFFSET", "NEW TARGET OFFSET", "ACTION"}};
  for (const auto& p : report->partitions) {
    const auto& t = p.translation;
    rows.push_back({t.source_topic, std::to_string(t.partition), Offset(t.source_offset), t.target_topic,
                    Offset(p.old_target_offset), Offset(p.new_target_offset),
                    std::string(mirror::SyncActionName(p.action))});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);
  for (const auto& p : report->partitions) {
    if (!p.detail.empty()) {
      std::printf("%s[%d]: %s\n", p.translation.source_topic.c_str(), p.translation.partition, p.detail.c_str());
    }
  }
  std::printf("%s\n", complete ? "every partition is at its exact target offset"
                               : "not every partition is at its exact target offset (see above)");
  return complete ? 0 : 3;
}

}  // namespace

int OffsetsCommand(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("");
  Options opts;
  opts.subcommand = args[0];
  if (opts.subcommand == "-h" || opts.subcommand == "--help" || opts.subcommand == "help") return Usage("");
  if (opts.subcommand != "translate" && opts.subcommand != "failover") {
    return Usage("unknown subcommand '" + opts.subcommand + "' (expected translate or failover)");
  }
  SetLogLevel(LogLevel::kWarn);  // the output is the answer; logs only for trouble
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) { return OptionValue(args, &i, out); };
    auto is = [&](const char* name) { return IsOption(a, name); };
    std::string log_error;
    if (LogOptionResult r = ApplyLogOption(args, &i, &log_error); r != LogOptionResult::kNotALogOption) {
      if (r == LogOptionResult::kError) return Usage(log_error);
      continue;
    }
    if (a == "-c" || is("--config")) {
      if (!value(&opts.config_file)) return Usage("missing value for " + a);
    } else if (is("--pipeline")) {
      if (!value(&opts.pipeline)) return Usage("missing value for --pipeline");
    } else if (is("--group")) {
      if (!value(&opts.group)) return Usage("missing value for --group");
    } else if (a == "--json") {
      opts.json = true;
    } else if (a == "--allow-rewind" && opts.subcommand == "failover") {
      opts.allow_rewind = true;
    } else {
      return Usage("unknown option '" + a + "' for 'offsets " + opts.subcommand + "'");
    }
  }
  if (opts.config_file.empty()) return Usage("'offsets " + opts.subcommand + "' needs -c FILE");
  if (opts.pipeline.empty()) return Usage("'offsets " + opts.subcommand + "' needs --pipeline P");
  if (opts.group.empty()) return Usage("'offsets " + opts.subcommand + "' needs --group G");

  auto config = config::LoadConfigFile(opts.config_file);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  if (!config->pipelines.count(opts.pipeline)) {
    std::string known;
    for (const auto& [name, _] : config->pipelines) absl::StrAppend(&known, known.empty() ? "" : ", ", name);
    std::fprintf(stderr, "longhaul offsets %s: no pipeline named '%s' in %s (pipelines: %s)\n",
                 opts.subcommand.c_str(), opts.pipeline.c_str(), opts.config_file.c_str(), known.c_str());
    return 1;
  }
  return opts.subcommand == "translate" ? Translate(*config, opts) : Failover(*config, opts);
}

}  // namespace longhaul::gateway
