#include "longhaul/soak/check_options.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "longhaul/soak/flag_table.h"

namespace longhaul::soak {

const char kCheckUsage[] = R"(usage: longhaul-check --source-bootstrap HOST:PORT [--target-bootstrap HOST:PORT]
                      --source-topic NAME [--target-topic NAME] ... [options]

Reads the source and target topics (read_committed, from the beginning to the
end offsets) and compares partition p of the source with partition p of the
target record by record: key, value, headers and timestamp.

  --source-bootstrap HOST:PORT  source cluster (required)
  --target-bootstrap HOST:PORT  target cluster (default: the source cluster)
  --source-topic NAME           repeatable; pairs in order with --target-topic
  --target-topic NAME           repeatable (default: the source topic's name)
  --topic-map SRC=DST           repeatable; another way to give a pair
  --mode exactly-once|at-least-once
                                at-least-once tolerates duplicates (default exactly-once)
  --wait-until-complete D       re-read the target until nothing is missing or D
                                has passed (30s, 10m, ...), printing progress
  --timeout D                   bound on reaching the end offsets of one read (default 2m)
  --progress-interval D         default 5s
  --max-examples N              examples listed per kind and partition (default 5)
  --json                        print the report as JSON instead of tables
  --property K=V                librdkafka consumer property for both clusters (repeatable)
  --source-property K=V, --target-property K=V   for one cluster

Exit status: 0 no loss, corruption, reordering, unknown record or (in
exactly-once mode) duplicate; 1 violations; 2 usage or connection error.
)";

absl::StatusOr<CheckOptions> ParseCheckOptions(const std::vector<std::string>& args) {
  CheckOptions o;
  std::vector<std::string> sources, targets;
  std::vector<std::pair<std::string, std::string>> maps, both;
  int64_t max_examples = static_cast<int64_t>(o.max_examples);

  FlagTable flags;
  flags.Switch("--help", [&] { o.help = true; });
  flags.Switch("-h", [&] { o.help = true; });
  flags.Value("--source-bootstrap", StringInto(&o.source_bootstrap));
  flags.Value("--target-bootstrap", StringInto(&o.target_bootstrap));
  flags.Value("--source-topic", [&](absl::string_view, absl::string_view v) {
    sources.emplace_back(v);
    return absl::OkStatus();
  });
  flags.Value("--target-topic", [&](absl::string_view, absl::string_view v) {
    targets.emplace_back(v);
    return absl::OkStatus();
  });
  flags.Value("--topic-map", KeyValueInto(&maps));
  flags.Value("--mode", [&](absl::string_view flag, absl::string_view v) -> absl::Status {
    if (v == "exactly-once") o.mode = CheckMode::kExactlyOnce;
    else if (v == "at-least-once") o.mode = CheckMode::kAtLeastOnce;
    else return absl::InvalidArgumentError(absl::StrCat(flag, ": '", v, "' is not exactly-once or at-least-once"));
    return absl::OkStatus();
  });
  flags.Value("--wait-until-complete", DurationInto(&o.wait_until_complete));
  flags.Value("--timeout", DurationInto(&o.read_timeout));
  flags.Value("--progress-interval", DurationInto(&o.progress_interval));
  flags.Value("--max-examples", IntInto(&max_examples, 0));
  flags.Switch("--json", [&] { o.json = true; });
  flags.Value("--property", KeyValueInto(&both));
  flags.Value("--source-property", KeyValueInto(&o.source_properties));
  flags.Value("--target-property", KeyValueInto(&o.target_properties));

  if (absl::Status s = flags.Parse(args); !s.ok()) return s;
  if (o.help) return o;
  o.max_examples = static_cast<size_t>(max_examples);
  if (o.source_bootstrap.empty()) return absl::InvalidArgumentError("--source-bootstrap is required");
  if (o.target_bootstrap.empty()) o.target_bootstrap = o.source_bootstrap;
  if (targets.size() > sources.size())
    return absl::InvalidArgumentError(absl::StrCat("--target-topic given ", targets.size(), " times but --source-topic ",
                                                   sources.size(), " times; they pair up in order"));
  for (size_t i = 0; i < sources.size(); ++i) o.topics.push_back({sources[i], i < targets.size() ? targets[i] : sources[i]});
  for (auto& [source, target] : maps) o.topics.push_back({source, target});
  if (o.topics.empty()) return absl::InvalidArgumentError("give at least one --source-topic or --topic-map");
  for (const TopicPair& pair : o.topics)
    if (pair.source.empty() || pair.target.empty()) return absl::InvalidArgumentError("topic names must not be empty");
  if (o.source_bootstrap == o.target_bootstrap)
    for (const TopicPair& pair : o.topics)
      if (pair.source == pair.target)
        return absl::InvalidArgumentError(
            absl::StrCat("topic ", pair.source, " would be compared with itself on the same cluster"));
  if (o.read_timeout <= absl::ZeroDuration()) return absl::InvalidArgumentError("--timeout must be > 0");
  if (o.progress_interval <= absl::ZeroDuration()) return absl::InvalidArgumentError("--progress-interval must be > 0");
  // Both-cluster properties go first so a per-cluster one overrides them.
  o.source_properties.insert(o.source_properties.begin(), both.begin(), both.end());
  o.target_properties.insert(o.target_properties.begin(), both.begin(), both.end());
  return o;
}

}  // namespace longhaul::soak
