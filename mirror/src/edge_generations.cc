#include "edge_generations.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"

namespace longhaul::mirror {

EdgeGenerations::EdgeGenerations(uint32_t nonce) : nonce_(nonce) { LH_CHECK(nonce != 0); }

uint32_t EdgeGenerations::RandomNonce() {
  std::random_device rd;
  std::uniform_int_distribution<uint32_t> dist(1, UINT32_MAX);
  return dist(rd);
}

uint64_t EdgeGenerations::Current(const std::string& edge) const {
  auto it = edges_.find(edge);
  return it == edges_.end() ? 0 : it->second.generation;
}

EdgeGenerations::Answer EdgeGenerations::OnHello(const std::string& edge, uint64_t hello_generation,
                                                 uint64_t link_id) {
  Answer answer;
  auto it = edges_.find(edge);
  if (hello_generation == 0) {
    if (it != edges_.end() && it->second.link_id == link_id) {
      answer.generation = it->second.generation;
      return answer;
    }
    // 2^32 new link instances of one hub instance would wrap the counter
    // into generations already issued: refuse rather than reuse one (a hub
    // restart picks a new nonce).
    if (counter_ == UINT32_MAX) {
      answer.status = absl::ResourceExhaustedError("this hub instance issued all its link generations; restart it");
      return answer;
    }
    const uint64_t generation = (nonce_ << 32) | ++counter_;
    answer.supersedes = it != edges_.end();
    edges_[edge] = Entry{generation, link_id};
    answer.generation = generation;
    return answer;
  }
  if (it != edges_.end() && hello_generation == it->second.generation) {
    answer.generation = hello_generation;
    return answer;
  }
  const bool ours = (hello_generation >> 32) == nonce_;
  const uint32_t count = static_cast<uint32_t>(hello_generation);
  if (ours && it != edges_.end() && count != 0 && count < static_cast<uint32_t>(it->second.generation)) {
    answer.status = absl::FailedPreconditionError(
        absl::StrCat("stale generation ", hello_generation, " of edge '", edge,
                     "': a newer instance of this edge took over (generation ", it->second.generation, ")"));
    return answer;
  }
  answer.status = absl::AbortedError(absl::StrCat("unknown generation ", hello_generation, " of edge '", edge,
                                                  "' (issued by another hub instance, or never): say hello with 0"));
  return answer;
}

}  // namespace longhaul::mirror
