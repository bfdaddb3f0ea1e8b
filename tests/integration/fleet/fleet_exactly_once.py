#!/usr/bin/env python3
"""CTest fleet_exactly_once (label integration): a small fleet of simulated
edges (longhaul-fleet, each edge its own certificate and link, random
disconnects) against a real hub (`longhaul run --role hub`) and the target
brokers of LONGHAUL_TEST_TARGET_BOOTSTRAP; passes when every edge's records
are at the target exactly once, in order, key/value/headers/timestamp as
generated (longhaul-fleet check), every record was acknowledged and the hub
stayed up. With --hubs N the pipeline runs in N hubs and every edge lists
them all; --kill-hub-at S kills hub 0 with kill -9 S seconds into the run
(the others must stay up, the edges move to them). --max-extra-threads T:
the hubs' threads while the fleet runs may exceed their threads before it
by at most T (a hub's threads grow with its lanes, not its edges).
Bounded: a few minutes, killed at --timeout."""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
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
    ap.add_argument("--hubs", type=int, default=1)
    ap.add_argument("--kill-hub-at", type=int, default=0, help="kill -9 hub 0 this many seconds into the run")
    ap.add_argument("--max-extra-threads", type=int, default=-1)
    ap.add_argument("--start-spread", type=int, default=5, help="seconds over which the edges first dial")
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
    # Unique names per run: the target cluster is shared with other tests.
    pipeline = f"fleet{os.getpid()}"
    topic = f"t{int(time.time())}"
    hubs, ports = [], []
    for i in range(a.hubs):
        port, admin = fleet_hub.free_port(), fleet_hub.free_port()
        config = os.path.join(work, f"hub{i}.yaml")
        with open(config, "w") as f:
            f.write(fleet_hub.hub_config(a.layout, edges, certs, f"127.0.0.1:{port}", bootstrap, admin,
                                         pipeline=pipeline, topic=topic, lanes=a.lanes))
        hubs.append(fleet_hub.Hub(a.longhaul, config, os.path.join(work, f"hub{i}.log")).start())
        ports.append(port)
    failures = []
    killed = threading.Event()
    try:
        for h, p in zip(hubs, ports):
            h.wait_listening("127.0.0.1", p, 60)
        threads_before = sum(h.status()["Threads"] for h in hubs)
        peak = {"threads": threads_before, "rss": sum(h.status()["VmRSS"] for h in hubs)}
        sampling = threading.Event()

        def sample():  # hub threads and RSS while the fleet runs (reported; threads bounded)
            while not sampling.wait(1.0):
                live = []
                for h in hubs:
                    try:
                        live.append(h.status())
                    except (OSError, ValueError):  # killed meanwhile
                        pass
                peak["threads"] = max(peak["threads"], sum(s["Threads"] for s in live))
                peak["rss"] = max(peak["rss"], sum(s["VmRSS"] for s in live))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        expect = os.path.join(work, "expect.txt")
        cmd = [a.fleet, "run", "--hub", ",".join(f"127.0.0.1:{p}" for p in ports), "--certs", certs,
               "--edges", str(a.edges), "--layout", a.layout, "--pipeline", pipeline, "--topic", topic,
               "--rate", str(a.rate), "--duration", f"{a.duration}s", "--start-spread", f"{a.start_spread}s",
               "--disconnects-per-minute", str(a.disconnects_per_minute), "--drain-timeout", "90s",
               "--expect", expect, "--json", os.path.join(work, "fleet.json")]
        if a.hubs > 1:
            cmd += ["--failover-after", "15s"]
        fleet = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(os.path.join(work, "fleet.log"), "w"),
                                 text=True)
        if a.kill_hub_at > 0:
            def kill():
                if not sampling.wait(a.kill_hub_at) and fleet.poll() is None:
                    hubs[0].kill9()
                    killed.set()
                    print(f"killed hub 0 (kill -9) {a.kill_hub_at}s into the run")
            threading.Thread(target=kill, daemon=True).start()
        try:
            out, _ = fleet.communicate(timeout=max(10, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            fleet.kill()
            out, _ = fleet.communicate()
            failures.append("longhaul-fleet run did not finish within --timeout")
        sampling.set()
        sampler.join()
        run = subprocess.CompletedProcess(cmd, fleet.returncode, out, None)
        print(run.stdout, end="")
        print(f"hubs: {a.hubs}; threads before the fleet {threads_before}, peak while it ran {peak['threads']}; "
              f"peak RSS {peak['rss'] / 2**20:.0f} MB ({peak['rss'] / 1024 / a.edges:.0f} KB per edge)")
        if a.max_extra_threads >= 0 and peak["threads"] > threads_before + a.max_extra_threads:
            failures.append(f"the hubs' threads grew from {threads_before} to {peak['threads']} with {a.edges} "
                            f"edges (more than {a.max_extra_threads} extra): threads must follow lanes, not edges")
        if a.kill_hub_at > 0 and not killed.is_set():
            failures.append("the run ended before the hub was killed: lower --kill-hub-at")
        if run.returncode != 0:
            failures.append(f"longhaul-fleet run exited {run.returncode} (not every record acknowledged, "
                            f"or an edge failed); see {work}/fleet.log")
        if "disconnect_faults=0 " in run.stdout and a.disconnects_per_minute > 0:
            failures.append("no disconnect fault was injected")
        for i, h in enumerate(hubs):
            if not h.alive() and not (i == 0 and killed.is_set()):
                failures.append(f"hub {i} died (exit {h.proc.returncode}); see {work}/hub{i}.log")
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
        for i, h in enumerate(hubs):
            if i == 0 and killed.is_set():
                continue
            code = h.stop()
            if code not in (0, None):
                failures.append(f"hub {i} exited {code} on SIGTERM; see {work}/hub{i}.log")
    for f in failures:
        print("FAIL:", f)
    print(("PASS" if not failures else "FAIL") + f" fleet_exactly_once ({a.layout} layout, {a.edges} edges, "
          f"{a.hubs} hub(s){', one killed' if killed.is_set() else ''}); "
          f"artifacts in {work}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
