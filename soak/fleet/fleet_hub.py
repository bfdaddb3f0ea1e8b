"""Hub side of a fleet run, shared by bench/fleet and the fleet CTest:
writes the hub config for a layout, starts `longhaul run --role hub`, reads
its CPU, RSS and threads from /proc, stops or kills it. Standard library
only (Debian's python3)."""

import os
import signal
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def edge_names(count, prefix="ship-", first=0):
    """The names longhaul-fleet and scripts/make-test-certs --edges give."""
    width = max(3, len(str(first + count - 1)))
    return [f"{prefix}{i:0{width}d}" for i in range(first, first + count)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_config(layout, edges, certs, listen, target_bootstrap, admin_port, pipeline="fleet", topic="telemetry",
               lanes=8, commit_interval="1s", handshakes_per_address=64):
    """YAML for one hub. layout "many": one pipeline with `edges: many` and
    rename {edge}.{topic}; "per-edge": pipeline PIPELINE-EDGE per edge with
    rename EDGE.{topic} (one pipeline per edge, the pre-fleet model). Target
    topics are EDGE.TOPIC in both, so one checker serves both."""
    lines = [f"# Written by soak/fleet/fleet_hub.py ({layout} layout, {len(edges)} edges).",
             "links:", "  fleet-link:", "    hub:", f'      listen: "{listen}"',
             f"      ca_file: {certs}/ca.pem", f"      cert_file: {certs}/hub.pem", f"      key_file: {certs}/hub.key",
             # Every simulated edge dials from 127.0.0.1: as a fleet behind
             # one NAT address, it needs more than the default 16 handshakes
             # at once from one address (500 edges starting within 10 s had
             # 500 connections refused with the default).
             f"      max_pending_handshakes_per_address: {handshakes_per_address}",
             "      identities:"]
    for e in edges:
        p = pipeline if layout == "many" else f"{pipeline}-{e}"
        lines.append(f'        "longhaul://edge/{e}": ["{p}"]')
    # The hub never dials the source cluster; the name is needed for checkpoint keys.
    lines += ["clusters:", f'  edge-site: {{bootstrap: "{target_bootstrap}"}}',
              f'  shore: {{bootstrap: "{target_bootstrap}"}}', "pipelines:"]

    def pipe(name, rename, many):
        out = [f"  {name}:", "    source: edge-site", "    target: shore", "    via: fleet-link",
               f'    topics: {{include: ["{topic}"]}}', f'    rename: "{rename}"', f"    lanes: {lanes}",
               f"    commit_interval: {commit_interval}", "    delivery: exactly-once"]
        if many:
            out.append("    edges: many")
        return out

    if layout == "many":
        lines += pipe(pipeline, "{edge}.{topic}", True)
    else:
        for e in edges:
            lines += pipe(f"{pipeline}-{e}", e + ".{topic}", False)
    lines += ["worker:", "  drain_timeout: 10s", "admin:", f'  listen: "127.0.0.1:{admin_port}"', ""]
    return "\n".join(lines)


class Hub:
    """One `longhaul run --role hub` process."""

    def __init__(self, longhaul, config_path, log_path):
        self.longhaul, self.config_path, self.log_path = longhaul, config_path, log_path
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.longhaul, "run", "-c", self.config_path, "--role", "hub"],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_listening(self, host, port, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode} before listening; see {self.log_path}")
            try:
                with socket.create_connection((host, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"hub not listening on {host}:{port} within {timeout}s; see {self.log_path}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self):
        """User + system CPU of the hub so far (its threads included)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def status(self):
        """VmRSS and VmHWM in bytes, Threads."""
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) * 1024
                elif k == "Threads":
                    out[k] = int(v)
        return out

    def stop(self, grace=20):
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def kill9(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)
