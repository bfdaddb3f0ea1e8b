#!/usr/bin/env bash
# The Helm chart test (CTest `helm_chart`, label integration): helm lint and
# helm template of deploy/helm/longhaul over the values files in values/,
# every rendered object decoded strictly into its k8s.io/api (or Prometheus
# Operator) type by manifests_test.go. helm comes from scripts/setup-go-tools
# (go install); Go modules from the module proxy. Exit 77 (skipped) only
# when Go is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
go=$(command -v go || ls /usr/local/go/bin/go 2>/dev/null || true)
if [ -z "$go" ]; then
  echo "SKIPPED: Go is not installed (needed to build helm and the manifest decoder)"
  exit 77
fi
helm=$("$here/scripts/setup-go-tools" | tail -1)
[ -x "$helm" ] || { echo "FAIL: helm was not installed by scripts/setup-go-tools" >&2; exit 1; }
"$helm" version --short
cd "$here/tests/helm"
LONGHAUL_HELM="$helm" GOFLAGS=-buildvcs=false "$go" test -count=1 -v ./... 2>&1 | grep -v '^=== RUN'
