#!/usr/bin/env bash
# Command-line help test (CTest `cli_help`, label unit, ~1 s): every command
# answers --help (exit 0, its usage line, on stdout); the man page made at
# build time is what `longhaul manpage` prints now, and its section of each
# command names every option that --help lists; man renders it without
# warnings; the bash and zsh completion scripts parse, and the bash one
# completes commands, options and option values.
#
#   tests/packaging/cli_help_test.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: cli_help_test.sh BUILD_DIR}
longhaul="$build/bin/longhaul"
page="$build/generated-docs/longhaul.1"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$longhaul" ] || fail "$longhaul is not built"
[ -s "$page" ] || fail "$page is not generated (target longhaul_docs)"

"$longhaul" manpage | cmp -s - "$page" || fail "$page differs from 'longhaul manpage': rebuild target longhaul_docs"
"$longhaul" --help | grep -q '^usage: longhaul <command>' || fail "longhaul --help"

# The commands users type. A new command must be added here and to the
# help table (gateway/src/command_help.cc).
commands=("run" "validate" "status" "offsets translate" "offsets failover" "version" "completion" "manpage")
listed=$("$longhaul" --help)
for cmd in "${commands[@]}"; do
  # shellcheck disable=SC2086
  help=$("$longhaul" $cmd --help) || fail "'longhaul $cmd --help' exited non-zero"
  head -1 <<<"$help" | grep -q "^usage: longhaul $cmd" || fail "'longhaul $cmd --help' does not start with its usage line"
  grep -q "^  $cmd " <<<"$listed" || fail "'longhaul --help' does not list '$cmd'"
  # shellcheck disable=SC2086
  [ "$("$longhaul" help $cmd)" = "$help" ] || fail "'longhaul help $cmd' differs from 'longhaul $cmd --help'"
  # The command's section of the man page: from its .SS to the next section.
  section=$(awk -v want=".SS longhaul ${cmd//-/\\\\-}" '$0 == want {on = 1; next} /^\.S[SH] / {on = 0} on' "$page")
  [ -n "$section" ] || fail "the man page has no section for '$cmd'"
  for flag in $(grep -oE '^  (-[a-z], )?--[a-z-]+' <<<"$help" | grep -oE -- '--[a-z-]+'); do
    grep -qF -- "${flag//-/\\-}" <<<"$section" || fail "the man page section of '$cmd' lacks $flag"
  done
  n=$(grep -cE '^  (-[a-z], )?--[a-z-]+' <<<"$help")
  echo "ok: $cmd (--help lists $n options, all in the man page)"
done
# Wrong use is a usage error (2), with the command's help on stderr.
set +e
"$longhaul" status --no-such-option >/dev/null 2>"$build/cli_help_stderr"; code=$?
set -e
[ "$code" = 2 ] || fail "an unknown option exits $code, not 2"
grep -q "usage: longhaul status" "$build/cli_help_stderr" || fail "an unknown option does not print the command's usage"
rm -f "$build/cli_help_stderr"

if command -v man >/dev/null; then
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || fail "man reports: $warnings"
  echo "ok: man renders the page without warnings"
fi

bash_script=$("$longhaul" completion bash)
bash -n <<<"$bash_script" || fail "the bash completion does not parse"
complete_words() {  # prints COMPREPLY for the words given (the last is the one being completed)
  bash -c 'eval "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _longhaul; echo "${COMPREPLY[*]}"' _ "$bash_script" "$@"
}
[ "$(complete_words longhaul st)" = "status" ] || fail "bash: 'longhaul st<TAB>' gives '$(complete_words longhaul st)'"
[ "$(complete_words longhaul run --role '')" = "all edge hub" ] || fail "bash: --role values"
[ "$(complete_words longhaul offsets f)" = "failover" ] || fail "bash: offsets subcommands"
grep -qw -- --allow-rewind <<<"$(complete_words longhaul offsets failover --)" || fail "bash: offsets failover options"
echo "ok: bash completion"
if command -v zsh >/dev/null; then
  zsh -n <<<"$("$longhaul" completion zsh)" || fail "the zsh completion does not parse"
  echo "ok: zsh completion parses"
else
  echo "NOTE: zsh not installed; zsh completion not parsed"
fi
echo "PASSED: help of ${#commands[@]} commands, man page, completions"
