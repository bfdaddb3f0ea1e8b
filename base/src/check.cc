#include "longhaul/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace longhaul::internal {
void CheckFailed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}
}  // namespace longhaul::internal
