// Runs the libFuzzer body (transport/fuzz/frame_fuzz.h) under g++ over
// randomly mutated valid frames, for a bounded number of iterations: no
// input may crash, and whatever decodes must re-encode to the same bytes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "frame_fuzz.h"
#include "longhaul/transport/crc32c.h"
#include "longhaul/transport/frame.h"
#include "longhaul/transport/record_codec.h"

namespace longhaul::transport {
namespace {

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  HelloFrame hello;
  hello.pipeline = "p";
  hello.edge_name = "e";
  hello.connection_count = 3;
  hello.connection_index = 2;
  seeds.push_back(EncodeFrame(hello));
  seeds.push_back(EncodeFrame(ResumeFrame{3, {{{"a", 0}, 5}, {{"a", 9}, 0}, {{"b", 1}, 7}}}));
  seeds.push_back(EncodeFrame(AckFrame{{1, 2, 300}, {{{"a", 0}, 6}}, 1500}));
  seeds.push_back(EncodeFrame(ReportFrame{1700000000000, 1 << 20, 256 << 20, {{{"a", 0}, 9, 5, 1699999999000, 2, 0}}}));
  seeds.push_back(EncodeFrame(CreditFrame{1 << 20}));
  seeds.push_back(EncodeFrame(PingFrame{1, 2}));
  seeds.push_back(EncodeFrame(PongFrame{1, 2, 3}));
  seeds.push_back(EncodeFrame(ErrorFrame{absl::StatusCode::kDataLoss, "bad"}));
  seeds.push_back(EncodeFrame(CloseFrame{"bye"}));
  for (Compression codec : {Compression::kNone, Compression::kZstd, Compression::kLz4}) {
    std::vector<Record> records(4);
    for (int i = 0; i < 4; ++i) {
      records[i].offset = 10 + 2 * i;
      records[i].timestamp_ms = 1000 - i;
      if (i != 1) records[i].key = "key" + std::to_string(i);
      if (i != 2) records[i].value = std::string(40, static_cast<char>('a' + i));
      records[i].headers = {{"h", i == 3 ? std::nullopt : std::optional<std::string>("v")}};
    }
    DataFrame data;
    data.batch_id = 9;
    data.topic = "t";
    data.partition = 1;
    data.first_offset = 9;
    data.last_offset = 17;
    EncodeRecords(records, CompressionOptions{codec, 1}, &data).IgnoreError();
    seeds.push_back(EncodeFrame(data));
  }
  return seeds;
}

void FixChecksum(std::string* frame) {
  if (frame->size() < 12) return;
  const uint32_t crc = Crc32c(0, frame->data(), frame->size() - 4);
  for (int i = 0; i < 4; ++i) (*frame)[frame->size() - 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
}

TEST(FrameFuzz, SurvivesMutatedFramesAndReencodesWhateverItAccepts) {
  const std::vector<std::string> seeds = Seeds();
  std::mt19937_64 rng(11);
  int accepted = 0;
  constexpr int kIterations = 60000;
  for (int i = 0; i < kIterations; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !input.empty(); ++e) {
      const size_t at = rng() % input.size();
      switch (rng() % 5) {
        case 0: input[at] = static_cast<char>(rng()); break;
        case 1: input[at] = static_cast<char>(input[at] ^ (1 << (rng() % 8))); break;
        case 2: input.insert(at, 1, static_cast<char>(rng())); break;
        case 3: input.erase(at, 1); break;
        default: input.resize(at); break;
      }
    }
    // Most mutations only hit the checksum; half the time, repair it (and
    // the length) so the payload decoders get exercised too.
    if (rng() % 2 == 0 && input.size() >= 12) {
      const uint32_t payload = static_cast<uint32_t>(input.size() - 12);
      for (int b = 0; b < 4; ++b) input[4 + b] = static_cast<char>(payload >> (24 - 8 * b));
      FixChecksum(&input);
    }
    accepted += fuzz::FuzzFrameDecoders(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  EXPECT_GT(accepted, 100);  // the corruption reached past the checks often enough
}

}  // namespace
}  // namespace longhaul::transport
