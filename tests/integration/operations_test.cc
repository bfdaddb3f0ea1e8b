// Running longhaul as operators do: `longhaul status` reads every lane's
// owner, checkpoints and lag from Kafka alone; under systemd the process
// says READY=1 and, on SIGTERM, asks for its drain time; SIGHUP refuses an
// invalid config and keeps replicating with the running one.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "admin_http.h"
#include "longhaul/testing/kafka_clusters.h"
#include "longhaul/testing/unique_name.h"
#include "mirror_harness.h"

namespace longhaul::testing {
namespace {

struct Result {
  int exit_code;
  std::string output;
};

Result Status(const std::string& config, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"status", "-c", config};
  args.insert(args.end(), extra.begin(), extra.end());
  auto p = ChildProcess::Spawn(LonghaulBinary(), args);
  EXPECT_TRUE(p.ok());
  if (!p.ok()) return {-1, ""};
  auto code = (*p)->WaitForExit(seconds(90));
  return {code.value_or(-1), (*p)->Output()};
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

TEST(LonghaulStatus, ShowsEveryLaneOwnerCheckpointAndLagFromKafkaAlone) {
  KafkaTestClient source(KafkaClusters::SharedSourceBootstrap());
  KafkaTestClient target(KafkaClusters::SharedTargetBootstrap());
  const std::string topic = UniqueName("status");
  ASSERT_TRUE(source.CreateTopic(topic, 4).ok());
  for (int p = 0; p < 4; ++p) ASSERT_TRUE(source.Produce(topic, p, VariedRecords(50, 10 + p)).ok());
  PipelineSpec spec;
  spec.name = UniqueName("st");
  spec.include = {topic};
  spec.lanes = 3;
  const std::string config = WriteConfig(source.bootstrap(), target.bootstrap(), spec);

  // Before any worker ran: no owner, no checkpoint topic, all 200 records behind.
  Result before = Status(config, {"--pipeline", spec.name, "--json"});
  ASSERT_EQ(before.exit_code, 0) << before.output;
  EXPECT_EQ(Count(before.output, "\"owner\":null"), 3) << before.output;
  EXPECT_THAT(before.output, ::testing::HasSubstr("has not run yet"));
  EXPECT_EQ(Count(before.output, "\"checkpointed\":false"), 4) << before.output;
  EXPECT_EQ(Count(before.output, "\"source_end_offset\":50,\"lag_records\":50,"), 4) << before.output;

  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  ExpectExactlyOnce(source, target, topic, topic, 4, seconds(90), worker.get());

  // Caught up: every lane owned by the one worker, every partition
  // checkpointed at its end (50), lag 0.
  std::string json;
  bool settled = WaitFor(
      [&] {
        Result r = Status(config, {"--pipeline", spec.name, "--json"});
        json = r.output;
        return r.exit_code == 0 && Count(json, "\"owner\":{\"member_id\"") == 3 &&
               Count(json, "\"checkpointed\":true,\"next_source_offset\":50,\"source_end_offset\":50,\"lag_records\":0") == 4;
      },
      seconds(60), milliseconds(1000));
  EXPECT_TRUE(settled) << json << "\n" << worker->Describe();
  EXPECT_THAT(json, ::testing::HasSubstr("\"lane_group\":\"__longhaul." + spec.name + ".lanes\""));
  EXPECT_THAT(json, ::testing::HasSubstr("\"group_state\":\"Stable\""));
  EXPECT_THAT(json, ::testing::HasSubstr("\"members\":1"));
  EXPECT_EQ(Count(json, "\"last_checkpoint_ms\":-1"), 0) << "a lane without a checkpoint: " << json;

  Result text = Status(config);
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, ::testing::HasSubstr("3/3 lanes owned by 1 workers"));
  EXPECT_THAT(text.output, ::testing::HasSubstr(topic + "[3]"));

  // The worker drains and leaves the lane group: lanes without owner.
  worker->Kill(SIGTERM);
  ASSERT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
  Result after = Status(config, {"--pipeline", spec.name, "--json"});
  EXPECT_EQ(Count(after.output, "\"owner\":null"), 3) << after.output;
  EXPECT_THAT(after.output, ::testing::HasSubstr("\"members\":0"));

  Result unknown = Status(config, {"--pipeline", "no-such-pipeline"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.output, ::testing::HasSubstr("no pipeline named 'no-such-pipeline'"));
}

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  NotifySocket() : path_(::testing::TempDir() + "/" + UniqueName("notify") + ".sock") {
    fd_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  // The next message, or "" after `timeout`.
  std::string Next(milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[512];
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) return std::string(buf, n);
    }
    return "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(LonghaulRun, TellsSystemdItIsReadyAndAsksForItsDrainTimeOnStop) {
  NotifySocket notify;
  ASSERT_TRUE(notify.bound()) << notify.path();
  const std::string topic = UniqueName("notify");
  KafkaTestClient source(KafkaClusters::SharedSourceBootstrap());
  ASSERT_TRUE(source.CreateTopic(topic, 1).ok());
  PipelineSpec spec;
  spec.name = UniqueName("notify");
  spec.include = {topic};
  spec.drain_timeout = "20s";
  const std::string config = WriteConfig(source.bootstrap(), KafkaClusters::SharedTargetBootstrap(), spec);
  auto worker = ChildProcess::Spawn(LonghaulBinary(), {"run", "-c", config}, {{"NOTIFY_SOCKET", notify.path()}});
  ASSERT_TRUE(worker.ok());
  EXPECT_EQ(notify.Next(seconds(60)), "READY=1") << (*worker)->Describe();
  (*worker)->Kill(SIGTERM);
  // drain_timeout 20 s + 5 s for the watchdog and exit, in microseconds.
  EXPECT_EQ(notify.Next(seconds(10)), "STOPPING=1\nEXTEND_TIMEOUT_USEC=25000000") << (*worker)->Describe();
  EXPECT_EQ((*worker)->WaitForExit(seconds(40)), 0) << (*worker)->Describe();
}

int ReloadCount(int port, const std::string& result) {
  auto reply = HttpGet(port, "/metrics");
  if (!reply.ok()) return -1;
  std::smatch m;
  std::regex line("longhaul_config_reloads_total\\{result=\"" + result + "\"\\} ([0-9.]+)");
  if (!std::regex_search(reply->body, m, line)) return -1;
  return static_cast<int>(std::stod(m[1]));
}

TEST(LonghaulRun, SighupRefusesAnInvalidConfigKeepsReplicatingAndNamesChangesNeedingRestart) {
  KafkaTestClient source(KafkaClusters::SharedSourceBootstrap());
  KafkaTestClient target(KafkaClusters::SharedTargetBootstrap());
  const std::string topic = UniqueName("reload");
  ASSERT_TRUE(source.CreateTopic(topic, 2).ok());
  for (int p = 0; p < 2; ++p) ASSERT_TRUE(source.Produce(topic, p, VariedRecords(100, 20 + p)).ok());
  PipelineSpec spec;
  spec.name = UniqueName("reload");
  spec.include = {topic};
  const std::string config = WriteConfig(source.bootstrap(), target.bootstrap(), spec);
  std::string valid;
  {
    std::ifstream in(config);
    valid.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto worker = StartLonghaul(config);
  ASSERT_NE(worker, nullptr);
  int port = AdminPort(*worker);
  ASSERT_GT(port, 0) << worker->Describe();
  ExpectExactlyOnce(source, target, topic, topic, 2, seconds(90), worker.get());
  EXPECT_EQ(ReloadCount(port, "rejected"), 0);

  // An invalid file: refused with the key at fault, the process replicates on.
  std::string invalid = std::regex_replace(valid, std::regex("lanes: [0-9]+"), "lanes: 0");
  ASSERT_NE(invalid, valid);
  std::ofstream(config) << invalid;
  worker->Kill(SIGHUP);
  EXPECT_TRUE(WaitFor([&] { return ReloadCount(port, "rejected") == 1; }, seconds(20), milliseconds(200)))
      << worker->Describe();
  EXPECT_TRUE(worker->IsRunning()) << worker->Describe();
  EXPECT_THAT(worker->Output(), ::testing::HasSubstr("config reload refused"));
  // The reason names the file, line and column, and the key at fault.
  EXPECT_TRUE(std::regex_search(worker->Output(),
                                std::regex(config + ":[0-9]+:[0-9]+: pipelines\\." + spec.name + "\\.lanes")))
      << worker->Output();
  for (int p = 0; p < 2; ++p) ASSERT_TRUE(source.Produce(topic, p, VariedRecords(100, 40 + p)).ok());
  ExpectExactlyOnce(source, target, topic, topic, 2, seconds(90), worker.get());

  // A valid file with a new log level and a setting only a process restart
  // applies: the level is taken over (debug lines appear), the other setting
  // is named as needing a restart, and the running value stays.
  std::string changed = std::regex_replace(valid, std::regex("drain_timeout: (\\S+)"), "drain_timeout: $1\n  log_level: debug");
  changed = std::regex_replace(changed, std::regex("listen: (\\S+)"), "listen: $1\n  per_partition_metrics: false");
  ASSERT_NE(changed, valid);
  std::ofstream(config) << changed;
  worker->Kill(SIGHUP);
  EXPECT_TRUE(WaitFor([&] { return ReloadCount(port, "applied") == 1; }, seconds(20), milliseconds(200)))
      << worker->Describe();
  EXPECT_TRUE(WaitFor([&] { return worker->Output().find("admin.per_partition_metrics") != std::string::npos; },
                      seconds(10), milliseconds(200)))
      << worker->Describe();
  EXPECT_THAT(worker->Output(), ::testing::HasSubstr("take effect only after a restart"));
  auto metrics = HttpGet(port, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(metrics->body, ::testing::HasSubstr("\nlonghaul_config_restart_pending 1\n"));
  // Logged at debug level only: the new level is in force.
  EXPECT_THAT(worker->Output(), ::testing::HasSubstr("log level applied"));
  worker->Kill(SIGTERM);
  EXPECT_EQ(worker->WaitForExit(seconds(40)), 0) << worker->Describe();
  ExpectExactlyOnce(source, target, topic, topic, 2, seconds(30), worker.get());
}

}  // namespace
}  // namespace longhaul::testing
