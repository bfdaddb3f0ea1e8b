"""The summary table of a soak run (soak/run), from its report dict. Pure."""

from __future__ import annotations

import re

import faults as faultlib


def _fmt_s(x) -> str:
    return "n/a" if x is None else f"{x:.1f} s"


def _link_rows(status: str) -> list[str]:
    """Per-direction counters from `longhaul-linkemu ctl status`."""
    rows = []
    for part in status.split("|")[1:]:
        words = part.split()
        if not words:
            continue
        kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        try:
            pk = int(kv.get("packets", 0))
            lost = int(kv.get("lost", 0))
            rows.append(f"{words[0]:10} {pk:>10} packets {int(kv.get('bytes', 0)) / 1e6:9.1f} MB   "
                        f"lost {lost} ({100 * lost / pk if pk else 0:.2f} %), queue drops {kv.get('queue_drops')}, "
                        f"outage drops {kv.get('outage_drops')}")
        except ValueError:
            rows.append(part.strip())
    m = re.search(r"outages=(\d+)", status)
    if m:
        rows.append(f"{'outages':10} {m.group(1)} (cuts and scheduled outages)")
    return rows


def _workers(r: dict) -> list[dict]:
    """Per-role rows; reports from before link mode had one worker."""
    if r.get("workers") is not None:
        return r["workers"]
    return [{"name": "worker", "starts": r.get("worker_starts", 0), "kills": None, "final": r.get("worker_final", ""),
             "link": None}]


def _longhaul_link(w: dict) -> str | None:
    """One line of a role's own view of the Longhaul link (its /api/v1/status)."""
    link = w.get("link")
    if not link:
        return None
    parts = [f"{link.get('state')}"]
    if link.get("rtt_ms") is not None:
        parts.append(f"rtt {link['rtt_ms']:.0f} ms")
    if w["name"] == "edge":
        parts.append(f"{link.get('reconnects', 0)} reconnects")
        parts.append(f"records {link.get('bytes_in', 0) / 1e6:.1f} MB in, compressed {link.get('bytes_out', 0) / 1e6:.1f} MB "
                     f"out (ratio {link.get('compression_ratio', 0):.2f})")
    else:
        parts.append(f"{link.get('sessions', 0)} sessions")
        parts.append(f"{link.get('bytes_in', 0) / 1e6:.1f} MB received, {link.get('bytes_out', 0) / 1e6:.1f} MB of "
                     f"records to the lanes")
    if link.get("last_error"):
        parts.append(f"last error: {link['last_error']}")
    return ", ".join(parts)


def render(r: dict) -> str:
    out = []
    verdict = "PASSED" if r["passed"] else "FAILED"
    out.append(f"== longhaul soak {verdict} ==")
    out.append(f"date      {r['date']}")
    out.append(f"commit    {r['commit']}")
    out.append(f"machine   {r['machine']}")
    out.append(f"run       profile {r['profile']}, mode {r['mode']}, duration {r['duration_s']:.0f} s, seed {r['seed']}, "
               f"{r['partitions']} partitions, {r['lanes']} lanes, commit every {r['commit_interval']}, "
               f"{r['rate']} records/s of {r['record_size']} bytes")
    out.append(f"logs      {r['workdir']}")
    if r.get("setup_error"):
        out.append(f"SETUP ERROR: {r['setup_error']}")
    out.append("")

    out.append(f"{'fault':16} {'count':>5} {'down (s)':>9} {'ok':>4}  notes")
    by_kind: dict[str, list[dict]] = {}
    for f in r["faults"]:
        by_kind.setdefault(f["kind"], []).append(f)
    total = ok_total = 0
    for kind in faultlib.KINDS:
        fs = by_kind.get(kind, [])
        if not fs:
            continue
        injected = [f for f in fs if f["started"] is not None]
        ok = sum(1 for f in injected if f["outcome"] == "ok")
        down = sum(f["down"] for f in injected)
        notes = sorted({f["outcome"] for f in fs if f["outcome"] != "ok"})
        targets = sorted({f["target"] for f in injected if f.get("target")})
        if targets:
            notes.append("hit " + ", ".join(targets))
        out.append(f"{kind:16} {len(injected):>5} {down:>9.1f} {ok:>4}  {'; '.join(notes)}")
        total += len(injected)
        ok_total += ok
    out.append(f"{'total':16} {total:>5} {'':>9} {ok_total:>4}")
    out.append("")

    gen = r["generated"]
    secs = r["generator_seconds"] or 0
    runs = f" by {r['generator_runs']} generator runs" if r["generator_runs"] > 1 else ""
    out.append(f"records     generated {gen['records']} ({gen['bytes'] / 1e6:.1f} MB) in {secs:.0f} s{runs}")
    c = r.get("check") or {}
    totals = c.get("totals") or {}
    if totals:
        found = totals.get("found", 0)
        span = secs + (r.get("check_seconds") or 0)
        out.append(f"throughput  offered {gen['records'] / secs if secs else 0:.0f} records/s "
                   f"({gen['bytes'] * 8 / secs / 1e6 if secs else 0:.2f} Mbit/s); mirrored {found} records; "
                   f"end-to-end lag when the generator stopped {_fmt_s(r.get('freshness_at_end_s'))}; "
                   f"checker done {r.get('check_seconds', 0):.0f} s later (it reads the source across the link)")
    out.append(f"lag         end-to-end (age of the newest committed target record): peak {_fmt_s(r['freshness_peak_s'])}, "
               f"median {_fmt_s(r['freshness_p50_s'])}")
    who = r.get("lag_role", "worker")
    # The hub knows a partition's end only from what the edge sent it.
    what = " (/api/v1/status, of records that crossed the link)" if who == "hub" else " (/api/v1/status)"
    if r.get("worker_lag_peak_records") is not None:
        out.append(f"            {who}-reported{what}: peak {r['worker_lag_peak_records']} records, "
                   f"{_fmt_s(r['worker_lag_peak_s'])}")
    else:
        out.append(f"            {who}-reported: n/a (the admin API did not answer /api/v1/status)")
    if r.get("edge_lag_peak_records") is not None:
        out.append(f"            edge-reported (source end offsets vs. commits the hub acknowledged): peak "
                   f"{r['edge_lag_peak_records']} records, {_fmt_s(r['edge_lag_peak_s'])}")
    if totals:
        out.append(f"checker     {c.get('mode')}: expected {totals.get('expected')}, found {totals.get('found')}, "
                   f"ok {totals.get('ok')}, missing {totals.get('missing')}, duplicated {totals.get('duplicated')}, "
                   f"out of order {totals.get('out_of_order')}, corrupted {totals.get('corrupted')}, "
                   f"extra {totals.get('extra')} -> {'PASS' if c.get('passed') else 'FAIL'} (exit {c.get('exit')})")
        for t in c.get("topics", []):
            for p in t.get("partitions", []):
                if not p.get("passed", True):
                    out.append(f"            {t.get('target_topic')}[{p.get('partition')}]: "
                               + ", ".join(f"{k} {p.get(k)}" for k in
                                           ("expected", "found", "missing", "duplicated", "out_of_order", "corrupted",
                                            "extra")))
                    for ex in p.get("examples", [])[:5]:
                        out.append(f"              {ex.get('kind')}: source offset {ex.get('source_offset')}, "
                                   f"target offset {ex.get('target_offset')}: {ex.get('detail')}")
    else:
        out.append("checker     no report")
    for w in _workers(r):
        kills = f" ({w['kills']} after kill -9)" if w.get("kills") else ""
        out.append(f"{w['name']:11} started {w['starts']} times{kills}; at the end: {w['final'] or 'n/a'}")
    for w in _workers(r):
        row = _longhaul_link(w)
        if row:
            out.append(f"{'longhaul':11} {w['name']} (since its last start): {row}")
    for row in _link_rows(r.get("link_status") or ""):
        out.append(f"link        {row}")
    if r["unexpected"]:
        out.append("unexpected events:")
        for u in r["unexpected"]:
            out.append(f"  - {u}")
    if r.get("interrupted"):
        out.append("interrupted before the end")
    out.append(f"verdict     {verdict}")
    return "\n".join(out)
