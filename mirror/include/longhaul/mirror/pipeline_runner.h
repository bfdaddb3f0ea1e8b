// One pipeline in this process: direct (discovers matching source topics,
// creates them on the target, takes lanes through a Kafka consumer group and
// runs one transactional lane worker per owned lane), or one half of a
// pipeline that runs `via` a long-haul link: the edge (reads the source and
// ships batches to the hub) or the hub (the same lanes as direct mode, fed
// by the edges instead of a source consumer; see LinkHub). All state lives
// in Kafka (checkpoints on the target), so a process can die at any time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/base/clock.h"
#include "longhaul/config/config.h"
#include "longhaul/metrics/registry.h"

namespace longhaul::mirror {

struct PartitionStatus {
  std::string topic;
  // The edge the partition comes from in a hub pipeline fed by many edges
  // (edges: many); empty elsewhere.
  std::string edge;
  std::string target_topic;
  int32_t partition = 0;
  int lane = 0;
  int64_t source_end_offset = -1;  // read_committed end (LSO) last seen by the reader
  int64_t replicated_offset = -1;  // next source offset committed on the target
  int64_t lag_records = 0;
  double lag_seconds = 0;
  int64_t records_total = 0;  // replicated by this process
  int64_t bytes_total = 0;
  // Read and deliberately not written by this process: the record's
  // provenance says it has been in the target cluster (active/active).
  int64_t records_filtered = 0;
  // Edge only: the next source offset handed to the link (sent, maybe not
  // yet committed); replicated_offset is what the hub acknowledged.
  int64_t sent_offset = -1;
  // Source records deleted at the source before they were copied (counted
  // once per process), and the newest lost range [source_gap_first,
  // source_gap_end); -1 when none.
  int64_t source_gap_records = 0;
  int64_t source_gap_first = -1;
  int64_t source_gap_end = -1;
  // Seconds until the oldest record not yet copied is due for deletion by
  // the source topic's retention (retention.ms, or retention.bytes at the
  // recent write rate), whichever comes first; -1 when unknown or when the
  // topic keeps records forever. See docs/observability.md.
  double retention_remaining_seconds = -1;
  // ok; lagging (the oldest uncopied record is older than the pipeline's
  // lag_thresholds.lagging_after); stalled (behind and no progress for
  // stalled_after); stopped (no lane of this process reads it right now);
  // error (the partition stopped: `error` says why, e.g. a source gap with
  // on_source_gap: stop).
  std::string state = "ok";
  std::string error;
};

// The partition states in order of urgency (the live page sorts by it and
// longhaul_partition_state exports it): error, stalled, lagging, stopped, ok.
int PartitionStateRank(const std::string& state);

// The long-haul link as one half of a pipeline sees it.
struct LinkStatus {
  std::string name;   // the link (pipelines.<p>.via)
  std::string role;   // "edge" or "hub"
  // edge: "up" (every connection resumed), "down"; hub: "serving" (an edge
  // session streams), "waiting" (listening, no edge streaming).
  std::string state = "down";
  double rtt_ms = -1;  // edge: last ping round trip; -1 before the first
  // edge: record bytes into the link (before compression) and bytes of the
  // compressed batches out of it; hub: wire bytes in, record bytes out.
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  double compression_ratio = 1;  // uncompressed / compressed
  uint64_t reconnects = 0;       // edge
  uint64_t buffered_bytes = 0;   // edge: held until the hub acknowledges
  uint64_t buffer_budget_bytes = 0;
  int sessions = 0;              // hub: edge sessions streaming
  std::string peer;              // edge: the hub; hub: its listen address
  std::string last_error;
};

// Hub only: one edge of the pipeline as the hub knows it from its sessions
// and its last report (the edge's own view of its backlog; see
// docs/edge-and-hub.md). The pipeline's partitions carry the end-to-end lag
// this gives (PartitionStatus::lag_records, lag_seconds).
struct EdgeStatus {
  std::string name;    // from its certificate
  std::string origin;  // TopicPartition::origin of its partitions here ("" with edges: one)
  bool connected = false;
  // Hub wall time (ms since the epoch) the current state began: its first
  // session (connected), or the end of its last one (disconnected).
  int64_t since_ms = -1;
  int64_t last_report_ms = -1;  // when its last report arrived; -1: none yet
  uint64_t buffered_bytes = 0;  // from the last report
  uint64_t buffer_budget_bytes = 0;
  // Over the reported partitions with a known lag: records not yet on the
  // target, the oldest such record's age (still growing while the edge is
  // away), records the edge lost to source retention.
  int64_t backlog_records = 0;
  double lag_seconds = 0;
  int64_t lost_records = 0;
  struct Partition {
    std::string topic;
    int32_t partition = 0;
    int64_t end_offset = -1;        // source end, as last reported
    int64_t committed_offset = -1;  // the hub's committed next offset, else the edge's word
    int64_t log_start_offset = -1;
    int64_t lost_records = 0;
    int64_t lag_records = -1;  // -1: unknown
    double lag_seconds = -1;   // -1: unknown
  };
  std::vector<Partition> partitions;  // by topic, partition
};

struct PipelineStatus {
  std::string name;
  std::string role = "direct";  // direct, edge, hub
  std::optional<LinkStatus> link;
  std::string delivery;
  int lanes_total = 0;
  std::vector<int> lanes_owned;
  bool checkpoint_topic_ready = false;
  bool target_reachable = false;
  bool lane_group_joined = false;  // in the lane group: assigned (maybe nothing) and not lost since
  std::string last_error;  // most recent error, empty if none
  // Seconds since each owned lane last committed (-1 before its first commit).
  std::vector<std::pair<int, double>> checkpoint_age_seconds;
  std::vector<PartitionStatus> partitions;
  std::vector<EdgeStatus> edges;  // hub only, by name
};

class PipelineRunner {
 public:
  virtual ~PipelineRunner() = default;
  // Starts the pipeline's threads. Connection problems never fail this call:
  // they are logged, retried with backoff and visible in Status().
  virtual void Start() = 0;
  // Graceful drain: each lane commits (or aborts) its open transaction, the
  // worker leaves the lane group. Returns by `deadline` at the latest.
  virtual void Stop(SteadyTime deadline) = 0;
  // Thread-safe snapshot.
  virtual PipelineStatus Status() const = 0;
  // Config reload: takes over the live settings of `fresh` (the keys
  // config::WithLiveSettings copies: topic filter, topic_configs, group
  // sync, discovery interval, lag thresholds, hub caps) without stopping a
  // lane. A changed topic filter is applied by a discovery run at once;
  // partitions enter or leave a lane only between its transactions, so
  // every record is still copied exactly once. Call from the thread that
  // calls Start and Stop.
  virtual void ApplyLive(const config::PipelineConfig& fresh) = 0;
};

// A direct pipeline (one without `via`). `registry` must outlive the runner;
// the runner records its metrics there (histograms and error counters on the
// hot path, offsets and lag through a scrape-time collector).
absl::StatusOr<std::unique_ptr<PipelineRunner>> CreatePipelineRunner(const config::Config& config,
                                                                     const std::string& pipeline_name,
                                                                     metrics::Registry* registry);

// The edge half of a pipeline with `via: LINK`: discovers the source topics,
// reads them with one read_committed consumer and ships them over the link
// (links.LINK.edge) to the hub, from where the hub says each partition
// resumes. Errors: NotFound (pipeline), InvalidArgument (no via, no edge
// section, bad link options or TLS files, naming them).
absl::StatusOr<std::unique_ptr<PipelineRunner>> CreateEdgeRunner(const config::Config& config,
                                                                 const std::string& pipeline_name,
                                                                 metrics::Registry* registry);

// The hub end of one link in this process: a TLS server (links.LINK.hub)
// whose edge sessions feed the hub halves of the pipelines via the link.
// Create it, create the hub half of each pipeline with CreatePipelineRunner,
// then Start() to accept edges. Not thread-safe; Stop() after the pipelines.
class LinkHub {
 public:
  // Errors: NotFound (no such link), InvalidArgument (no hub section).
  static absl::StatusOr<std::unique_ptr<LinkHub>> Create(const config::Config& config, const std::string& link,
                                                         metrics::Registry* registry);
  virtual ~LinkHub() = default;
  // The hub half of `pipeline` (which must run via this link). At most once
  // per pipeline; one hub process per pipeline in this version.
  virtual absl::StatusOr<std::unique_ptr<PipelineRunner>> CreatePipelineRunner(const std::string& pipeline) = 0;
  // Loads the TLS files and listens. Errors name the field, file or address.
  virtual absl::Status Start() = 0;
  // Closes every edge session and the listener. Idempotent.
  virtual void Stop() = 0;
  // "host:port" the hub listens on (after Start).
  virtual std::string address() const = 0;
  // Config reload: replaces the identity rules (links.LINK.hub.identities)
  // for the hellos that follow; sessions already open keep streaming.
  // InvalidArgument (the rules are kept) when a rule is malformed; Failed
  // precondition before Start.
  virtual absl::Status UpdateIdentities(const std::map<std::string, std::vector<std::string>>& identities) = 0;
};

}  // namespace longhaul::mirror
