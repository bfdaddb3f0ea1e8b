// The edge half of a pipeline that runs via a long-haul link: discovers the
// source topics (as the direct runner does), reads them with one
// read_committed consumer, and ships per-partition batches over an
// transport::EdgeLink to the hub, which writes them in the pipeline's lane
// transactions. The hub decides where each partition resumes; the edge
// never keeps offsets of its own, so it can die at any moment. Private to
// mirror/; created through CreateEdgeRunner (pipeline_runner.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "longhaul/config/config.h"
#include "longhaul/transport/link_options.h"

namespace longhaul::mirror {

// How the edge cuts batches: a partition's batch is handed to the link once
// it holds this many encoded bytes, or this long after its first record.
struct EdgeBatching {
  uint64_t max_bytes = uint64_t{1} << 20;
  std::chrono::milliseconds max_delay{50};
};

// How the edge batches for this link. A frame on the wire cannot be
// overtaken, so on a link with traffic classes or a rate cap (a thin link)
// batches are kept small: 64 KiB, and at most 100 ms of the capped rate
// (not under 16 KiB). At 2 Mbit/s a 1 MiB batch would hold an alarm behind
// it for 4 s; 64 KiB holds it for a quarter of a second, and the frame
// overhead stays under 0.1 %.
EdgeBatching EdgeBatchingFor(const transport::EdgeLinkOptions& options);

// The EdgeLink options of `link` (its edge section) for `pipeline`: the hub
// address split into host and port, TLS files, connections, compression,
// buffer budget, heartbeats. InvalidArgument names the key that is wrong.
absl::StatusOr<transport::EdgeLinkOptions> EdgeLinkOptionsFor(const config::LinkConfig& link,
                                                              const config::PipelineConfig& pipeline,
                                                              const std::string& edge_name);

// Bytes the edge process needs beyond links.<l>.edge.buffer_bytes: the
// consumer's prefetch (kEdgeConsumerQueueBytes plus one fetch response),
// batches being built, librdkafka and the process itself. The memory bound
// documented in docs/edge-and-hub.md and checked by the link test.
inline constexpr int64_t kEdgeConsumerQueueBytes = int64_t{8} << 20;
inline constexpr int64_t kEdgeFetchMaxBytes = int64_t{8} << 20;
inline constexpr int64_t kEdgeMemoryAllowanceBytes = int64_t{64} << 20;

}  // namespace longhaul::mirror
