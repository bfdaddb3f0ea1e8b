#!/usr/bin/python3
"""Parses a /metrics scrape with the real Prometheus parser and checks the
parts of the text format the parser is lenient about.

    parse_metrics.py SCRAPE_FILE

On success prints one line per family and per sample, tab-separated, for the
C++ integration test to read:

    F <family> <type>
    S <sample name> <label=value,label=value,...> <value>

Exits 1 with the problems on stderr when the text is not valid exposition
format 0.0.4 or breaks a Prometheus naming convention.
"""

import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def check(text):
    problems = []
    families = list(text_string_to_metric_families(text))  # raises on syntax errors
    helps, types = set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split(" ", 3)[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if name in types:
                problems.append(f"{name}: TYPE given twice")
            types[name] = kind
    if not text.endswith("\n"):
        problems.append("the exposition must end with a line feed")
    for family in families:
        # The parser strips _total from counter family names; the text keeps it.
        text_name = family.name + "_total" if family.type == "counter" else family.name
        if not text_name.startswith("longhaul_"):
            problems.append(f"{text_name}: metric names must start with longhaul_")
        if text_name not in types:
            problems.append(f"{text_name}: no # TYPE line")
        if text_name not in helps:
            problems.append(f"{text_name}: no # HELP line")
        if family.type == "counter" and not text_name.endswith("_total"):
            problems.append(f"{text_name}: counter without the _total suffix")
        for unit in ("_ms", "_milliseconds", "_kb", "_mb", "_minutes"):
            if unit in text_name:
                problems.append(f"{text_name}: not a base unit ({unit})")
        if family.type == "histogram":
            problems += check_histogram(family)
        for sample in family.samples:
            if family.type == "counter" and sample.value < 0:
                problems.append(f"{sample.name}{sample.labels}: negative counter")
    return families, problems


def check_histogram(family):
    problems = []
    series = {}
    for s in family.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        entry = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if s.name.endswith("_bucket"):
            entry["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_sum"):
            entry["sum"] = s.value
        elif s.name.endswith("_count"):
            entry["count"] = s.value
    for key, entry in series.items():
        where = f"{family.name}{dict(key)}"
        buckets = entry["buckets"]
        if not buckets or not math.isinf(buckets[-1][0]):
            problems.append(f"{where}: no le=\"+Inf\" bucket last")
            continue
        if [b[0] for b in buckets] != sorted(b[0] for b in buckets):
            problems.append(f"{where}: buckets not in increasing le order")
        if any(later[1] < earlier[1] for earlier, later in zip(buckets, buckets[1:])):
            problems.append(f"{where}: bucket counts are not cumulative")
        if entry["count"] is None or entry["sum"] is None:
            problems.append(f"{where}: missing _sum or _count")
        elif entry["count"] != buckets[-1][1]:
            problems.append(f"{where}: _count {entry['count']} != +Inf bucket {buckets[-1][1]}")
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        families, problems = check(text)
    except Exception as e:  # the parser's own error: the text is not valid
        print(f"prometheus_client could not parse the scrape: {e!r}", file=sys.stderr)
        return 1
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    out = []
    for family in families:
        out.append(f"F\t{family.name}\t{family.type}")
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out.append(f"S\t{s.name}\t{labels}\t{s.value!r}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
