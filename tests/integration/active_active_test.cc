// Active/active against real brokers: two pipelines a->b and b->a with
// rename "{topic}" in one `longhaul run`, producers writing the same topic
// on both clusters at once. Each cluster ends up with every record of both
// origins exactly once, in order and byte for byte (the copies carry one
// more header, the provenance), and none comes back to where it started;
// the records each pipeline read and did not write are counted, and their
// offsets still count as copied (no lag left). `longhaul validate` refuses
// the same two pipelines with provenance off, naming the loop.
#include <signal.h>

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "admin_http.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/status_matchers.h"
#include "longhaul/testing/unique_name.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kHeader[] = "longhaul-provenance";
constexpr int kPartitions = 2;

std::string WriteActiveActiveConfig(const std::string& a, const std::string& b, const std::string& topic,
                                    const std::string& provenance) {
  std::string path = absl::StrCat(::testing::TempDir(), "/longhaul-aa-", provenance, "-", std::random_device{}(),
                                  ".yaml");
  std::ofstream f(path);
  f << "clusters:\n  a: {bootstrap: \"" << a << "\"}\n  b: {bootstrap: \"" << b << "\"}\n";
  f << "pipelines:\n";
  for (const auto& [name, source, target] :
       {std::tuple{"a-to-b", "a", "b"}, std::tuple{"b-to-a", "b", "a"}}) {
    f << "  " << name << ":\n    source: " << source << "\n    target: " << target << "\n    topics: {include: [\""
      << topic << "\"]}\n    rename: \"{topic}\"\n    lanes: 2\n    commit_interval: 200ms\n"
      << "    discovery_interval: 2s\n    provenance: " << provenance << "\n";
  }
  f << "worker:\n  drain_timeout: 20s\nadmin:\n  listen: \"127.0.0.1:0\"\n";
  return path;
}

// The value of the record's provenance header, or "" when it has none.
std::string Provenance(const Record& r) {
  std::string value;
  for (const auto& h : r.headers) {
    if (h.name == kHeader) value = h.value.value_or("<null>");
  }
  return value;
}

Record WithoutProvenance(Record r) {
  std::erase_if(r.headers, [](const auto& h) { return h.name == kHeader; });
  return r;
}

// Writes batches to every partition of `topic` on one cluster until
// stopped, keeping what was acknowledged, per partition, in order.
class OriginProducer {
 public:
  OriginProducer(std::string bootstrap, std::string topic, uint64_t first_seed)
      : written_(kPartitions), thread_([=, this] {
          KafkaTestClient client(bootstrap);
          uint64_t seed = first_seed;
          while (!stop_.load()) {
            for (int p = 0; p < kPartitions; ++p) {
              std::vector<Record> batch = VariedRecords(50, seed++);
              if (absl::Status s = client.Produce(topic, p, batch); !s.ok()) {
                errors_.fetch_add(1);
                continue;
              }
              std::lock_guard<std::mutex> lock(mu_);
              written_[p].insert(written_[p].end(), batch.begin(), batch.end());
            }
            std::this_thread::sleep_for(milliseconds(20));
          }
        }) {}
  ~OriginProducer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int errors() const { return errors_.load(); }
  const std::vector<Record>& written(int p) const { return written_[p]; }

 private:
  std::mutex mu_;
  std::vector<std::vector<Record>> written_;
  std::atomic<bool> stop_{false};
  std::atomic<int> errors_{0};
  std::thread thread_;
};

double Metric(const std::string& metrics, const std::string& name, const std::string& label) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, name + "{") || !absl::StrContains(line, label)) continue;
    double v = -1;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) return v;
  }
  return -1;
}

// Every "lag_records" in a status document is 0 (and there is one).
bool EveryLagIsZero(const std::string& status) {
  constexpr std::string_view kKey = "\"lag_records\":";
  int seen = 0;
  for (size_t at = status.find(kKey); at != std::string::npos; at = status.find(kKey, at + 1)) {
    ++seen;
    if (status.compare(at + kKey.size(), 2, "0,") != 0) return false;
  }
  return seen > 0;
}

// One cluster's topic, split by where its records come from: its own
// producer's records (no provenance header) and the copies from the other
// cluster (with one). Anything else is returned in `other`.
struct Split {
  std::vector<Record> native, copies, other;
};

Split SplitByOrigin(const std::vector<Record>& records, const std::string& copy_provenance) {
  Split out;
  for (const Record& r : records) {
    const std::string provenance = Provenance(r);
    if (provenance.empty()) {
      out.native.push_back(r);
    } else if (provenance == copy_provenance) {
      out.copies.push_back(WithoutProvenance(r));
    } else {
      out.other.push_back(r);
    }
  }
  return out;
}

TEST(ActiveActive, BothClustersHoldEveryRecordOfBothOriginsExactlyOnceAndNoneComesBack) {
  const std::string a_bootstrap = KafkaClusters::SharedSourceBootstrap();
  const std::string b_bootstrap = KafkaClusters::SharedTargetBootstrap();
  ASSERT_FALSE(a_bootstrap.empty());
  ASSERT_FALSE(b_bootstrap.empty());
  KafkaTestClient a(a_bootstrap), b(b_bootstrap);
  const std::string topic = UniqueName("aa");
  ASSERT_THAT(a.CreateTopic(topic, kPartitions), IsOk());
  ASSERT_THAT(b.CreateTopic(topic, kPartitions), IsOk());

  const std::string config = WriteActiveActiveConfig(a_bootstrap, b_bootstrap, topic, "auto");
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  const int admin = AdminPort(*worker);
  ASSERT_GT(admin, 0) << worker->Describe();
  {
    // Both sides write while both pipelines run.
    OriginProducer on_a(a_bootstrap, topic, 1000), on_b(b_bootstrap, topic, 5000);
    std::this_thread::sleep_for(seconds(6));
    on_a.Stop();
    on_b.Stop();
    ASSERT_EQ(on_a.errors() + on_b.errors(), 0);

    for (int p = 0; p < kPartitions; ++p) {
      const size_t expected = on_a.written(p).size() + on_b.written(p).size();
      ASSERT_GT(on_a.written(p).size(), 0u);
      ASSERT_GT(on_b.written(p).size(), 0u);
      std::vector<Record> on_cluster_a, on_cluster_b;
      // Bounded wait until both clusters hold as many records as both
      // producers wrote to the partition (more means duplicates or echoes:
      // the comparison below says which).
      const bool complete = WaitFor(
          [&] {
            auto got_a = a.ReadAll(topic, p);
            auto got_b = b.ReadAll(topic, p);
            if (!got_a.ok() || !got_b.ok()) return false;
            on_cluster_a = std::move(*got_a);
            on_cluster_b = std::move(*got_b);
            return on_cluster_a.size() >= expected && on_cluster_b.size() >= expected;
          },
          seconds(90), milliseconds(500));
      EXPECT_TRUE(complete) << topic << "[" << p << "]: a has " << on_cluster_a.size() << ", b has "
                            << on_cluster_b.size() << " of " << expected << "; " << worker->Describe();
      const Split at_a = SplitByOrigin(on_cluster_a, "b,b-to-a=a");
      const Split at_b = SplitByOrigin(on_cluster_b, "a,a-to-b=b");
      // Each producer's records, in order, once, on its own cluster ...
      EXPECT_EQ(DescribeDifference(on_a.written(p), at_a.native), "") << "a's own records on a[" << p << "]";
      EXPECT_EQ(DescribeDifference(on_b.written(p), at_b.native), "") << "b's own records on b[" << p << "]";
      // ... and on the other cluster, byte for byte but for the provenance.
      EXPECT_EQ(DescribeDifference(on_a.written(p), at_b.copies), "") << "a's records copied to b[" << p << "]";
      EXPECT_EQ(DescribeDifference(on_b.written(p), at_a.copies), "") << "b's records copied to a[" << p << "]";
      // Nothing bounced back (that would carry "a,a-to-b=b,b-to-a=a").
      EXPECT_TRUE(at_a.other.empty()) << at_a.other.size() << " records on a[" << p << "] such as provenance '"
                                      << Provenance(at_a.other.front()) << "'";
      EXPECT_TRUE(at_b.other.empty()) << at_b.other.size() << " records on b[" << p << "] such as provenance '"
                                      << Provenance(at_b.other.front()) << "'";
    }

    // Each pipeline read the other's copies and did not write them: counted,
    // and, as their offsets are consumed, no lag is left behind them.
    size_t copies_on_a = 0, copies_on_b = 0;
    for (int p = 0; p < kPartitions; ++p) {
      copies_on_a += on_b.written(p).size();
      copies_on_b += on_a.written(p).size();
    }
    std::string metrics;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto reply = HttpGet(admin, "/metrics");
          if (!reply.ok()) return false;
          metrics = reply->body;
          return Metric(metrics, "longhaul_records_filtered_total", "pipeline=\"a-to-b\"") ==
                     static_cast<double>(copies_on_a) &&
                 Metric(metrics, "longhaul_records_filtered_total", "pipeline=\"b-to-a\"") ==
                     static_cast<double>(copies_on_b);
        },
        seconds(30), milliseconds(250)))
        << "expected " << copies_on_a << " filtered by a-to-b and " << copies_on_b << " by b-to-a:\n"
        << metrics;
    std::string status;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto reply = HttpGet(admin, "/api/v1/status");
          if (!reply.ok()) return false;
          status = reply->body;
          return absl::StrContains(status, absl::StrCat("\"records_filtered\":", copies_on_a)) &&
                 absl::StrContains(status, absl::StrCat("\"records_filtered\":", copies_on_b)) &&
                 EveryLagIsZero(status);
        },
        seconds(30), milliseconds(250)))
        << status;
  }
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
}

TEST(ActiveActive, ValidateRefusesTheSamePipelinesWithoutProvenanceNamingTheLoop) {
  const std::string off = WriteActiveActiveConfig("127.0.0.1:1", "127.0.0.1:2", "orders", "off");
  auto refused = ChildProcess::Spawn(LonghaulBinary(), {"validate", "-c", off});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ((*refused)->WaitForExit(seconds(30)), 1) << (*refused)->Output();
  EXPECT_THAT((*refused)->Output(),
              HasSubstr("pipelines.a-to-b: pipelines a-to-b -> b-to-a form a loop that nothing stops: 'orders' on "
                        "'a' -> 'orders' on 'b' (a-to-b) -> 'orders' on 'a' (b-to-a)"));

  const std::string with = WriteActiveActiveConfig("127.0.0.1:1", "127.0.0.1:2", "orders", "auto");
  auto accepted = ChildProcess::Spawn(LonghaulBinary(), {"validate", "-c", with});
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ((*accepted)->WaitForExit(seconds(30)), 0) << (*accepted)->Output();
}

}  // namespace
}  // namespace longhaul::testing
