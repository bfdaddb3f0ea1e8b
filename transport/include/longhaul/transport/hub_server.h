// The hub end of the long-haul link: accepts edges over WebSocket + TLS 1.3
// with mutual TLS, maps each client certificate to the pipelines it may
// feed (and to an edge name), bounds what each edge can make it allocate,
// and hands decoded record batches to the hub-side writer through
// HubSessionHandler. The implementation (BeastHubServer) keeps Boost and
// OpenSSL out of this header.
//
// Fencing is the handler's: it issues generations and decides which
// sessions of an edge are current (FLEET.md). The server only makes sure
// that a reconnect of the same connection of the same link instance (same
// pipeline, identity, link_id and connection_index) is not seen next to the
// half-open connection it replaces: the older session is closed, and its
// OnClosed has run, before the handler hears the newer hello. An EdgeLink
// has one live connection per index, so the older one is dead; another
// identity or link instance can never close a session this way.
//
// Exactly-once duties split as follows. The server: drops batches (or the
// leading records of a batch) below the partition's next expected offset,
// acknowledging at once those already committed; refuses a batch that
// would skip offsets; grants credit as the writer acknowledges. The
// writer: answers each hello with resume points that are exact (nothing at
// or after them is or will be committed from an earlier session), and acks
// a batch only once it is durably committed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "longhaul/base/clock.h"
#include "longhaul/base/topic_partition.h"
#include "longhaul/transport/frame.h"
#include "longhaul/transport/link_metrics.h"
#include "longhaul/transport/link_options.h"

namespace longhaul::transport {

// Who is on the other end of a session (after TLS and hello).
struct EdgeInfo {
  // Certificate identity: its first URI SAN, else its subject CN ("" when
  // mutual TLS is off and the edge sent no certificate). Identity rules
  // match the CN or any URI SAN (URI SANs only with IdentityMatch::kUri).
  std::string identity;
  // The edge's name, from its certificate: the last path segment of the URI
  // SAN that matched an identity rule, else the CN; with mutual TLS off, the
  // hello's edge_name. Always 1..64 of [A-Za-z0-9._-] (an edge without such
  // a name is refused, reason "identity"), so it is safe in topic names and
  // checkpoint keys.
  std::string name;
  std::string common_name;
  std::vector<std::string> uri_sans;
  std::string peer_address;  // "ip:port"
  HelloFrame hello;
};

// One batch as the writer sees it: duplicates already removed. The
// partition continues at last_offset + 1 (the range may hold no record at
// all when it only covers a gap).
struct ReceivedBatch {
  uint64_t batch_id = 0;
  TopicPartition partition;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  std::vector<Record> records;
  uint64_t uncompressed_bytes = 0;
  // What the batch takes decoded, as credit counts it (BatchCreditCost of the
  // records as received, before duplicate trimming).
  uint64_t decoded_bytes = 0;
};

// One edge connection, handed to the handler. Thread-safe: methods may be
// called from any thread; they take effect on the session's I/O strand.
// Calls after the session closed are ignored.
class HubSession {
 public:
  virtual ~HubSession() = default;
  virtual uint64_t id() const = 0;
  virtual const EdgeInfo& edge() const = 0;

  // Answers the hello: sends the resume points (next offset the writer needs
  // per partition of this pipeline/lane it knows), the generation issued to
  // or confirmed for the edge's link instance, and the first credit; data
  // starts flowing.
  virtual void Accept(std::vector<PartitionOffset> resume, uint64_t generation) = 0;
  // Refuses the hello: sends an error frame with `why` and closes.
  virtual void Reject(absl::Status why) = 0;
  // The writer committed these batches (ids from ReceivedBatch) durably;
  // `committed` gives the next offset per partition after that commit.
  // Releases their credit. Unknown ids are ignored.
  virtual void Ack(std::vector<uint64_t> batch_ids, std::vector<PartitionOffset> committed) = 0;
  // Sends an error frame (when `why` is not OK; a close frame otherwise)
  // and closes the connection.
  virtual void Close(absl::Status why) = 0;
};

// Implemented by the hub-side writer. Called on the session's I/O strand,
// one call at a time per session (sessions may run in parallel when
// io_threads > 1). Must not block: hand work to the writer's own threads.
class HubSessionHandler {
 public:
  virtual ~HubSessionHandler() = default;
  // A verified edge said hello (its identity may feed the pipeline; the
  // generation is not checked here, that is the handler's). A session of the
  // same (pipeline, identity, link_id, connection_index) that was still open
  // has been closed and OnClosed'd before this call. Call session->Accept
  // or Reject, now or later (within accept_timeout).
  virtual void OnHello(std::shared_ptr<HubSession> session) = 0;
  // A batch in order for its partition. The records are the writer's.
  virtual void OnData(HubSession& session, ReceivedBatch batch) = 0;
  // The edge's report of its own backlog (after resume, then periodically).
  virtual void OnReport(HubSession& session, ReportFrame report) {}
  // The session ended (edge closed, link lost, bad frame, replaced, Stop()).
  // Batches delivered and not acked will be resent by the edge if they are
  // not committed: the writer must either commit them before it accepts the
  // next hello for these partitions, or discard them.
  virtual void OnClosed(HubSession& session, const absl::Status& why) = 0;
};

class HubServer {
 public:
  // Validates the options, loads the TLS files, binds and starts serving
  // before it returns. `handler` and `clock` are borrowed and must outlive
  // the server. Errors: InvalidArgument (options, naming the field, or a bad
  // certificate/key file, naming it), Unavailable (port taken).
  static absl::StatusOr<std::unique_ptr<HubServer>> Start(HubServerOptions options, HubSessionHandler* handler,
                                                          const Clock* clock = &SystemClock::Instance());
  virtual ~HubServer() = default;

  virtual int port() const = 0;
  // "127.0.0.1:4443" or "[::1]:4443".
  virtual std::string address() const = 0;

  // Stops accepting, closes every session (OnClosed is called for each) and
  // joins the I/O threads. Idempotent; the destructor calls it.
  virtual void Stop() = 0;

  virtual HubMetrics Metrics() = 0;

  // Replaces the identity rules; the next hello is checked against the new
  // ones (sessions already accepted stay). Thread-safe. InvalidArgument
  // (naming the entry) leaves the old rules in force.
  virtual absl::Status UpdateIdentities(std::vector<IdentityRule> rules) = 0;
};

}  // namespace longhaul::transport
