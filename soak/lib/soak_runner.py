"""soak/run: a Longhaul soak run with faults, checked for exactly-once.

Starts a link emulator (two network namespaces), a source and a target
Kafka cluster, the Longhaul worker and the generator, injects faults on a
schedule, stops by itself, runs longhaul-check and prints a summary.

Topology, direct mode (as MirrorMaker 2 would be deployed: near the target):

    edge namespace                 emulated link            hub namespace
    source broker  <------------------------------------->  longhaul run (worker)
    longhaul-gen                                             target broker
                                                             lag probe, longhaul-check

Link mode (Longhaul's own link: an edge next to the source, a hub next to
the target, joined by a WebSocket/TLS link across the emulated one):

    edge namespace                 emulated link            hub namespace
    source broker                                            target broker
    longhaul run --role edge  ---- wss, mutual TLS ---->    longhaul run --role hub
    longhaul-gen                                             lag probe, longhaul-check

Every wait is bounded; every process the runner starts is stopped by pid on
exit, and the brokers and emulator also watch the runner's pid.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import faults as faultlib
import summary as summarylib

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.realpath(os.path.join(HERE, "..", ".."))

EXIT_PASSED, EXIT_FAILED, EXIT_SETUP = 0, 1, 2

# Link mode: the edge's certificate identity and the name the hub's
# certificate carries (the edge checks it), both for scripts/make-test-certs.
EDGE_NAME = "edge-1"
HUB_SERVER_NAME = "hub.soak.test"


class SetupError(Exception):
    """The soak could not be set up or kept running (not a mirror failure)."""


class Interrupted(Exception):
    pass


# --- topology -------------------------------------------------------------

@dataclass
class Role:
    name: str        # "worker", "edge", "hub"; also the fault "<name>-kill" and the log "<name>.log"
    namespace: str   # "edge" or "hub"
    config: str      # path of its YAML config
    admin_port: int  # its admin API, on 127.0.0.1 in its namespace
    argv: list[str] = field(default_factory=list)  # after `longhaul run -c CONFIG`


@dataclass
class Topology:
    """Where each piece runs. Direct mode: one worker on the hub side reads
    the source across the link. Link mode: an edge next to the source and a
    hub next to the target, joined by Longhaul's link (docs/edge-and-hub.md). Workers
    start in list order and stop in reverse (the hub before the edge dials
    it; the edge drains before the hub)."""
    mode: str
    source_side: str = "edge"
    target_side: str = "hub"
    generator_side: str = "edge"
    checker_side: str = "hub"
    workers: list[Role] = field(default_factory=list)
    lag_role: str = "worker"  # whose /api/v1/status the lag probe reads: the one next to the target

    @staticmethod
    def for_mode(mode: str, workdir: str, admin_port: int, hubs: int = 1) -> "Topology":
        if mode == "direct":
            if hubs != 1:
                raise SetupError("--hubs needs --mode link")
            return Topology(mode, workers=[Role("worker", "hub", os.path.join(workdir, "longhaul.yaml"),
                                                admin_port)])
        if mode == "link":
            if hubs == 1:
                return Topology(mode, lag_role="hub", workers=[
                    Role("hub", "hub", os.path.join(workdir, "hub.yaml"), admin_port, ["--role", "hub"]),
                    Role("edge", "edge", os.path.join(workdir, "edge.yaml"), admin_port + 1, ["--role", "edge"])])
            # Several hubs share an edges: many pipeline (hub1 keeps the
            # admin port, the edge the next one, hub2.. the ports after).
            names = [f"hub{i}" for i in range(1, hubs + 1)]
            roles = [Role(n, "hub", os.path.join(workdir, f"{n}.yaml"), admin_port + (0 if i == 0 else i + 1),
                          ["--role", "hub"]) for i, n in enumerate(names)]
            return Topology(mode, lag_role="hub1", workers=[*roles, Role(
                "edge", "edge", os.path.join(workdir, "edge.yaml"), admin_port + 1, ["--role", "edge"])])
        raise SetupError(f"--mode must be direct or link, not '{mode}'")

    def role(self, name: str) -> Role:
        for r in self.workers:
            if r.name == name:
                return r
        raise SetupError(f"{self.mode} mode runs no {name} (it runs {', '.join(r.name for r in self.workers)})")

    def hubs(self) -> list[Role]:
        return [r for r in self.workers if r.name.startswith("hub")]

    def killed_by(self, kind: str, target: str = "") -> Role | None:
        """The process a fault kind kills (worker-kill, edge-kill, hub-kill;
        with several hubs `target` names the hub), or None."""
        if kind not in faultlib.PROCESS_KINDS:
            return None
        return self.role(target or kind[:-len("-kill")])


# --- helpers --------------------------------------------------------------

def find_build(explicit: str | None) -> str:
    """The build directory whose bin/ holds every tool; --build, else
    $LONGHAUL_BUILD, else the newest of build*/ in the repository."""
    tools = ["longhaul-gen", "longhaul-check", "longhaul-linkemu"]
    candidates = [explicit] if explicit else ([os.environ["LONGHAUL_BUILD"]] if os.environ.get("LONGHAUL_BUILD") else [])
    if not candidates:
        dirs = [os.path.join(REPO, d) for d in os.listdir(REPO) if d.startswith("build")]
        dirs = [d for d in dirs if all(os.access(os.path.join(d, "bin", t), os.X_OK) for t in tools)]
        candidates = sorted(dirs, key=lambda d: -max(os.path.getmtime(os.path.join(d, "bin", t)) for t in tools))
    for d in candidates:
        missing = [t for t in tools if not os.access(os.path.join(d, "bin", t), os.X_OK)]
        if not missing:
            return os.path.realpath(d)
        if explicit or os.environ.get("LONGHAUL_BUILD"):
            raise SetupError(f"{d}/bin lacks {', '.join(missing)}: build them "
                             f"(cmake --build {d} --target {' '.join(missing)})")
    raise SetupError("no build directory has bin/{" + ",".join(tools) + "}: build them, or pass --build DIR")


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if not head:
            return f"unknown ({REPO} is not a git checkout)"
        return head + (" (working tree has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> str:
    mem_gb = 0.0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return f"{socket.gethostname()}: {os.cpu_count()} CPUs, {mem_gb:.0f} GB RAM, Linux {platform.release()}"


def tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def parse_kv_line(line: str) -> dict[str, str]:
    out = {}
    for word in line.split():
        if "=" in word:
            k, v = word.split("=", 1)
            out[k] = v
    return out


def link_of(status: dict | None) -> dict | None:
    """The process-level `link` object of a /api/v1/status document."""
    return status.get("link") if isinstance(status, dict) and isinstance(status.get("link"), dict) else None


# --- the run --------------------------------------------------------------

class SoakRun:
    def __init__(self, a: argparse.Namespace):
        self.a = a
        self.t_start = time.monotonic()
        self.t0: float | None = None  # generator start
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.workdir = os.path.realpath(a.workdir or f"/tmp/longhaul-soak-{stamp}-{os.getpid()}")
        os.makedirs(self.workdir, exist_ok=True)
        self.events = open(os.path.join(self.workdir, "events.log"), "a")
        self.name = a.name or f"lhs{os.getpid()}"
        self.ns = {"edge": f"{self.name}-edge", "hub": f"{self.name}-hub"}
        self.control = f"/run/longhaul-linkemu/{self.name}.sock"
        self.brokers_dir = os.path.join(self.workdir, "brokers")
        self.topic = a.topic
        self.procs: dict[str, subprocess.Popen] = {}
        self.starts: dict[str, int] = {}  # per role
        self.killing: set[str] = set()  # roles we killed on purpose and have not restarted yet
        self.unexpected: list[str] = []
        self.gen_runs: list[dict] = []
        self.gen_restarts = 0
        self.gen_deadline = 0.0
        self.samples: list[dict] = []
        self.edge_samples: list[dict] = []  # link mode: the edge's own lag
        self.samples_lock = threading.Lock()
        self.schedule: list[faultlib.Fault] = []
        self.bootstrap: dict[str, str] = {}
        self.build = ""
        self.topology: Topology | None = None
        self.certs = ""
        self.addr: dict[str, str] = {}
        self.check: dict | None = None
        self.check_seconds = 0.0
        self.final: dict[str, str] = {}  # per role: how it ended
        self.role_status: dict[str, dict] = {}  # per role: /api/v1/status just before the end
        self.link_status = ""
        self.interrupted = False
        self.setup_error = ""
        self.hub_kills = 0  # with several hubs: kills so far (the fallback choice goes round)

    # -- logging

    def rel(self) -> float:
        return time.monotonic() - (self.t0 if self.t0 is not None else self.t_start)

    def log(self, msg: str):
        line = f"[{'+' if self.t0 is not None else 'setup '}{self.rel():7.1f}s] {msg}"
        if not self.a.quiet:
            print(line, flush=True)
        self.events.write(line + "\n")
        self.events.flush()

    # -- tools

    def bin(self, tool: str) -> str:
        if tool == "longhaul" and self.a.longhaul:
            return os.path.realpath(self.a.longhaul)
        return os.path.join(self.build, "bin", tool)

    def in_ns(self, side: str, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns[side]] + argv

    def run_cmd(self, argv: list[str], timeout: float, what: str, check: bool = True) -> subprocess.CompletedProcess:
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SetupError(f"{what}: no answer within {timeout:.0f}s ({' '.join(argv)})") from None
        if check and r.returncode != 0:
            raise SetupError(f"{what} failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-2000:]}")
        return r

    def cluster(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return self.run_cmd([os.path.join(REPO, "scripts", "kafka-cluster"), args[0], "--dir", self.brokers_dir,
                             *args[1:]], timeout, f"kafka-cluster {' '.join(args)}")

    def ctl(self, command: str) -> str:
        r = self.run_cmd([self.bin("longhaul-linkemu"), "ctl", "--control", self.control, *command.split()], 15,
                         f"link emulator '{command}'", check=False)
        out = (r.stdout or r.stderr).strip()
        if r.returncode != 0:
            raise SetupError(f"link emulator '{command}': {out}")
        return out

    def spawn(self, key: str, argv: list[str], stdout, stderr, **kw) -> subprocess.Popen:
        p = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, **kw)
        self.procs[key] = p
        return p

    def stop_proc(self, key: str, sig: int = signal.SIGTERM, wait: float = 15) -> int | None:
        p = self.procs.get(key)
        if p is None or p.poll() is not None:
            return p.returncode if p else None
        try:
            p.send_signal(sig)
            return p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            p.kill()
            try:
                return p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                return None

    # -- setup

    def setup(self):
        a = self.a
        if os.geteuid() != 0:
            raise SetupError("soak/run needs root (network namespaces, TUN devices)")
        self.topology = Topology.for_mode(a.mode, self.workdir, a.admin_port, a.hubs)
        self.build = find_build(a.build)
        if not os.access(self.bin("longhaul"), os.X_OK):
            raise SetupError(f"no longhaul binary at {self.bin('longhaul')} (build it, or pass --longhaul PATH)")
        self.log(f"workdir {self.workdir}; tools from {self.build}/bin; worker {self.bin('longhaul')}")
        self.plan_faults()

        # The emulator outlives the run by a margin and watches our pid.
        budget = a.duration + a.check_timeout + 600
        emu_out = open(os.path.join(self.workdir, "linkemu.out"), "w")
        emu_err = open(os.path.join(self.workdir, "linkemu.log"), "w")
        self.spawn("emulator", [self.bin("longhaul-linkemu"), "run", "--name", self.name, "--profile", a.profile,
                                "--duration", f"{int(budget)}s", "--setup", "--control", self.control,
                                "--owner-pid", str(os.getpid()), "--seed", str(a.seed), "--status-interval", "60s"],
                   emu_out, emu_err)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "ready" in tail(os.path.join(self.workdir, "linkemu.out"), 5):
                break
            if self.procs["emulator"].poll() is not None:
                raise SetupError(f"link emulator exited: {tail(os.path.join(self.workdir, 'linkemu.log'))}")
            time.sleep(0.2)
        else:
            raise SetupError("link emulator not ready within 30s")
        ready = parse_kv_line(tail(os.path.join(self.workdir, "linkemu.out"), 5))
        self.addr = {"edge": ready["edge_addr"], "hub": ready["hub_addr"]}
        self.log(f"link emulator up: {self.ns['edge']} {self.addr['edge']} <-> {self.ns['hub']} {self.addr['hub']}, "
                 f"profile {a.profile}")

        # Brokers on both sides, in parallel. Default socket buffers (100 KB)
        # would cap one connection at ~1.3 Mbit/s on a 600 ms link: let TCP
        # autotune them, as operators of long links do.
        errors: dict[str, str] = {}

        def start(name: str, side: str):
            for attempt in (1, 2):  # a second try: a busy machine sometimes fails a JVM start
                try:
                    r = self.cluster("start", "--owner-pid", str(os.getpid()), "--netns", self.ns[side], "--host",
                                     self.addr[side], "--property", "socket.send.buffer.bytes=-1", "--property",
                                     "socket.receive.buffer.bytes=-1", name)
                    for line in r.stdout.splitlines():
                        if line.startswith(f"{name}="):
                            self.bootstrap[name] = line.split("=", 1)[1]
                    errors.pop(name, None)
                    return
                except SetupError as e:
                    errors[name] = str(e)
                    self.log(f"{name} broker did not start (attempt {attempt}): {e}")

        threads = [threading.Thread(target=start, args=("source", self.topology.source_side)),
                   threading.Thread(target=start, args=("target", self.topology.target_side))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        if errors or len(self.bootstrap) != 2:
            raise SetupError(f"brokers did not start: {errors}")
        self.log(f"brokers up: source {self.bootstrap['source']} ({self.ns['edge']}), "
                 f"target {self.bootstrap['target']} ({self.ns['hub']})")

        if a.mode == "link":
            self.make_certs()
        self.write_config()
        for role in self.topology.workers:
            self.start_worker(role.name, "initial start")

    def plan_faults(self):
        a = self.a
        if a.schedule:
            with open(a.schedule) as f:
                self.schedule = faultlib.parse_schedule(f.read(), a.schedule, a.profile)
            # Profile files named in a schedule are relative to it.
            for x in self.schedule:
                if x.arg and ("/" in x.arg or x.arg.endswith(".profile")) and not os.path.isabs(x.arg):
                    x.arg = os.path.join(os.path.dirname(os.path.realpath(a.schedule)), x.arg)
            late = [f for f in self.schedule if f.at + f.down > a.duration - 5]
            if late:
                raise SetupError(f"{a.schedule}: faults must end 5 s before --duration "
                                 f"({late[0].describe()} at {late[0].at:.0f}s)")
        else:
            start = min(30.0, a.duration * 0.1)
            end = a.duration - max(20.0, min(90.0, a.duration * 0.15))
            self.schedule = faultlib.plan_faults(a.faults, a.fault_kinds, start, end, a.seed, a.profile)
        try:
            faultlib.adapt_to_mode(self.schedule, a.mode, a.schedule or "--fault-kinds")
        except ValueError as e:
            raise SetupError(str(e)) from None
        with open(os.path.join(self.workdir, "faults.schedule"), "w") as f:
            f.write("# AT  KIND  DOWN  [PROFILE]  (soak/run schedule format)\n")
            for x in self.schedule:
                f.write(f"{x.at:.1f}s {x.kind} {x.down:.1f}s {x.arg}\n")

    def make_certs(self):
        """A throw-away CA, a hub certificate for HUB_SERVER_NAME and the hub's
        emulator address, an edge certificate with identity EDGE_NAME."""
        certs = os.path.join(self.workdir, "certs")
        self.run_cmd([os.path.join(REPO, "scripts", "make-test-certs"), certs, "--edge-name", EDGE_NAME,
                      "--hub-san", f"DNS:{HUB_SERVER_NAME}", "--hub-san", f"IP:{self.addr['hub']}"], 60,
                     "scripts/make-test-certs")
        self.certs = certs

    def link_section(self, role: Role) -> str:
        """links: for a link-mode role: each site's file holds only its own
        half, as it would in a deployment (the hub never sees the edge's key)."""
        a = self.a
        c = self.certs
        hubs = self.topology.hubs()
        if role.name == "edge":
            dial = ",".join(f"{self.addr['hub']}:{self.link_port(h)}" for h in hubs)
            return f"""links:
  soak-link:
    edge:
      hub: "{dial}"
      server_name: {HUB_SERVER_NAME}
      ca_file: {c}/ca.pem
      cert_file: {c}/edge.pem
      key_file: {c}/edge.key
      connections: {a.link_connections}
      compression: zstd
      buffer_bytes: 256MiB
      heartbeat_interval: 1s
      dead_link_timeout: 15s
"""
        return f"""links:
  soak-link:
    hub:
      listen: "{self.addr['hub']}:{self.link_port(role)}"
      ca_file: {c}/ca.pem
      cert_file: {c}/hub.pem
      key_file: {c}/hub.key
      identities:
        "longhaul://edge/{EDGE_NAME}": ["soak"]
"""

    def link_port(self, hub: Role) -> int:
        """The port a hub listens on: --link-port, and the ports after it for hub2, hub3, ..."""
        hubs = self.topology.hubs()
        return self.a.link_port + hubs.index(hub)

    def write_config(self):
        a = self.a
        for role in self.topology.workers:
            link = self.link_section(role) if a.mode == "link" else ""
            via = "    via: soak-link\n" if a.mode == "link" else ""
            # Several hubs share a pipeline only when each edge needs one lane.
            edges = "    edges: many\n" if a.hubs > 1 else ""
            with open(role.config, "w") as f:
                f.write(f"""# Written by soak/run ({role.name}).
{link}clusters:
  src:
    bootstrap: "{self.bootstrap['source']}"
  dst:
    bootstrap: "{self.bootstrap['target']}"
pipelines:
  soak:
    source: src
    target: dst
{via}{edges}    topics:
      include: ["{self.topic}"]
    rename: "{{topic}}"
    lanes: {a.lanes}
    commit_interval: {a.commit_interval}
    discovery_interval: 2s
    delivery: exactly-once
worker:
  drain_timeout: 10s
admin:
  listen: "127.0.0.1:{role.admin_port}"
""")

    # -- the worker

    def start_worker(self, name: str, why: str):
        role = self.topology.role(name)
        n = self.starts.get(name, 0) + 1
        log = open(os.path.join(self.workdir, f"{name}.log"), "a")
        log.write(f"\n===== soak/run: {name} start {n} ({why}) at {self.rel():.1f}s =====\n")
        log.flush()
        self.spawn(name, self.in_ns(role.namespace, [self.bin("longhaul"), "run", "-c", role.config, *role.argv]),
                   log, log)
        self.starts[name] = n
        self.killing.discard(name)

    def check_worker(self):
        for role in self.topology.workers:
            p = self.procs.get(role.name)
            if p is None or role.name in self.killing or p.poll() is None:
                continue
            msg = f"{role.name} exited on its own with status {p.returncode} at {self.rel():.1f}s"
            self.unexpected.append(msg)
            self.log(f"UNEXPECTED: {msg}; last log lines:\n"
                     f"{tail(os.path.join(self.workdir, f'{role.name}.log'), 10)}")
            self.start_worker(role.name, "restart after an unexpected exit")

    # -- the generator

    def start_generator(self, seconds: float):
        a = self.a
        n = len(self.gen_runs) + 1
        out = open(os.path.join(self.workdir, f"generator-{n}.out"), "w")
        err = open(os.path.join(self.workdir, f"generator-{n}.log"), "w")
        argv = [self.bin("longhaul-gen"), "--bootstrap", self.bootstrap["source"], "--topic", self.topic,
                "--partitions", str(a.partitions), "--rate", str(a.rate), "--duration", f"{int(seconds)}s",
                "--min-size", str(a.min_size), "--max-size", str(a.max_size), "--seed", str(a.seed + n),
                "--timeout", f"{int(seconds) + 600}s", "--progress-interval", "30s"]
        self.spawn("generator", self.in_ns(self.topology.generator_side, argv), out, err)
        self.gen_runs.append({"out": out.name, "log": err.name, "started": self.rel(), "planned": seconds})

    def check_generator(self):
        p = self.procs.get("generator")
        if p is None or p.poll() is None:
            return
        run = self.gen_runs[-1]
        if "exit" in run:
            return
        run["exit"] = p.returncode
        run["ended"] = self.rel()
        run["result"] = parse_kv_line(tail(run["out"], 3))
        left = self.gen_deadline - time.monotonic()
        if p.returncode != 0:
            msg = (f"generator exited with status {p.returncode} at {self.rel():.1f}s: "
                   f"{tail(run['log'], 3).strip()}")
            self.unexpected.append(msg)
            self.log(f"UNEXPECTED: {msg}")
            if left > 15:
                self.gen_restarts += 1
                self.log(f"restarting the generator for the remaining {left:.0f}s (a new run id)")
                self.start_generator(left)

    # -- lag

    def start_probe(self, seconds: float):
        """The lag probe next to the target (end-to-end lag, and the lag the
        worker or hub reports); in link mode a second one in the edge
        namespace reads only the edge's reported lag: the hub counts a record
        as arrived once it came across the link, the edge from the source."""
        a = self.a
        probe = [sys.executable, os.path.join(HERE, "lag_probe.py"), "--interval", "2", "--duration",
                 str(int(seconds))]
        self.spawn_probe("probe", "lag", self.samples, self.in_ns(self.topology.checker_side, probe + [
            "--bootstrap", self.bootstrap["target"], "--topic", self.topic, "--partitions", str(a.partitions),
            "--admin", f"127.0.0.1:{self.topology.role(self.topology.lag_role).admin_port}"]))
        if a.mode == "link":
            edge = self.topology.role("edge")
            self.spawn_probe("probe-edge", "lag-edge", self.edge_samples,
                             self.in_ns(edge.namespace, probe + ["--admin", f"127.0.0.1:{edge.admin_port}"]))

    def spawn_probe(self, key: str, name: str, samples: list[dict], argv: list[str]):
        p = self.spawn(key, argv, subprocess.PIPE, open(os.path.join(self.workdir, f"{name}_probe.log"), "w"),
                       text=True)
        out = open(os.path.join(self.workdir, f"{name}.jsonl"), "w")

        def read():
            for line in p.stdout:
                out.write(line)
                out.flush()
                try:
                    s = json.loads(line)
                except ValueError:
                    continue
                s["rel"] = self.rel()
                with self.samples_lock:
                    samples.append(s)

        threading.Thread(target=read, daemon=True).start()

    # -- faults

    def wait_until(self, when: float):
        """Sleeps until self.t0 + when, watching the worker and generator."""
        while True:
            if self.interrupted:
                raise Interrupted()
            self.check_worker()
            self.check_generator()
            left = self.t0 + when - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.5, left))

    def hold(self, seconds: float):
        self.wait_until(self.rel() + seconds)

    def inject(self, f: faultlib.Fault):
        f.started = self.rel()
        if f.kind == "hub-kill" and len(self.topology.hubs()) > 1:
            f.target = self.hub_serving_the_edge()
        self.log(f"FAULT {f.describe()}")
        try:
            if f.kind in faultlib.PROCESS_KINDS:
                role = self.topology.killed_by(f.kind, f.target)
                p = self.procs[role.name]
                self.killing.add(role.name)
                if p.poll() is None:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
                else:
                    f.notes.append(f"{role.name} was already gone (status {p.returncode})")
                self.hold(f.down)
                self.start_worker(role.name, f"after kill -9 at {f.started:.1f}s")
            elif f.kind in ("source-restart", "target-restart", "source-kill", "target-kill"):
                name, action = f.kind.split("-")
                self.cluster("stop" if action == "restart" else "kill", name, timeout=90)
                self.hold(f.down)
                t = time.monotonic()
                try:
                    self.cluster("start-existing", name, timeout=180)
                except SetupError as e:
                    f.notes.append(f"first start failed: {e}")
                    self.log(f"{name} broker did not start; retrying once: {e}")
                    self.cluster("start-existing", name, timeout=180)
                f.notes.append(f"broker back after {time.monotonic() - t:.1f}s")
            elif f.kind == "link-cut":
                self.ctl(f"cut {f.down:.1f}s")
                self.hold(f.down)
            elif f.kind == "profile-switch":
                self.ctl(f"profile {f.arg}")
                self.hold(f.down)
                self.ctl(f"profile {self.a.profile}")
            f.outcome = "ok"
        except SetupError as e:
            f.outcome = f"failed: {e}"
            raise
        finally:
            f.recovered = self.rel()
            self.log(f"  recovered ({f.recovered - f.started:.1f}s){'; ' + '; '.join(f.notes) if f.notes else ''}")

    def hub_serving_the_edge(self) -> str:
        """With several hubs: the hub the edge streams to (its status names
        the hub address in use), or the hubs in turn when it cannot tell."""
        hubs = self.topology.hubs()
        link = link_of(self.admin_status(self.topology.role("edge"))) or {}
        peer = str(link.get("peer") or "")
        serving = next((h.name for h in hubs if peer.endswith(f":{self.link_port(h)}")), None)
        self.hub_kills += 1
        return faultlib.hub_to_kill([h.name for h in hubs], serving, self.hub_kills - 1)

    def status_line(self) -> str:
        with self.samples_lock:
            s = self.samples[-1] if self.samples else {}
        fresh = s.get("freshness_s")
        worker = s.get("worker")
        parts = [f"freshness lag {fresh:.1f}s" if fresh is not None else "freshness lag n/a"]
        if worker:
            parts.append(f"{self.topology.lag_role} lag {worker['lag_records']} records / "
                         f"{worker['lag_seconds']:.1f}s")
        if "lso_total" in s:
            parts.append(f"target offsets {s['lso_total']}")
        return ", ".join(parts)

    # -- main sequence

    def execute(self) -> int:
        a = self.a
        self.setup()
        self.t0 = time.monotonic()
        self.gen_deadline = self.t0 + a.duration
        self.start_generator(a.duration)
        self.start_probe(a.duration + a.check_timeout + 120)
        self.log(f"generator started: {a.rate} records/s over {a.partitions} partitions for {a.duration:.0f}s; "
                 f"{len(self.schedule)} faults planned")
        next_status = 30.0
        for f in self.schedule:
            while next_status < f.at:
                self.wait_until(next_status)
                self.log(self.status_line())
                next_status += 30
            self.wait_until(f.at)
            if self.rel() + f.down > a.duration - 5:
                f.outcome = "skipped: the previous faults ran late"
                self.log(f"skipping {f.describe()}: not enough time left")
                continue
            self.inject(f)
        # Let the generator finish (bounded by its own timeout plus a margin).
        end = a.duration + 660
        while self.procs["generator"].poll() is None or "exit" not in self.gen_runs[-1]:
            if self.rel() > end:
                self.unexpected.append("generator did not stop in time")
                self.stop_proc("generator")
                self.check_generator()
                break
            if self.rel() >= next_status:
                self.log(self.status_line())
                next_status += 30
            self.wait_until(self.rel() + 0.5)
        self.gen_end = self.rel()
        self.log(f"generator done: {self.generated()['records']} records; checking")
        self.check_worker()
        self.run_checker()
        self.finish_worker()
        return EXIT_PASSED if self.passed() else EXIT_FAILED

    def generated(self) -> dict:
        records = sum(int(r.get("result", {}).get("records", 0)) for r in self.gen_runs)
        byts = sum(int(r.get("result", {}).get("bytes", 0)) for r in self.gen_runs)
        return {"records": records, "bytes": byts}

    def run_checker(self):
        a = self.a
        argv = self.in_ns(self.topology.checker_side,
                          [self.bin("longhaul-check"), "--source-bootstrap", self.bootstrap["source"],
                           "--target-bootstrap", self.bootstrap["target"], "--source-topic", self.topic,
                           "--mode", "exactly-once", "--wait-until-complete", f"{int(a.check_timeout)}s",
                           # Reading the source across a slow link takes a while.
                           "--timeout", f"{int(a.check_timeout)}s",
                           "--progress-interval", "15s", "--json"])
        t = time.monotonic()
        err = open(os.path.join(self.workdir, "checker.log"), "w")
        try:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=err, text=True, timeout=a.check_timeout + 300)
        except subprocess.TimeoutExpired:
            self.unexpected.append("longhaul-check did not finish in time")
            return
        self.check_seconds = time.monotonic() - t
        with open(os.path.join(self.workdir, "checker.json"), "w") as f:
            f.write(r.stdout)
        try:
            self.check = json.loads(r.stdout)
            self.check["exit"] = r.returncode
        except ValueError:
            self.unexpected.append(f"longhaul-check exit {r.returncode} without a report: {tail(err.name, 5)}")
        self.log(f"checker finished in {self.check_seconds:.1f}s, exit {r.returncode}")

    def admin_status(self, role: Role) -> dict | None:
        """The role's /api/v1/status, read inside its namespace; None if it does not answer."""
        code = ("import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("
                f"'http://127.0.0.1:{role.admin_port}/api/v1/status', timeout=5).read().decode())")
        try:
            r = subprocess.run(self.in_ns(role.namespace, [sys.executable, "-c", code]), capture_output=True,
                               text=True, timeout=15)
            return json.loads(r.stdout) if r.returncode == 0 else None
        except (subprocess.SubprocessError, ValueError):
            return None

    def finish_worker(self):
        # Statuses first (link counters of both halves), then stop in reverse
        # start order: the edge drains while the hub still acknowledges.
        for role in self.topology.workers:
            st = self.admin_status(role)
            if st is not None:
                self.role_status[role.name] = st
                with open(os.path.join(self.workdir, f"status-{role.name}.json"), "w") as f:
                    json.dump(st, f, indent=2)
        for role in reversed(self.topology.workers):
            p = self.procs.get(role.name)
            if p is None:
                continue
            if p.poll() is not None:
                self.final[role.name] = f"had already exited with status {p.returncode}"
                continue
            t = time.monotonic()
            code = self.stop_proc(role.name, signal.SIGTERM, wait=30)
            self.final[role.name] = f"SIGTERM drain took {time.monotonic() - t:.1f}s, exit status {code}"
            if code != 0:
                self.unexpected.append(f"{role.name} exit status {code} after SIGTERM")

    def passed(self) -> bool:
        return (self.check is not None and self.check.get("passed") is True and self.check.get("exit") == 0
                and not self.unexpected and not self.setup_error and not self.interrupted)

    # -- teardown

    def teardown(self):
        try:
            if self.procs.get("emulator") and self.procs["emulator"].poll() is None:
                self.link_status = self.ctl("status")
        except SetupError as e:
            self.link_status = f"unavailable: {e}"
        roles = [r.name for r in reversed(self.topology.workers)] if self.topology else []
        for key in ["generator", *roles]:
            self.stop_proc(key, signal.SIGKILL if self.interrupted else signal.SIGTERM, wait=20)
        self.stop_proc("probe", signal.SIGTERM, wait=5)
        self.stop_proc("probe-edge", signal.SIGTERM, wait=5)
        if os.path.isdir(self.brokers_dir):
            r = subprocess.run([os.path.join(REPO, "scripts", "kafka-cluster"), "destroy", "--dir", self.brokers_dir],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                self.log(f"could not destroy the brokers: {r.stderr.strip()}")
        self.stop_proc("emulator", signal.SIGTERM, wait=20)

    def report(self, code: int) -> dict:
        a = self.a
        gen = self.generated()
        fresh = [s["freshness_s"] for s in self.samples
                 if s.get("freshness_s") is not None and 10 <= s.get("rel", 0) <= getattr(self, "gen_end", 0)]
        worker_lag = [s["worker"] for s in self.samples if s.get("worker")]
        edge_lag = [s["worker"] for s in self.edge_samples if s.get("worker")]
        return {
            "passed": code == EXIT_PASSED,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": git_commit(),
            "machine": machine(),
            "profile": a.profile, "mode": a.mode, "name": self.name, "duration_s": a.duration, "seed": a.seed,
            "partitions": a.partitions, "lanes": a.lanes, "rate": a.rate, "commit_interval": a.commit_interval,
            "record_size": f"{a.min_size}-{a.max_size}",
            "workdir": self.workdir,
            "hubs": a.hubs,
            "faults": [{"at": f.at, "kind": f.kind, "target": f.target, "down": f.down, "arg": f.arg,
                        "started": f.started,
                        "recovered": f.recovered, "outcome": f.outcome or "not reached", "notes": f.notes}
                       for f in self.schedule],
            "generated": gen,
            "generator_runs": len(self.gen_runs),
            "generator_seconds": getattr(self, "gen_end", 0.0),
            "freshness_peak_s": max(fresh) if fresh else None,
            "freshness_p50_s": sorted(fresh)[len(fresh) // 2] if fresh else None,
            "freshness_at_end_s": fresh[-1] if fresh else None,
            "worker_lag_peak_records": max((w["lag_records"] for w in worker_lag), default=None),
            "worker_lag_peak_s": max((w["lag_seconds"] for w in worker_lag), default=None),
            "edge_lag_peak_records": max((w["lag_records"] for w in edge_lag), default=None),
            "edge_lag_peak_s": max((w["lag_seconds"] for w in edge_lag), default=None),
            "check": self.check,
            "check_seconds": self.check_seconds,
            "lag_role": self.topology.lag_role if self.topology else "worker",
            # Per role, in start order: {"name", "starts", "kills", "final", "link"}.
            "workers": [{"name": r.name, "starts": self.starts.get(r.name, 0),
                         "kills": sum(1 for f in self.schedule if f.started is not None
                                      and self.topology.killed_by(f.kind, f.target) is r),
                         "final": self.final.get(r.name, ""),
                         "link": link_of(self.role_status.get(r.name))}
                        for r in (self.topology.workers if self.topology else [])],
            "link_status": self.link_status,
            "unexpected": self.unexpected,
            "setup_error": self.setup_error,
            "interrupted": self.interrupted,
        }


# --- command line ---------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="soak/run",
        description="Longhaul soak run: brokers across an emulated link, faults, exactly-once check.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="fault kinds:\n" + "\n".join(f"  {k:15} {v[0]} (DOWN {v[1][0]:g}-{v[1][1]:g}s)"
                                            for k, v in faultlib.KINDS.items()))
    ap.add_argument("--profile", default="geo-satellite",
                    help="link profile: lan, ocean, geo-satellite, mobile, or a profile file (default geo-satellite)")
    ap.add_argument("--duration", default="10m", help="how long the generator writes (default 10m)")
    ap.add_argument("--mode", default="direct", choices=["direct", "link"])
    ap.add_argument("--faults", type=int, default=None,
                    help="number of faults spread over the run (default: one per 30 s)")
    ap.add_argument("--fault-kinds", default=None,
                    help="comma-separated kinds to draw from (default: all that apply to --mode; in link mode "
                         "worker-kill means edge-kill and hub-kill in turn)")
    ap.add_argument("--schedule", help="a fault schedule file instead of --faults (see soak/profiles/)")
    ap.add_argument("--rate", type=int, default=300, help="generator records/s over all partitions (default 300)")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--min-size", type=int, default=100)
    ap.add_argument("--max-size", type=int, default=2000)
    ap.add_argument("--lanes", type=int, default=4)
    ap.add_argument("--commit-interval", default="500ms")
    ap.add_argument("--topic", default="soak")
    ap.add_argument("--seed", type=int, default=None, help="default: random, printed")
    ap.add_argument("--check-timeout", default="10m", help="how long the checker waits for the target to complete")
    ap.add_argument("--admin-port", type=int, default=18080,
                    help="admin API port of the worker, or of the hub in link mode (the edge's is one more)")
    ap.add_argument("--link-port", type=int, default=18443, help="link mode: the port the hub listens on")
    ap.add_argument("--hubs", type=int, default=1,
                    help="link mode: hub processes sharing the pipeline (edges: many; the edge lists them all; "
                         "hub-kill kills the one serving the edge); default 1")
    ap.add_argument("--link-connections", type=int, default=2,
                    help="link mode: parallel TCP connections of the edge (links.<l>.edge.connections)")
    ap.add_argument("--name", help="name of the emulated link; its namespaces are NAME-edge and NAME-hub "
                                   "(default lhsPID)")
    ap.add_argument("--build", help="build directory with bin/longhaul* (default: $LONGHAUL_BUILD or newest build*/)")
    ap.add_argument("--longhaul", help="the longhaul binary to soak (default: BUILD/bin/longhaul)")
    ap.add_argument("--workdir", help="where logs go (default /tmp/longhaul-soak-DATE-PID)")
    ap.add_argument("--json", help="also write the summary as JSON to this file")
    ap.add_argument("--quiet", action="store_true", help="print only the summary")
    a = ap.parse_args(argv)
    if a.profile.endswith(".profile") or "/" in a.profile:
        a.profile = os.path.realpath(a.profile)
    try:
        a.duration = faultlib.parse_duration(a.duration)
        a.check_timeout = faultlib.parse_duration(a.check_timeout)
        a.fault_kinds = (faultlib.parse_kinds(a.fault_kinds) if a.fault_kinds is not None
                         else faultlib.default_kinds(a.mode))
        faultlib.check_kinds_for_mode(a.fault_kinds, a.mode)
    except ValueError as e:
        ap.error(str(e))
    if a.duration < 30:
        ap.error("--duration must be at least 30s")
    if a.hubs < 1 or (a.hubs > 1 and a.mode != "link"):
        ap.error("--hubs must be 1, or more with --mode link")
    if a.faults is None:
        a.faults = int(a.duration // 30)
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 1 << 31)
    return a


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if os.geteuid() != 0:
        print("soak/run: needs root (network namespaces, TUN devices); skipped", file=sys.stderr)
        return 77
    if shutil.which("ip") is None:
        print("soak/run: needs `ip` (iproute2)", file=sys.stderr)
        return EXIT_SETUP
    run = SoakRun(a)

    def on_signal(signum, _frame):
        run.interrupted = True
        run.log(f"interrupted by signal {signum}; cleaning up")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = EXIT_SETUP
    try:
        run.log(f"soak: profile {a.profile}, mode {a.mode}, duration {a.duration:.0f}s, seed {a.seed}")
        code = run.execute()
    except Interrupted:
        code = EXIT_FAILED
    except SetupError as e:
        run.setup_error = str(e)
        run.log(f"SETUP ERROR: {e}")
        code = EXIT_SETUP
    finally:
        try:
            run.teardown()
        except Exception as e:  # teardown must not hide the result
            run.log(f"teardown: {type(e).__name__}: {e}")
    report = run.report(code)
    text = summarylib.render(report)
    print(text, flush=True)
    with open(os.path.join(run.workdir, "summary.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(run.workdir, "summary.json"), "w") as f:
        json.dump(report, f, indent=2)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
    return code
