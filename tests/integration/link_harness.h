// Shared pieces of the link integration tests (edge and hub as separate
// `longhaul run --role edge|hub` processes): a throw-away PKI from
// scripts/make-test-certs, a link config writer, role processes, and
// readers for /metrics samples and a process's resident memory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "mirror_harness.h"

namespace longhaul::testing {

// One throw-away PKI for the whole test binary.
inline const std::string& CertDir() {
  static const std::string dir = [] {
    std::string d = absl::StrCat(::testing::TempDir(), "/longhaul-link-certs-", getpid());
    const std::filesystem::path script = std::filesystem::path(LONGHAUL_SOURCE_DIR) / "scripts/make-test-certs";
    auto p = ChildProcess::Spawn(script.string(), {d, "--edge-name", "edge-1"});
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      EXPECT_EQ((*p)->WaitForExit(seconds(60)), 0) << (*p)->Output();
    }
    return d;
  }();
  return dir;
}

inline std::string Cert(const std::string& name) { return CertDir() + "/" + name; }

// The value of the first sample of `name` whose labels contain `label`
// (e.g. "role=\"edge\""), or -1.
inline double MetricValue(const std::string& metrics, const std::string& name, const std::string& label = "") {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    if (!label.empty() && !absl::StrContains(line, label)) continue;
    double v = -1;
    size_t space = line.rfind(' ');
    if (absl::SimpleAtod(line.substr(space + 1), &v)) return v;
  }
  return -1;
}

inline int64_t VmRssBytes(int pid) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(f, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kb = 0;
      absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(line).substr(6, line.size() - 9)), &kb);
      return kb * 1024;
    }
  }
  return -1;
}

struct LinkSpec {
  std::string pipeline = "p";
  std::vector<std::string> include;
  std::string rename = "l.{topic}";
  int lanes = 4;
  int hub_port = 0;   // the hub listens here
  int dial_port = 0;  // the edge dials here (the hub, or a proxy in front of it)
  std::string edge_cert = "edge.pem";  // "" sends no client certificate
  std::string edge_key = "edge.key";
  std::string edge_ca = "ca.pem";
  std::string compression = "zstd";
  std::string buffer_bytes = "64MiB";
  std::string commit_interval = "200ms";
  int connections = 2;
  std::string edges = "one";  // the pipeline's `edges`
  // More hub addresses for the edge to try (an edge hub list), after dial_port.
  std::vector<int> more_dial_ports;
  std::string on_source_gap;  // the default (stop) when empty
  // Extra lines for the pipeline's section, each indented by four spaces.
  std::vector<std::string> pipeline_lines;
  // More YAML lines under links.<l>.hub and pipelines.<p> (each line
  // complete with its indentation: 6 and 4 spaces), e.g. hub limits.
  std::string hub_settings;
  std::string pipeline_settings;
};

inline std::string WriteLinkConfig(const std::string& source, const std::string& target, const LinkSpec& s,
                            const std::string& tag) {
  std::string path = absl::StrCat(::testing::TempDir(), "/longhaul-link-", s.pipeline, "-", tag, "-",
                                  std::random_device{}(), ".yaml");
  std::ofstream f(path);
  f << "clusters:\n  src:\n    bootstrap: \"" << source << "\"\n  dst:\n    bootstrap: \"" << target << "\"\n";
  f << "links:\n  sat:\n";
  f << "    edge:\n      hub: \"127.0.0.1:" << s.dial_port;
  for (int port : s.more_dial_ports) f << ",127.0.0.1:" << port;
  f << "\"\n      server_name: localhost\n";
  f << "      ca_file: " << Cert(s.edge_ca) << "\n";
  if (!s.edge_cert.empty()) {
    f << "      cert_file: " << Cert(s.edge_cert) << "\n      key_file: " << Cert(s.edge_key) << "\n";
  }
  f << "      connections: " << s.connections << "\n      compression: " << s.compression << "\n      buffer_bytes: " << s.buffer_bytes
    << "\n      heartbeat_interval: 200ms\n      dead_link_timeout: 3s\n";
  f << "    hub:\n      listen: \"127.0.0.1:" << s.hub_port << "\"\n      ca_file: " << Cert("ca.pem")
    << "\n      cert_file: " << Cert("hub.pem") << "\n      key_file: " << Cert("hub.key")
    << "\n      identities:\n        \"longhaul://edge/edge-1\": [\"" << s.pipeline << "\"]\n";
  if (s.edges == "many") f << "        \"longhaul://edge/other-edge\": [\"" << s.pipeline << "\"]\n";
  f << s.hub_settings;
  f << "pipelines:\n  " << s.pipeline << ":\n    source: src\n    target: dst\n    via: sat\n    topics:\n"
    << "      include: [";
  for (size_t i = 0; i < s.include.size(); ++i) f << (i ? ", " : "") << '"' << s.include[i] << '"';
  f << "]\n    edges: " << s.edges << "\n    rename: \"" << s.rename << "\"\n    lanes: " << s.lanes
    << "\n    commit_interval: "
    << s.commit_interval << "\n    discovery_interval: 2s\n";
  if (!s.on_source_gap.empty()) f << "    on_source_gap: " << s.on_source_gap << "\n";
  for (const std::string& line : s.pipeline_lines) f << "    " << line << "\n";
  f << s.pipeline_settings;
  f << "worker:\n  drain_timeout: 10s\n";
  f << "admin:\n  listen: \"127.0.0.1:0\"\n";
  return path;
}

inline std::unique_ptr<ChildProcess> StartRole(const std::string& config, const std::string& role) {
  auto p = ChildProcess::Spawn(LonghaulBinary(), {"run", "-c", config, "--role", role});
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

}  // namespace longhaul::testing
