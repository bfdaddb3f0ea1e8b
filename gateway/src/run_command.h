// `longhaul run`: loads the config, starts every pipeline, serves signals
// (SIGTERM/SIGINT drain within worker.drain_timeout, then exit 0; SIGHUP
// re-reads the config: see config_reload.h).
#pragma once

#include <string>

namespace longhaul::gateway {

// project(VERSION) from CMakeLists.txt (a compile definition of this library).
inline constexpr const char* kLonghaulVersion = LONGHAUL_VERSION;

// Which halves of the pipelines `longhaul run` starts. Direct pipelines
// run only with kAll; a pipeline `via` a link runs its edge half with kEdge
// or kAll and its hub half with kHub or kAll (kAll over the real TLS link,
// in one process).
enum class Role { kAll, kEdge, kHub };

struct CommonOptions {
  std::string config_file;
  Role role = Role::kAll;
  // --log-level was given: it wins over worker.log_level, also on SIGHUP.
  bool log_level_from_command_line = false;
};

int RunCommand(const CommonOptions& opts);

}  // namespace longhaul::gateway
