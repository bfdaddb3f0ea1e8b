// The fuzz body for the link's untrusted-input decoders, shared by the
// libFuzzer entry (frame_fuzz_main.cc, clang only) and the g++ unit test
// that runs it over mutated frames. Beyond "never crashes", it checks the
// canonical-encoding promise: whatever decodes re-encodes to the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "longhaul/base/check.h"
#include "longhaul/transport/frame.h"
#include "longhaul/transport/record_codec.h"

namespace longhaul::transport::fuzz {

// Returns 1 when the input decoded as a frame, 0 otherwise.
inline int FuzzFrameDecoders(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const FrameLimits limits{size_t{1} << 20};
  absl::StatusOr<Frame> frame = DecodeFrame(input, limits);
  if (!frame.ok()) return 0;
  LH_CHECK(EncodeFrame(*frame) == input);
  if (const auto* batch = std::get_if<DataFrame>(&*frame)) {
    absl::StatusOr<std::vector<Record>> records = DecodeRecords(*batch, size_t{4} << 20);
    if (records.ok() && batch->compression == Compression::kNone) {
      DataFrame again = *batch;
      LH_CHECK(EncodeRecords(*records, CompressionOptions{Compression::kNone, 0}, &again).ok());
      LH_CHECK(again.records == batch->records);
      LH_CHECK(again.record_count == batch->record_count);
    }
  }
  return 1;
}

}  // namespace longhaul::transport::fuzz
