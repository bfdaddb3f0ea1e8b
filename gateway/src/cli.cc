#include "longhaul/gateway/cli.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "longhaul/base/logging.h"
#include "longhaul/config/config.h"
#include "offsets_command.h"
#include "run_command.h"
#include "validate_command.h"

namespace longhaul::gateway {
namespace {

constexpr const char* kUsage = R"(usage: longhaul <command> [options]

commands:
  run -c FILE [--role all|edge|hub]
                     replicate the pipelines of FILE until SIGTERM/SIGINT; --role picks
                     which halves of pipelines with `via` run here (all: both, plus the
                     direct pipelines; edge: only edges; hub: only hubs)
  validate -c FILE [--connect] [--timeout MS]
                     check FILE offline; print every error with file:line and key, and
                     warnings (e.g. TLS certificate verification off); --connect also
                     connects to every cluster and checks that each pipeline's principal
                     has the ACLs it needs, naming any that is missing
  offsets translate -c FILE --pipeline P --group G [--json]
                     print a consumer group's source offsets and their exact target offsets
  offsets failover -c FILE --pipeline P --group G [--allow-rewind] [--json]
                     commit the group's translated offsets on the target now
  version            print the version

options:
  -c, --config FILE          the YAML config file
  --log-format text|json     log line format (default text)
  --log-level LEVEL          debug, info, warn, error (default info)
)";

int Usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "longhaul: %s\n\n", error.c_str());
  std::fputs(kUsage, stderr);
  return 2;
}

}  // namespace

int RunCli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage("");
  std::string command = args[0];
  if (command == "-h" || command == "--help" || command == "help") return Usage("");
  if (command == "version" || command == "--version") {
    std::printf("longhaul %s\n", kLonghaulVersion);
    return 0;
  }
  if (command == "offsets") return OffsetsCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  CommonOptions opts;
  ValidateOptions validate;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) -> bool {
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        *out = a.substr(eq + 1);
        return true;
      }
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (a == "-c" || a == "--config" || a.rfind("--config=", 0) == 0) {
      if (!value(&opts.config_file)) return Usage("missing value for " + a);
    } else if (a == "--connect") {
      if (command != "validate") return Usage("--connect only applies to 'validate'");
      validate.connect = true;
    } else if (a == "--timeout" || a.rfind("--timeout=", 0) == 0) {
      if (command != "validate") return Usage("--timeout only applies to 'validate'");
      if (!value(&v)) return Usage("missing value for --timeout");
      try {
        validate.timeout_ms = std::stoi(v);
      } catch (const std::exception&) {
        validate.timeout_ms = 0;
      }
      if (validate.timeout_ms < 100 || validate.timeout_ms > 600'000) {
        return Usage("--timeout must be milliseconds between 100 and 600000, got '" + v + "'");
      }
    } else if (a == "--role" || a.rfind("--role=", 0) == 0) {
      if (!value(&v)) return Usage("missing value for --role");
      if (v == "all") opts.role = Role::kAll;
      else if (v == "edge") opts.role = Role::kEdge;
      else if (v == "hub") opts.role = Role::kHub;
      else return Usage("--role must be all, edge or hub, got '" + v + "'");
      if (command != "run") return Usage("--role only applies to 'run'");
    } else if (a == "--log-format" || a.rfind("--log-format=", 0) == 0) {
      if (!value(&v)) return Usage("missing value for --log-format");
      if (v == "json") SetLogFormat(LogFormat::kJson);
      else if (v == "text") SetLogFormat(LogFormat::kText);
      else return Usage("--log-format must be text or json, got '" + v + "'");
    } else if (a == "--log-level" || a.rfind("--log-level=", 0) == 0) {
      if (!value(&v)) return Usage("missing value for --log-level");
      LogLevel level;
      if (!ParseLogLevel(v, &level)) return Usage("--log-level must be debug, info, warn or error, got '" + v + "'");
      SetLogLevel(level);
    } else {
      return Usage("unknown option '" + a + "' for command '" + command + "'");
    }
  }
  if (opts.config_file.empty()) return Usage("command '" + command + "' needs -c FILE");
  if (command == "validate") {
    validate.config_file = opts.config_file;
    return ValidateCommand(validate);
  }
  if (command == "run") return RunCommand(opts);
  return Usage("unknown command '" + command + "'");
}

}  // namespace longhaul::gateway
