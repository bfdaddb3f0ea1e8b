// Exact consumer-group offset translation and failover against real
// brokers, driven through `longhaul run` (periodic group sync) and
// `longhaul offsets translate|failover`. The property a user relies on: a
// group that consumed part of a topic on the source and carries on with the
// same group id on the target sees every source record exactly once; the
// two sides' records are compared by content, not counted.
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <atomic>
#include <regex>
#include <thread>

#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/lane.h"
#include "longhaul/offsets/offset_sync.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/unique_name.h"
#include "admin_http.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

using Partitioned = std::map<TopicPartition, std::vector<Record>>;

// A real member of a consumer group (subscribe, poll, commit), reading
// committed data. What Consume returns is exactly what the group's commit
// then covers: offsets are stored as poll hands the records out.
class GroupConsumer {
 public:
  GroupConsumer(const std::string& bootstrap, const std::string& group, const std::vector<std::string>& topics) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    for (const auto& [k, v] : std::map<std::string, std::string>{{"bootstrap.servers", bootstrap},
                                                                 {"group.id", group},
                                                                 {"client.id", "test-group-consumer"},
                                                                 {"isolation.level", "read_committed"},
                                                                 {"enable.auto.commit", "false"},
                                                                 {"auto.offset.reset", "earliest"},
                                                                 {"session.timeout.ms", "6000"},
                                                                 {"heartbeat.interval.ms", "500"},
                                                                 {"fetch.wait.max.ms", "100"}}) {
      EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err), RD_KAFKA_CONF_OK) << err;
    }
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    EXPECT_NE(rk_, nullptr) << err;
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
    for (const auto& t : topics) rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
    EXPECT_EQ(rd_kafka_subscribe(rk_, list), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(list);
  }
  ~GroupConsumer() { Close(); }

  // Polls until `count` records arrived or `timeout` passed.
  Partitioned Consume(size_t count, milliseconds timeout) {
    Partitioned out;
    size_t got = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got < count && std::chrono::steady_clock::now() < deadline) {
      if (PollOne(&out)) ++got;
    }
    return out;
  }
  // Polls for `duration` (membership stays alive meanwhile).
  Partitioned ConsumeFor(milliseconds duration) {
    Partitioned out;
    auto deadline = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < deadline) PollOne(&out);
    return out;
  }
  // Commits the position after every record handed out so far.
  absl::Status Commit() {
    rd_kafka_resp_err_t e = rd_kafka_commit(rk_, nullptr, /*async=*/0);
    if (e == RD_KAFKA_RESP_ERR__NO_OFFSET) return absl::OkStatus();
    if (e) return absl::InternalError(absl::StrCat("commit: ", rd_kafka_err2name(e)));
    return absl::OkStatus();
  }
  // Leaves the group, so that it is empty again.
  void Close() {
    if (rk_ == nullptr) return;
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }

 private:
  bool PollOne(Partitioned* out) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
    if (m == nullptr) return false;
    bool record = false;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Record r;
      r.offset = m->offset;
      r.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
      if (m->key) r.key = std::string(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value = std::string(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          RecordHeader h{name, std::nullopt};
          if (value) h.value = std::string(static_cast<const char*>(value), size);
          r.headers.push_back(std::move(h));
        }
      }
      (*out)[TopicPartition{rd_kafka_topic_name(m->rkt), m->partition}].push_back(std::move(r));
      record = true;
    }
    rd_kafka_message_destroy(m);
    return record;
  }

  rd_kafka_t* rk_ = nullptr;
};

size_t Count(const Partitioned& p) {
  size_t n = 0;
  for (const auto& [_, records] : p) n += records.size();
  return n;
}

void Append(Partitioned* to, const Partitioned& from) {
  for (const auto& [tp, records] : from) {
    auto& v = (*to)[tp];
    v.insert(v.end(), records.begin(), records.end());
  }
}

struct CliResult {
  int exit_code = -1;
  std::string output;
};

CliResult RunCli(const std::vector<std::string>& args) {
  auto p = ChildProcess::Spawn(LonghaulBinary(), args);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return {};
  std::optional<int> code = (*p)->WaitForExit(seconds(120));
  return {code.value_or(-1), (*p)->Output()};
}

// One partition of `longhaul offsets ... --json` output.
struct JsonPartition {
  std::string source_topic;
  int32_t partition = 0;
  int64_t source_offset = -1;
  std::string target_topic;
  int64_t target_offset = -1;
  std::string status;
  int64_t old_target_offset = -1;  // failover only
  int64_t new_target_offset = -1;
  std::string action;
};

// Our own JSON shape, with fields in a fixed order (offsets_command.cc).
std::map<TopicPartition, JsonPartition> ParsePartitions(const std::string& output) {
  static const std::regex re(
      R"re(\{"source_topic":"([^"]*)","partition":(\d+),"source_offset":(-?\d+),"target_topic":"([^"]*)","target_offset":(-?\d+),"status":"([^"]*)","replicated_source_offset":-?\d+(?:,"old_target_offset":(-?\d+),"new_target_offset":(-?\d+),"action":"([^"]*)")?)re");
  std::map<TopicPartition, JsonPartition> out;
  for (auto it = std::sregex_iterator(output.begin(), output.end(), re); it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    JsonPartition p;
    p.source_topic = m[1];
    p.partition = std::stoi(m[2]);
    p.source_offset = std::stoll(m[3]);
    p.target_topic = m[4];
    p.target_offset = std::stoll(m[5]);
    p.status = m[6];
    if (m[7].matched) {
      p.old_target_offset = std::stoll(m[7]);
      p.new_target_offset = std::stoll(m[8]);
      p.action = m[9];
    }
    out[TopicPartition{p.source_topic, p.partition}] = p;
  }
  return out;
}

// What translation must give, computed independently from the two logs:
// the target offset of the first replicated record at or after `offset`
// (the records are identical in content and order, ExpectExactlyOnce).
std::optional<int64_t> ExpectedTarget(const std::vector<Record>& source, const std::vector<Record>& target,
                                      int64_t offset) {
  for (size_t i = 0; i < source.size() && i < target.size(); ++i) {
    if (source[i].offset >= offset) return target[i].offset;
  }
  return std::nullopt;
}

// VariedRecords with current create times: its fixed times lie more than
// the brokers' default retention (7 days) in the past, and the retention
// check would delete them from the topics under test.
std::vector<Record> Fresh(std::vector<Record> records) {
  const int64_t now_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (auto& r : records) r.timestamp_ms = now_ms;
  return records;
}

// Records for a compacted topic: every key repeats, so the cleaner leaves
// gaps in the offsets. Current create times: the broker rolls segments on
// segment.ms measured between record timestamps, and only rolled segments
// are cleaned.
std::vector<Record> KeyedRecords(int count, int keys, uint64_t seed) {
  std::vector<Record> out = Fresh(VariedRecords(count, seed));
  for (int i = 0; i < count; ++i) {
    out[i].key = absl::StrCat("k-", (seed * 7 + i) % keys);
    if (!out[i].value) out[i].value = "v";  // tombstones would vanish after delete.retention.ms
  }
  return out;
}

class OffsetTranslation : public ::testing::Test {
 protected:
  void SetUp() override {
    source_bootstrap_ = KafkaClusters::SharedSourceBootstrap();
    target_bootstrap_ = KafkaClusters::SharedTargetBootstrap();
    ASSERT_FALSE(source_bootstrap_.empty());
    ASSERT_FALSE(target_bootstrap_.empty());
    source_ = std::make_unique<KafkaTestClient>(source_bootstrap_);
    target_ = std::make_unique<KafkaTestClient>(target_bootstrap_);
  }

  // Source and target records of each source partition, after waiting until
  // replication is complete and identical.
  Partitioned ReadSource(const std::string& topic, int partitions) {
    Partitioned out;
    for (int p = 0; p < partitions; ++p) {
      auto r = source_->ReadAll(topic, p);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) out[TopicPartition{topic, p}] = std::move(*r);
    }
    return out;
  }
  Partitioned ReadTarget(const std::string& topic, int partitions) {
    Partitioned out;
    for (int p = 0; p < partitions; ++p) {
      auto r = target_->ReadAll(topic, p);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) out[TopicPartition{topic, p}] = std::move(*r);
    }
    return out;
  }

  // The committed offset the group must have on the target for each target
  // partition, given what it consumed on the source.
  std::map<TopicPartition, int64_t> ExpectedTargetOffsets(const Partitioned& consumed_on_source,
                                                          const Partitioned& source, const Partitioned& target,
                                                          const std::function<std::string(const std::string&)>& rename) {
    std::map<TopicPartition, int64_t> out;
    for (const auto& [tp, records] : consumed_on_source) {
      if (records.empty()) continue;
      TopicPartition ttp{rename(tp.topic), tp.partition};
      const std::vector<Record>& s = source.at(tp);
      const std::vector<Record>& t = target.at(ttp);
      auto expected = ExpectedTarget(s, t, records.back().offset + 1);
      if (expected) {
        out[ttp] = *expected;
      } else if (records.back().offset == s.back().offset && t.size() == s.size()) {
        out[ttp] = t.back().offset + 1;  // consumed all: the end of what is replicated
      }
    }
    return out;
  }

  bool TargetGroupAt(const std::string& group, const std::map<TopicPartition, int64_t>& expected,
                     std::string* why) {
    for (const auto& [tp, offset] : expected) {
      auto got = target_->GroupOffset(group, tp);
      if (!got.ok() || !got->has_value() || **got != offset) {
        *why = absl::StrCat(tp.ToString(), ": expected ", offset, ", have ",
                            !got.ok() ? std::string(got.status().message())
                            : got->has_value() ? std::to_string(**got) : std::string("none"));
        return false;
      }
    }
    return true;
  }

  // Reads the rest with the same group on the target and checks that what
  // the group saw on the source, then on the target, is each source
  // partition exactly once, in order.
  void ExpectTargetConsumerSeesTheRestExactlyOnce(const std::string& group, const Partitioned& consumed_on_source,
                                                  const Partitioned& source,
                                                  const std::function<std::string(const std::string&)>& rename) {
    std::vector<std::string> target_topics;
    size_t remaining = 0;
    for (const auto& [tp, records] : source) {
      std::string t = rename(tp.topic);
      if (std::find(target_topics.begin(), target_topics.end(), t) == target_topics.end()) target_topics.push_back(t);
      auto it = consumed_on_source.find(tp);
      remaining += records.size() - (it == consumed_on_source.end() ? 0 : it->second.size());
    }
    GroupConsumer consumer(target_bootstrap_, group, target_topics);
    Partitioned rest = consumer.Consume(remaining, seconds(60));
    // Anything more would be a duplicate: keep listening a little.
    Append(&rest, consumer.ConsumeFor(milliseconds(2000)));
    consumer.Close();
    for (const auto& [tp, records] : source) {
      std::vector<Record> seen;
      if (auto it = consumed_on_source.find(tp); it != consumed_on_source.end()) seen = it->second;
      TopicPartition ttp{rename(tp.topic), tp.partition};
      size_t from_target = 0;
      if (auto it = rest.find(ttp); it != rest.end()) {
        seen.insert(seen.end(), it->second.begin(), it->second.end());
        from_target = it->second.size();
      }
      EXPECT_EQ(DescribeDifference(records, seen), "")
          << tp.ToString() << ": " << (seen.size() - from_target) << " records read on the source, " << from_target
          << " on the target";
    }
  }

  std::string source_bootstrap_, target_bootstrap_;
  std::unique_ptr<KafkaTestClient> source_, target_;
};

std::string Prefixed(const std::string& topic) { return "t." + topic; }

TEST_F(OffsetTranslation, GroupMovesToTargetOverTransactionAndCompactionGapsAndSeesEveryRecordOnce) {
  const std::string txn = UniqueName("ot-txn");
  const std::string compacted = UniqueName("ot-compact");
  const std::string group = UniqueName("ot-group");
  const std::string probe_group = UniqueName("ot-probe");
  ASSERT_TRUE(source_->CreateTopic(txn, 2).ok());
  // Source offsets with gaps: aborted transactions and commit markers.
  for (int p = 0; p < 2; ++p) {
    uint64_t seed = 10 * p;
    ASSERT_TRUE(source_->ProduceTransaction(txn, p, Fresh(VariedRecords(40, ++seed)), true).ok());
    ASSERT_TRUE(source_->ProduceTransaction(txn, p, Fresh(VariedRecords(25, ++seed)), false).ok());
    ASSERT_TRUE(source_->ProduceTransaction(txn, p, Fresh(VariedRecords(30, ++seed)), true).ok());
    ASSERT_TRUE(source_->Produce(txn, p, Fresh(VariedRecords(20, ++seed))).ok());
    ASSERT_TRUE(source_->ProduceTransaction(txn, p, Fresh(VariedRecords(10, ++seed)), false).ok());
    ASSERT_TRUE(source_->ProduceTransaction(txn, p, Fresh(VariedRecords(35, ++seed)), true).ok());
  }
  // Source offsets with gaps: a compacted topic after the log cleaner ran.
  ASSERT_TRUE(source_
                  ->CreateTopic(compacted, 1,
                                {{"cleanup.policy", "compact"},
                                 {"segment.ms", "100"},
                                 {"min.cleanable.dirty.ratio", "0.001"},
                                 {"min.compaction.lag.ms", "0"},
                                 {"delete.retention.ms", "100"}})
                  .ok());
  int produced = 0;
  for (int batch = 0; batch < 6; ++batch) {
    ASSERT_TRUE(source_->Produce(compacted, 0, KeyedRecords(60, 15, 100 + batch)).ok());
    produced += 60;
    std::this_thread::sleep_for(milliseconds(250));  // each batch in its own segment
  }
  bool cleaned = WaitFor(
      [&] {
        // A new record rolls the active segment, so the cleaner may take it.
        EXPECT_TRUE(source_->Produce(compacted, 0, KeyedRecords(1, 15, 999 + produced)).ok());
        ++produced;
        auto all = source_->ReadAll(compacted, 0);
        return all.ok() && static_cast<int>(all->size()) < produced - 100;
      },
      seconds(60), milliseconds(1000));
  ASSERT_TRUE(cleaned) << "the log cleaner did not compact " << compacted;

  PipelineSpec spec;
  spec.name = UniqueName("otp");
  spec.include = {txn, compacted};
  spec.rename = "t.{topic}";
  spec.lanes = 3;
  spec.groups_include = {group};
  spec.groups_interval = "1s";
  spec.sync_topic_configs = false;  // keep the target copy uncompacted, to compare it whole
  const std::string config = WriteConfig(source_bootstrap_, target_bootstrap_, spec);
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(*source_, *target_, txn, Prefixed(txn), 2, seconds(60), worker.get());
  ExpectExactlyOnce(*source_, *target_, compacted, Prefixed(compacted), 1, seconds(60), worker.get());
  Partitioned source = ReadSource(txn, 2), target = ReadTarget(Prefixed(txn), 2);
  Append(&source, ReadSource(compacted, 1));
  Append(&target, ReadTarget(Prefixed(compacted), 1));

  // Translation of offsets in every kind of gap, through the CLI: the
  // first offset, inside an aborted transaction, on a commit marker, on a
  // record removed by compaction, the last record, and past the end.
  {
    std::vector<std::pair<TopicPartition, std::vector<int64_t>>> cases;
    for (const auto& [tp, records] : source) {
      std::vector<int64_t> offsets = {0, records.back().offset, records.back().offset + 1};
      for (size_t i = 1; i < records.size() && offsets.size() < 3 + 2 * 8; ++i) {
        if (records[i].offset != records[i - 1].offset + 1) {
          offsets.push_back(records[i - 1].offset + 1);  // first offset of a gap
          offsets.push_back(records[i].offset - 1);      // last offset of a gap
        }
      }
      cases.emplace_back(tp, offsets);
    }
    size_t rounds = 0;
    for (const auto& [tp, offsets] : cases) rounds = std::max(rounds, offsets.size());
    for (size_t round = 0; round < rounds; ++round) {
      std::map<TopicPartition, int64_t> committed;
      for (const auto& [tp, offsets] : cases) {
        int64_t o = offsets[std::min(round, offsets.size() - 1)];
        ASSERT_TRUE(source_->CommitGroupOffset(probe_group, tp.topic, tp.partition, o).ok());
        committed[tp] = o;
      }
      CliResult r = RunCli({"offsets", "translate", "-c", config, "--pipeline", spec.name, "--group", probe_group,
                            "--json"});
      ASSERT_EQ(r.exit_code, 0) << r.output;
      auto parsed = ParsePartitions(r.output);
      ASSERT_EQ(parsed.size(), committed.size()) << r.output;
      for (const auto& [tp, o] : committed) {
        const JsonPartition& p = parsed[tp];
        EXPECT_EQ(p.source_offset, o);
        EXPECT_EQ(p.target_topic, Prefixed(tp.topic));
        EXPECT_EQ(p.status, "exact") << tp.ToString() << " at " << o << ": " << r.output;
        TopicPartition ttp{Prefixed(tp.topic), tp.partition};
        auto expected = ExpectedTarget(source[tp], target[ttp], o);
        // Past the last record: the end of what is replicated, i.e. after
        // the last replicated record (its commit marker may follow).
        int64_t want = expected ? *expected : target[ttp].back().offset + 1;
        EXPECT_EQ(p.target_offset, want) << tp.ToString() << " source offset " << o << ": " << r.output;
      }
    }
  }

  // A real group reads about half on the source and commits.
  Partitioned consumed;
  {
    GroupConsumer consumer(source_bootstrap_, group, {txn, compacted});
    consumed = consumer.Consume(Count(source) / 2, seconds(60));
    ASSERT_EQ(Count(consumed), Count(source) / 2);
    ASSERT_TRUE(consumer.Commit().ok());
  }
  // `longhaul run` syncs it to the target within a few intervals.
  auto expected = ExpectedTargetOffsets(consumed, source, target, Prefixed);
  ASSERT_FALSE(expected.empty());
  std::string why;
  EXPECT_TRUE(WaitFor([&] { return TargetGroupAt(group, expected, &why); }, seconds(30), milliseconds(500)))
      << why << "; worker: " << worker->Describe();
  CliResult r = RunCli({"offsets", "translate", "-c", config, "--pipeline", spec.name, "--group", group});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("SOURCE TOPIC"), std::string::npos) << r.output;

  ExpectTargetConsumerSeesTheRestExactlyOnce(group, consumed, source, Prefixed);
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(30)), 0) << worker->Describe();
}

TEST_F(OffsetTranslation, GroupThatCommittedBeforeHundredsOfLaterTransactionsStillTranslatesExactly) {
  const std::string topic = UniqueName("ot-old");
  const std::string group = UniqueName("ot-old-group");
  ASSERT_TRUE(source_->CreateTopic(topic, 1).ok());
  ASSERT_TRUE(source_->Produce(topic, 0, Fresh(VariedRecords(60, 1))).ok());
  PipelineSpec spec;
  spec.name = UniqueName("otp-old");
  spec.include = {topic};
  spec.rename = "t.{topic}";
  spec.lanes = 2;
  spec.commit_interval = "30ms";
  const std::string config = WriteConfig(source_bootstrap_, target_bootstrap_, spec);
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(*source_, *target_, topic, Prefixed(topic), 1, seconds(60), worker.get());

  Partitioned consumed;
  {
    GroupConsumer consumer(source_bootstrap_, group, {topic});
    consumed = consumer.Consume(25, seconds(60));
    ASSERT_EQ(Count(consumed), 25u);
    ASSERT_TRUE(consumer.Commit().ok());
  }
  // Many small mirror transactions after the group's commit, with aborted
  // source transactions in between.
  for (int i = 0; i < 150; ++i) {
    if (i % 10 == 5) {
      ASSERT_TRUE(source_->ProduceTransaction(topic, 0, Fresh(VariedRecords(3, 5000 + i)), false).ok());
    } else {
      ASSERT_TRUE(source_->Produce(topic, 0, Fresh(VariedRecords(4, 1000 + i))).ok());
    }
    std::this_thread::sleep_for(milliseconds(60));
  }
  ExpectExactlyOnce(*source_, *target_, topic, Prefixed(topic), 1, seconds(60), worker.get());
  Partitioned source = ReadSource(topic, 1), target = ReadTarget(Prefixed(topic), 1);

  // The mirror committed 100+ transactions of this partition after the one
  // holding the group's position: count their offset-sync records.
  const int64_t committed_offset = consumed.begin()->second.back().offset + 1;
  {
    const std::string sync_topic = "__longhaul." + spec.name + ".offset-syncs";
    auto syncs = target_->ReadAll(sync_topic, static_cast<int32_t>(offsets::LaneOf(topic, 0, spec.lanes)));
    ASSERT_TRUE(syncs.ok()) << syncs.status();
    int later = 0;
    for (const Record& rec : *syncs) {
      auto decoded = offsets::DecodeOffsetSync(*rec.value);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      if (decoded->topic == topic && decoded->segments.front().source_start > committed_offset) ++later;
    }
    EXPECT_GE(later, 100) << "the scenario needs 100+ later transactions";
  }

  auto expected = ExpectedTargetOffsets(consumed, source, target, Prefixed);
  ASSERT_EQ(expected.size(), 1u);
  const TopicPartition ttp{Prefixed(topic), 0};
  CliResult r = RunCli({"offsets", "translate", "-c", config, "--pipeline", spec.name, "--group", group, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto parsed = ParsePartitions(r.output);
  ASSERT_EQ(parsed.size(), 1u) << r.output;
  EXPECT_EQ(parsed.begin()->second.source_offset, committed_offset);
  EXPECT_EQ(parsed.begin()->second.status, "exact") << r.output;
  EXPECT_EQ(parsed.begin()->second.target_offset, expected[ttp]) << r.output;

  // The running worker's admin API serves the same translation.
  const int admin = AdminPort(*worker);
  ASSERT_GT(admin, 0) << worker->Output();
  auto http = HttpGet(admin, "/api/v1/offsets/translate?pipeline=" + spec.name + "&group=" + group);
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->status, 200) << http->body;
  EXPECT_EQ(http->content_type, "application/json");
  auto served = ParsePartitions(http->body);
  ASSERT_EQ(served.size(), 1u) << http->body;
  EXPECT_EQ(served.begin()->second.source_offset, committed_offset) << http->body;
  EXPECT_EQ(served.begin()->second.status, "exact") << http->body;
  EXPECT_EQ(served.begin()->second.target_offset, expected[ttp]) << http->body;
  auto unknown = HttpGet(admin, "/api/v1/offsets/translate?pipeline=no-such-pipeline&group=" + group);
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  EXPECT_THAT(unknown->body, ::testing::HasSubstr("no-such-pipeline")) << unknown->body;

  // The failover command commits it on the target.
  r = RunCli({"offsets", "failover", "-c", config, "--pipeline", spec.name, "--group", group});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("committed"), std::string::npos) << r.output;
  std::string why;
  EXPECT_TRUE(TargetGroupAt(group, expected, &why)) << why;
  // Running it again changes nothing.
  r = RunCli({"offsets", "failover", "-c", config, "--pipeline", spec.name, "--group", group, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  parsed = ParsePartitions(r.output);
  ASSERT_EQ(parsed.size(), 1u) << r.output;
  EXPECT_EQ(parsed.begin()->second.action, "unchanged") << r.output;

  ExpectTargetConsumerSeesTheRestExactlyOnce(group, consumed, source, Prefixed);
}

TEST_F(OffsetTranslation, ActiveGroupOnTheTargetIsNeverOverwrittenAndAnInactiveOneNeverRewound) {
  const std::string topic = UniqueName("ot-active");
  const std::string group = UniqueName("ot-active-group");
  ASSERT_TRUE(source_->CreateTopic(topic, 2).ok());
  for (int p = 0; p < 2; ++p) ASSERT_TRUE(source_->Produce(topic, p, Fresh(VariedRecords(200, 40 + p))).ok());
  PipelineSpec spec;
  spec.name = UniqueName("otp-active");
  spec.include = {topic};
  spec.rename = "t.{topic}";
  spec.lanes = 2;
  spec.groups_include = {"ot-active-group.*"};
  spec.groups_interval = "1s";
  const std::string config = WriteConfig(source_bootstrap_, target_bootstrap_, spec);
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(*source_, *target_, topic, Prefixed(topic), 2, seconds(60), worker.get());
  Partitioned source = ReadSource(topic, 2), target = ReadTarget(Prefixed(topic), 2);

  // The group consumed the first 100 records of each partition on the source.
  std::map<TopicPartition, int64_t> expected;
  for (int p = 0; p < 2; ++p) {
    ASSERT_TRUE(source_->CommitGroupOffset(group, topic, p, 100).ok());
    expected[{Prefixed(topic), p}] = target.at({Prefixed(topic), p})[100].offset;
  }
  std::string why;
  ASSERT_TRUE(WaitFor([&] { return TargetGroupAt(group, expected, &why); }, seconds(30), milliseconds(500))) << why;

  // Consumers run on the target now: they read on and commit.
  GroupConsumer on_target(target_bootstrap_, group, {Prefixed(topic)});
  Partitioned read_on_target = on_target.Consume(60, seconds(60));
  ASSERT_EQ(Count(read_on_target), 60u);
  ASSERT_TRUE(on_target.Commit().ok());
  std::map<TopicPartition, int64_t> theirs;
  for (int p = 0; p < 2; ++p) {
    TopicPartition ttp{Prefixed(topic), p};
    auto o = target_->GroupOffset(group, ttp);
    ASSERT_TRUE(o.ok() && o->has_value()) << ttp.ToString();
    theirs[ttp] = **o;
  }
  // Meanwhile the source group moves, forward on one partition and back on
  // the other: neither may reach the active group on the target.
  ASSERT_TRUE(source_->CommitGroupOffset(group, topic, 0, source.at({topic, 0}).back().offset + 1).ok());
  ASSERT_TRUE(source_->CommitGroupOffset(group, topic, 1, 0).ok());
  // Several sync intervals pass while the target group stays active.
  Append(&read_on_target, on_target.ConsumeFor(milliseconds(5000)));
  EXPECT_TRUE(TargetGroupAt(group, theirs, &why)) << "an active target group was overwritten: " << why;
  CliResult r = RunCli({"offsets", "failover", "-c", config, "--pipeline", spec.name, "--group", group, "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  for (const auto& [tp, p] : ParsePartitions(r.output)) EXPECT_EQ(p.action, "group-active") << r.output;
  EXPECT_TRUE(TargetGroupAt(group, theirs, &why)) << "failover overwrote an active group: " << why;

  // The target consumers stop. Partition 0 moves forward to the source's
  // new position; partition 1 is not rewound to offset 0.
  on_target.Close();
  std::map<TopicPartition, int64_t> after = theirs;
  after[{Prefixed(topic), 0}] = target.at({Prefixed(topic), 0}).back().offset + 1;
  ASSERT_TRUE(WaitFor([&] { return TargetGroupAt(group, after, &why); }, seconds(30), milliseconds(500))) << why;
  std::this_thread::sleep_for(seconds(3));
  EXPECT_TRUE(TargetGroupAt(group, after, &why)) << "an inactive target group was rewound: " << why;
  r = RunCli({"offsets", "failover", "-c", config, "--pipeline", spec.name, "--group", group, "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  auto parsed = ParsePartitions(r.output);
  const TopicPartition p1{topic, 1}, target_p1{Prefixed(topic), 1};
  EXPECT_EQ(parsed[p1].action, "kept-no-rewind") << r.output;
  EXPECT_EQ(parsed[p1].new_target_offset, theirs[target_p1]) << r.output;

  // Only the operator rewinds, explicitly.
  r = RunCli({"offsets", "failover", "-c", config, "--pipeline", spec.name, "--group", group, "--allow-rewind",
              "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  parsed = ParsePartitions(r.output);
  EXPECT_EQ(parsed[p1].action, "rewound") << r.output;
  EXPECT_EQ(parsed[p1].new_target_offset, target.at(target_p1).front().offset) << r.output;
  auto rewound = target_->GroupOffset(group, target_p1);
  ASSERT_TRUE(rewound.ok() && rewound->has_value());
  EXPECT_EQ(**rewound, target.at(target_p1).front().offset);
}

TEST_F(OffsetTranslation, StaysExactWhenTheWorkerIsKilledBetweenTwoSyncs) {
  const std::string topic = UniqueName("ot-kill");
  const std::string group = UniqueName("ot-kill-group");
  ASSERT_TRUE(source_->CreateTopic(topic, 3).ok());
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(source_->Produce(topic, p, Fresh(VariedRecords(300, 70 + p))).ok());
  PipelineSpec spec;
  spec.name = UniqueName("otp-kill");
  spec.include = {topic};
  spec.rename = "t.{topic}";
  spec.lanes = 2;
  spec.commit_interval = "100ms";
  spec.groups_include = {group};
  spec.groups_interval = "1s";
  const std::string config = WriteConfig(source_bootstrap_, target_bootstrap_, spec);

  // Production continues throughout, so the kill lands mid-transaction and
  // leaves aborted records (target offset gaps) behind.
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    KafkaTestClient client(source_bootstrap_);
    for (uint64_t seed = 1; !stop.load(); ++seed) {
      for (int p = 0; p < 3; ++p) {
        EXPECT_TRUE(client.Produce(topic, p, Fresh(VariedRecords(20, 9000 + seed * 3 + p))).ok());
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  });
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);

  // First sync: the group read some on the source.
  GroupConsumer first(source_bootstrap_, group, {topic});
  Partitioned consumed = first.Consume(400, seconds(60));
  ASSERT_TRUE(first.Commit().ok());
  first.Close();
  std::string why;
  // The group's target offsets are the exact translation of its source
  // ones (once what it consumed is replicated).
  auto synced = [&] {
    Partitioned s = ReadSource(topic, 3), t = ReadTarget(Prefixed(topic), 3);
    auto expected = ExpectedTargetOffsets(consumed, s, t, Prefixed);
    size_t partitions = 0;
    for (const auto& [tp, records] : consumed) partitions += records.empty() ? 0 : 1;
    if (expected.size() != partitions) {
      why = "not replicated yet";
      return false;
    }
    return TargetGroupAt(group, expected, &why);
  };
  ASSERT_TRUE(WaitFor(synced, seconds(60), milliseconds(1000))) << why << "; worker: " << worker->Describe();

  // Killed mid-transaction: the next owner of its lanes aborts the open
  // transaction, leaving aborted records (target offset gaps) behind.
  worker->Kill(SIGKILL);
  worker->WaitForExit(seconds(10));
  worker = StartLonghaul(config);
  std::this_thread::sleep_for(seconds(3));
  stop = true;
  producer.join();
  ExpectExactlyOnce(*source_, *target_, topic, Prefixed(topic), 3, seconds(90), worker.get());
  Partitioned source = ReadSource(topic, 3);

  // Second sync, by the new worker, after the group read on the source past
  // what was replicated before the kill (all but the last 300 records).
  GroupConsumer second(source_bootstrap_, group, {topic});
  const size_t more = Count(source) - Count(consumed) - 300;
  Append(&consumed, second.Consume(more, seconds(60)));
  ASSERT_EQ(Count(consumed), Count(source) - 300);
  ASSERT_TRUE(second.Commit().ok());
  second.Close();
  ASSERT_TRUE(WaitFor(synced, seconds(60), milliseconds(1000))) << why << "; worker: " << worker->Describe();
  ExpectTargetConsumerSeesTheRestExactlyOnce(group, consumed, source, Prefixed);
}

// The runbook's way back (docs/offset-translation.md, "Failing back"): the
// group fails over to the target and reads there, then a reverse pipeline
// (target -> original source, renamed) carries the target topic back, the
// group fails over on it, and reads the rest on the original cluster. The
// three reads together are every source record once, in order.
TEST_F(OffsetTranslation, GroupFailsOverAndBackThroughAReversePipelineAndSeesEveryRecordOnce) {
  const std::string topic = UniqueName("ot-back");
  const std::string group = UniqueName("ot-back-group");
  ASSERT_TRUE(source_->CreateTopic(topic, 2).ok());
  for (int p = 0; p < 2; ++p) {
    ASSERT_TRUE(source_->Produce(topic, p, Fresh(VariedRecords(60, 10 + p))).ok());
    ASSERT_TRUE(source_->ProduceTransaction(topic, p, Fresh(VariedRecords(5, 20 + p)), false).ok());
    ASSERT_TRUE(source_->Produce(topic, p, Fresh(VariedRecords(40, 30 + p))).ok());
  }
  PipelineSpec forward;
  forward.name = UniqueName("otp-fwd");
  forward.include = {topic};
  forward.rename = "t.{topic}";
  forward.lanes = 2;
  const std::string forward_config = WriteConfig(source_bootstrap_, target_bootstrap_, forward);
  auto forward_worker = StartLonghaul(forward_config);
  ASSERT_NE(forward_worker, nullptr);
  ExpectExactlyOnce(*source_, *target_, topic, Prefixed(topic), 2, seconds(60), forward_worker.get());
  const Partitioned source = ReadSource(topic, 2);

  // 1. On the source: read 70 and commit.
  Partitioned on_source;
  {
    GroupConsumer consumer(source_bootstrap_, group, {topic});
    on_source = consumer.Consume(70, seconds(60));
    ASSERT_EQ(Count(on_source), 70u);
    ASSERT_TRUE(consumer.Commit().ok());
  }
  // 2. Fail over to the target; read 80 more there and commit.
  CliResult r = RunCli({"offsets", "failover", "-c", forward_config, "--pipeline", forward.name, "--group", group});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  forward_worker->Kill(SIGTERM);
  EXPECT_EQ(forward_worker->WaitForExit(seconds(60)), 0) << forward_worker->Output();
  Partitioned on_target;
  {
    GroupConsumer consumer(target_bootstrap_, group, {Prefixed(topic)});
    on_target = consumer.Consume(80, seconds(60));
    ASSERT_EQ(Count(on_target), 80u);
    ASSERT_TRUE(consumer.Commit().ok());
  }

  // 3. The way back: a pipeline from the target to the original source,
  // renamed, then the same failover on it.
  PipelineSpec reverse;
  reverse.name = UniqueName("otp-rev");
  reverse.include = {Prefixed(topic)};  // "." matches itself too
  reverse.rename = "back.{topic}";
  reverse.lanes = 2;
  const std::string reverse_config = WriteConfig(target_bootstrap_, source_bootstrap_, reverse);
  auto reverse_worker = StartLonghaul(reverse_config);
  ASSERT_NE(reverse_worker, nullptr);
  const std::string back_topic = "back." + Prefixed(topic);
  ExpectExactlyOnce(*target_, *source_, Prefixed(topic), back_topic, 2, seconds(60), reverse_worker.get());
  r = RunCli({"offsets", "failover", "-c", reverse_config, "--pipeline", reverse.name, "--group", group});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  reverse_worker->Kill(SIGTERM);
  EXPECT_EQ(reverse_worker->WaitForExit(seconds(60)), 0) << reverse_worker->Output();

  // 4. Back on the original cluster, the same group reads the rest.
  const size_t rest_count = Count(source) - 70 - 80;
  Partitioned on_back;
  {
    GroupConsumer consumer(source_bootstrap_, group, {back_topic});
    on_back = consumer.Consume(rest_count, seconds(60));
    Append(&on_back, consumer.ConsumeFor(milliseconds(2000)));  // anything more is a duplicate
  }
  for (const auto& [tp, records] : source) {
    std::vector<Record> seen;
    for (const auto& [part, name] : std::vector<std::pair<const Partitioned*, std::string>>{
             {&on_source, tp.topic}, {&on_target, Prefixed(tp.topic)}, {&on_back, back_topic}}) {
      if (auto it = part->find(TopicPartition{name, tp.partition}); it != part->end()) {
        seen.insert(seen.end(), it->second.begin(), it->second.end());
      }
    }
    EXPECT_EQ(DescribeDifference(records, seen), "") << tp.ToString();
  }
}

}  // namespace
}  // namespace longhaul::testing
