"""Fault schedules for soak/run: which fault happens when, and for how long.

Pure: no processes, no clock. The runner executes the schedule in order; a
fault whose turn comes while the previous one is still recovering waits, so
faults never overlap and the schedule's times are the earliest start times.

A schedule file has one fault per line, `#` starts a comment:

    # AT      KIND             [DOWN]  [ARG]
    30s       worker-kill      3s
    1m15s     source-restart   10s
    2m        link-cut         20s
    3m        profile-switch   45s     mobile

AT is the time after the generator started; DOWN is how long the fault
lasts (a default per kind when omitted); ARG is the profile to switch to.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

# kind -> (what it does, default downtime range in seconds)
KINDS: dict[str, tuple[str, tuple[float, float]]] = {
    "worker-kill": ("kill -9 of the worker (longhaul run), restarted after DOWN; in link mode edge-kill and "
                    "hub-kill in turn", (1, 5)),
    "edge-kill": ("link mode: kill -9 of the edge (longhaul run --role edge), restarted after DOWN", (1, 5)),
    "hub-kill": ("link mode: kill -9 of the hub (longhaul run --role hub), restarted after DOWN; with --hubs N, "
                 "of the hub that serves the edge (the others take its lanes over)", (1, 5)),
    "source-restart": ("graceful stop of the source broker, started again after DOWN", (4, 12)),
    "source-kill": ("kill -9 of the source broker, started again after DOWN", (3, 10)),
    "target-restart": ("graceful stop of the target broker, started again after DOWN", (4, 12)),
    "target-kill": ("kill -9 of the target broker, started again after DOWN", (3, 10)),
    "link-cut": ("the emulated link drops every packet for DOWN", (10, 30)),
    "profile-switch": ("the link switches to another profile for DOWN", (20, 60)),
}

# Kinds that need the link emulator (direct mode has it too; a run without
# an emulated link would skip them).
LINK_KINDS = {"link-cut", "profile-switch"}

# Kills of a longhaul process; the process to kill depends on the mode.
PROCESS_KINDS = {"worker-kill", "edge-kill", "hub-kill"}
LINK_MODE_ONLY = {"edge-kill", "hub-kill"}

MODES = ("direct", "link")

SWITCH_TARGETS = ["mobile", "ocean", "geo-satellite", "lan"]


@dataclass
class Fault:
    at: float  # seconds after the generator started
    kind: str
    down: float  # seconds the fault lasts
    arg: str = ""  # profile-switch: the profile to switch to
    # Filled in by the runner: the process a kill hit (with several hubs,
    # which one).
    target: str = ""
    # Filled in by the runner.
    started: float | None = None
    recovered: float | None = None
    outcome: str = ""
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        extra = f" to {self.arg}" if self.arg else ""
        hit = f" ({self.target})" if self.target else ""
        return f"{self.kind}{hit}{extra} for {self.down:.1f}s"


_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$")


def parse_duration(text: str) -> float:
    """'90', '90s', '1m30s', '2h', '500ms' -> seconds."""
    t = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return float(t)
    m = _DURATION.match(t)
    if not t or not m or not any(m.groups()):
        raise ValueError(f"'{text}' is not a duration such as 90s, 1m30s or 2h")
    h, mi, s, ms = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000


def parse_kinds(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"unknown fault kind '{k}' (known: {', '.join(KINDS)})")
    if not kinds:
        raise ValueError("no fault kinds given")
    return kinds


def default_kinds(mode: str) -> list[str]:
    """Every kind that applies to `mode`: direct mode has one worker to kill,
    link mode an edge and a hub."""
    if mode == "link":
        return [k for k in KINDS if k != "worker-kill"]
    return [k for k in KINDS if k not in LINK_MODE_ONLY]


def check_kinds_for_mode(kinds: list[str], mode: str, where: str = "--fault-kinds") -> None:
    """Rejects kinds that name a process the mode does not run."""
    bad = [k for k in kinds if mode != "link" and k in LINK_MODE_ONLY]
    if bad:
        raise ValueError(f"{where}: {bad[0]} needs --mode link (direct mode runs one worker: use worker-kill)")


def adapt_to_mode(faults: list["Fault"], mode: str, source: str = "--fault-kinds") -> list["Fault"]:
    """Link mode runs two longhaul processes: each worker-kill becomes an
    edge-kill and a hub-kill in turn (the edge first), noted on the fault.
    Direct mode has no edge or hub to kill: an error naming `source`."""
    check_kinds_for_mode([f.kind for f in faults], mode, source)
    if mode != "link":
        return faults
    turn = 0
    for f in faults:
        if f.kind == "worker-kill":
            f.kind = ("edge-kill", "hub-kill")[turn % 2]
            f.notes.append("worker-kill in link mode")
            turn += 1
    return faults


def hub_to_kill(hubs: list[str], serving: str | None, turn: int) -> str:
    """With several hubs: the one that serves the edge (`serving`, from the
    edge's status) when known, so that the edge must move; otherwise the
    hubs in turn."""
    if serving in hubs:
        return serving
    return hubs[turn % len(hubs)]


def _switch_target(base_profile: str, i: int) -> str:
    others = [p for p in SWITCH_TARGETS if p != base_profile]
    return others[i % len(others)]


def plan_faults(count: int, kinds: list[str], start: float, end: float, seed: int,
                base_profile: str) -> list[Fault]:
    """`count` faults spread evenly over [start, end), kinds balanced (each
    kind count//len(kinds) or one more times) in a seeded shuffled order, each
    start jittered within its slot; downtimes drawn from each kind's range
    but at most 45 % of a slot, so recovery fits before the next fault."""
    if count <= 0:
        return []
    if end <= start:
        raise ValueError("no time left for faults: make the duration longer")
    rng = random.Random(seed)
    order: list[str] = []
    while len(order) < count:
        batch = list(kinds)
        rng.shuffle(batch)
        order.extend(batch)
    order = order[:count]
    slot = (end - start) / count
    faults = []
    switches = 0
    for i, kind in enumerate(order):
        lo, hi = KINDS[kind][1]
        cap = max(1.0, 0.45 * slot)
        down = round(min(rng.uniform(lo, hi), cap), 1)
        at = round(start + i * slot + rng.uniform(0, 0.25 * slot), 1)
        arg = ""
        if kind == "profile-switch":
            arg = _switch_target(base_profile, switches)
            switches += 1
        faults.append(Fault(at=at, kind=kind, down=max(down, 1.0 if kind in PROCESS_KINDS else 2.0), arg=arg))
    return faults


def parse_schedule(text: str, source: str, base_profile: str) -> list[Fault]:
    faults = []
    switches = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        where = f"{source}:{lineno}"
        if len(words) < 2 or len(words) > 4:
            raise ValueError(f"{where}: expected 'AT KIND [DOWN] [PROFILE]', got '{line}'")
        try:
            at = parse_duration(words[0])
        except ValueError as e:
            raise ValueError(f"{where}: AT: {e}") from None
        kind = words[1]
        if kind not in KINDS:
            raise ValueError(f"{where}: unknown fault kind '{kind}' (known: {', '.join(KINDS)})")
        lo, hi = KINDS[kind][1]
        down = (lo + hi) / 2
        if len(words) >= 3:
            try:
                down = parse_duration(words[2])
            except ValueError as e:
                raise ValueError(f"{where}: DOWN: {e}") from None
        arg = ""
        if kind == "profile-switch":
            arg = words[3] if len(words) == 4 else _switch_target(base_profile, switches)
            switches += 1
        elif len(words) == 4:
            raise ValueError(f"{where}: only profile-switch takes a profile")
        faults.append(Fault(at=at, kind=kind, down=down, arg=arg))
    faults.sort(key=lambda f: f.at)
    return faults


def count_by_kind(faults: list[Fault]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in faults:
        out[f.kind] = out.get(f.kind, 0) + 1
    return out
