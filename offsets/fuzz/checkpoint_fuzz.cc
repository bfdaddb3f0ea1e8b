// libFuzzer entry point for the decoders of untrusted offsets records: the
// checkpoint value and key, and the offset-sync value. Beyond "never
// crashes", it checks the canonical-encoding promise: whatever decodes
// re-encodes to the identical bytes. Build: offsets/CMakeLists.txt
// (LONGHAUL_FUZZ, clang only).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "longhaul/base/check.h"
#include "longhaul/offsets/checkpoint.h"
#include "longhaul/offsets/offset_sync.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace longhaul::offsets;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto checkpoint = DecodeCheckpoint(input); checkpoint.ok()) {
    std::string again;
    EncodeCheckpoint(*checkpoint, &again);
    LH_CHECK(again == input);
  }
  if (auto sync = DecodeOffsetSync(input); sync.ok()) {
    std::string again;
    EncodeOffsetSync(*sync, &again);
    LH_CHECK(again == input);
  }
  if (auto key = DecodeCheckpointKey(input); key.ok()) {
    LH_CHECK(EncodeCheckpointKey(*key) == input);
  }
  return 0;
}
