// longhaul-gen: writes sequenced, checksummed records to a source topic for
// soak runs and integration tests. See soak/README.md.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "longhaul/soak/generator_options.h"
#include "longhaul/soak/record_factory.h"
#include "rdkafka_producer.h"

namespace longhaul::soak {
namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2;
std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

int Fail(int code, const absl::Status& status) {
  std::fprintf(stderr, "longhaul-gen: error: %s\n", std::string(status.message()).c_str());
  return code;
}

// Connection and setup problems are exit 2 (nothing was tested); anything
// after the first record is exit 1.
int SetupFailure(const absl::Status& status) { return Fail(kExitUsage, status); }

class Run {
 public:
  Run(const GeneratorOptions& options, RdKafkaProducer& producer, int32_t partitions, uint64_t seed, uint32_t run_id)
      : o_(options),
        producer_(producer),
        partitions_(partitions),
        factory_(options.mix, seed, run_id),
        txn_rng_(seed ^ 0x9e3779b97f4a7c15ull),
        committed_(partitions, 0),
        start_(absl::Now()),
        deadline_(start_ + EffectiveTimeout(options)),
        next_progress_(start_ + options.progress_interval) {}

  absl::Status Execute() {
    return o_.transactional ? Transactional() : Idempotent();
  }

  void PrintSummary(const uint64_t seed, const char* outcome) const {
    double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    std::printf(
        "longhaul-gen: %s topic=%s partitions=%d records=%lld aborted_records=%lld transactions=%lld "
        "aborted_transactions=%lld bytes=%lld seconds=%.1f rate=%.0f/s run_id=%08x seed=%llu per_partition=%s\n",
        outcome, o_.topic.c_str(), partitions_, static_cast<long long>(committed_total_),
        static_cast<long long>(aborted_records_), static_cast<long long>(transactions_),
        static_cast<long long>(aborted_transactions_), static_cast<long long>(bytes_), seconds,
        seconds > 0 ? static_cast<double>(committed_total_ + aborted_records_) / seconds : 0.0, factory_.run_id(),
        static_cast<unsigned long long>(seed), absl::StrJoin(committed_, ",").c_str());
    std::fflush(stdout);
  }

 private:
  bool ShouldStop(int64_t planned) const {
    if (g_stop) return true;
    if (o_.count && committed_total_ + planned >= *o_.count) return true;
    if (o_.duration && absl::Now() - start_ >= *o_.duration) return true;
    return false;
  }

  absl::Status CheckDeadline() const {
    if (absl::Now() < deadline_) return absl::OkStatus();
    return absl::DeadlineExceededError(absl::StrCat("timed out after ", absl::FormatDuration(deadline_ - start_),
                                                    " (raise --timeout or lower --count)"));
  }

  // Paces to --rate while serving delivery reports.
  void Pace() {
    if (o_.rate > 0) {
      absl::Time due = start_ + absl::Seconds(static_cast<double>(written_) / o_.rate);
      for (absl::Time now = absl::Now(); now < due && !g_stop; now = absl::Now())
        producer_.Poll(std::min(due - now, absl::Milliseconds(100)));
    }
    producer_.Poll(absl::ZeroDuration());
    MaybeProgress();
  }

  void MaybeProgress() {
    absl::Time now = absl::Now();
    if (now < next_progress_) return;
    int64_t done = o_.transactional ? committed_total_ : producer_.delivered();
    double rate = static_cast<double>(written_ - written_at_last_progress_) /
                  absl::ToDoubleSeconds(now - (next_progress_ - o_.progress_interval));
    std::fprintf(stderr, "longhaul-gen: %lld records %s (%lld aborted), %.0f records/s, %.1f MB\n",
                 static_cast<long long>(done), o_.transactional ? "committed" : "delivered",
                 static_cast<long long>(aborted_records_), rate, static_cast<double>(bytes_) / 1e6);
    written_at_last_progress_ = written_;
    next_progress_ = now + o_.progress_interval;
  }

  absl::Status ProduceOne(int32_t partition, uint64_t sequence, uint8_t flags) {
    Pace();
    Record record = factory_.Make(partition, sequence, flags, absl::ToUnixMillis(absl::Now()));
    bytes_ += static_cast<int64_t>((record.key ? record.key->size() : 0) + (record.value ? record.value->size() : 0));
    ++written_;
    if (absl::Status s = producer_.Produce(o_.topic, partition, record); !s.ok()) return s;
    if (!producer_.DeliveryError().ok()) return producer_.DeliveryError();
    return CheckDeadline();
  }

  absl::Status Idempotent() {
    while (!ShouldStop(0)) {
      int32_t p = static_cast<int32_t>(next_partition_++ % partitions_);
      if (absl::Status s = ProduceOne(p, committed_[p], 0); !s.ok()) return s;
      ++committed_[p];
      ++committed_total_;
    }
    absl::Status flushed = producer_.Flush(std::max(deadline_ - absl::Now(), absl::Seconds(1)));
    if (!producer_.DeliveryError().ok()) return producer_.DeliveryError();
    return flushed;
  }

  // Leaving a transaction open would hold back every read_committed reader
  // of the topic until the broker times it out, so abort on the way out.
  absl::Status AbortAfter(absl::Status failure) {
    if (absl::Status s = producer_.AbortTransaction(absl::Seconds(10)); !s.ok())
      std::fprintf(stderr, "longhaul-gen: could not abort the open transaction: %s\n", std::string(s.message()).c_str());
    return failure;
  }

  absl::Status Transactional() {
    const absl::Duration kTxnTimeout = absl::Minutes(1);
    while (!ShouldStop(0)) {
      int64_t size = o_.transaction_size;
      if (o_.count) size = std::min(size, *o_.count - committed_total_);
      bool abort = std::uniform_real_distribution<double>(0, 1)(txn_rng_) < o_.abort_ratio;
      if (absl::Status s = producer_.BeginTransaction(); !s.ok()) return s;
      // Aborted records reuse the sequence numbers the next transaction
      // commits, so committed sequences stay dense; their flag tells them apart.
      std::vector<uint64_t> pending = committed_;
      int64_t n = 0;
      for (; n < size && !g_stop; ++n) {
        int32_t p = static_cast<int32_t>(next_partition_++ % partitions_);
        if (absl::Status s = ProduceOne(p, pending[p]++, abort ? kPayloadFromAbortedTransaction : 0); !s.ok())
          return AbortAfter(s);
      }
      ++transactions_;
      if (abort) {
        // Flushing first puts the aborted records into the log, where a
        // mirror has to skip them (and it avoids aborting with produce
        // requests in flight, which 2.0.2 can turn into INVALID_TXN_STATE).
        if (absl::Status s = producer_.Flush(kTxnTimeout); !s.ok()) return AbortAfter(s);
        if (!producer_.DeliveryError().ok()) return AbortAfter(producer_.DeliveryError());
        if (absl::Status s = producer_.AbortTransaction(kTxnTimeout); !s.ok()) return s;
        ++aborted_transactions_;
        aborted_records_ += n;
        continue;
      }
      if (absl::Status s = producer_.CommitTransaction(kTxnTimeout); !s.ok())
        return AbortAfter(producer_.DeliveryError().ok() ? s : producer_.DeliveryError());
      committed_ = std::move(pending);
      committed_total_ += n;
    }
    return absl::OkStatus();
  }

  const GeneratorOptions& o_;
  RdKafkaProducer& producer_;
  const int32_t partitions_;
  RecordFactory factory_;
  std::mt19937_64 txn_rng_;
  std::vector<uint64_t> committed_;  // next sequence per partition
  const absl::Time start_;
  const absl::Time deadline_;
  absl::Time next_progress_;
  uint64_t next_partition_ = 0;
  int64_t written_ = 0;
  int64_t written_at_last_progress_ = 0;
  int64_t committed_total_ = 0;
  int64_t aborted_records_ = 0;
  int64_t transactions_ = 0;
  int64_t aborted_transactions_ = 0;
  int64_t bytes_ = 0;
};

int Main(int argc, char** argv) {
  absl::StatusOr<GeneratorOptions> parsed = ParseGeneratorOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    std::fprintf(stderr, "longhaul-gen: %s\n", std::string(parsed.status().message()).c_str());
    return kExitUsage;
  }
  const GeneratorOptions& o = *parsed;
  if (o.help) {
    std::fputs(kGeneratorUsage, stdout);
    return kExitOk;
  }
  std::random_device entropy;
  const uint64_t seed = o.seed.value_or((static_cast<uint64_t>(entropy()) << 32) | entropy());
  uint32_t run_id = o.run_id.value_or(entropy());

  ProducerConfig config{o.bootstrap, o.properties, {}};
  if (o.transactional)
    config.transactional_id =
        o.transactional_id.empty() ? absl::StrFormat("longhaul-gen-%s-%08x", o.topic, run_id) : o.transactional_id;
  absl::StatusOr<std::unique_ptr<RdKafkaProducer>> producer = RdKafkaProducer::Create(config);
  if (!producer.ok()) return SetupFailure(producer.status());

  absl::Duration setup_timeout = std::min(EffectiveTimeout(o), absl::Seconds(60));
  TopicSpec spec{o.topic, o.partitions, o.replication_factor, o.topic_configs, o.create_topic};
  absl::StatusOr<int32_t> partitions = (*producer)->EnsureTopic(spec, setup_timeout);
  if (!partitions.ok())
    return SetupFailure(absl::Status(partitions.status().code(),
                                     absl::StrCat(o.bootstrap, ": ", partitions.status().message())));
  if (*partitions != o.partitions)
    std::fprintf(stderr, "longhaul-gen: topic %s exists with %d partitions; writing to all of them\n", o.topic.c_str(),
                 *partitions);
  if (o.transactional) {
    if (absl::Status s = (*producer)->InitTransactions(setup_timeout); !s.ok()) return SetupFailure(s);
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  Run run(o, **producer, *partitions, seed, run_id);
  absl::Status status = run.Execute();
  run.PrintSummary(seed, status.ok() ? (g_stop ? "interrupted" : "done") : "FAILED");
  if (!status.ok()) return Fail(kExitFailed, status);
  return kExitOk;
}

}  // namespace
}  // namespace longhaul::soak

int main(int argc, char** argv) { return longhaul::soak::Main(argc, argv); }
