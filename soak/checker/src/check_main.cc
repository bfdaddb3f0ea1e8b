// longhaul-check: compares a source topic with its mirror, record by record,
// and says whether the mirror is exactly-once (or at-least-once). See
// soak/README.md.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "longhaul/soak/check_options.h"
#include "longhaul/soak/check_report.h"
#include "longhaul/soak/compare.h"
#include "rdkafka_topic_reader.h"

namespace longhaul::soak {
namespace {

constexpr int kExitPass = 0, kExitViolations = 1, kExitError = 2;

int Error(const absl::Status& status) {
  std::fprintf(stderr, "longhaul-check: error: %s\n", std::string(status.message()).c_str());
  return kExitError;
}

std::string Stuck(const RdKafkaTopicReader& reader, const std::string& topic, const std::vector<int64_t>& ends) {
  std::string out;
  for (size_t p = 0; p < ends.size() && p < reader.positions().size(); ++p) {
    if (ends[p] > 0 && reader.positions()[p] < ends[p])
      absl::StrAppend(&out, out.empty() ? "" : ", ", topic, "[", p, "] at ", std::max<int64_t>(reader.positions()[p], 0),
                      " of ", ends[p]);
  }
  return out;
}

// Reads the committed source once, up to its end offsets when we start.
absl::Status ReadSource(const CheckOptions& o, RdKafkaTopicReader& reader, const TopicPair& pair,
                        TopicComparison& comparison) {
  absl::StatusOr<int32_t> partitions = reader.PartitionCount(pair.source, o.read_timeout);
  if (!partitions.ok()) return partitions.status();
  absl::StatusOr<std::vector<int64_t>> ends = reader.EndOffsets(pair.source, *partitions, o.read_timeout);
  if (!ends.ok()) return ends.status();
  if (absl::Status s = reader.Assign(pair.source, *partitions); !s.ok()) return s;
  comparison.DeclarePartitions(*partitions);
  for (int32_t p = 0; p < *partitions; ++p) comparison.ReserveSource(p, static_cast<size_t>((*ends)[p]));
  absl::StatusOr<bool> reached =
      reader.ReadTo(*ends, absl::Now() + o.read_timeout, /*stop_at_end=*/true,
                    [&](int32_t p, const RecordView& r) { comparison.AddSource(p, Summarize(r)); });
  if (!reached.ok()) return reached.status();
  if (absl::Status s = reader.Unassign(); !s.ok()) return s;  // frees its fetch buffers
  if (!*reached)
    return absl::DeadlineExceededError(
        absl::StrCat("source not read to its end offsets within ", absl::FormatDuration(o.read_timeout), ": ",
                     Stuck(reader, pair.source, *ends), " (an open transaction holds read_committed back?)"));
  return absl::OkStatus();
}

bool NothingMissing(const std::vector<PartitionReport>& reports) {
  for (const PartitionReport& r : reports)
    if (r.missing > 0) return false;
  return true;
}

// Reads the target and compares; with --wait-until-complete, keeps reading
// until nothing is missing or the wait is over.
absl::StatusOr<TopicPairReport> CheckPair(const CheckOptions& o, RdKafkaTopicReader& source,
                                          RdKafkaTopicReader& target, const TopicPair& pair) {
  TopicPairReport result{pair.source, pair.target, {}, {}};
  TopicComparison comparison;
  if (absl::Status s = ReadSource(o, source, pair, comparison); !s.ok()) return s;
  const int32_t source_partitions = static_cast<int32_t>(source.positions().size());
  const bool waiting = o.wait_until_complete > absl::ZeroDuration();
  const absl::Time wait_deadline = absl::Now() + o.wait_until_complete;
  CompareOptions compare_options{o.max_examples};

  absl::StatusOr<int32_t> target_partitions = target.PartitionCount(pair.target, o.read_timeout);
  // While waiting, a target that is not there yet or restarting is expected.
  while (waiting && (absl::IsNotFound(target_partitions.status()) || absl::IsUnavailable(target_partitions.status())) &&
         absl::Now() < wait_deadline) {
    std::fprintf(stderr, "longhaul-check: waiting for target topic %s: %s\n", pair.target.c_str(),
                 std::string(target_partitions.status().message()).c_str());
    absl::SleepFor(std::min(o.progress_interval, wait_deadline - absl::Now()));
    target_partitions = target.PartitionCount(pair.target, o.read_timeout);
  }
  if (absl::IsNotFound(target_partitions.status())) {
    result.notes.push_back(absl::StrCat("target topic ", pair.target, " does not exist"));
    target_partitions = 0;
  }
  if (!target_partitions.ok()) return target_partitions.status();
  if (*target_partitions != source_partitions)
    result.notes.push_back(absl::StrCat("source has ", source_partitions, " partitions, target ", *target_partitions));
  if (absl::Status s = target.Assign(pair.target, *target_partitions); !s.ok()) return s;
  comparison.DeclarePartitions(*target_partitions);

  auto add_target = [&](int32_t p, const RecordView& r) { comparison.AddTarget(p, Summarize(r)); };
  while (true) {
    absl::StatusOr<std::vector<int64_t>> ends = target.EndOffsets(pair.target, *target_partitions, o.read_timeout);
    if (waiting && absl::IsUnavailable(ends.status()) && absl::Now() < wait_deadline) {
      std::fprintf(stderr, "longhaul-check: %s (retrying)\n", std::string(ends.status().message()).c_str());
      absl::SleepFor(std::min(o.progress_interval, wait_deadline - absl::Now()));
      continue;
    }
    if (!ends.ok()) return ends.status();
    const absl::Time round_end = waiting ? std::min(wait_deadline, absl::Now() + o.progress_interval)
                                         : absl::Now() + o.read_timeout;
    for (int32_t p = 0; p < *target_partitions; ++p) comparison.ReserveTarget(p, static_cast<size_t>((*ends)[p]));
    absl::StatusOr<bool> reached = target.ReadTo(*ends, round_end, /*stop_at_end=*/false, add_target);
    if (!reached.ok()) return reached.status();
    if (!waiting && !*reached)
      return absl::DeadlineExceededError(
          absl::StrCat("target not read to its end offsets within ", absl::FormatDuration(o.read_timeout), ": ",
                       Stuck(target, pair.target, *ends), " (an open transaction holds read_committed back?)"));
    result.partitions = comparison.Compare(o.mode, compare_options);
    if (!waiting || (*reached && NothingMissing(result.partitions))) break;
    CheckReport progress{o.mode, {result}};
    if (absl::Now() >= wait_deadline) {
      result.notes.push_back(absl::StrCat("target still incomplete after waiting ",
                                          absl::FormatDuration(o.wait_until_complete)));
      break;
    }
    std::fprintf(stderr, "longhaul-check: %s -> %s: %s\n", pair.source.c_str(), pair.target.c_str(),
                 FormatProgress(progress).c_str());
    // Keep consuming for the rest of the round, so progress is printed once
    // per interval however fast the target's end offsets were reached.
    std::vector<int64_t> unreachable(*target_partitions, INT64_MAX);
    if (absl::StatusOr<bool> more = target.ReadTo(unreachable, round_end, false, add_target); !more.ok())
      return more.status();
  }
  return result;
}

int Main(int argc, char** argv) {
  absl::StatusOr<CheckOptions> parsed = ParseCheckOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    std::fprintf(stderr, "longhaul-check: %s\n", std::string(parsed.status().message()).c_str());
    return kExitError;
  }
  const CheckOptions& o = *parsed;
  if (o.help) {
    std::fputs(kCheckUsage, stdout);
    return kExitPass;
  }
  auto source = RdKafkaTopicReader::Create("source", o.source_bootstrap, o.source_properties);
  if (!source.ok()) return Error(source.status());
  auto target = RdKafkaTopicReader::Create("target", o.target_bootstrap, o.target_properties);
  if (!target.ok()) return Error(target.status());

  CheckReport report{o.mode, {}};
  for (const TopicPair& pair : o.topics) {
    absl::StatusOr<TopicPairReport> checked = CheckPair(o, **source, **target, pair);
    if (!checked.ok()) return Error(checked.status());
    report.topics.push_back(*std::move(checked));
  }
  std::string text = o.json ? FormatJson(report) : FormatTable(report);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return report.Passed() ? kExitPass : kExitViolations;
}

}  // namespace
}  // namespace longhaul::soak

int main(int argc, char** argv) { return longhaul::soak::Main(argc, argv); }
