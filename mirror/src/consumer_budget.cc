#include "consumer_budget.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace longhaul::mirror {
namespace {

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
// Budget bytes per queued record for the record-count cap, which is what
// binds for small records (a 100-byte record costs ~350 B queued: librdkafka
// 2.0.2's ~250-byte fetch op plus its payload; larger records reach the
// payload cap first). Tuned, not derived: at the default 8 MiB per lane it
// allows ~30k records, which kept 2M x 100-byte drains as fast as before
// while 20k (B/420) made them ~40 % slower and 10k 2x slower (see
// queue_bytes below for why).
constexpr int64_t kQueuedRecordBytes = 280;
// librdkafka refuses a fetch.max.bytes below message.max.bytes (its default).
constexpr int64_t kDefaultMessageMaxBytes = 1'000'000;

}  // namespace

ConsumerPrefetch SizeConsumerPrefetch(int64_t lane_budget_bytes, const std::map<std::string, std::string>& user) {
  const int64_t budget = std::max<int64_t>(lane_budget_bytes, kMiB);
  // Not less: librdkafka 2.0.2 looks at the queue thresholds again only when
  // its broker thread wakes, up to 1 s after the queue fell below them
  // (fetch.queue.backoff.ms came in 2.3.0), so the queue must hold a good
  // part of a second of a lane's work or the lane starves.
  const int64_t queue_bytes = budget;
  // Kafka returns at least one record batch per partition whatever this says
  // (KIP-74), so a small fetch never blocks a large record.
  const int64_t partition_fetch = std::clamp<int64_t>(budget / 16, 64 * kKiB, kMiB);
  int64_t message_max = kDefaultMessageMaxBytes;
  if (auto it = user.find("message.max.bytes"); it != user.end() && !absl::SimpleAtoi(it->second, &message_max)) {
    message_max = kDefaultMessageMaxBytes;
  }
  struct Cap {
    const char* key;
    int64_t value;
  };
  const Cap caps[] = {
      // Upper ends: librdkafka's ranges (2097151 KiB) and one fetch's worth.
      {"queued.max.messages.kbytes", std::clamp<int64_t>(queue_bytes / kKiB, 1, 2'097'151)},
      {"queued.min.messages", std::clamp<int64_t>(queue_bytes / kQueuedRecordBytes, 1000, 1'000'000)},
      {"max.partition.fetch.bytes", partition_fetch},
      {"fetch.max.bytes", std::max({std::min(budget / 4, 64 * kMiB), partition_fetch, message_max})},
  };
  ConsumerPrefetch out;
  for (const Cap& cap : caps) {
    int64_t value = cap.value;
    if (auto it = user.find(cap.key); it != user.end()) {
      int64_t theirs = 0;
      // Not a number: leave it to librdkafka, whose error names the property.
      if (!absl::SimpleAtoi(it->second, &theirs)) continue;
      if (theirs <= cap.value) {
        value = theirs;
      } else {
        out.lowered.push_back(absl::StrCat(cap.key, ": ", theirs, " -> ", cap.value));
      }
    }
    out.properties[cap.key] = std::to_string(value);
  }
  return out;
}

}  // namespace longhaul::mirror
