// The one description of the command line: every command, its synopsis,
// what it does and its options. `--help` of each command, the man page
// longhaul(1) and the bash and zsh completions are all generated from it,
// so they cannot drift apart (tests/unit/gateway/command_help_test.cc and
// the cli_help_unit test check the built binary against the installed page).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace longhaul::gateway {

struct OptionHelp {
  std::string flag;         // "--config"
  std::string short_flag;   // "-c" or empty
  std::string value;        // "FILE", or empty for a switch
  std::string help;         // one sentence, lower case
  std::vector<std::string> choices;  // allowed values, for completion; empty: free text
  bool takes_file = false;  // complete file names for the value
};

struct CommandHelp {
  std::string name;      // "run", "offsets translate"
  std::string synopsis;  // the arguments after "longhaul <name>"
  std::string summary;   // one line, for the command list
  std::string description;  // paragraphs separated by blank lines
  std::vector<OptionHelp> options;
};

// Every command, in the order help and the man page list them.
const std::vector<CommandHelp>& Commands();

// nullptr for an unknown name.
const CommandHelp* FindCommand(const std::string& name);

// `longhaul --help`: the command list and the common options.
std::string GlobalHelpText();
// `longhaul <name> --help`.
std::string CommandHelpText(const CommandHelp& command);

// longhaul(1) in roff (man(7) macros).
std::string ManPage();
// Completion scripts: `source <(longhaul completion bash)`, or install them
// where bash-completion and zsh look (cmake --install does).
std::string BashCompletion();
std::string ZshCompletion();

}  // namespace longhaul::gateway
