// The live page. Everything the browser needs is in this one string, so the
// page works on an air-gapped site and cannot be broken by a CDN.
//
// Contract with browser tests (keep stable): every value shown carries
// data-field="<json key>" and data-value="<String(json value)>", rows are
// tr[data-partition="<topic>/<partition>"] inside
// section[data-pipeline="<name>"], the link block is #link (hidden while
// "link" is null; data-state is the link's state), a hub's edges are rows
// tr[data-edge="<name>"] (data-connected "true"/"false") of
// table.edges in the pipeline's section, and <body> gets data-renders
// (count of successful renders) and data-connection ("up"/"down").
// tests/browser/live_page.py compares these with /api/v1/status in
// headless Chromium.
#include "live_page.h"

namespace longhaul::gateway {
namespace {

constexpr char kPage[] = R"lhpage(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Longhaul</title>
<style>
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1d2128; --muted: #646b78; --line: #dde1e7;
  --ok: #1f8a4c; --lagging: #b7791f; --stalled: #c2410c; --stopped: #6b7280; --error: #c81e1e;
  --chart: #3b6fd8; --chart-fill: rgba(59, 111, 216, 0.12);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14161a; --panel: #1c1f25; --text: #e4e7ec; --muted: #9aa1ad; --line: #2e333c;
    --ok: #3fb871; --lagging: #e0a43a; --stalled: #f07b3f; --stopped: #8b919c; --error: #f05252;
    --chart: #6f9cf2; --chart-fill: rgba(111, 156, 242, 0.15);
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.4rem 1.2rem;
  padding: 0.9rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { font-size: 1.15rem; margin: 0; letter-spacing: 0.02em; }
header .meta { color: var(--muted); font-size: 0.85rem; }
header nav { margin-left: auto; display: flex; gap: 1rem; font-size: 0.85rem; }
a { color: var(--chart); text-decoration: none; }
a:hover { text-decoration: underline; }
main { padding: 1.2rem 1.5rem; display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.2rem;
  max-width: 1400px; margin: 0 auto; }
/* minmax(0, ...): a wide partition table scrolls inside its panel instead of
   widening the page on a phone. */
#pipelines { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.2rem; }
@media (max-width: 600px) {
  header, main { padding-left: 0.8rem; padding-right: 0.8rem; }
  .panel { padding: 0.8rem; }
}
.banner { padding: 0.6rem 0.9rem; border-radius: 6px; border: 1px solid var(--error); color: var(--error); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; }
.panel h2 { font-size: 1.05rem; margin: 0; }
.title { display: flex; align-items: center; gap: 0.7rem; flex-wrap: wrap; margin-bottom: 0.8rem; }
.title .sub { color: var(--muted); font-size: 0.85rem; }
.problem { margin: -0.3rem 0 0.9rem; padding: 0.45rem 0.75rem; border-left: 3px solid var(--error);
  background: color-mix(in srgb, var(--error) 8%, transparent); border-radius: 0 4px 4px 0;
  font-size: 0.85rem; overflow-wrap: anywhere; }
.problem .label { font-weight: 600; color: var(--error); margin-right: 0.4rem; }
.stat .value .sub { color: var(--muted); font-size: 0.85rem; }
.stat .value.bad { color: var(--error); }
.badge { display: inline-block; padding: 0.05rem 0.55rem; border-radius: 999px; font-size: 0.78rem;
  font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; color: #fff; background: var(--stopped); }
.state-ok { background: var(--ok); } .state-lagging { background: var(--lagging); }
.state-stalled { background: var(--stalled); } .state-stopped { background: var(--stopped); }
.state-error { background: var(--error); }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 0.6rem 1rem; margin-bottom: 0.9rem; }
.stat .label { color: var(--muted); font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.05em; }
.stat .value { font-size: 1.2rem; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 1rem; margin-bottom: 0.9rem; }
figure { margin: 0; }
figcaption { display: flex; justify-content: space-between; color: var(--muted); font-size: 0.78rem; }
svg.chart { display: block; width: 100%; height: 80px; border-bottom: 1px solid var(--line); margin-top: 0.2rem; }
svg.chart line.grid { stroke: var(--line); stroke-width: 1; stroke-dasharray: 3 4; vector-effect: non-scaling-stroke; }
svg.chart polyline { fill: none; stroke: var(--chart); stroke-width: 1.8; vector-effect: non-scaling-stroke;
  stroke-linejoin: round; }
svg.chart polygon { fill: var(--chart-fill); stroke: none; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 0.3rem 0.6rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 500; font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.04em; }
th.text, td.text { text-align: left; }
td .badge { font-size: 0.7rem; }
/* Records lost at the source (a source gap): the whole row reads red. */
tr.gap td { color: var(--error); }
tr.gap td:first-child { box-shadow: inset 3px 0 0 var(--error); }
td.lost { font-weight: 600; }
/* An edge the hub has no session with: red like a gap, it is data waiting. */
tr.down td { color: var(--error); }
tr.down td:first-child { box-shadow: inset 3px 0 0 var(--error); }
.state-connected { background: var(--ok); } .state-disconnected { background: var(--error); }
.state-up { background: var(--ok); } .state-down { background: var(--error); }
.state-serving { background: var(--ok); } .state-waiting { background: var(--stopped); }
h3 { font-size: 0.9rem; margin: 0.9rem 0 0.4rem; color: var(--muted); font-weight: 600; }
.empty { color: var(--muted); }
</style>
</head>
<body data-renders="0" data-connection="down">
<header>
  <h1>Longhaul</h1>
  <span class="meta">worker <span id="worker" data-field="worker">&ndash;</span></span>
  <span class="meta">version <span id="version" data-field="version">&ndash;</span></span>
  <span class="meta">updated <span id="updated">never</span></span>
  <nav><a href="/api/v1/status">status API</a><a href="/metrics">metrics</a></nav>
</header>
<main>
  <noscript><div class="banner">This page needs JavaScript; the same data is at /api/v1/status.</div></noscript>
  <div id="status-error" class="banner" hidden></div>
  <section id="link" class="panel" hidden>
    <div class="title"><h2>Link</h2><span class="badge" data-field="state"></span></div>
    <div class="stats">
      <div class="stat"><div class="label">Round trip</div><div class="value" data-field="rtt_ms"></div></div>
      <div class="stat"><div class="label">Bytes in</div><div class="value" data-field="bytes_in"></div></div>
      <div class="stat"><div class="label">Bytes out</div><div class="value" data-field="bytes_out"></div></div>
      <div class="stat"><div class="label">Compression</div><div class="value" data-field="compression_ratio"></div></div>
      <div class="stat"><div class="label">Edge buffer</div><div class="value" data-field="buffered_bytes"></div></div>
      <div class="stat"><div class="label">Edge sessions</div><div class="value" data-field="sessions"></div></div>
    </div>
    <div class="charts" id="link-charts"></div>
  </section>
  <div id="pipelines"></div>
</main>
<script>
"use strict";
(function () {
  const POLL_MS = 2000;
  const WINDOW_MS = 10 * 60 * 1000;
  const STATES = ["ok", "lagging", "stalled", "stopped", "error"];
  const history = new Map();  // pipeline name -> [{t, lagRecords, lagSeconds}]
  const linkHistory = [];     // [{t, rtt, bytesRate}] for the link block's charts
  let renders = 0;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }
  function svgEl(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function raw(v) { return v === null || v === undefined ? "" : String(v); }

  function fmtInt(v) { return isNum(v) ? Math.round(v).toLocaleString("en-US") : "\u2013"; }
  function fmtRate(v) {
    if (!isNum(v)) return "\u2013";
    if (v >= 1e6) return (v / 1e6).toFixed(2) + " M";
    if (v >= 1e4) return (v / 1e3).toFixed(1) + " k";
    return v.toFixed(v < 10 ? 2 : 1);
  }
  function fmtBytes(v) {
    if (!isNum(v)) return "\u2013";
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : 1)) + " " + units[i];
  }
  function fmtSeconds(v) {
    if (!isNum(v)) return "\u2013";
    if (v < 10) return v.toFixed(2) + " s";
    if (v < 60) return v.toFixed(1) + " s";
    const s = Math.round(v);
    if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  }
  function badge(state) {
    const s = String(state || "unknown");
    return el("span", { class: "badge " + (STATES.includes(s) ? "state-" + s : ""), "data-field": "state",
                        "data-value": s, text: s });
  }
  function stat(label, field, value, text) {
    return el("div", { class: "stat" }, [
      el("div", { class: "label", text: label }),
      el("div", { class: "value", "data-field": field, "data-value": raw(value), text: text }),
    ]);
  }
  function setField(root, field, value, text) {
    const node = root.querySelector('[data-field="' + field + '"]');
    node.dataset.value = raw(value);
    node.textContent = text;
  }

  function fmtSpan(ms) {
    const s = Math.max(1, Math.round(ms / 1000));
    return s < 120 ? s + " s" : Math.round(s / 60) + " min";
  }

  // A line chart of one series over the history this page holds (up to
  // WINDOW_MS, so a freshly opened page still uses the full width), scaled
  // to the series' maximum.
  function chart(name, points, key, format) {
    const W = 600, H = 80, now = Date.now();
    const series = points.filter(p => isNum(p[key]));
    const values = series.map(p => p[key]);
    const max = Math.max(1e-9, ...values);
    const start = series.length ? Math.max(now - WINDOW_MS, Math.min(series[0].t, now - 2 * POLL_MS))
                                : now - WINDOW_MS;
    const span = Math.max(1, now - start);
    const svg = svgEl("svg", { class: "chart", "data-chart": key, viewBox: "0 0 " + W + " " + H,
                               preserveAspectRatio: "none", role: "img",
                               "aria-label": name + " over the last " + fmtSpan(span) });
    for (const frac of [0.5, 1]) {
      const y = (H - 2 - frac * (H - 6)).toFixed(1);
      svg.appendChild(svgEl("line", { class: "grid", x1: "0", x2: String(W), y1: y, y2: y }));
    }
    const xy = series.map(p => {
      const x = Math.max(0, Math.min(W, (p.t - start) / span * W));
      const y = H - 2 - (p[key] / max) * (H - 6);
      return [x, y];
    });
    // One sample is a level, not a dot: draw it across the chart.
    if (xy.length === 1) xy.unshift([0, xy[0][1]]);
    if (xy.length > 0) {
      const pts = xy.map(([x, y]) => x.toFixed(1) + "," + y.toFixed(1)).join(" ");
      svg.appendChild(svgEl("polygon", { points: xy[0][0].toFixed(1) + "," + H + " " + pts + " " +
                                                 xy[xy.length - 1][0].toFixed(1) + "," + H }));
      svg.appendChild(svgEl("polyline", { points: pts }));
    }
    const current = values.length ? values[values.length - 1] : null;
    return el("figure", {}, [
      el("figcaption", {}, [
        el("span", { text: name + " \u00b7 last " + fmtSpan(span) }),
        el("span", { "data-field": "chart_max", "data-value": values.length ? String(max) : "",
                     text: "now " + format(current) + " \u00b7 peak " + (values.length ? format(max) : "\u2013") }),
      ]),
      svg,
    ]);
  }

  const COLUMNS = [
    ["topic", "Topic", "text", v => raw(v)],
    ["target_topic", "Target topic", "text", v => raw(v)],
    ["partition", "Partition", "", v => raw(v)],
    ["lane", "Lane", "", v => raw(v)],
    ["state", "State", "text", null],
    ["source_gap_records", "Lost at source", "", null],
    ["source_end_offset", "Source end", "", fmtInt],
    ["replicated_offset", "Replicated", "", fmtInt],
    ["lag_records", "Lag (records)", "", fmtInt],
    ["lag_seconds", "Lag (time)", "", fmtSeconds],
    ["retention_remaining_seconds", "Retention left", "", fmtSeconds],
  ];

  // Worst first: state (error, stalled, lagging, stopped, ok), then records
  // lost, then the oldest backlog, then the largest; topic and partition last.
  const RANK = { ok: 0, stopped: 1, lagging: 2, stalled: 3, error: 4 };
  function lost(p) { return p.source_gap && isNum(p.source_gap.records_total) ? p.source_gap.records_total : 0; }
  function worstFirst(a, b) {
    return (RANK[b.state] || 0) - (RANK[a.state] || 0) || lost(b) - lost(a) ||
           (b.lag_seconds || 0) - (a.lag_seconds || 0) || (b.lag_records || 0) - (a.lag_records || 0) ||
           (String(a.topic) < String(b.topic) ? -1 : String(a.topic) > String(b.topic) ? 1 : a.partition - b.partition);
  }
  function lostCell(p) {
    const g = p.source_gap;
    const n = lost(p);
    const range = g && isNum(g.first_offset) ? " (offsets " + fmtInt(g.first_offset) + "\u2013" + fmtInt(g.last_offset) + ")" : "";
    return el("td", { class: n > 0 ? "lost" : "", "data-field": "source_gap_records", "data-value": String(n),
                      title: raw(p.error), text: n > 0 ? fmtInt(n) + range : "\u2013" });
  }

  function partitionTable(partitions) {
    const rows = (partitions || []).slice().sort(worstFirst);
    const head = el("tr", {}, COLUMNS.map(([, title, cls]) => el("th", { class: cls, text: title })));
    const body = el("tbody", {}, rows.map(p => el("tr", {
        "data-partition": p.topic + "/" + p.partition, "data-state": raw(p.state),
        ...(lost(p) > 0 ? { class: "gap" } : {}) },
      COLUMNS.map(([key, , cls, format]) => key === "state"
          ? el("td", { class: cls }, [badge(p.state)])
          : key === "source_gap_records" ? lostCell(p)
          : el("td", { class: cls, "data-field": key, "data-value": raw(p[key]), text: format(p[key]) })))));
    if (rows.length === 0) {
      body.appendChild(el("tr", {}, [el("td", { class: "text empty", colspan: String(COLUMNS.length),
                                                text: "No partitions owned by this worker." })]));
    }
    return el("div", { class: "table-wrap" }, [el("table", { class: "partitions" }, [el("thead", {}, [head]), body])]);
  }

  // A hub's edges, worst first: disconnected, then the oldest backlog, then
  // the largest. "Disconnected since" is the hub's clock.
  function edgesWorstFirst(a, b) {
    return (a.connected === b.connected ? 0 : a.connected ? 1 : -1) ||
           (b.lag_seconds || 0) - (a.lag_seconds || 0) || (b.backlog_records || 0) - (a.backlog_records || 0) ||
           (String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0);
  }
  function fmtSince(ms) {
    if (!isNum(ms) || ms <= 0) return "\u2013";
    return new Date(ms).toLocaleString() + " (" + fmtSeconds(Math.max(0, (Date.now() - ms) / 1000)) + " ago)";
  }
  function edgesTable(edges) {
    const rows = edges.slice().sort(edgesWorstFirst);
    const head = el("tr", {}, [["Edge", "text"], ["State", "text"], ["Since", "text"], ["Backlog (records)", ""],
                               ["Lag (time)", ""], ["Lost at source", ""], ["Buffer", ""], ["Last report", "text"]]
                                  .map(([t, cls]) => el("th", { class: cls, text: t })));
    const body = el("tbody", {}, rows.map(e => {
      const state = e.connected ? "connected" : "disconnected";
      const buffer = isNum(e.buffer_budget_bytes) && e.buffer_budget_bytes > 0
          ? fmtBytes(e.buffered_bytes) + " of " + fmtBytes(e.buffer_budget_bytes) : "\u2013";
      return el("tr", { "data-edge": raw(e.name), "data-connected": String(!!e.connected),
                        ...(e.connected ? {} : { class: "down" }) }, [
        el("td", { class: "text", "data-field": "name", "data-value": raw(e.name), text: raw(e.name) }),
        el("td", { class: "text" }, [el("span", { class: "badge state-" + state, "data-field": "connected",
                                                 "data-value": String(!!e.connected), text: state })]),
        el("td", { class: "text", "data-field": "since_ms", "data-value": raw(e.since_ms),
                   text: (e.connected ? "connected since " : "disconnected since ") + fmtSince(e.since_ms) }),
        el("td", { "data-field": "backlog_records", "data-value": raw(e.backlog_records), text: fmtInt(e.backlog_records) }),
        el("td", { "data-field": "lag_seconds", "data-value": raw(e.lag_seconds), text: fmtSeconds(e.lag_seconds) }),
        el("td", { class: e.lost_records > 0 ? "lost" : "", "data-field": "lost_records",
                   "data-value": raw(e.lost_records), text: e.lost_records > 0 ? fmtInt(e.lost_records) : "\u2013" }),
        el("td", { "data-field": "buffered_bytes", "data-value": raw(e.buffered_bytes), text: buffer }),
        el("td", { class: "text", "data-field": "last_report_ms", "data-value": raw(e.last_report_ms),
                   text: isNum(e.last_report_ms) ? fmtSince(e.last_report_ms) : "none yet" }),
      ]);
    }));
    if (rows.length === 0) {
      body.appendChild(el("tr", {}, [el("td", { class: "text empty", colspan: "8", text: "No edge has connected yet." })]));
    }
    return el("div", {}, [el("h3", { text: "Edges" }),
      el("div", { class: "table-wrap" }, [el("table", { class: "edges" }, [el("thead", {}, [head]), body])])]);
  }

  function pipelineSection(p) {
    const owned = Array.isArray(p.lanes_owned) ? p.lanes_owned : [];
    const points = history.get(p.name) || [];
    const hasError = p.last_error !== null && p.last_error !== undefined && p.last_error !== "";
    const target = stat("Target", "target_reachable", p.target_reachable,
                        p.target_reachable === true ? "reachable" : p.target_reachable === false ? "unreachable" : "\u2013");
    if (p.target_reachable === false) target.querySelector(".value").classList.add("bad");
    return el("section", { class: "panel pipeline", "data-pipeline": p.name, "data-state": raw(p.state) }, [
      el("div", { class: "title" }, [
        el("h2", { "data-field": "name", "data-value": raw(p.name), text: p.name }),
        badge(p.state),
        el("span", { class: "sub", "data-field": "delivery", "data-value": raw(p.delivery), text: raw(p.delivery) }),
      ]),
      ...(hasError ? [el("div", { class: "problem", role: "status" }, [
        el("span", { class: "label", text: "Last error" }),
        el("span", { "data-field": "last_error", "data-value": raw(p.last_error), text: raw(p.last_error) }),
      ])] : []),
      el("div", { class: "stats" }, [
        stat("Lag (records)", "lag_records", p.lag_records, fmtInt(p.lag_records)),
        stat("Lag (time)", "lag_seconds", p.lag_seconds, fmtSeconds(p.lag_seconds)),
        stat("Records / s", "records_per_second", p.records_per_second, fmtRate(p.records_per_second)),
        stat("Bytes / s", "bytes_per_second", p.bytes_per_second, fmtBytes(p.bytes_per_second) + "/s"),
        stat("Replicated here", "records_total", p.records_total, fmtInt(p.records_total)),
        el("div", { class: "stat" }, [
          el("div", { class: "label", text: "Lanes owned" }),
          el("div", { class: "value" }, [
            el("span", { "data-field": "lanes_owned", "data-value": owned.join(","), text: String(owned.length) }),
            document.createTextNode(" of "),
            el("span", { "data-field": "lanes_total", "data-value": raw(p.lanes_total), text: raw(p.lanes_total) }),
            el("span", { class: "sub", text: owned.length ? "  (" + owned.join(", ") + ")" : "" }),
          ]),
        ]),
        target,
      ]),
      el("div", { class: "charts" }, [
        chart("Lag (records)", points, "lagRecords", fmtInt),
        chart("Lag (time)", points, "lagSeconds", fmtSeconds),
        chart("Throughput (records/s)", points, "rate", fmtRate),
      ]),
      ...(Array.isArray(p.edges) ? [edgesTable(p.edges)] : []),
      partitionTable(p.partitions),
    ]);
  }

  function remember(pipelines) {
    const now = Date.now();
    const seen = new Set();
    for (const p of pipelines) {
      seen.add(p.name);
      const points = history.get(p.name) || [];
      points.push({ t: now, lagRecords: p.lag_records, lagSeconds: p.lag_seconds, rate: p.records_per_second });
      while (points.length && points[0].t < now - WINDOW_MS) points.shift();
      history.set(p.name, points);
    }
    for (const name of [...history.keys()]) if (!seen.has(name)) history.delete(name);
  }

  function renderLink(link) {
    const section = document.getElementById("link");
    if (!link || typeof link !== "object") { section.hidden = true; return; }
    section.hidden = false;
    section.dataset.state = raw(link.state);
    const now = Date.now();
    const last = linkHistory[linkHistory.length - 1];
    const bytes = isNum(link.bytes_in) ? link.bytes_in : null;
    const rate = last && bytes !== null && isNum(last.bytes) && now > last.t
        ? Math.max(0, (bytes - last.bytes) * 1000 / (now - last.t)) : null;
    linkHistory.push({ t: now, rtt: isNum(link.rtt_ms) ? link.rtt_ms / 1000 : null, bytes: bytes, bytesRate: rate });
    while (linkHistory.length && linkHistory[0].t < now - WINDOW_MS) linkHistory.shift();
    document.getElementById("link-charts").replaceChildren(
        chart("Round trip", linkHistory, "rtt", fmtSeconds),
        chart("Throughput (bytes in/s)", linkHistory, "bytesRate", v => fmtBytes(v) + "/s"));
    setField(section, "buffered_bytes", link.buffered_bytes,
             isNum(link.buffer_budget_bytes) && link.buffer_budget_bytes > 0
                 ? fmtBytes(link.buffered_bytes) + " of " + fmtBytes(link.buffer_budget_bytes) : "\u2013");
    setField(section, "sessions", link.sessions, isNum(link.sessions) ? String(link.sessions) : "\u2013");
    const state = section.querySelector('[data-field="state"]');
    state.className = "badge state-" + raw(link.state);
    state.dataset.value = raw(link.state);
    state.textContent = raw(link.state);
    setField(section, "rtt_ms", link.rtt_ms, isNum(link.rtt_ms) ? link.rtt_ms.toFixed(1) + " ms" : "\u2013");
    setField(section, "bytes_in", link.bytes_in, fmtBytes(link.bytes_in));
    setField(section, "bytes_out", link.bytes_out, fmtBytes(link.bytes_out));
    setField(section, "compression_ratio", link.compression_ratio,
             isNum(link.compression_ratio) ? link.compression_ratio.toFixed(2) + "\u00d7" : "\u2013");
  }

  function render(status) {
    const pipelines = Array.isArray(status.pipelines) ? status.pipelines : [];
    remember(pipelines);
    setField(document, "worker", status.worker, raw(status.worker));
    setField(document, "version", status.version, raw(status.version));
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
    renderLink(status.link);
    const container = document.getElementById("pipelines");
    container.replaceChildren(...(pipelines.length
        ? pipelines.map(pipelineSection)
        : [el("div", { class: "panel empty", text: "No pipelines configured." })]));
    document.getElementById("status-error").hidden = true;
    document.body.dataset.connection = "up";
    document.body.dataset.renders = String(++renders);
  }

  function showError(message) {
    const banner = document.getElementById("status-error");
    banner.textContent = "Status unavailable: " + message + " (retrying every " + POLL_MS / 1000 + " s)";
    banner.hidden = false;
    document.body.dataset.connection = "down";
  }

  async function poll() {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    try {
      const response = await fetch("/api/v1/status", { cache: "no-store", signal: controller.signal });
      if (!response.ok) throw new Error("HTTP " + response.status);
      render(await response.json());
    } catch (e) {
      showError(e && e.name === "AbortError" ? "timed out" : String(e && e.message || e));
    } finally {
      clearTimeout(timer);
      setTimeout(poll, POLL_MS);
    }
  }
  poll();
})();
</script>
</body>
</html>
)lhpage";

}  // namespace

std::string_view LivePageHtml() { return std::string_view(kPage, sizeof(kPage) - 1); }

}  // namespace longhaul::gateway
