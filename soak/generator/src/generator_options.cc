#include "longhaul/soak/generator_options.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "longhaul/soak/flag_table.h"

namespace longhaul::soak {

const char kGeneratorUsage[] = R"(usage: longhaul-gen --bootstrap HOST:PORT --topic NAME [options]

Writes records with per-partition sequence numbers and a checksum in the value
(layout in soak/README.md) for longhaul-check to verify.

  --bootstrap HOST:PORT       source cluster (required)
  --topic NAME                topic to write (required)
  --partitions N              partitions when creating the topic (default 3)
  --replication-factor N      when creating the topic (default: broker default)
  --topic-config K=V          topic config when creating it (repeatable)
  --no-create                 fail if the topic does not exist
  --property K=V              librdkafka producer property (repeatable)
  --count N                   committed records to write (default 10000)
  --duration D                write for D (30s, 5m, ...) instead of / as well as --count
  --rate N                    records per second over all partitions (default: as fast as possible)
  --min-size N, --max-size N  value size range in bytes (default 50..2000, header is 61)
  --size-distribution uniform|log-uniform
  --large-ratio R             share of values of --large-size bytes (default 0)
  --large-size N              default 900000 (fits the 1 MB default limits)
  --null-key-ratio R          default 0.1; --empty-key-ratio R default 0.1; others random bytes
  --max-key-size N            default 64
  --no-headers-ratio R        default 0.25; --max-headers N default 4
  --null-header-value-ratio R default 0.2
  --tombstone-ratio R         null values (default 0)
  --old-timestamps            mix in create times 1 h to 6 days old (30 %)
  --old-timestamp-ratio R     share of old create times
  --transactional             write in transactions
  --transaction-size N        records per transaction (default 100)
  --abort-ratio R             share of transactions aborted (default 0)
  --transactional-id ID       default longhaul-gen-<topic>-<run id>
  --seed N                    content seed (default: random, printed)
  --run-id HEX                8 hex digits identifying this run (default: random)
  --progress-interval D       progress on stderr (default 5s)
  --timeout D                 hard bound on the run (default: duration + 2m, or 10m)

Exit status: 0 all records delivered; 1 a delivery, transaction or timeout
error (the partition is named); 2 usage or connection error.
)";

absl::StatusOr<GeneratorOptions> ParseGeneratorOptions(const std::vector<std::string>& args) {
  GeneratorOptions o;
  RecordMix& mix = o.mix;
  int64_t count = -1;
  absl::Duration duration = absl::ZeroDuration();
  bool duration_set = false;

  FlagTable flags;
  flags.Switch("--help", [&] { o.help = true; });
  flags.Switch("-h", [&] { o.help = true; });
  flags.Value("--bootstrap", StringInto(&o.bootstrap));
  flags.Value("--topic", StringInto(&o.topic));
  flags.Value("--partitions", IntInto(&o.partitions, 1));
  flags.Value("--replication-factor", IntInto(&o.replication_factor, -1));
  flags.Value("--topic-config", KeyValueInto(&o.topic_configs));
  flags.Switch("--no-create", [&] { o.create_topic = false; });
  flags.Value("--property", KeyValueInto(&o.properties));
  flags.Value("--count", IntInto(&count, 0));
  flags.Value("--duration", [&](absl::string_view flag, absl::string_view value) {
    duration_set = true;
    return DurationInto(&duration)(flag, value);
  });
  flags.Value("--rate", [&](absl::string_view flag, absl::string_view value) -> absl::Status {
    if (!absl::SimpleAtod(value, &o.rate) || !(o.rate >= 0))
      return absl::InvalidArgumentError(absl::StrCat(flag, ": '", value, "' is not a rate >= 0 (records/s)"));
    return absl::OkStatus();
  });
  flags.Value("--min-size", IntInto(&mix.min_value_size, 0));
  flags.Value("--max-size", IntInto(&mix.max_value_size, 0));
  flags.Value("--size-distribution", [&](absl::string_view flag, absl::string_view value) -> absl::Status {
    if (value == "uniform") mix.size_distribution = SizeDistribution::kUniform;
    else if (value == "log-uniform") mix.size_distribution = SizeDistribution::kLogUniform;
    else return absl::InvalidArgumentError(absl::StrCat(flag, ": '", value, "' is not uniform or log-uniform"));
    return absl::OkStatus();
  });
  flags.Value("--large-ratio", RatioInto(&mix.large_value_ratio));
  flags.Value("--large-size", IntInto(&mix.large_value_size, 0));
  flags.Value("--null-key-ratio", RatioInto(&mix.null_key_ratio));
  flags.Value("--empty-key-ratio", RatioInto(&mix.empty_key_ratio));
  flags.Value("--max-key-size", IntInto(&mix.max_key_size, 1));
  flags.Value("--no-headers-ratio", RatioInto(&mix.no_headers_ratio));
  flags.Value("--max-headers", IntInto(&mix.max_headers, 1));
  flags.Value("--null-header-value-ratio", RatioInto(&mix.null_header_value_ratio));
  flags.Value("--tombstone-ratio", RatioInto(&mix.tombstone_ratio));
  flags.Switch("--old-timestamps", [&] { mix.old_timestamp_ratio = 0.3; });
  flags.Value("--old-timestamp-ratio", RatioInto(&mix.old_timestamp_ratio));
  flags.Switch("--transactional", [&] { o.transactional = true; });
  flags.Value("--transaction-size", IntInto(&o.transaction_size, 1));
  flags.Value("--abort-ratio", RatioInto(&o.abort_ratio));
  flags.Value("--transactional-id", StringInto(&o.transactional_id));
  flags.Value("--seed", [&](absl::string_view flag, absl::string_view value) -> absl::Status {
    uint64_t seed;
    if (!absl::SimpleAtoi(value, &seed))
      return absl::InvalidArgumentError(absl::StrCat(flag, ": '", value, "' is not an unsigned integer"));
    o.seed = seed;
    return absl::OkStatus();
  });
  flags.Value("--run-id", [&](absl::string_view flag, absl::string_view value) -> absl::Status {
    uint32_t run;
    if (value.empty() || value.size() > 8 || !absl::SimpleHexAtoi(value, &run))
      return absl::InvalidArgumentError(absl::StrCat(flag, ": '", value, "' is not 1 to 8 hex digits"));
    o.run_id = run;
    return absl::OkStatus();
  });
  flags.Value("--progress-interval", DurationInto(&o.progress_interval));
  flags.Value("--timeout", DurationInto(&o.timeout));

  if (absl::Status s = flags.Parse(args); !s.ok()) return s;
  if (o.help) return o;
  if (count >= 0) o.count = count;
  if (duration_set) o.duration = duration;
  if (o.bootstrap.empty()) return absl::InvalidArgumentError("--bootstrap is required");
  if (o.topic.empty()) return absl::InvalidArgumentError("--topic is required");
  if (!o.count && !o.duration) o.count = 10000;
  if (o.mix.max_value_size < o.mix.min_value_size)
    return absl::InvalidArgumentError(
        absl::StrCat("--max-size ", o.mix.max_value_size, " is below --min-size ", o.mix.min_value_size));
  if (o.abort_ratio > 0 && !o.transactional) return absl::InvalidArgumentError("--abort-ratio needs --transactional");
  if (o.abort_ratio >= 1) return absl::InvalidArgumentError("--abort-ratio must be below 1, or nothing commits");
  if (o.progress_interval <= absl::ZeroDuration()) return absl::InvalidArgumentError("--progress-interval must be > 0");
  return o;
}

absl::Duration EffectiveTimeout(const GeneratorOptions& options) {
  if (options.timeout > absl::ZeroDuration()) return options.timeout;
  if (options.duration) return *options.duration + absl::Minutes(2);
  return absl::Minutes(10);
}

}  // namespace longhaul::soak
