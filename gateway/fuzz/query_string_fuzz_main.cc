// libFuzzer entry point for the admin API's query-string decoder. Build:
// gateway/CMakeLists.txt (LONGHAUL_FUZZ, clang only).
#include "query_string_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  longhaul::gateway::fuzz::FuzzQueryString(data, size);
  return 0;
}
