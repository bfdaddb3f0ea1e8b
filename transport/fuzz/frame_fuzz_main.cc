// libFuzzer entry point for the link frame and record decoders. Build:
// transport/CMakeLists.txt (LONGHAUL_FUZZ, clang only).
#include "frame_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  longhaul::transport::fuzz::FuzzFrameDecoders(data, size);
  return 0;
}
