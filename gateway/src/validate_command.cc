#include "validate_command.h"

#include <cstdio>

#include "longhaul/config/config.h"
#include "longhaul/mirror/connection_check.h"

namespace longhaul::gateway {

int ValidateCommand(const ValidateOptions& opts) {
  auto config = config::LoadConfigFile(opts.config_file);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    std::fprintf(stderr, "%s: invalid\n", opts.config_file.c_str());
    return 1;
  }
  for (const std::string& warning : config->warnings) std::printf("warning: %s\n", warning.c_str());
  std::printf("%s: ok (%zu clusters, %zu pipelines%s)\n", opts.config_file.c_str(), config->clusters.size(),
              config->pipelines.size(),
              config->warnings.empty() ? "" : (", " + std::to_string(config->warnings.size()) + " warnings").c_str());
  if (!opts.connect) return 0;
  std::fflush(stdout);
  int failed = 0;
  for (const mirror::ConnectionFinding& f :
       mirror::CheckConnections(*config, std::chrono::milliseconds(opts.timeout_ms))) {
    using Severity = mirror::ConnectionFinding::Severity;
    if (f.severity == Severity::kMissing || f.severity == Severity::kError) ++failed;
    std::printf("%-12s %s: %s\n", std::string(mirror::ToString(f.severity)).c_str(), f.subject.c_str(),
                f.message.c_str());
  }
  if (failed > 0) {
    std::printf("%s: %d problem%s connecting (see MISSING ACL and ERROR above)\n", opts.config_file.c_str(), failed,
                failed == 1 ? "" : "s");
    return 1;
  }
  std::printf("%s: every cluster answered, nothing missing\n", opts.config_file.c_str());
  return 0;
}

}  // namespace longhaul::gateway
