// Link generations, issued by the hub per (pipeline, edge): which instance
// of an edge (an EdgeLink, named by its random link_id) may stream, with no
// clock involved. Pure and single-threaded (the HubPipeline calls it under
// its mutex); private to mirror/. The rules are docs/edge-and-hub.md's.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace longhaul::mirror {

class EdgeGenerations {
 public:
  // `nonce`: random, non-zero, per hub instance (RandomNonce()); it is the
  // high half of every generation this instance issues, so generations of
  // another hub instance (or of this hub before a restart) are told apart
  // from ours without any stored state.
  explicit EdgeGenerations(uint32_t nonce);
  static uint32_t RandomNonce();

  struct Answer {
    // OK; FailedPrecondition "stale generation ..." (a newer instance of the
    // edge took over: the old one must stop for good); or Aborted "unknown
    // generation ..." (the edge must say hello with 0 again).
    absl::Status status;
    uint64_t generation = 0;       // the generation the hello belongs to (OK only)
    bool supersedes = false;       // a new instance took over: fence every older session of the edge
  };
  // A hello of `edge` with `hello_generation` (0: "issue me one") from the
  // EdgeLink instance `link_id`:
  // - 0 and the current instance's link_id: the current generation (another
  //   connection of the same instance);
  // - 0 and another link_id: a new generation, superseding the current;
  // - the current generation: joins it;
  // - an older generation of this hub instance: stale;
  // - anything else (another instance's, never issued): unknown.
  Answer OnHello(const std::string& edge, uint64_t hello_generation, uint64_t link_id);

  // The edge's current generation, 0 if it has none.
  uint64_t Current(const std::string& edge) const;
  // Edges with a generation (one entry each: memory grows with the fleet,
  // not with reconnects).
  size_t size() const { return edges_.size(); }

 private:
  struct Entry {
    uint64_t generation = 0;
    uint64_t link_id = 0;
  };
  const uint64_t nonce_;
  uint32_t counter_ = 0;
  std::map<std::string, Entry> edges_;
};

}  // namespace longhaul::mirror
