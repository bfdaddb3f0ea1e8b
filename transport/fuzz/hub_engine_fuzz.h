// The fuzz body for the hub's session engine driven by sequences of frames
// and handler calls (not one decoder): hostile input must end the session
// with an error, never crash or break the engine's promises. Shared by the
// libFuzzer entry (hub_engine_fuzz_main.cc, clang) and a g++ unit test.
//
// Input: a list of steps, each `u8 op, u8 length, length bytes`. Frames get
// their header, length and checksum made valid here, so the fuzzer reaches
// the payload decoders and the engine's rules rather than the CRC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hub_engine.h"
#include "longhaul/base/check.h"
#include "longhaul/transport/crc32c.h"
#include "longhaul/transport/frame.h"
#include "longhaul/transport/record_codec.h"

namespace longhaul::transport::fuzz {

// A frame of `type` around `payload` with a valid header and checksum.
inline std::string WrapFrame(uint8_t type, std::string_view payload) {
  std::string f = {'L', 'H', static_cast<char>(kProtocolVersion), static_cast<char>(type)};
  const uint32_t n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>(n >> (24 - 8 * i)));
  f.append(payload);
  const uint32_t crc = Crc32c(0, f.data(), f.size());
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>(crc >> (24 - 8 * i)));
  return f;
}

inline int FuzzHubEngine(const uint8_t* data, size_t size) {
  HubEngineOptions options;
  options.receive_window_bytes = 64 << 10;
  options.max_batch_bytes = 32 << 10;
  options.max_hello_frame_bytes = 1024;
  options.limits.max_frame_bytes = 64 << 10;
  options.max_records_per_batch = 1000;
  options.max_partitions = 8;
  options.max_outbound_bytes = 4096;
  options.dead_link_timeout = std::chrono::seconds(10);
  SteadyTime now{};
  HubSessionEngine engine(options, now);
  // What the engine handed to the "writer": per partition, where the next
  // batch must start; and the batches not yet acknowledged.
  std::map<TopicPartition, int64_t> next;
  std::vector<uint64_t> unacked;
  size_t at = 0;
  while (at + 2 <= size) {
    const uint8_t op = data[at];
    const size_t length = std::min<size_t>(data[at + 1], size - at - 2);
    const std::string_view bytes(reinterpret_cast<const char*>(data + at + 2), length);
    at += 2 + length;
    HubSessionEngine::Inbound in;
    switch (op % 8) {
      case 0:  // a frame of the type in the first byte, made valid around the rest
        if (bytes.empty()) continue;
        in = engine.OnMessage(WrapFrame(static_cast<uint8_t>(static_cast<uint8_t>(bytes[0]) % 12), bytes.substr(1)), now, 0);
        break;
      case 1:  // raw bytes as a message
        in = engine.OnMessage(bytes, now, 0);
        break;
      case 2: {  // a valid hello
        HelloFrame hello;
        hello.pipeline = "p";
        in = engine.OnMessage(EncodeFrame(hello), now, 0);
        break;
      }
      case 3: {  // the handler accepts with a resume point from the bytes
        std::vector<PartitionOffset> resume;
        if (!bytes.empty()) resume.push_back({TopicPartition{"t", static_cast<uint8_t>(bytes[0]) % 4}, static_cast<uint8_t>(bytes.back())});
        if (engine.state() != HubSessionEngine::State::kAwaitAccept) continue;  // ignored then
        for (const auto& r : resume) next[r.partition] = r.offset;
        engine.Accept(resume, 1);
        continue;
      }
      case 4: {  // a well-formed data frame with records from the bytes
        if (bytes.size() < 4) continue;
        DataFrame f;
        f.batch_id = static_cast<uint8_t>(bytes[0]);
        f.topic = "t";
        f.partition = static_cast<uint8_t>(bytes[1]) % 4;
        f.first_offset = static_cast<uint8_t>(bytes[2]);
        f.last_offset = f.first_offset + static_cast<uint8_t>(bytes[3]) % 16;
        std::vector<Record> records;
        for (size_t i = 4; i < bytes.size() && records.size() < 16; ++i) {
          const int64_t o = f.first_offset + static_cast<uint8_t>(bytes[i]) % 16;
          if (o > f.last_offset || (!records.empty() && o <= records.back().offset)) continue;
          Record r;
          r.offset = o;
          r.value = std::string(static_cast<uint8_t>(bytes[i]), 'v');
          records.push_back(std::move(r));
        }
        if (!EncodeRecords(records, CompressionOptions{static_cast<uint8_t>(bytes[0]) % 2 ? Compression::kZstd : Compression::kNone, 1},
                           &f)
                 .ok()) {
          continue;
        }
        in = engine.OnMessage(EncodeFrame(f), now, 0);
        break;
      }
      case 5:  // the writer commits what it holds
        engine.Ack(unacked, {}, now);
        unacked.clear();
        continue;
      case 6: {  // time passes
        now += std::chrono::milliseconds(bytes.empty() ? 1 : static_cast<uint8_t>(bytes[0]) * 100);
        if (!engine.OnTick(now).ok()) return 1;
        continue;
      }
      default:  // the shell writes what is queued
        while (engine.NextFrame()) {
        }
        continue;
    }
    if (!in.error.ok()) return 1;  // the session ends; nothing more to check
    LH_CHECK(engine.queued_bytes() <= options.max_outbound_bytes);
    if (in.batch) {
      const ReceivedBatch& b = *in.batch;
      LH_CHECK(b.first_offset <= b.last_offset);
      auto it = next.find(b.partition);
      if (it != next.end()) LH_CHECK(b.first_offset == it->second);
      next[b.partition] = b.last_offset + 1;
      int64_t previous = b.first_offset - 1;
      for (const Record& r : b.records) {
        LH_CHECK(r.offset > previous && r.offset <= b.last_offset);
        previous = r.offset;
      }
      LH_CHECK(b.decoded_bytes >= kMinBatchCreditBytes);
      unacked.push_back(b.batch_id);
    }
    HubSessionMetrics m;
    engine.FillMetrics(&m);
    LH_CHECK(m.credit_outstanding_bytes <= options.receive_window_bytes);
  }
  return 0;
}

}  // namespace longhaul::transport::fuzz
