#!/usr/bin/python3
"""Loads Longhaul's live page in Debian's headless Chromium and checks that
what it shows matches /api/v1/status; writes screenshots.

    live_page.py --url http://127.0.0.1:PORT/ --screenshot OUT.png [--attempts N]
                 [--moving] [--link-state STATE] [--disconnected-edge NAME] [--gap]

The page is rendered with --dump-dom after a virtual-time budget (long
enough for a few polls), then /api/v1/status is fetched and every value the
page marks with data-field/data-value is compared with it: the pipeline
header and stats, and one row per partition (tr[data-partition="topic/N"]).
The caller makes sure the numbers are not moving (replication caught up);
a mismatch is retried a few times before it fails. Throughput is not
compared (it is a rate between two polls). A hub's edges (tr[data-edge]) are
compared too, disconnected ones first and red.

With the link cut, lag in seconds grows by the second: --moving leaves the
time-based values out of the comparison. --link-state, --disconnected-edge
and --gap say what the page must show: the link block in that state, that
edge disconnected (first in its table, its row red), a partition with
records lost at the source (its row red).

Exit 0 when everything matched and the screenshots were written, 1 with the
differences on stderr otherwise. No CDP, no websockets: only Chromium's own
command line.
"""

import argparse
import html.parser
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], ""

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find_all(self, pred):
        return [n for n in self.walk() if pred(n)]

    def all_text(self):
        return self.text + "".join(c.all_text() for c in self.children)


class DomParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


def chromium(binary, args, timeout):
    profile = tempfile.mkdtemp(prefix="longhaul-chromium-")
    try:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def js_string(value):
    """String(value) as the page's JavaScript computes it for data-value."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(js_string(v) for v in value)
    return str(value)


def fields(node):
    """data-field -> (data-value, shown text) under `node`, nearest first."""
    out = {}
    for n in node.find_all(lambda n: "data-field" in n.attrs):
        out.setdefault(n.attrs["data-field"], (n.attrs.get("data-value"), n.all_text().strip()))
    return out


def compare(dom_text, status, moving=False, expect=None):
    expect = expect or {}
    diffs = []
    parser = DomParser()
    parser.feed(dom_text)
    root = parser.root
    body = next((n for n in root.walk() if n.tag == "body"), None)
    if body is None:
        return ["no <body> in the dumped DOM"], {}
    renders = int(body.attrs.get("data-renders", "0") or 0)
    if renders < 1:
        diffs.append("the page never rendered a status (body data-renders=0)")
    if body.attrs.get("data-connection") != "up":
        diffs.append(f"body data-connection={body.attrs.get('data-connection')!r}, expected 'up'")
    header = next((n for n in root.walk() if n.tag == "header"), None)
    top = fields(header) if header else {}
    for key in ("worker", "version"):
        if top.get(key, (None,))[0] != js_string(status.get(key)):
            diffs.append(f"header {key}: page {top.get(key)} vs status {status.get(key)!r}")

    sections = {n.attrs["data-pipeline"]: n for n in root.walk() if n.tag == "section" and "data-pipeline" in n.attrs}
    if set(sections) != {p["name"] for p in status["pipelines"]}:
        diffs.append(f"pipelines on the page {sorted(sections)} vs status {[p['name'] for p in status['pipelines']]}")
    checked = {"pipelines": 0, "partitions": 0, "values": 0}
    for p in status["pipelines"]:
        section = sections.get(p["name"])
        if section is None:
            continue
        checked["pipelines"] += 1
        shown = fields(section)
        for key in ("name", "state", "delivery", "lanes_total", "lanes_owned", "lag_records", "lag_seconds",
                    "records_total", "target_reachable", "last_error"):
            if moving and key == "lag_seconds":
                continue
            expected = js_string(p.get(key))
            if key == "last_error" and not expected:
                if key in shown:
                    diffs.append(f"{p['name']}: shows an error {shown[key]} but status has none")
                continue
            got = shown.get(key, (None, None))[0]
            checked["values"] += 1
            if got != expected:
                diffs.append(f"{p['name']}: {key} page {got!r} vs status {expected!r}")
        rows = {n.attrs["data-partition"]: n for n in section.walk()
                if n.tag == "tr" and "data-partition" in n.attrs}
        wanted = {f"{q['topic']}/{q['partition']}": q for q in p["partitions"]}
        if set(rows) != set(wanted):
            diffs.append(f"{p['name']}: partition rows {sorted(rows)} vs status {sorted(wanted)}")
        for key, q in sorted(wanted.items()):
            row = rows.get(key)
            if row is None:
                continue
            checked["partitions"] += 1
            cells = fields(row)
            for field in ("topic", "target_topic", "partition", "lane", "state", "source_end_offset",
                          "replicated_offset", "lag_records", "lag_seconds"):
                if moving and field == "lag_seconds":
                    continue
                got = cells.get(field, (None, None))
                checked["values"] += 1
                if got[0] != js_string(q[field]):
                    diffs.append(f"{p['name']} {key}: {field} page {got[0]!r} vs status {q[field]!r}")
            # What a person reads, not only the attribute: offsets with
            # thousands separators, state as the badge text.
            for field in ("source_end_offset", "replicated_offset", "lag_records"):
                text = cells.get(field, (None, ""))[1]
                if isinstance(q[field], int) and text != f"{q[field]:,}":
                    diffs.append(f"{p['name']} {key}: {field} shown as {text!r}, expected {q[field]:,}")
            if cells.get("state", (None, ""))[1] != q["state"]:
                diffs.append(f"{p['name']} {key}: state shown as {cells.get('state')}")
            # Records lost at the source: the count (0 when none), the row
            # marked red when there are any.
            lost = (q.get("source_gap") or {}).get("records_total", 0)
            if cells.get("source_gap_records", (None, ""))[0] != str(lost):
                diffs.append(f"{p['name']} {key}: source_gap_records page {cells.get('source_gap_records')} "
                             f"vs status {lost}")
            if (lost > 0) != ("gap" in row.attrs.get("class", "").split()):
                diffs.append(f"{p['name']} {key}: row class {row.attrs.get('class')!r} with {lost} records lost")
            got = cells.get("retention_remaining_seconds", (None, None))[0]
            if not moving and got != js_string(q.get("retention_remaining_seconds")):
                diffs.append(f"{p['name']} {key}: retention_remaining_seconds page {got!r} vs status "
                             f"{q.get('retention_remaining_seconds')!r}")
        # Worst partitions first: the rows' states never get better going down.
        severity = {"ok": 0, "stopped": 1, "lagging": 2, "stalled": 3, "error": 4}
        order = [severity.get(n.attrs.get("data-state"), 0) for n in section.walk()
                 if n.tag == "tr" and "data-partition" in n.attrs]
        if order != sorted(order, reverse=True):
            diffs.append(f"{p['name']}: partition rows not worst first: states {order}")
        diffs += compare_edges(p, section, moving, checked)
        checked["gap_rows"] = checked.get("gap_rows", 0) + sum(
            1 for n in section.walk()
            if n.tag == "tr" and "data-partition" in n.attrs and "gap" in n.attrs.get("class", "").split())
    if expect.get("gap") and not checked.get("gap_rows"):
        diffs.append("no pipeline shows a partition with records lost at the source in red (tr.gap)")
    want_edge = expect.get("disconnected_edge")
    if want_edge and checked.get("disconnected_edge") != want_edge:
        diffs.append(f"edge {want_edge!r} is not shown disconnected, first and in red")
    want_link = expect.get("link_state")
    if want_link:
        link = next((n for n in root.walk() if n.tag == "section" and n.attrs.get("id") == "link"), None)
        shown = fields(link) if link is not None else {}
        if link is None or "hidden" in link.attrs or shown.get("state", (None,))[0] != want_link:
            diffs.append(f"the link block does not show state {want_link!r}: {shown.get('state')}")
        elif link.attrs.get("data-state") != (status.get("link") or {}).get("state"):
            diffs.append(f"link block data-state {link.attrs.get('data-state')!r} vs status {status.get('link')}")
        else:
            checked["link_state"] = want_link
    checked["renders"] = renders
    return diffs, checked


def compare_edges(p, section, moving, checked):
    """A hub's edges: one row each, as in the status; disconnected first, red."""
    diffs = []
    rows = [n for n in section.walk() if n.tag == "tr" and "data-edge" in n.attrs]
    if "edges" not in p:
        if rows:
            diffs.append(f"{p['name']}: edge rows {[r.attrs['data-edge'] for r in rows]} but the status has no edges")
        return diffs
    wanted = {e["name"]: e for e in p["edges"]}
    by_name = {r.attrs["data-edge"]: r for r in rows}
    if set(by_name) != set(wanted):
        diffs.append(f"{p['name']}: edge rows {sorted(by_name)} vs status {sorted(wanted)}")
    for name, e in sorted(wanted.items()):
        row = by_name.get(name)
        if row is None:
            continue
        checked["edges"] = checked.get("edges", 0) + 1
        cells = fields(row)
        for field in ("name", "connected", "since_ms", "backlog_records", "lost_records", "buffered_bytes",
                      "last_report_ms", "lag_seconds"):
            if moving and field == "lag_seconds":
                continue
            checked["values"] += 1
            if cells.get(field, (None,))[0] != js_string(e.get(field)):
                diffs.append(f"{p['name']} edge {name}: {field} page {cells.get(field)} vs status {e.get(field)!r}")
        down = "down" in row.attrs.get("class", "").split()
        if down == bool(e["connected"]) or row.attrs.get("data-connected") != js_string(e["connected"]):
            diffs.append(f"{p['name']} edge {name}: row class {row.attrs.get('class')!r}, data-connected "
                         f"{row.attrs.get('data-connected')!r} with connected={e['connected']}")
        if not e["connected"] and "disconnected since" not in cells.get("since_ms", (None, ""))[1]:
            diffs.append(f"{p['name']} edge {name}: does not say 'disconnected since': {cells.get('since_ms')}")
    order = [r.attrs.get("data-connected") == "true" for r in rows]
    if order != sorted(order):
        diffs.append(f"{p['name']}: edge rows not disconnected first: {[r.attrs.get('data-edge') for r in rows]}")
    if rows and rows[0].attrs.get("data-connected") == "false" and "down" in rows[0].attrs.get("class", ""):
        checked["disconnected_edge"] = rows[0].attrs["data-edge"]
    return diffs


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--screenshot", required=True, help="PNG to write (a narrow one is written next to it)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--attempts", type=int, default=4)
    ap.add_argument("--budget-ms", type=int, default=7000, help="virtual time the page runs before the dump")
    ap.add_argument("--moving", action="store_true", help="do not compare lag in seconds (the link is cut)")
    ap.add_argument("--link-state", help="the link block must show this state (e.g. down)")
    ap.add_argument("--disconnected-edge", help="this edge must be shown disconnected, first and in red")
    ap.add_argument("--gap", action="store_true", help="a partition with records lost must be shown red")
    args = ap.parse_args()
    expect = {"link_state": args.link_state, "disconnected_edge": args.disconnected_edge, "gap": args.gap}
    url = args.url if args.url.endswith("/") else args.url + "/"
    status_url = url + "api/v1/status"

    diffs, checked = ["not run"], {}
    for attempt in range(1, args.attempts + 1):
        run = chromium(args.chromium, [f"--virtual-time-budget={args.budget_ms}", "--dump-dom", url], 60)
        if run.returncode != 0 or "<body" not in run.stdout:
            diffs = [f"chromium --dump-dom failed (exit {run.returncode}): {run.stderr[-2000:]}"]
        else:
            with urllib.request.urlopen(status_url, timeout=10) as r:
                status = json.load(r)
            diffs, checked = compare(run.stdout, status, args.moving, expect)
        if not diffs:
            break
        print(f"attempt {attempt}: {len(diffs)} differences, retrying", file=sys.stderr)
        time.sleep(1)

    shots = [(args.screenshot, "1400,1000")]
    stem, ext = os.path.splitext(args.screenshot)
    shots.append((f"{stem}-narrow{ext}", "420,1400"))
    for path, size in shots:
        run = chromium(args.chromium, [f"--virtual-time-budget={args.budget_ms}", f"--window-size={size}",
                                       f"--screenshot={path}", url], 60)
        try:
            w, h = png_size(path)
            checked[os.path.basename(path)] = f"{w}x{h}"
        except (OSError, ValueError) as e:
            diffs.append(f"no screenshot {path} (chromium exit {run.returncode}): {e}; {run.stderr[-1000:]}")

    if diffs:
        print("the live page does not match /api/v1/status:\n  " + "\n  ".join(diffs), file=sys.stderr)
        return 1
    print("ok: " + json.dumps(checked, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
