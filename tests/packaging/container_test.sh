#!/usr/bin/env bash
# Container image test (CTest `container_image`, label integration): builds
# the .deb and the image with scripts/build-image (root filesystem cached in
# .cache/rootfs/; the .deb is installed into it in a chroot, where
# `longhaul --version` and `longhaul validate` of the example config run),
# then under podman with the runc runtime, host network and
# explicit ulimits (what this machine needs): `longhaul --version`,
# `longhaul validate` of the mounted config, and an exactly-once mirror of
# 3,000 records between the shared test clusters on loopback, run as the
# image's non-root user with the config and a secret as mounted files. The
# records are checked with longhaul-check (every record once, in order,
# unchanged) after the container drained on `podman stop`.
#
#   tests/packaging/container_test.sh BUILD_DIR
# Needs LONGHAUL_TEST_SOURCE_BOOTSTRAP and LONGHAUL_TEST_TARGET_BOOTSTRAP
# (scripts/test sets them). Exit 77 (skipped) only when podman or buildah is
# missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: container_test.sh BUILD_DIR}
build=$(cd "$build" && pwd)
for tool in podman buildah debootstrap; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIPPED: $tool is not installed (scripts/setup installs podman, buildah, debootstrap and runc)"
    exit 77
  fi
done
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap and buildah mount)"
source_bs=${LONGHAUL_TEST_SOURCE_BOOTSTRAP:?set LONGHAUL_TEST_SOURCE_BOOTSTRAP (scripts/test does)}
target_bs=${LONGHAUL_TEST_TARGET_BOOTSTRAP:?set LONGHAUL_TEST_TARGET_BOOTSTRAP (scripts/test does)}
command -v runc >/dev/null || fail "runc is missing (scripts/setup installs it)"

id=$$-$RANDOM
work=$(mktemp -d /tmp/longhaul-container-test.XXXXXX)
image="localhost/longhaul-test:$id"
name="longhaul-test-$id"
cleanup() {
  podman --runtime runc rm -f "$name" >/dev/null 2>&1 || true
  podman rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
podman_run() {
  podman --runtime runc run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network host "$@"
}

echo "== package and image"
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls -t "$build"/longhaul_*.deb | head -1)
"$here/scripts/build-image" --deb "$deb" --tag "$image" >"$work/build-image.log" 2>&1 ||
  { cat "$work/build-image.log"; fail "scripts/build-image failed"; }
tail -6 "$work/build-image.log"
grep -q "^/usr/share/doc/longhaul/examples/longhaul.yaml: ok" "$work/build-image.log" ||
  fail "longhaul validate of the example config did not pass in the image's chroot"

echo "== longhaul --version in the container"
version_out=$(podman_run --rm "$image" --version)
echo "$version_out"
want_version=$(dpkg-deb -f "$deb" Version)
grep -q "^longhaul $want_version (revision " <<<"$version_out" || fail "--version does not say $want_version"
for lib in librdkafka OpenSSL Boost; do grep -q "^$lib [0-9]" <<<"$version_out" || fail "--version has no $lib version"; done

echo "== config and secret as mounted files"
topic="container-$id"
mkdir -p "$work/etc" "$work/secrets"
# A secret only the container's user (uid 10001) can read. librdkafka
# ignores sasl.password on a PLAINTEXT cluster; the point is that the
# non-root process reads the mounted file (an unreadable one fails start).
printf 'not-a-real-password\n' >"$work/secrets/kafka-password"
chown 10001:10001 "$work/secrets/kafka-password"
chmod 0400 "$work/secrets/kafka-password"
cat >"$work/etc/longhaul.yaml" <<YAML
clusters:
  src:
    bootstrap: "$source_bs"
  dst:
    bootstrap: "$target_bs"
    properties:
      sasl.password: \${file:/run/secrets/longhaul/kafka-password}
pipelines:
  container:
    source: src
    target: dst
    topics:
      include: ["$topic"]
    lanes: 2
    commit_interval: 200ms
    discovery_interval: 1s
worker:
  drain_timeout: 20s
admin:
  listen: "127.0.0.1:0"
YAML
chmod 0644 "$work/etc/longhaul.yaml"
mounts=(-v "$work/etc/longhaul.yaml:/etc/longhaul/longhaul.yaml:ro" -v "$work/secrets:/run/secrets/longhaul:ro")
podman_run --rm "${mounts[@]}" "$image" validate -c /etc/longhaul/longhaul.yaml || fail "validate failed in the container"

echo "== exactly-once mirror from inside the container"
"$build/bin/longhaul-gen" --bootstrap "$source_bs" --topic "$topic" --partitions 3 --count 3000 --seed 7 \
  >"$work/gen.log" 2>&1 || { cat "$work/gen.log"; fail "longhaul-gen failed"; }
tail -1 "$work/gen.log"
podman_run -d --name "$name" "${mounts[@]}" "$image" run -c /etc/longhaul/longhaul.yaml >/dev/null
pid=$(podman inspect --format '{{.State.Pid}}' "$name")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = 10001 ] || fail "the container's longhaul runs as uid $uid, not the image's non-root user 10001"
echo "longhaul runs in the container as pid $pid (host view), uid $uid"
if ! "$build/bin/longhaul-check" --source-bootstrap "$source_bs" --target-bootstrap "$target_bs" \
     --source-topic "$topic" --mode exactly-once --wait-until-complete 120s >"$work/check1.log" 2>&1; then
  cat "$work/check1.log"; podman logs "$name" 2>&1 | tail -30
  fail "records did not all arrive exactly once while the container ran"
fi
echo "== drain on podman stop (SIGTERM)"
podman --runtime runc stop -t 40 "$name" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
podman logs "$name" >"$work/container.log" 2>&1 || true
[ "$code" = 0 ] || { tail -30 "$work/container.log"; fail "the container exited $code after SIGTERM, not 0 (drain)"; }
grep -q '"draining"\|draining' "$work/container.log" || fail "no drain in the container's log"
# The verdict after the drain: nothing lost, nothing written twice.
"$build/bin/longhaul-check" --source-bootstrap "$source_bs" --target-bootstrap "$target_bs" \
  --source-topic "$topic" --mode exactly-once >"$work/check2.log" 2>&1 || { cat "$work/check2.log"; fail "exactly-once check failed after the drain"; }
grep TOTAL "$work/check2.log"
echo "PASSED: image built, --version and validate ran, 3000 records mirrored exactly once from the container"
