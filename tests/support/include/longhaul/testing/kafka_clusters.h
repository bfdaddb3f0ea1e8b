// Real Kafka brokers for integration tests, started by scripts/kafka-cluster:
// independent single-node KRaft clusters on free loopback ports. Tests that
// stop or kill a broker start their own; all other tests share one
// source/target pair (see SharedSourceBootstrap).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace longhaul::testing {

inline constexpr char kSourceBootstrapEnv[] = "LONGHAUL_TEST_SOURCE_BOOTSTRAP";
inline constexpr char kTargetBootstrapEnv[] = "LONGHAUL_TEST_TARGET_BOOTSTRAP";

// How the clusters of one Start are secured (scripts/kafka-cluster's
// --security, --scram-user and --authorizer).
struct ClusterSecurity {
  // "plaintext", "ssl" (TLS, client certificates required) or "sasl_ssl"
  // (TLS plus SCRAM-SHA-512). Each cluster gets its own test CA.
  std::string protocol = "plaintext";
  // SCRAM users besides admin, as "NAME=PASSWORD" (sasl_ssl only).
  std::vector<std::string> scram_users;
  // StandardAuthorizer, no access without an ACL; admin is a super user.
  bool authorizer = false;
};

class KafkaClusters {
 public:
  // Starts one cluster per name (in parallel) in a fresh temporary directory
  // and waits until each serves requests. On failure records a gtest failure
  // with the script's output (which includes the broker log tail) and
  // returns nullptr. If this process dies without running the destructor,
  // the script's watcher removes the clusters.
  static std::unique_ptr<KafkaClusters> Start(std::vector<std::string> names, ClusterSecurity security = {});

  // Stops every broker (SIGKILL after a bounded wait) and deletes the
  // directory, so a failing test still cleans up.
  ~KafkaClusters();
  KafkaClusters(const KafkaClusters&) = delete;
  KafkaClusters& operator=(const KafkaClusters&) = delete;

  // "127.0.0.1:PORT"; stays the same across Stop/Restart/Kill. An unknown
  // name records a gtest failure and returns "".
  std::string Bootstrap(std::string_view name) const;

  // Graceful stop (SIGTERM, SIGKILL after 20 s); data is kept.
  absl::Status Stop(std::string_view name);
  // Starts a stopped or killed cluster again on the same ports with its data
  // (a running one is stopped first) and waits until it serves requests.
  absl::Status Restart(std::string_view name);
  // SIGKILL, as in a crash; data written so far stays on disk.
  absl::Status Kill(std::string_view name);

  // The directory holding DIR/NAME/{server.properties,data,log/server.log}.
  const std::string& dir() const { return dir_; }

  // The librdkafka properties a client of a secured cluster needs, as the
  // super user admin (security.protocol, ssl.ca.location, and the admin's
  // certificate or SASL user and password); empty for a PLAINTEXT cluster.
  std::map<std::string, std::string> ClientProperties(std::string_view name) const;
  // The cluster's test PKI (scripts/make-test-certs): ca.pem, rogue-ca.pem,
  // kafka-admin.pem/.key, kafka-client.pem/.key (CN=longhaul). Empty for a
  // PLAINTEXT cluster.
  std::string CertsDir(std::string_view name) const;
  // Runs Kafka's ACL tool (kafka-acls) against a secured cluster as its
  // super user, with `args` such as {"--add", "--allow-principal", "User:x",
  // "--operation", "Write", "--transactional-id", "x."}.
  absl::Status Acls(std::string_view name, std::vector<std::string> args);

  // The shared pair for tests that do not stop brokers: the addresses in
  // LONGHAUL_TEST_SOURCE_BOOTSTRAP / LONGHAUL_TEST_TARGET_BOOTSTRAP (set by
  // the test script), or else a pair started on first use and destroyed at
  // process exit, so that one test can run on its own. Records a gtest
  // failure and returns "" if the pair cannot be started. Thread-safe.
  static std::string SharedSourceBootstrap();
  static std::string SharedTargetBootstrap();

 private:
  KafkaClusters(std::string dir, std::map<std::string, std::string, std::less<>> bootstraps)
      : dir_(std::move(dir)), bootstraps_(std::move(bootstraps)) {}
  absl::Status RunScript(std::string_view command, std::vector<std::string> names,
                         std::chrono::milliseconds timeout) const;

  std::string dir_;
  std::map<std::string, std::string, std::less<>> bootstraps_;
};

}  // namespace longhaul::testing
