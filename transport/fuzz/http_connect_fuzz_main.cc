// libFuzzer entry point for the HTTP CONNECT answer parser. Build:
// transport/CMakeLists.txt (LONGHAUL_FUZZ, clang only).
#include "http_connect_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  longhaul::transport::fuzz::FuzzConnectAnswer(data, size);
  return 0;
}
