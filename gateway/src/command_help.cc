#include "command_help.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "run_command.h"

namespace longhaul::gateway {
namespace {

OptionHelp Opt(std::string flag, std::string short_flag, std::string value, std::string help,
               std::vector<std::string> choices = {}, bool takes_file = false) {
  return OptionHelp{std::move(flag), std::move(short_flag), std::move(value), std::move(help), std::move(choices),
                    takes_file};
}

OptionHelp ConfigOption() {
  return Opt("--config", "-c", "FILE", "the YAML config file (required)", {}, true);
}
OptionHelp LogFormatOption() {
  return Opt("--log-format", "", "FORMAT", "log line format on stderr: text or json (default text)", {"text", "json"});
}
OptionHelp LogLevelOption(const char* default_level) {
  return Opt("--log-level", "", "LEVEL",
             absl::StrCat("least severe level logged: debug, info, warn or error (default ", default_level, ")"),
             {"debug", "info", "warn", "error"});
}
OptionHelp HelpOption() { return Opt("--help", "-h", "", "print this help and exit"); }

std::vector<CommandHelp> MakeCommands() {
  std::vector<CommandHelp> c;
  c.push_back({"run",
               "-c FILE [--role all|edge|hub] [--log-format FORMAT] [--log-level LEVEL]",
               "replicate the pipelines of FILE until SIGTERM or SIGINT",
               "Starts every pipeline of FILE that belongs to this process's role and replicates until SIGTERM or "
               "SIGINT. Then it drains: each lane commits what it has in flight if it can within "
               "worker.drain_timeout, leaves the lane group so other workers take its lanes over at once, and the "
               "process exits 0.\n\n"
               "SIGHUP re-reads FILE: an invalid file is refused and the running config kept (logged at error "
               "level and counted in longhaul_config_reloads_total{result=\"rejected\"}); a valid one changes "
               "the log level at once; other changes are logged as needing a restart.\n\n"
               "Under systemd (Type=notify) the process reports readiness once its pipelines started, and on stop "
               "extends the unit's stop timeout to worker.drain_timeout plus a margin.\n\n"
               "Exit status: 0 after a drain, 1 when the config is invalid or a pipeline cannot start, 2 on a "
               "usage error.",
               {ConfigOption(),
                Opt("--role", "", "ROLE",
                 "which halves of pipelines with `via` run here: all (both, plus the direct pipelines), edge "
                 "(only edges) or hub (only hubs); default all",
                    {"all", "edge", "hub"}),
                LogFormatOption(), LogLevelOption("info"), HelpOption()}});
  c.push_back({"validate",
               "-c FILE [--connect] [--timeout MS]",
               "check FILE offline (errors and warnings); with --connect, clusters, logins and ACLs too",
               "Parses and validates FILE. Every error is printed on its own line as FILE:LINE:COL: KEY.PATH: "
               "message, unknown keys with a suggestion. Secrets referenced with ${NAME} or ${file:PATH} must "
               "resolve; their values are never printed. Settings that defeat TLS "
               "(enable.ssl.certificate.verification: false, ssl.endpoint.identification.algorithm: none, "
               "SASL_PLAINTEXT) are printed as warnings.\n\n"
               "With --connect it then connects to every cluster with the config's properties and checks, for "
               "each pipeline, that its principal may do what the pipeline needs (describe and read source "
               "topics, create target topics, alter their configs, its transactional ids, its lane group), "
               "printing MISSING ACL with the exact ACL when not; nothing is written (docs/security.md).\n\n"
               "Exit status: 0 valid (and, with --connect, nothing missing), 1 invalid or a cluster or ACL "
               "problem, 2 usage error.",
               {ConfigOption(),
                Opt("--connect", "", "", "also connect to every cluster and check each pipeline's ACLs", {}),
                Opt("--timeout", "", "MS", "per-request timeout of --connect in milliseconds (default 10000)", {}),
                LogFormatOption(), LogLevelOption("info"), HelpOption()}});
  c.push_back({"status",
               "-c FILE [--pipeline P] [--json]",
               "show every lane of a pipeline: owner, last checkpoint, lag per partition",
               "Reads the state of each pipeline from Kafka, across all workers and without asking any of them: "
               "the members of the lane group __longhaul.<pipeline>.lanes and the lanes each owns, the newest "
               "checkpoint of every source partition in __longhaul.<pipeline>.checkpoints (its commit time and "
               "next source offset), and the source's end offsets, giving the lag in records per partition. A lane "
               "without an owner is shown as such. For a pipeline via a link the lane group is the hub's.\n\n"
               "Exit status: 0 shown, 1 a cluster could not be read or the pipeline is unknown, 2 usage error.",
               {ConfigOption(),
                Opt("--pipeline", "", "P", "only this pipeline (default: every pipeline of FILE)"),
                Opt("--json", "", "", "one JSON document instead of tables"),
                LogFormatOption(), LogLevelOption("warn"), HelpOption()}});
  c.push_back({"offsets translate",
               "-c FILE --pipeline P --group G [--json]",
               "print a consumer group's source offsets and their exact target offsets",
               "Prints G's committed offsets on P's source cluster and the target offsets they translate to, with "
               "a status per partition (exact, replication-behind, not-replicated, history-expired).\n\n"
               "Exit status: 0 printed, 1 error, 2 usage error.",
               {ConfigOption(),
                Opt("--pipeline", "", "P", "the pipeline whose offset syncs translate (required)"),
                Opt("--group", "", "G", "the consumer group (required)"),
                Opt("--json", "", "", "one JSON object instead of a table"),
                LogFormatOption(), LogLevelOption("warn"), HelpOption()}});
  c.push_back({"offsets failover",
               "-c FILE --pipeline P --group G [--allow-rewind] [--json]",
               "commit a group's translated offsets on the target now",
               "Commits G's translated offsets on P's target cluster, only while G has no active member there and "
               "never backwards without --allow-rewind, and prints what was done per partition.\n\n"
               "Exit status: 0 every partition at its exact translation, 1 error, 2 usage error, 3 some partition "
               "left unsynced (the output says why).",
               {ConfigOption(),
                Opt("--pipeline", "", "P", "the pipeline whose offset syncs translate (required)"),
                Opt("--group", "", "G", "the consumer group (required)"),
                Opt("--allow-rewind", "", "", "move the target group back when it is ahead of the translation"),
                Opt("--json", "", "", "one JSON object instead of a table"),
                LogFormatOption(), LogLevelOption("warn"), HelpOption()}});
  c.push_back({"version",
               "",
               "print the version, git revision and library versions",
               "Prints the Longhaul version and git revision, and the librdkafka, OpenSSL and Boost versions; the "
               "same values are the labels of the longhaul_build_info metric. Also `longhaul --version`.",
               {HelpOption()}});
  c.push_back({"completion",
               "bash|zsh",
               "print the shell completion script for bash or zsh",
               "Prints a completion script. bash: `source <(longhaul completion bash)` or install it as "
               "/usr/share/bash-completion/completions/longhaul; zsh: install it as _longhaul in a directory of "
               "$fpath. The package installs both.",
               {HelpOption()}});
  c.push_back({"manpage",
               "",
               "print the longhaul(1) manual page (roff)",
               "Prints this manual page in roff, generated from the same text as --help. The package installs "
               "it.",
               {HelpOption()}});
  return c;
}

std::string OptionLabel(const OptionHelp& o) {
  std::string label = o.short_flag.empty() ? o.flag : absl::StrCat(o.short_flag, ", ", o.flag);
  if (!o.value.empty()) absl::StrAppend(&label, " ", o.value);
  return label;
}

// Wraps `text` to `width` columns, each line prefixed by `indent`.
std::string Wrap(absl::string_view text, size_t width, const std::string& indent) {
  std::string out;
  for (absl::string_view paragraph : absl::StrSplit(text, "\n\n")) {
    if (!out.empty()) out += "\n";
    std::string line;
    for (absl::string_view word : absl::StrSplit(paragraph, ' ', absl::SkipEmpty())) {
      if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
        absl::StrAppend(&out, indent, line, "\n");
        line.clear();
      }
      if (!line.empty()) line += ' ';
      absl::StrAppend(&line, word);
    }
    if (!line.empty()) absl::StrAppend(&out, indent, line, "\n");
  }
  return out;
}

// roff: backslashes, hyphens of options, and lines starting with a dot or quote.
std::string Roff(absl::string_view text) {
  std::string out = absl::StrReplaceAll(text, {{"\\", "\\e"}, {"-", "\\-"}});
  std::string result;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!result.empty()) result += '\n';
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) result += "\\&";
    absl::StrAppend(&result, line);
  }
  return result;
}

// Text inside a single-quoted shell word.
std::string ShellQuoted(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

// A description inside zsh's _arguments '[...]' or _describe 'name:...'.
std::string ZshDescription(absl::string_view text) {
  std::string out = absl::StrReplaceAll(text, {{"[", "("}, {"]", ")"}, {":", " -"}, {"`", ""}});
  return out;
}

}  // namespace

const std::vector<CommandHelp>& Commands() {
  static const std::vector<CommandHelp> commands = MakeCommands();
  return commands;
}

const CommandHelp* FindCommand(const std::string& name) {
  for (const auto& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string GlobalHelpText() {
  std::string out = "usage: longhaul <command> [options]\n       longhaul <command> --help\n\ncommands:\n";
  for (const auto& c : Commands()) {
    std::string head = absl::StrCat("  ", c.name);
    if (head.size() < 22) {
      absl::StrAppend(&out, head, std::string(22 - head.size(), ' '), c.summary, "\n");
    } else {
      absl::StrAppend(&out, head, "\n", std::string(22, ' '), c.summary, "\n");
    }
  }
  absl::StrAppend(&out,
                  "\nLonghaul replicates Kafka topics between clusters exactly once. See longhaul(1) and "
                  "docs/operations.md.\n",
                  "Version ", kLonghaulVersion, ".\n");
  return out;
}

std::string CommandHelpText(const CommandHelp& command) {
  std::string out = absl::StrCat("usage: longhaul ", command.name);
  if (!command.synopsis.empty()) absl::StrAppend(&out, " ", command.synopsis);
  absl::StrAppend(&out, "\n\n", Wrap(command.description, 78, ""));
  if (!command.options.empty()) {
    absl::StrAppend(&out, "\noptions:\n");
    for (const auto& o : command.options) {
      std::string label = absl::StrCat("  ", OptionLabel(o));
      if (label.size() < 26) {
        std::string body = Wrap(o.help, 78, std::string(26, ' '));
        absl::StrAppend(&out, label, body.substr(label.size()));
      } else {
        absl::StrAppend(&out, label, "\n", Wrap(o.help, 78, std::string(26, ' ')));
      }
    }
  }
  return out;
}

std::string ManPage() {
  std::string out = absl::StrCat(".TH LONGHAUL 1 \"\" \"longhaul ", kLonghaulVersion, "\" \"Longhaul manual\"\n");
  absl::StrAppend(&out, ".SH NAME\nlonghaul \\- replicate Kafka topics between clusters exactly once\n");
  absl::StrAppend(&out, ".SH SYNOPSIS\n");
  for (const auto& c : Commands()) {
    absl::StrAppend(&out, ".B longhaul ", Roff(c.name), "\n");
    if (!c.synopsis.empty()) absl::StrAppend(&out, Roff(c.synopsis), "\n");
    absl::StrAppend(&out, ".br\n");
  }
  absl::StrAppend(&out, ".SH DESCRIPTION\n",
                  Roff("Longhaul replicates Kafka topics between clusters that sit far apart, exactly once, with "
                       "all state kept in Kafka so any number of stateless workers share the work. Each command "
                       "below also answers --help with the same text."),
                  "\n.SH COMMANDS\n");
  for (const auto& c : Commands()) {
    absl::StrAppend(&out, ".SS longhaul ", Roff(c.name), "\n");
    bool first = true;
    for (absl::string_view paragraph : absl::StrSplit(c.description, "\n\n")) {
      if (!first) absl::StrAppend(&out, ".PP\n");
      first = false;
      absl::StrAppend(&out, Roff(paragraph), "\n");
    }
    for (const auto& o : c.options) {
      absl::StrAppend(&out, ".TP\n.B ", Roff(OptionLabel(o)), "\n", Roff(o.help), "\n");
    }
  }
  absl::StrAppend(&out, ".SH FILES\n.TP\n.B /etc/longhaul/NAME.yaml\n",
                  Roff("the config of the systemd instance longhaul@NAME.service; every key is documented in "
                       "/usr/share/doc/longhaul/examples/longhaul.yaml"),
                  "\n.SH SEE ALSO\n", Roff("systemd.service(5); docs/operations.md in the source tree"), "\n");
  return out;
}

std::string BashCompletion() {
  std::string top;
  std::vector<std::string> first_words;
  for (const auto& c : Commands()) {
    std::string first = std::string(c.name.substr(0, c.name.find(' ')));
    if (std::find(first_words.begin(), first_words.end(), first) == first_words.end()) first_words.push_back(first);
  }
  first_words.push_back("help");
  std::string out = absl::StrCat(
      "# bash completion for longhaul, generated by `longhaul completion bash`.\n"
      "_longhaul() {\n"
      "  local cur prev cmd i\n"
      "  cur=${COMP_WORDS[COMP_CWORD]}\n"
      "  prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      "  if (( COMP_CWORD == 1 )); then\n"
      "    COMPREPLY=( $(compgen -W ",
      ShellQuoted(absl::StrJoin(first_words, " ") + " --help --version"),
      " -- \"$cur\") )\n"
      "    return\n"
      "  fi\n"
      "  cmd=${COMP_WORDS[1]}\n"
      "  i=2\n"
      "  if [[ $cmd == offsets ]]; then\n"
      "    if (( COMP_CWORD == 2 )); then\n"
      "      COMPREPLY=( $(compgen -W 'translate failover' -- \"$cur\") )\n"
      "      return\n"
      "    fi\n"
      "    cmd=\"offsets ${COMP_WORDS[2]}\"\n"
      "  fi\n"
      "  case $cmd in\n");
  for (const auto& c : Commands()) {
    absl::StrAppend(&out, "    ", ShellQuoted(c.name), ")\n      case $prev in\n");
    std::vector<std::string> flags;
    for (const auto& o : c.options) {
      flags.push_back(o.flag);
      if (!o.short_flag.empty()) flags.push_back(o.short_flag);
      if (o.value.empty()) continue;
      std::string patterns = o.short_flag.empty() ? o.flag : absl::StrCat(o.short_flag, "|", o.flag);
      if (o.takes_file) {
        absl::StrAppend(&out, "        ", patterns, ") COMPREPLY=( $(compgen -f -- \"$cur\") ); return ;;\n");
      } else if (!o.choices.empty()) {
        absl::StrAppend(&out, "        ", patterns, ") COMPREPLY=( $(compgen -W ",
                        ShellQuoted(absl::StrJoin(o.choices, " ")), " -- \"$cur\") ); return ;;\n");
      } else {
        absl::StrAppend(&out, "        ", patterns, ") return ;;\n");
      }
    }
    absl::StrAppend(&out, "      esac\n");
    if (c.name == "completion") {
      absl::StrAppend(&out, "      COMPREPLY=( $(compgen -W 'bash zsh' -- \"$cur\") )\n");
    } else {
      absl::StrAppend(&out, "      COMPREPLY=( $(compgen -W ", ShellQuoted(absl::StrJoin(flags, " ")),
                      " -- \"$cur\") )\n");
    }
    absl::StrAppend(&out, "      ;;\n");
  }
  absl::StrAppend(&out, "  esac\n}\ncomplete -F _longhaul longhaul\n");
  return out;
}

std::string ZshCompletion() {
  std::string out =
      "#compdef longhaul\n"
      "# zsh completion for longhaul, generated by `longhaul completion zsh`.\n"
      "_longhaul() {\n"
      "  local -a commands\n"
      "  commands=(\n";
  std::vector<std::string> seen;
  for (const auto& c : Commands()) {
    std::string first = std::string(c.name.substr(0, c.name.find(' ')));
    if (std::find(seen.begin(), seen.end(), first) != seen.end()) continue;
    seen.push_back(first);
    std::string summary = first == "offsets" ? "translate or fail over consumer group offsets" : c.summary;
    absl::StrAppend(&out, "    ", ShellQuoted(absl::StrCat(first, ":", ZshDescription(summary))), "\n");
  }
  absl::StrAppend(&out,
                  "  )\n"
                  "  if (( CURRENT == 2 )); then\n"
                  "    _describe 'command' commands\n"
                  "    return\n"
                  "  fi\n"
                  "  local cmd=$words[2]\n"
                  "  shift words; (( CURRENT-- ))\n"
                  "  if [[ $cmd == offsets ]]; then\n"
                  "    if (( CURRENT == 2 )); then\n"
                  "      _values 'subcommand' 'translate[print translated offsets]' 'failover[commit translated "
                  "offsets on the target]'\n"
                  "      return\n"
                  "    fi\n"
                  "    cmd=\"offsets $words[2]\"\n"
                  "    shift words; (( CURRENT-- ))\n"
                  "  fi\n"
                  "  case $cmd in\n");
  for (const auto& c : Commands()) {
    absl::StrAppend(&out, "    ", ShellQuoted(c.name), ")\n      _arguments -s");
    for (const auto& o : c.options) {
      std::string action;
      if (!o.value.empty()) {
        std::string what = ZshDescription(o.value);
        if (o.takes_file) action = absl::StrCat(":", what, ":_files");
        else if (!o.choices.empty()) action = absl::StrCat(":", what, ":(", absl::StrJoin(o.choices, " "), ")");
        else action = absl::StrCat(":", what, ": ");
      }
      std::string spec = absl::StrCat("[", ZshDescription(o.help), "]", action);
      if (o.short_flag.empty()) {
        absl::StrAppend(&out, " \\\n        ", ShellQuoted(absl::StrCat(o.flag, spec)));
      } else {
        absl::StrAppend(&out, " \\\n        ", ShellQuoted(absl::StrCat("(", o.short_flag, " ", o.flag, ")")), "{",
                        o.short_flag, ",", o.flag, "}", ShellQuoted(spec));
      }
    }
    if (c.name == "completion") absl::StrAppend(&out, " \\\n        '1:shell:(bash zsh)'");
    absl::StrAppend(&out, "\n      ;;\n");
  }
  absl::StrAppend(&out, "  esac\n}\n_longhaul \"$@\"\n");
  return out;
}

}  // namespace longhaul::gateway
