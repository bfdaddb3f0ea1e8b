#include "longhaul/gateway/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "longhaul/base/logging.h"
#include "longhaul/config/config.h"
#include "absl/strings/str_join.h"
#include "build_info.h"
#include "cli_options.h"
#include "command_help.h"
#include "offsets_command.h"
#include "status_command.h"
#include "run_command.h"
#include "validate_command.h"

namespace longhaul::gateway {
namespace {

int Usage(const std::string& command, const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "longhaul: %s\n\n", error.c_str());
  const CommandHelp* help = FindCommand(command);
  std::fputs(help ? CommandHelpText(*help).c_str() : GlobalHelpText().c_str(), stderr);
  return 2;
}

bool WantsHelp(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "-h" || a == "--help"; });
}

}  // namespace

int RunCli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage("", "");
  std::string command = args[0];
  if (command == "-h" || command == "--help") {
    std::fputs(GlobalHelpText().c_str(), stdout);
    return 0;
  }
  if (command == "help") {
    // `longhaul help [COMMAND...]`: the command's help on stdout.
    std::string name = absl::StrJoin(args.begin() + 1, args.end(), " ");
    const CommandHelp* help = FindCommand(name);
    if (!name.empty() && !help) return Usage("", "no command '" + name + "'");
    std::fputs(help ? CommandHelpText(*help).c_str() : GlobalHelpText().c_str(), stdout);
    return 0;
  }
  if (command == "--version") command = "version";
  // `longhaul CMD [SUB] --help` anywhere on the line prints CMD's help on stdout.
  std::string full = command;
  if (command == "offsets" && args.size() > 1 && FindCommand("offsets " + args[1])) full += " " + args[1];
  if (WantsHelp(args)) {
    const CommandHelp* help = FindCommand(full);
    if (!help && command == "offsets") {
      std::fputs(CommandHelpText(*FindCommand("offsets translate")).c_str(), stdout);
      std::fputs("\n", stdout);
      help = FindCommand("offsets failover");
    }
    if (!help) return Usage("", "unknown command '" + command + "'");
    std::fputs(CommandHelpText(*help).c_str(), stdout);
    return 0;
  }
  if (command == "version") {
    if (args.size() > 1) return Usage("version", "'version' takes no arguments");
    std::fputs(BuildInfoText().c_str(), stdout);
    return 0;
  }
  if (command == "manpage") {
    if (args.size() > 1) return Usage("manpage", "'manpage' takes no arguments");
    std::fputs(ManPage().c_str(), stdout);
    return 0;
  }
  if (command == "completion") {
    if (args.size() != 2) return Usage("completion", "'completion' needs one argument: bash or zsh");
    if (args[1] == "bash") std::fputs(BashCompletion().c_str(), stdout);
    else if (args[1] == "zsh") std::fputs(ZshCompletion().c_str(), stdout);
    else return Usage("completion", "completion: unknown shell '" + args[1] + "' (bash or zsh)");
    return 0;
  }
  if (command == "offsets") return OffsetsCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  if (command == "status") return StatusCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!FindCommand(command)) return Usage("", "unknown command '" + command + "'");
  CommonOptions opts;
  ValidateOptions validate;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) { return OptionValue(args, &i, out); };
    std::string v;
    if (a == "-c" || a == "--config" || a.rfind("--config=", 0) == 0) {
      if (!value(&opts.config_file)) return Usage(command, "missing value for " + a);
    } else if (a == "--connect") {
      if (command != "validate") return Usage(command, "--connect only applies to 'validate'");
      validate.connect = true;
    } else if (a == "--timeout" || a.rfind("--timeout=", 0) == 0) {
      if (command != "validate") return Usage(command, "--timeout only applies to 'validate'");
      if (!value(&v)) return Usage(command, "missing value for --timeout");
      try {
        validate.timeout_ms = std::stoi(v);
      } catch (const std::exception&) {
        validate.timeout_ms = 0;
      }
      if (validate.timeout_ms < 100 || validate.timeout_ms > 600'000) {
        return Usage(command, "--timeout must be milliseconds between 100 and 600000, got '" + v + "'");
      }
    } else if (a == "--role" || a.rfind("--role=", 0) == 0) {
      if (!value(&v)) return Usage(command, "missing value for --role");
      if (v == "all") opts.role = Role::kAll;
      else if (v == "edge") opts.role = Role::kEdge;
      else if (v == "hub") opts.role = Role::kHub;
      else return Usage(command, "--role must be all, edge or hub, got '" + v + "'");
      if (command != "run") return Usage(command, "--role only applies to 'run'");
    } else if (IsOption(a, "--log-format") || IsOption(a, "--log-level")) {
      std::string log_error;
      if (ApplyLogOption(args, &i, &log_error) == LogOptionResult::kError) return Usage(command, log_error);
      if (IsOption(a, "--log-level")) opts.log_level_from_command_line = true;
    } else {
      return Usage(command, "unknown option '" + a + "' for command '" + command + "'");
    }
  }
  if (opts.config_file.empty()) return Usage(command, "command '" + command + "' needs -c FILE");
  if (command == "validate") {
    validate.config_file = opts.config_file;
    return ValidateCommand(validate);
  }
  if (command == "run") return RunCommand(opts);
  return Usage(command, "unknown command '" + command + "'");
}

}  // namespace longhaul::gateway
