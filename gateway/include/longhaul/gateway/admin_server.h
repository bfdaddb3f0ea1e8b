// The admin HTTP server: Prometheus metrics, liveness and readiness probes,
// the JSON status API and the live page, on plain HTTP/1.1. It runs on its
// own threads; this header keeps Boost.Beast/Asio out of its includers.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace longhaul::metrics {
class Registry;
}

namespace longhaul::gateway {

// What the process tells the admin server about itself. Both methods are
// called on the server's worker threads, possibly concurrently with each
// other and with the replication threads: implementations must be
// thread-safe. They should answer from state already at hand (no Kafka
// round trip): a slow answer delays that request only, never /livez.
class StatusSource {
 public:
  virtual ~StatusSource() = default;
  // Body of GET /api/v1/status: a complete JSON document.
  virtual std::string StatusJson() = 0;
  // GET /readyz: true when the process should receive traffic; otherwise
  // false and a one-line reason (shown in the 503 body).
  virtual bool Ready(std::string* reason) = 0;
  // Body of GET /api/v1/offsets/translate?pipeline=P&group=G: the same JSON
  // document as `longhaul offsets translate --json`. Unlike the methods
  // above it asks Kafka (bounded, seconds); the server runs one at a time.
  // Errors become the JSON error envelope: InvalidArgument 400, NotFound
  // 404, Unimplemented 501 (the default: a process that cannot translate),
  // anything else 503 (a cluster unreachable, ...).
  virtual absl::StatusOr<std::string> TranslateOffsetsJson(const std::string& pipeline, const std::string& group);
};

// Routes (GET or HEAD; another method on a known route gives 405):
//   /metrics        registry->RenderText(), text/plain; version=0.0.4
//   /livez          200 "ok" while the process runs; never asks anyone
//   /readyz         200 "ok", or 503 with status->Ready()'s reason
//   /api/v1/status  status->StatusJson(), application/json
//   /api/v1/offsets/translate?pipeline=P&group=G
//                   status->TranslateOffsetsJson(P, G), application/json;
//                   429 while another translation runs
//   /               the live page (text/html, self-contained)
// Anything else is 404. Errors (400, 404, 405, 429, 500, 501, 503) carry the JSON body
// {"error":{"code":N,"message":"..."}}.
class AdminServer {
 public:
  // Binds `listen` ("host:port", "[v6]:port"; port 0 picks a free one) and
  // starts serving before it returns. `registry` and `status` are borrowed:
  // they must outlive Stop() (or the destructor). Errors: InvalidArgument for
  // a malformed address, Unavailable when the port is taken,
  // PermissionDenied for a privileged port, Internal otherwise. Which
  // interface to expose (loopback by default) is the caller's decision.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(std::string listen, metrics::Registry* registry,
                                                            StatusSource* status);

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;
  // Stops if still running.
  ~AdminServer();

  // The bound port (the chosen one when started with port 0).
  int port() const;
  // The bound address as "127.0.0.1:8080" or "[::1]:8080".
  std::string address() const;

  // Closes the listener and every open connection, and waits for the
  // server's threads, including any StatusSource or collector call in
  // progress, to finish; afterwards `registry` and `status` are no longer
  // used. Idempotent and thread-safe, but must not be called from inside a
  // StatusSource method or a metrics collector (it would wait for itself).
  void Stop();

 private:
  class Impl;
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace longhaul::gateway
