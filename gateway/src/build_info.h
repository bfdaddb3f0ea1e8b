// What build is running: the version from CMake, the git revision, and the
// versions of the libraries that matter when reading a bug report. Printed
// by `longhaul --version`, logged at start and exported as the labels of
// the `longhaul_build_info` gauge.
#pragma once

#include <string>

namespace longhaul::gateway {

struct BuildInfo {
  std::string version;    // project(VERSION) in CMakeLists.txt, e.g. "0.1.0"
  std::string revision;   // git describe of the source tree, "unknown" without git
  std::string librdkafka; // the librdkafka loaded at run time, e.g. "2.0.2"
  std::string openssl;    // the OpenSSL loaded at run time, e.g. "3.0.17"
  std::string boost;      // the Boost headers compiled in, e.g. "1.81.0"
};

const BuildInfo& GetBuildInfo();

// "longhaul 0.1.0 (revision abc)\nlibrdkafka 2.0.2\nOpenSSL 3.0.17\nBoost 1.81.0\n"
std::string BuildInfoText();

}  // namespace longhaul::gateway
