#include "longhaul/gateway/cli.h"

#include <cstdio>

namespace longhaul::gateway {
int RunCli(int argc, char** argv) {
  std::fprintf(stderr, "longhaul: not built yet\n");
  return 2;
}
}  // namespace longhaul::gateway
