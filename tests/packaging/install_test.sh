#!/usr/bin/env bash
# Install and package test (CTest `install_and_package`, label unit, ~10 s):
# `cmake --install` into a scratch prefix puts the binary, example config,
# systemd unit, man page and completions in place; the unit passes
# `systemd-analyze verify` and its offline security review; the .deb made by
# CPack depends on the Debian package of every shared library the binary
# links directly (dpkg -S on each NEEDED entry) and ships the same files.
#
#   tests/packaging/install_test.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: install_test.sh BUILD_DIR}
build=$(cd "$build" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /tmp/longhaul-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== cmake --install --prefix $work/prefix"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install failed"; }
p="$work/prefix"
for f in bin/longhaul share/doc/longhaul/examples/longhaul.yaml lib/systemd/system/longhaul@.service \
         share/man/man1/longhaul.1 share/bash-completion/completions/longhaul share/zsh/vendor-completions/_longhaul \
         share/longhaul/alerts.yaml share/longhaul/longhaul-dashboard.json; do
  [ -s "$p/$f" ] || fail "cmake --install did not install $f"
done
"$p/bin/longhaul" --version | grep -q "^longhaul " || fail "the installed binary does not run"
unit="$p/lib/systemd/system/longhaul@.service"
grep -q "^ExecStart=$p/bin/longhaul run -c /etc/longhaul/%i.yaml" "$unit" ||
  fail "the unit does not run the installed binary: $(grep ExecStart= "$unit")"

echo "== systemd unit"
# TimeoutStopSec must cover the default drain (worker.drain_timeout 30 s)
# plus the process's 2 s watchdog; longer drains extend it at run time.
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
[ -n "$stop" ] && [ "$stop" -ge 32 ] || fail "TimeoutStopSec=${stop:-unset} does not cover the default 30 s drain + 2 s"
grep -q '^Type=notify$' "$unit" || fail "the unit is not Type=notify (the process sends READY=1 and EXTEND_TIMEOUT_USEC)"
for option in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes ProtectHome=yes PrivateTmp=yes Restart=on-failure; do
  grep -q "^$option$" "$unit" || fail "the unit lacks $option"
done
if command -v systemd-analyze >/dev/null; then
  # verify needs an instance name; the man page is looked up in the prefix.
  cp "$unit" "$work/longhaul@example.service"
  MANPATH="$p/share/man" systemd-analyze verify "$work/longhaul@example.service" >"$work/verify.log" 2>&1 ||
    { cat "$work/verify.log"; fail "systemd-analyze verify failed"; }
  [ ! -s "$work/verify.log" ] || { cat "$work/verify.log"; fail "systemd-analyze verify printed warnings"; }
  echo "systemd-analyze verify: clean"
  # Offline security review: exposure must stay low (1.7 when written).
  systemd-analyze security --offline=yes --threshold=25 "$work/longhaul@example.service" >"$work/security.log" 2>&1 ||
    { tail -3 "$work/security.log"; fail "systemd-analyze security: exposure above 2.5"; }
  grep -o 'Overall exposure level.*' "$work/security.log"
else
  echo "NOTE: systemd-analyze is not installed; unit checked by its contents only"
fi

echo "== .deb"
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls -t "$build"/longhaul_*.deb | head -1)
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in $(readelf -d "$build/bin/longhaul" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
  # (awk reads all input: an early exit would SIGPIPE ldconfig under pipefail)
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {print $NF; found = 1}')
  [ -n "$path" ] || fail "cannot find $lib on this machine"
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null) || fail "no Debian package owns $path"
  pkg=${pkg%%:*}
  sed 's/([^)]*)//g; s/[[:space:]]//g' <<<"$depends" | tr ',|' '\n\n' | grep -qxF "$pkg" || fail "$lib comes from $pkg, which the .deb does not depend on"
done
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/deb-files"
for f in /usr/bin/longhaul /usr/lib/systemd/system/longhaul@.service /usr/share/man/man1/longhaul.1 \
         /usr/share/doc/longhaul/examples/longhaul.yaml /usr/share/bash-completion/completions/longhaul; do
  grep -qx "$f" "$work/deb-files" || fail "the .deb lacks $f"
done
# Read the whole unit first: `grep -q` stopping early would SIGPIPE tar under pipefail.
packaged_unit=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/longhaul@.service)
grep -q '^ExecStart=/usr/bin/longhaul run' <<<"$packaged_unit" ||
  fail "the packaged unit does not run /usr/bin/longhaul"
echo "PASSED: install tree, systemd unit and .deb"
