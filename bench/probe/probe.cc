// lh-bench-probe: the benchmark's own Kafka client (librdkafka), kept apart
// from the mirror under test. One binary, four commands, each bounded in time
// and printing one JSON object on stdout:
//
//   watch   poll a topic's read_committed end offsets (LSO) until their sum
//           reaches --expect and stops moving; gives first/last-change times
//           (--progress-file F: appends "epoch_s sum" at every change, for
//           the harness to act on progress while the watch runs)
//   count   read a topic (read_committed) from the start to its end offsets,
//           counting records and verifying every longhaul-gen value (magic,
//           CRC32C, partition, dense per-partition sequence); also the raw
//           consume rate of the brokers
//   latency read a topic from its end (read_committed) and record, per
//           record, now - record create time
//   create  create topics (--partitions N), replication factor 1
//   delete  delete topics (frees the target between runs)
//
// Apart from the product on purpose (no mirror, transport or config code):
// the benchmark must keep working while those change under it. It shares
// only the tools' librdkafka set-up (soak/kafka). Value layout: soak/README.md.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "longhaul/soak/rdkafka_client.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace {

std::atomic<bool> g_stop{false};

[[noreturn]] void Die(const std::string& msg, int code = 2) {
  std::fprintf(stderr, "lh-bench-probe: %s\n", msg.c_str());
  std::exit(code);
}

double NowEpoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
double NowMono() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Args {
  std::string cmd;
  std::map<std::string, std::string> kv;
  std::vector<std::string> topics;
  std::vector<std::pair<std::string, std::string>> props;

  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
  std::string Need(const std::string& k) const {
    auto it = kv.find(k);
    if (it == kv.end()) Die("--" + k + " is required");
    return it->second;
  }
  double Num(const std::string& k, double def) const {
    auto it = kv.find(k);
    if (it == kv.end()) return def;
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end) Die("--" + k + ": not a number: " + it->second);
    return v;
  }
};

Args ParseArgs(int argc, char** argv) {
  if (argc < 2) Die("usage: lh-bench-probe watch|count|latency|delete --bootstrap B --topic T ...");
  Args a;
  a.cmd = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string f = argv[i];
    if (f.rfind("--", 0) != 0) Die("unexpected argument " + f);
    if (i + 1 >= argc) Die(f + " needs a value");
    std::string v = argv[++i];
    f = f.substr(2);
    if (f == "topic") {
      a.topics.push_back(v);
    } else if (f == "property") {
      auto eq = v.find('=');
      if (eq == std::string::npos) Die("--property wants K=V, got " + v);
      a.props.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else {
      a.kv[f] = v;
    }
  }
  return a;
}

// A read_committed consumer handle (used for offsets queries, reading, admin).
rd_kafka_t* MakeConsumer(const Args& a, const std::string& group) {
  longhaul::soak::KafkaProperties properties = {
      {"bootstrap.servers", a.Need("bootstrap")},
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"isolation.level", "read_committed"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"fetch.max.bytes", "52428800"},
      {"max.partition.fetch.bytes", "4194304"},
      {"queued.max.messages.kbytes", "65536"},
      {"log_level", "3"},
  };
  properties.insert(properties.end(), a.props.begin(), a.props.end());
  auto client = longhaul::soak::NewRdKafkaClient(RD_KAFKA_CONSUMER, rd_kafka_conf_new(), properties, "consumer");
  if (!client.ok()) Die(std::string(client.status().message()));
  rd_kafka_poll_set_consumer(client->get());
  return client->release();  // lives until the probe exits
}

// Partition count of `topic`, or -1 while it does not exist.
int PartitionCount(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
  rd_kafka_topic_destroy(rkt);
  if (err) return -1;
  int n = -1;
  if (md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  return n;
}

// Waits for the topic to exist with at least one partition; -1 on timeout.
int WaitPartitions(rd_kafka_t* rk, const std::string& topic, double deadline_mono) {
  while (NowMono() < deadline_mono && !g_stop) {
    int n = PartitionCount(rk, topic);
    if (n > 0) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return -1;
}

// Read_committed end offsets (the LSO) of partitions [0, n). Empty on error.
std::vector<int64_t> EndOffsets(rd_kafka_t* rk, const std::string& topic, int n, int timeout_ms = 5000) {
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p) rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  std::vector<int64_t> out;
  if (rd_kafka_offsets_for_times(rk, l, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    out.assign(n, -1);
    bool ok = true;
    for (int i = 0; i < l->cnt; ++i) {
      if (l->elems[i].err) ok = false;
      out[l->elems[i].partition] = l->elems[i].offset;
    }
    if (!ok) out.clear();
  }
  rd_kafka_topic_partition_list_destroy(l);
  return out;
}

// ---- watch -----------------------------------------------------------------

int Watch(const Args& a) {
  const std::string topic = a.topics.at(0);
  const int64_t expect = static_cast<int64_t>(a.Num("expect", 0));
  const double settle = a.Num("settle-s", 3), interval = a.Num("interval-ms", 100) / 1000.0;
  const double t0 = NowMono(), deadline = t0 + a.Num("timeout-s", 600);
  rd_kafka_t* rk = MakeConsumer(a, "lh-bench-probe-watch");
  int n = WaitPartitions(rk, topic, deadline);
  double t_exists = n > 0 ? NowEpoch() : 0, t_first = 0, t_change = 0, t_reach = 0;
  int64_t last = -1;
  bool timed_out = n <= 0;
  std::vector<std::pair<double, int64_t>> series;
  FILE* progress = nullptr;
  if (!a.Get("progress-file").empty()) {
    progress = std::fopen(a.Get("progress-file").c_str(), "a");
    if (!progress) Die("cannot open --progress-file " + a.Get("progress-file"));
  }
  double next_recount = NowMono() + 1;
  while (n > 0 && !g_stop) {
    double now_mono = NowMono();
    if (now_mono > deadline) {
      timed_out = true;
      break;
    }
    // A mirror may create the target topic small and add partitions later
    // (Longhaul's hub does, as partitions arrive): recount every second.
    if (now_mono >= next_recount) {
      n = std::max(n, PartitionCount(rk, topic));
      next_recount = now_mono + 1;
    }
    auto offs = EndOffsets(rk, topic, n);
    if (!offs.empty()) {
      int64_t sum = 0;
      for (int64_t o : offs) sum += std::max<int64_t>(o, 0);
      double now = NowEpoch();
      if (sum > 0 && t_first == 0) t_first = now;
      if (sum != last) {
        last = sum;
        t_change = now;
        series.emplace_back(now, sum);
        if (progress) {
          std::fprintf(progress, "%.3f %lld\n", now, static_cast<long long>(sum));
          std::fflush(progress);
        }
        if (sum >= expect && t_reach == 0) t_reach = now;
      }
      if (sum >= expect && now - t_change >= settle) break;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  }
  if (progress) std::fclose(progress);
  rd_kafka_destroy(rk);
  std::printf("{\"topic\":\"%s\",\"partitions\":%d,\"t_exists\":%.3f,\"t_first\":%.3f,\"t_reach\":%.3f,"
              "\"t_done\":%.3f,\"end_offset_sum\":%lld,\"timed_out\":%s,\"series\":[",
              topic.c_str(), n, t_exists, t_first, t_reach, t_change, static_cast<long long>(last),
              timed_out ? "true" : "false");
  // Thin the series to at most ~400 points for the chart.
  size_t step = std::max<size_t>(1, series.size() / 400);
  for (size_t i = 0; i < series.size(); i += step)
    std::printf("%s[%.3f,%lld]", i ? "," : "", series[i].first, static_cast<long long>(series[i].second));
  if (!series.empty() && (series.size() - 1) % step)
    std::printf(",[%.3f,%lld]", series.back().first, static_cast<long long>(series.back().second));
  std::printf("]}\n");
  return timed_out ? 1 : 0;
}

// ---- value verification (layout in soak/README.md) -------------------------

uint32_t kCrcTable[256];
bool g_sse42 = false;

void InitCrc() {
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    kCrcTable[i] = c;
  }
#if defined(__x86_64__)
  g_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t CrcHw(const unsigned char* p, size_t n, uint32_t c32) {
  uint64_t c = c32;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
    p += 8;
    n -= 8;
  }
  c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
#endif

uint32_t Crc32c(const unsigned char* p, size_t n, uint32_t crc) {
  crc = ~crc;
#if defined(__x86_64__)
  if (g_sse42) return ~CrcHw(p, n, crc);
#endif
  for (size_t i = 0; i < n; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

bool Hex(const unsigned char* p, int n, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    unsigned char c = p[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

enum class Verdict { kOk, kNotGenerated, kCorrupt };

Verdict CheckValue(const unsigned char* v, size_t len, uint64_t* run, uint64_t* partition, uint64_t* seq) {
  if (!v || len < 61 || std::memcmp(v, "LHG1 ", 5) != 0) return Verdict::kNotGenerated;
  uint64_t filler = 0, flags = 0, crc = 0;
  if (!Hex(v + 5, 8, run) || !Hex(v + 14, 8, partition) || !Hex(v + 23, 16, seq) || !Hex(v + 40, 8, &filler) || !Hex(v + 49, 2, &flags) ||
      !Hex(v + 52, 8, &crc) || v[60] != '\n' || filler != len - 61)
    return Verdict::kCorrupt;
  uint32_t c = Crc32c(v, 52, 0);
  c = Crc32c(v + 61, len - 61, c);
  if (c != crc || flags != 0) return Verdict::kCorrupt;  // flags 01: aborted, must never be read_committed
  return Verdict::kOk;
}

// ---- count -----------------------------------------------------------------

int Count(const Args& a) {
  InitCrc();
  const std::string topic = a.topics.at(0);
  const bool verify = a.Get("verify", "true") == "true";
  const double t0 = NowMono(), deadline = t0 + a.Num("timeout-s", 600);
  rd_kafka_t* rk = MakeConsumer(a, "lh-bench-probe-count");
  int n = WaitPartitions(rk, topic, deadline);
  if (n <= 0) Die("topic " + topic + " not found", 2);
  std::vector<int64_t> end;
  while (end.empty() && NowMono() < deadline) end = EndOffsets(rk, topic, n);
  if (end.empty()) Die("cannot read end offsets of " + topic);
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p) rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_assign(rk, l)) Die("assign failed");
  rd_kafka_topic_partition_list_destroy(l);

  std::vector<int64_t> count(n, 0), dups(n, 0), gaps(n, 0), wrong_part(n, 0);
  // Next expected sequence per (generator run, partition): sequences are dense from 0 per run.
  std::unordered_map<uint64_t, int64_t> next_seq;
  std::vector<bool> done(n, false);
  int remaining = 0;
  for (int p = 0; p < n; ++p) {
    if (end[p] <= 0) done[p] = true;
    else ++remaining;
  }
  int64_t records = 0, bytes = 0, corrupt = 0, not_generated = 0, ts_min = INT64_MAX, ts_max = 0;
  const double start = NowMono();
  double first_msg = 0;
  bool timed_out = false;
  while (remaining > 0 && !g_stop) {
    if (NowMono() > deadline) {
      timed_out = true;
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    int p = m->partition;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // EOF at the read_committed end: done once past the end offset taken at start.
      if (p >= 0 && p < n && !done[p] && m->offset >= end[p]) {
        done[p] = true;
        --remaining;
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err) {
      std::fprintf(stderr, "lh-bench-probe: consume error: %s\n", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    if (first_msg == 0) first_msg = NowMono();
    if (p < 0 || p >= n || m->offset >= end[p]) {
      rd_kafka_message_destroy(m);
      continue;
    }
    ++records;
    ++count[p];
    bytes += static_cast<int64_t>(m->len + m->key_len);
    int64_t ts = rd_kafka_message_timestamp(m, nullptr);
    ts_min = std::min(ts_min, ts);
    ts_max = std::max(ts_max, ts);
    if (verify) {
      uint64_t run = 0, part = 0, seq = 0;
      switch (CheckValue(static_cast<const unsigned char*>(m->payload), m->len, &run, &part, &seq)) {
        case Verdict::kNotGenerated: ++not_generated; break;
        case Verdict::kCorrupt: ++corrupt; break;
        case Verdict::kOk:
          if (static_cast<int64_t>(part) != p) ++wrong_part[p];
          int64_t& next = next_seq[run << 32 | part];
          if (static_cast<int64_t>(seq) == next) {
            ++next;
          } else if (static_cast<int64_t>(seq) < next) {
            ++dups[p];  // an earlier sequence again: duplicate (or reordering)
          } else {
            gaps[p] += static_cast<int64_t>(seq) - next;
            next = static_cast<int64_t>(seq) + 1;
          }
          break;
      }
    }
    if (m->offset + 1 >= end[p] && !done[p]) {
      done[p] = true;
      --remaining;
    }
    rd_kafka_message_destroy(m);
  }
  const double elapsed = NowMono() - start;
  const double from_first = first_msg ? NowMono() - first_msg : 0;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  int64_t total_dups = 0, total_gaps = 0, total_wrong = 0;
  for (int p = 0; p < n; ++p) {
    total_dups += dups[p];
    total_gaps += gaps[p];
    total_wrong += wrong_part[p];
  }
  std::printf("{\"topic\":\"%s\",\"partitions\":%d,\"records\":%lld,\"bytes\":%lld,\"seconds\":%.3f,"
              "\"seconds_from_first\":%.3f,\"records_per_s\":%.0f,\"mb_per_s\":%.2f,"
              "\"corrupt\":%lld,\"not_generated\":%lld,\"duplicates\":%lld,\"gaps\":%lld,\"wrong_partition\":%lld,"
              "\"ts_min\":%lld,\"ts_max\":%lld,\"timed_out\":%s,\"per_partition\":[",
              topic.c_str(), n, static_cast<long long>(records), static_cast<long long>(bytes), elapsed, from_first,
              elapsed > 0 ? records / elapsed : 0.0, elapsed > 0 ? bytes / elapsed / 1e6 : 0.0,
              static_cast<long long>(corrupt), static_cast<long long>(not_generated),
              static_cast<long long>(total_dups), static_cast<long long>(total_gaps),
              static_cast<long long>(total_wrong), static_cast<long long>(ts_min == INT64_MAX ? 0 : ts_min),
              static_cast<long long>(ts_max), timed_out ? "true" : "false");
  for (int p = 0; p < n; ++p) std::printf("%s%lld", p ? "," : "", static_cast<long long>(count[p]));
  std::printf("]}\n");
  return timed_out ? 1 : 0;
}

// ---- latency ---------------------------------------------------------------

int Latency(const Args& a) {
  const std::string topic = a.topics.at(0);
  const int64_t expect = static_cast<int64_t>(a.Num("expect", 0));
  const double warmup_ms = a.Num("warmup-s", 5) * 1000, idle_s = a.Num("idle-s", 15);
  const double deadline = NowMono() + a.Num("timeout-s", 300);
  Args b = a;
  b.props.insert(b.props.begin(), {"fetch.wait.max.ms", "100"});
  rd_kafka_t* rk = MakeConsumer(b, "lh-bench-probe-latency");
  int n = WaitPartitions(rk, topic, deadline);
  if (n <= 0) Die("topic " + topic + " not found", 2);
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p) rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  if (rd_kafka_assign(rk, l)) Die("assign failed");
  rd_kafka_topic_partition_list_destroy(l);
  // Tell the caller we are in place (the generator may start now).
  std::fprintf(stderr, "lh-bench-probe: latency consumer assigned %d partitions of %s\n", n, topic.c_str());
  if (!a.Get("ready-file").empty()) {
    // Wait until the first fetch position is resolved so that records produced
    // after the file appears are seen.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    FILE* f = std::fopen(a.Get("ready-file").c_str(), "w");
    if (f) std::fclose(f);
  }
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(expect > 0 ? expect : 100000));
  int64_t seen = 0, first_ts = -1;
  double last_rx = NowMono();
  bool timed_out = false;
  while (!g_stop) {
    double now_mono = NowMono();
    if (now_mono > deadline) {
      timed_out = true;
      break;
    }
    if (seen > 0 && now_mono - last_rx > idle_s) break;
    if (expect > 0 && seen >= expect) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err) {
      rd_kafka_message_destroy(m);
      continue;
    }
    double now_ms = NowEpoch() * 1000.0;
    last_rx = NowMono();
    int64_t ts = rd_kafka_message_timestamp(m, nullptr);
    ++seen;
    if (first_ts < 0) first_ts = ts;
    if (ts - first_ts >= warmup_ms) lat.push_back(now_ms - static_cast<double>(ts));
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::sort(lat.begin(), lat.end());
  auto q = [&](double f) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(f * lat.size()))]; };
  double mean = 0;
  for (double x : lat) mean += x;
  if (!lat.empty()) mean /= lat.size();
  std::printf("{\"topic\":\"%s\",\"seen\":%lld,\"measured\":%zu,\"p50_ms\":%.1f,\"p90_ms\":%.1f,\"p99_ms\":%.1f,"
              "\"p999_ms\":%.1f,\"max_ms\":%.1f,\"mean_ms\":%.1f,\"timed_out\":%s}\n",
              topic.c_str(), static_cast<long long>(seen), lat.size(), q(0.5), q(0.9), q(0.99), q(0.999),
              lat.empty() ? 0.0 : lat.back(), mean, timed_out ? "true" : "false");
  return timed_out ? 1 : 0;
}

// ---- create / delete ---------------------------------------------------------

int Create(const Args& a) {
  rd_kafka_t* rk = MakeConsumer(a, "lh-bench-probe-admin");
  const int partitions = static_cast<int>(a.Num("partitions", 1));
  std::vector<rd_kafka_NewTopic_t*> nts;
  char err[512];
  for (auto& t : a.topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.c_str(), partitions, 1, err, sizeof err);
    if (!nt) Die(std::string("NewTopic: ") + err);
    nts.push_back(nt);
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, nts.data(), nts.size(), nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  int rc = 0;
  if (!ev) {
    rc = 1;
  } else {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t** trs = res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : nullptr;
    for (size_t i = 0; i < cnt; ++i) {
      if (rd_kafka_topic_result_error(trs[i]) &&
          rd_kafka_topic_result_error(trs[i]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        std::fprintf(stderr, "lh-bench-probe: create %s: %s\n", rd_kafka_topic_result_name(trs[i]),
                     rd_kafka_topic_result_error_string(trs[i]));
        rc = 1;
      }
    }
    rd_kafka_event_destroy(ev);
  }
  // Wait until metadata shows every topic, so a mirror started next sees them.
  for (auto& t : a.topics)
    if (rc == 0 && WaitPartitions(rk, t, NowMono() + 30) != partitions) rc = 1;
  for (auto* nt : nts) rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  std::printf("{\"created\":%zu,\"ok\":%s}\n", a.topics.size(), rc ? "false" : "true");
  return rc;
}

int Delete(const Args& a) {
  rd_kafka_t* rk = MakeConsumer(a, "lh-bench-probe-admin");
  std::vector<rd_kafka_DeleteTopic_t*> dts;
  for (auto& t : a.topics) dts.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_DeleteTopics(rk, dts.data(), dts.size(), nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  int rc = 0;
  if (!ev) {
    rc = 1;
  } else {
    const rd_kafka_DeleteTopics_result_t* res = rd_kafka_event_DeleteTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t** trs = res ? rd_kafka_DeleteTopics_result_topics(res, &cnt) : nullptr;
    for (size_t i = 0; i < cnt; ++i) {
      if (rd_kafka_topic_result_error(trs[i]) &&
          rd_kafka_topic_result_error(trs[i]) != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        std::fprintf(stderr, "lh-bench-probe: delete %s: %s\n", rd_kafka_topic_result_name(trs[i]),
                     rd_kafka_topic_result_error_string(trs[i]));
        rc = 1;
      }
    }
    rd_kafka_event_destroy(ev);
  }
  for (auto* d : dts) rd_kafka_DeleteTopic_destroy(d);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  std::printf("{\"deleted\":%zu,\"ok\":%s}\n", a.topics.size(), rc ? "false" : "true");
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  Args a = ParseArgs(argc, argv);
  if (a.topics.empty()) Die("--topic is required");
  if (a.cmd == "watch") return Watch(a);
  if (a.cmd == "count") return Count(a);
  if (a.cmd == "latency") return Latency(a);
  if (a.cmd == "create") return Create(a);
  if (a.cmd == "delete") return Delete(a);
  Die("unknown command " + a.cmd);
}
