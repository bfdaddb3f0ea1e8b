#!/usr/bin/python3
"""Checks deploy/: the Grafana dashboard is valid JSON, the Prometheus alert
rules valid YAML, and every PromQL expression in them uses only metric names
and labels that a real scrape of the process exports.

    check_deploy.py --scrape SCRAPE_FILE [--scrape ...] --deploy DEPLOY_DIR [--names REGEX]

Each SCRAPE_FILE is a /metrics scrape of a worker that replicates (so that
every family has series): a direct worker, or an edge and its hub. Only
metric names matching REGEX (default: all) must be in the scrapes; the
others are checked by the run that scrapes the role exporting them (the
direct test checks everything but longhaul_link_* and the link test those).
Prints what was checked; exits 1 listing each problem.
"""

import argparse
import json
import re
import sys

import yaml
from prometheus_client.parser import text_string_to_metric_families

# Series Prometheus itself adds for every scrape target, and the labels it
# attaches to every series of a target.
PROMETHEUS_SERIES = {"up": {"job", "instance"}}
TARGET_LABELS = {"job", "instance"}

AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                "bottomk", "topk", "quantile"}
FUNCTIONS = {"abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
             "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor",
             "histogram_quantile", "histogram_count", "histogram_sum", "histogram_fraction", "holt_winters",
             "hour", "idelta", "increase", "irate", "label_join", "label_replace", "ln", "log2", "log10",
             "minute", "month", "predict_linear", "rate", "resets", "round", "scalar", "sgn", "sort",
             "sort_desc", "sqrt", "time", "timestamp", "vector", "year", "avg_over_time", "min_over_time",
             "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time", "stddev_over_time",
             "stdvar_over_time", "last_over_time", "present_over_time"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
GRAFANA_INTERVALS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|s|m|h|d|w|y))+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>==|!=|<=|>=|=~|!~|[-+*/%^<>=,:@(){}\[\]])
""", re.VERBOSE)


class PromQLError(Exception):
    pass


def tokenize(expr):
    for name, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(name, value)
    pos, out = 0, []
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise PromQLError(f"unexpected {expr[pos:pos + 20]!r} at offset {pos}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def analyse(expr):
    """Returns (metrics: {name: set(matcher labels)}, grouping labels, functions).

    A lexical walk, not a full parser: enough to find every metric name,
    label name and function an expression uses, and to reject unbalanced
    brackets, unknown functions and stray tokens."""
    tokens = tokenize(expr)
    metrics, grouping, functions = {}, set(), set()
    stack, i = [], 0

    def expect(kind_or_value, at):
        if at >= len(tokens) or kind_or_value not in tokens[at]:
            found = tokens[at][1] if at < len(tokens) else "end of expression"
            raise PromQLError(f"expected {kind_or_value!r}, found {found!r} in: {expr.strip()}")

    while i < len(tokens):
        kind, value = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else None
        if kind == "ident" and value in GROUPING:
            if nxt == "(":
                i += 2
                while tokens[i][1] != ")":
                    if tokens[i][0] == "ident":
                        grouping.add(tokens[i][1])
                    elif tokens[i][1] != ",":
                        raise PromQLError(f"bad label list after {value} in: {expr.strip()}")
                    i += 1
                i += 1
                continue
            i += 1
            continue
        if kind == "ident" and value.lower() in KEYWORDS:
            i += 1
            continue
        if kind == "ident" and (nxt == "(" or (value in AGGREGATIONS and nxt in ("by", "without"))):
            if value not in AGGREGATIONS and value not in FUNCTIONS:
                raise PromQLError(f"unknown function {value}() in: {expr.strip()}")
            functions.add(value)
            i += 1
            continue
        if kind == "ident":
            labels = metrics.setdefault(value, set())
            i += 1
            if i < len(tokens) and tokens[i][1] == "{":
                i = matchers(tokens, i, labels, expr)
            continue
        if value == "{":  # a selector without a metric name
            i = matchers(tokens, i, metrics.setdefault("", set()), expr)
            continue
        if value == "[":
            i += 1
            expect("duration", i)
            i += 1
            if tokens[i][1] == ":":
                i += 1
                if tokens[i][0] == "duration":
                    i += 1
            expect("]", i)
            i += 1
            continue
        if value == "(":
            stack.append(value)
        elif value == ")":
            if not stack:
                raise PromQLError(f"unbalanced ')' in: {expr.strip()}")
            stack.pop()
        elif value in ("}", "]"):
            raise PromQLError(f"stray {value!r} in: {expr.strip()}")
        i += 1
    if stack:
        raise PromQLError(f"unclosed '(' in: {expr.strip()}")
    return metrics, grouping, functions


def matchers(tokens, i, labels, expr):
    i += 1  # past '{'
    while tokens[i][1] != "}":
        if tokens[i][1] == ",":
            i += 1
            continue
        if tokens[i][0] != "ident" or tokens[i + 1][1] not in ("=", "!=", "=~", "!~") or tokens[i + 2][0] != "string":
            raise PromQLError(f"bad label matcher near {tokens[i][1]!r} in: {expr.strip()}")
        labels.add(tokens[i][1])
        i += 3
    return i + 1


class Checker:
    def __init__(self, exported, names=".*"):
        self.exported = exported  # sample name -> label names seen
        self.names = re.compile(names)  # the names these scrapes must export
        self.problems = []
        self.used = set()

    def expr(self, where, expr):
        try:
            metrics, grouping, functions = analyse(expr)
        except PromQLError as e:
            self.problems.append(f"{where}: {e}")
            return None
        known = dict(self.exported)
        known.update(PROMETHEUS_SERIES)
        if not metrics:
            self.problems.append(f"{where}: no metric in {expr.strip()}")
        available = set(TARGET_LABELS)
        for name, matcher_labels in metrics.items():
            if name not in known:
                if self.names.search(name or ""):
                    self.problems.append(f"{where}: {name or '{...}'} is not exported by longhaul")
                else:
                    # Another role's metric: its labels are unknown here.
                    available |= matcher_labels | grouping
                continue
            self.used.add(name)
            labels = known[name] | TARGET_LABELS
            available |= labels
            for label in sorted(matcher_labels - labels):
                self.problems.append(f"{where}: {name} has no label {label!r}")
        # Labels may be grouped by only if some series of the expression has them.
        for label in sorted(grouping - available):
            self.problems.append(f"{where}: groups by {label!r}, which no metric of the expression has")
        return metrics, grouping, functions, available


def load_exported(scrape_paths):
    exported = {}
    for scrape_path in scrape_paths:
        with open(scrape_path, encoding="utf-8") as f:
            for family in text_string_to_metric_families(f.read()):
                for s in family.samples:
                    exported.setdefault(s.name, set()).update(k for k in s.labels)
    return exported


def check_dashboard(path, checker):
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        checker.problems.append(f"{path}: not valid JSON: {e}")
        return 0
    p = checker.problems
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in dash:
            p.append(f"{path}: no {key!r}")
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource":
        p.append(f"{path}: no 'datasource' variable of type datasource (imports would hard-wire one)")
    for name, var in variables.items():
        if var.get("type") != "query":
            continue
        query = var.get("query", {}).get("query", "") if isinstance(var.get("query"), dict) else var.get("query", "")
        m = re.fullmatch(r"\s*label_values\((?:(.*),)?\s*([a-zA-Z_]\w*)\s*\)\s*", query)
        if not m:
            p.append(f"{path}: variable {name}: unsupported query {query!r}")
            continue
        where = f"{path}: variable {name}"
        if m.group(1):
            result = checker.expr(where, m.group(1))
            if result and m.group(2) not in result[3]:
                p.append(f"{where}: label {m.group(2)!r} not on {m.group(1).strip()}")
    exprs, ids = [], set()

    def walk(panels):
        for panel in panels:
            pid = panel.get("id")
            where = f"{path}: panel {pid} {panel.get('title')!r}"
            if pid in ids:
                p.append(f"{where}: duplicate panel id")
            ids.add(pid)
            grid = panel.get("gridPos", {})
            if not all(k in grid for k in ("h", "w", "x", "y")) or grid.get("x", 0) + grid.get("w", 0) > 24:
                p.append(f"{where}: bad gridPos {grid}")
            if panel.get("type") == "row":
                walk(panel.get("panels", []))
                continue
            targets = panel.get("targets", [])
            if not targets:
                p.append(f"{where}: no queries")
            if panel.get("datasource", {}).get("uid") != "${datasource}":
                p.append(f"{where}: datasource is not the ${{datasource}} variable")
            for t in targets:
                expr = t.get("expr", "")
                for var in re.findall(r"\$(\w+)", expr):
                    if var not in variables and not var.startswith("__"):
                        p.append(f"{where}: uses undefined variable ${var}")
                checker.expr(where, expr)
                exprs.append(expr)

    walk(dash.get("panels", []))
    # What the dashboard is for (docs/observability.md#dashboard-and-alerts): these must be on it.
    text = "\n".join(exprs)
    for needed in ("longhaul_lag_records", "longhaul_lag_seconds", "longhaul_records_replicated_total",
                   "longhaul_checkpoint_age_seconds", "longhaul_errors_total"):
        if needed not in text:
            p.append(f"{path}: no panel shows {needed}")
    if not re.search(r"histogram_quantile\(.*?longhaul_replication_latency_seconds_bucket", text, re.S):
        p.append(f"{path}: no replication latency percentile (histogram_quantile)")
    if "partition" not in text:
        p.append(f"{path}: no per-partition panel")
    # The link and the edges (issue 12).
    for needed in ("longhaul_link_up", "longhaul_link_edge_connected", "longhaul_link_rtt_seconds_bucket",
                   "longhaul_link_wire_bytes_total", "longhaul_link_bytes_uncompressed_total",
                   "longhaul_link_compression_ratio", "longhaul_link_buffered_bytes",
                   "longhaul_link_buffer_budget_bytes", "longhaul_link_edge_backlog_records",
                   "longhaul_link_edge_lag_seconds", "longhaul_link_reconnects_total", "longhaul_link_refused_total"):
        if needed not in text:
            p.append(f"{path}: no panel shows {needed}")
    return len(exprs)


def check_alerts(path, checker):
    p = checker.problems
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        p.append(f"{path}: not valid YAML: {e}")
        return 0
    groups = doc.get("groups") if isinstance(doc, dict) else None
    if not isinstance(groups, list) or not groups:
        p.append(f"{path}: no 'groups' list")
        return 0
    names, rules = set(), []
    for g in groups:
        if not g.get("name") or not isinstance(g.get("rules"), list):
            p.append(f"{path}: a group needs a name and a rules list")
            continue
        for rule in g["rules"]:
            name = rule.get("alert")
            where = f"{path}: alert {name}"
            if not name or name in names:
                p.append(f"{where}: missing or duplicate alert name")
            names.add(name)
            unknown = set(rule) - {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
            if unknown:
                p.append(f"{where}: unknown keys {sorted(unknown)}")
            if not re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", str(rule.get("for", "0s"))):
                p.append(f"{where}: bad 'for' duration {rule.get('for')!r}")
            if rule.get("labels", {}).get("severity") not in ("warning", "critical"):
                p.append(f"{where}: severity must be warning or critical")
            annotations = rule.get("annotations", {})
            if not annotations.get("summary") or not annotations.get("description"):
                p.append(f"{where}: needs summary and description annotations")
            result = checker.expr(where, str(rule.get("expr", "")))
            if result:
                metrics, grouping, _, available = result
                # Annotations can only show labels the alert's series carry.
                carried = grouping if grouping else available
                for text in annotations.values():
                    for label in re.findall(r"\$labels\.(\w+)", str(text)):
                        if label not in carried:
                            p.append(f"{where}: annotation uses $labels.{label}, which the result does not carry")
            rules.append((name, str(rule.get("expr", ""))))
    # What the rules are for (docs/observability.md#dashboard-and-alerts): these must be covered.
    def has(pattern):
        return any(re.search(pattern, expr, re.S) for _, expr in rules)
    if not has(r"longhaul_lag_seconds.*>.*and.*(deriv|delta|increase)\(longhaul_lag_seconds"):
        p.append(f"{path}: no rule for lag in seconds above a threshold and rising")
    if not has(r"longhaul_checkpoint_age_seconds"):
        p.append(f"{path}: no rule for a stale checkpoint")
    if not has(r"\bup\{[^}]*\}\s*==\s*0") or not has(r"absent\(up"):
        p.append(f"{path}: no rule for a worker down (up == 0 and absent(up))")
    if not has(r"sum by \([^)]*\) \(longhaul_lanes_owned\)\s*==\s*0"):
        p.append(f"{path}: no rule for no lanes owned across workers")
    for pattern, what in ((r"longhaul_link_up\{[^}]*role=\"edge\"", "the link down (edge)"),
                          (r"longhaul_link_edge_disconnected_since_timestamp_seconds", "an edge disconnected (hub)"),
                          (r"longhaul_link_edge_lag_seconds", "an edge's backlog age"),
                          (r"longhaul_link_buffered_bytes\s*/\s*longhaul_link_buffer_budget_bytes", "buffer near budget"),
                          (r"longhaul_link_refused_total", "edges refused"),
                          (r"longhaul_tls_certificate_expiry_timestamp_seconds", "a certificate expiring")):
        if not has(pattern):
            p.append(f"{path}: no rule for {what}")
    return len(rules)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scrape", required=True, action="append")
    parser.add_argument("--deploy", required=True)
    parser.add_argument("--names", default=".*")
    args = parser.parse_args()
    checker = Checker(load_exported(args.scrape), args.names)
    panels = check_dashboard(f"{args.deploy}/grafana/longhaul-dashboard.json", checker)
    rules = check_alerts(f"{args.deploy}/prometheus/alerts.yaml", checker)
    if checker.problems:
        print("\n".join(checker.problems), file=sys.stderr)
        return 1
    print(f"ok: {panels} dashboard queries and {rules} alert rules use only exported metrics: "
          + ", ".join(sorted(checker.used)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
