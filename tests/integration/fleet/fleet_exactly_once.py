#!/usr/bin/env python3
"""CTest fleet_exactly_once (label integration): a small fleet of simulated
edges (longhaul-fleet, each edge its own certificate and link, random
disconnects) against a real hub (`longhaul run --role hub`) and the target
brokers of LONGHAUL_TEST_TARGET_BOOTSTRAP; passes when every edge's records
are at the target exactly once, in order, key/value/headers/timestamp as
generated (longhaul-fleet check), every record was acknowledged and the hub
stayed up. Bounded: about 2 minutes, killed at --timeout."""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "soak", "fleet"))
import fleet_hub  # noqa: E402

SKIP = 77


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--longhaul", required=True)
    ap.add_argument("--fleet", required=True)
    ap.add_argument("--make-test-certs", required=True)
    # per-edge until `edges: many` (helper M) is on main; then many.
    ap.add_argument("--layout", default="per-edge", choices=["many", "per-edge"])
    ap.add_argument("--edges", type=int, default=20)
    ap.add_argument("--duration", type=int, default=45, help="seconds of generation")
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--disconnects-per-minute", type=float, default=30)
    ap.add_argument("--lanes", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=240)
    a = ap.parse_args()

    bootstrap = os.environ.get("LONGHAUL_TEST_TARGET_BOOTSTRAP")
    if not bootstrap:
        print("fleet_exactly_once: LONGHAUL_TEST_TARGET_BOOTSTRAP is not set (see HELPERS/README: "
              "scripts/kafka-cluster start); skipped")
        return SKIP
    base = os.environ.get("LONGHAUL_TEST_ARTIFACTS") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix="fleet_exactly_once-", dir=base)
    deadline = time.monotonic() + a.timeout
    certs = os.path.join(work, "certs")
    subprocess.run([a.make_test_certs, certs, "--edges", str(a.edges)], check=True, stdout=subprocess.DEVNULL,
                   timeout=120)
    edges = fleet_hub.edge_names(a.edges)
    port, admin = fleet_hub.free_port(), fleet_hub.free_port()
    # Unique names per run: the target cluster is shared with other tests.
    pipeline = f"fleet{os.getpid()}"
    topic = f"t{int(time.time())}"
    config = os.path.join(work, "hub.yaml")
    with open(config, "w") as f:
        f.write(fleet_hub.hub_config(a.layout, edges, certs, f"127.0.0.1:{port}", bootstrap, admin,
                                     pipeline=pipeline, topic=topic, lanes=a.lanes))
    hub = fleet_hub.Hub(a.longhaul, config, os.path.join(work, "hub.log")).start()
    failures = []
    try:
        hub.wait_listening("127.0.0.1", port, 60)
        expect = os.path.join(work, "expect.txt")
        run = subprocess.run(
            [a.fleet, "run", "--hub", f"127.0.0.1:{port}", "--certs", certs, "--edges", str(a.edges),
             "--layout", a.layout, "--pipeline", pipeline, "--topic", topic, "--rate", str(a.rate),
             "--duration", f"{a.duration}s", "--disconnects-per-minute", str(a.disconnects_per_minute),
             "--drain-timeout", "90s", "--expect", expect, "--json", os.path.join(work, "fleet.json")],
            stdout=subprocess.PIPE, stderr=open(os.path.join(work, "fleet.log"), "w"), text=True,
            timeout=max(10, deadline - time.monotonic()))
        print(run.stdout, end="")
        if run.returncode != 0:
            failures.append(f"longhaul-fleet run exited {run.returncode} (not every record acknowledged, "
                            f"or an edge failed); see {work}/fleet.log")
        if "disconnect_faults=0 " in run.stdout and a.disconnects_per_minute > 0:
            failures.append("no disconnect fault was injected")
        if not hub.alive():
            failures.append(f"the hub died (exit {hub.proc.returncode}); see {work}/hub.log")
        if os.path.exists(expect):
            check = subprocess.run([a.fleet, "check", "--expect", expect, "--bootstrap", bootstrap],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   timeout=max(10, deadline - time.monotonic()))
            print(check.stdout, end="")
            if check.returncode != 0:
                failures.append(f"longhaul-fleet check exited {check.returncode}")
        else:
            failures.append("longhaul-fleet wrote no expect file")
    finally:
        code = hub.stop()
        if code not in (0, None):
            failures.append(f"the hub exited {code} on SIGTERM; see {work}/hub.log")
    for f in failures:
        print("FAIL:", f)
    print(("PASS" if not failures else "FAIL") + f" fleet_exactly_once ({a.layout} layout, {a.edges} edges); "
          f"artifacts in {work}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
