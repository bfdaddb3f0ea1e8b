#include "longhaul/testing/kafka_clusters.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "longhaul/testing/child_process.h"

namespace longhaul::testing {
namespace {

using std::chrono::milliseconds;

// Bounds for the script: it waits up to 60 s per broker itself; stop and
// destroy allow 20 s before SIGKILL.
constexpr milliseconds kStartTimeout{120'000};
constexpr milliseconds kStopTimeout{60'000};

std::string ScriptPath() { return LONGHAUL_SOURCE_DIR "/scripts/kafka-cluster"; }

absl::Status RunKafkaCluster(std::vector<std::string> args, milliseconds timeout) {
  const std::string what = absl::StrCat("scripts/kafka-cluster ", absl::StrJoin(args, " "));
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(ScriptPath(), std::move(args));
  if (!child.ok()) return child.status();
  std::optional<int> code = (*child)->WaitForExit(timeout);
  if (!code.has_value()) {
    (*child)->Kill(SIGKILL);
    return absl::DeadlineExceededError(absl::StrCat(what, " did not finish within ", timeout.count(),
                                                    " ms; its output:\n", (*child)->Output()));
  }
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(what, " failed with exit code ", *code, "; its output:\n",
                                            (*child)->Output()));
  }
  std::remove((*child)->output_path().c_str());  // kept only when it explains a failure
  return absl::OkStatus();
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return std::string(absl::StripAsciiWhitespace(line));
}

struct SharedPair {
  std::string source;
  std::string target;
  std::unique_ptr<KafkaClusters> clusters;  // only when this process started them
  std::string error;
};

SharedPair StartSharedPair() {
  SharedPair pair;
  const char* source = std::getenv(kSourceBootstrapEnv);
  const char* target = std::getenv(kTargetBootstrapEnv);
  const bool has_source = source != nullptr && *source != '\0';
  const bool has_target = target != nullptr && *target != '\0';
  if (has_source && has_target) {
    pair.source = source;
    pair.target = target;
    return pair;
  }
  if (has_source != has_target) {
    pair.error = absl::StrCat("set both ", kSourceBootstrapEnv, " and ", kTargetBootstrapEnv,
                              " or neither; only ", has_source ? kSourceBootstrapEnv : kTargetBootstrapEnv,
                              " is set");
    return pair;
  }
  pair.clusters = KafkaClusters::Start({"source", "target"});
  if (pair.clusters == nullptr) {
    pair.error = "could not start the shared source/target clusters (see the failure above)";
    return pair;
  }
  pair.source = pair.clusters->Bootstrap("source");
  pair.target = pair.clusters->Bootstrap("target");
  return pair;
}

// Destroyed at exit, which stops brokers this process started.
const SharedPair& Shared() {
  static SharedPair pair = StartSharedPair();
  return pair;
}

}  // namespace

std::unique_ptr<KafkaClusters> KafkaClusters::Start(std::vector<std::string> names, ClusterSecurity security) {
  if (names.empty()) {
    ADD_FAILURE() << "KafkaClusters::Start needs at least one cluster name";
    return nullptr;
  }
  std::string pattern = absl::StrCat(::testing::TempDir(), "longhaul-kafka-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "cannot create a temporary directory from " << pattern << ": " << std::strerror(errno);
    return nullptr;
  }
  const std::string dir = pattern;
  // --owner-pid: the script's watcher removes the clusters if this process
  // dies without running destructors (abort, SIGKILL, test timeout).
  std::vector<std::string> args = {"start", "--dir", dir, "--owner-pid", std::to_string(getpid())};
  if (security.protocol != "plaintext") {
    args.insert(args.end(), {"--security", security.protocol});
    for (const std::string& user : security.scram_users) args.insert(args.end(), {"--scram-user", user});
    if (security.authorizer) args.push_back("--authorizer");
  }
  args.insert(args.end(), names.begin(), names.end());
  if (absl::Status started = RunKafkaCluster(args, kStartTimeout); !started.ok()) {
    ADD_FAILURE() << "cannot start Kafka clusters " << absl::StrJoin(names, ", ") << " in " << dir << ": "
                  << started.message();
    absl::Status destroyed = RunKafkaCluster({"destroy", "--dir", dir}, kStopTimeout);
    if (!destroyed.ok()) ADD_FAILURE() << destroyed.message();
    return nullptr;
  }
  std::map<std::string, std::string, std::less<>> bootstraps;
  for (const std::string& name : names) {
    std::string bootstrap = ReadFirstLine(absl::StrCat(dir, "/", name, "/bootstrap"));
    if (bootstrap.empty()) {
      ADD_FAILURE() << "Kafka cluster " << name << " in " << dir << " started but has no bootstrap file";
    }
    bootstraps[name] = std::move(bootstrap);
  }
  return std::unique_ptr<KafkaClusters>(new KafkaClusters(dir, std::move(bootstraps)));
}

KafkaClusters::~KafkaClusters() {
  absl::Status destroyed = RunKafkaCluster({"destroy", "--dir", dir_}, kStopTimeout);
  if (!destroyed.ok()) ADD_FAILURE() << "cannot destroy Kafka clusters in " << dir_ << ": " << destroyed.message();
}

std::string KafkaClusters::Bootstrap(std::string_view name) const {
  auto it = bootstraps_.find(name);
  if (it == bootstraps_.end()) {
    ADD_FAILURE() << "no Kafka cluster named '" << name << "' in " << dir_;
    return "";
  }
  return it->second;
}

std::map<std::string, std::string> KafkaClusters::ClientProperties(std::string_view name) const {
  std::map<std::string, std::string> out;
  if (Bootstrap(name).empty()) return out;
  std::ifstream in(absl::StrCat(dir_, "/", std::string(name), "/client.properties"));
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos || line.empty() || line[0] == '#') continue;
    out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

absl::Status KafkaClusters::Acls(std::string_view name, std::vector<std::string> args) {
  std::vector<std::string> all = {"acls", "--dir", dir_, std::string(name)};
  all.insert(all.end(), args.begin(), args.end());
  return RunKafkaCluster(std::move(all), kStartTimeout);
}

std::string KafkaClusters::CertsDir(std::string_view name) const {
  if (Bootstrap(name).empty()) return "";
  return ReadFirstLine(absl::StrCat(dir_, "/", std::string(name), "/certs-dir"));
}

absl::Status KafkaClusters::RunScript(std::string_view command, std::vector<std::string> names,
                                      milliseconds timeout) const {
  for (const std::string& name : names) {
    if (!bootstraps_.contains(name)) {
      return absl::NotFoundError(absl::StrCat("no Kafka cluster named '", name, "' in ", dir_));
    }
  }
  std::vector<std::string> args = {std::string(command), "--dir", dir_};
  args.insert(args.end(), names.begin(), names.end());
  return RunKafkaCluster(std::move(args), timeout);
}

absl::Status KafkaClusters::Stop(std::string_view name) {
  return RunScript("stop", {std::string(name)}, kStopTimeout);
}

absl::Status KafkaClusters::Restart(std::string_view name) {
  return RunScript("restart", {std::string(name)}, kStopTimeout + kStartTimeout);
}

absl::Status KafkaClusters::Kill(std::string_view name) {
  return RunScript("kill", {std::string(name)}, kStopTimeout);
}

std::string KafkaClusters::SharedSourceBootstrap() {
  const SharedPair& pair = Shared();
  if (!pair.error.empty()) ADD_FAILURE() << pair.error;
  return pair.source;
}

std::string KafkaClusters::SharedTargetBootstrap() {
  const SharedPair& pair = Shared();
  if (!pair.error.empty()) ADD_FAILURE() << pair.error;
  return pair.target;
}

}  // namespace longhaul::testing
