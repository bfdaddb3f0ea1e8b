// libFuzzer entry point for the hub session engine (sequences of frames and
// handler calls). Build: transport/CMakeLists.txt (LONGHAUL_FUZZ, clang only).
#include "hub_engine_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  longhaul::transport::fuzz::FuzzHubEngine(data, size);
  return 0;
}
