// `longhaul run`: loads the config, starts every pipeline, serves signals
// (SIGTERM/SIGINT drain within worker.drain_timeout, then exit 0).
#pragma once

#include <string>

namespace longhaul::gateway {

inline constexpr const char* kLonghaulVersion = "0.1.0";

struct CommonOptions {
  std::string config_file;
};

int RunCommand(const CommonOptions& opts);

}  // namespace longhaul::gateway
