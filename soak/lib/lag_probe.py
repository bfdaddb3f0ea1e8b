#!/usr/bin/env python3
"""Samples replication lag for soak/run, as JSON lines on stdout.

Runs next to the target cluster (in the hub namespace). Every --interval it
reports two views of lag:

- "freshness": for each target partition, the age of the newest committed
  record (now minus its create time, which longhaul carries over from the
  source); the worst partition's age is the end-to-end lag a consumer of the
  target sees while the generator writes at a steady rate. It needs no help
  from longhaul: two Kafka requests per sample (ListOffsets read_committed,
  then a Fetch of the last few KB, of which only record-batch headers are
  read, so compression does not matter).
- "worker": what longhaul itself reports on its admin API
  (/api/v1/status: lag_records, lag_seconds), when that answers.

Standard library only: a minimal Kafka protocol client (ListOffsets v2,
Fetch v4) that understands record batches v2 well enough to skip control
batches and aborted transactions.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import time
import urllib.request

CLIENT_ID = b"longhaul-lag-probe"


class KafkaError(Exception):
    pass


class Connection:
    def __init__(self, bootstrap: str, timeout: float = 5.0):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.settimeout(timeout)
        self.correlation = 0

    def close(self):
        self.sock.close()

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise KafkaError("connection closed by the broker")
            buf += chunk
        return bytes(buf)

    def request(self, api_key: int, version: int, body: bytes) -> bytes:
        self.correlation += 1
        header = struct.pack(">hhih", api_key, version, self.correlation, len(CLIENT_ID)) + CLIENT_ID
        payload = header + body
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", self._recv_exact(4))
        data = self._recv_exact(size)
        (corr,) = struct.unpack(">i", data[:4])
        if corr != self.correlation:
            raise KafkaError(f"correlation id {corr}, expected {self.correlation}")
        return data[4:]


class Reader:
    def __init__(self, data: bytes):
        self.d = data
        self.i = 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        vals = struct.unpack_from(fmt, self.d, self.i)
        self.i += size
        return vals if len(vals) > 1 else vals[0]

    def string(self) -> str:
        n = self.take(">h")
        if n < 0:
            return ""
        s = self.d[self.i:self.i + n].decode()
        self.i += n
        return s

    def bytes_(self) -> bytes | None:
        n = self.take(">i")
        if n < 0:
            return None
        b = self.d[self.i:self.i + n]
        self.i += n
        return b


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def last_stable_offsets(conn: Connection, topic: str, partitions: list[int]) -> dict[int, int]:
    """ListOffsets v2, read_committed, latest: the LSO of each partition."""
    body = struct.pack(">ib", -1, 1) + struct.pack(">i", 1) + _string(topic) + struct.pack(">i", len(partitions))
    for p in partitions:
        body += struct.pack(">iq", p, -1)
    r = Reader(conn.request(2, 2, body))
    r.take(">i")  # throttle
    out = {}
    for _ in range(r.take(">i")):
        r.string()
        for _ in range(r.take(">i")):
            p, err, _ts, off = r.take(">ihqq")
            if err == 0:
                out[p] = off
    return out


def newest_committed_batch(conn: Connection, topic: str, partition: int, lso: int,
                           window: int = 400, max_bytes: int = 8 << 20) -> dict | None:
    """Fetch v4 read_committed from `lso - window`; returns the newest data
    batch that is not aborted: {base_offset, last_offset, max_timestamp}."""
    start = max(0, lso - window)
    body = struct.pack(">iiiib", -1, 0, 1, max_bytes, 1) + struct.pack(">i", 1) + _string(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", partition, start, max_bytes)
    r = Reader(conn.request(1, 4, body))
    r.take(">i")  # throttle
    records = None
    aborted: list[tuple[int, int]] = []
    for _ in range(r.take(">i")):
        r.string()
        for _ in range(r.take(">i")):
            _p, err, _hw, _lso = r.take(">ihqq")
            n = r.take(">i")
            for _ in range(max(n, 0)):
                aborted.append(r.take(">qq"))
            records = r.bytes_()
            if err != 0:
                raise KafkaError(f"fetch {topic}[{partition}]: error code {err}")
    if not records:
        return None
    aborted.sort(key=lambda a: a[1])
    active: set[int] = set()
    newest = None
    i = 0
    while i + 61 <= len(records):
        base, length = struct.unpack_from(">qi", records, i)
        if i + 12 + length > len(records):
            break  # a partial batch at the end of the fetch
        attrs, last_delta, _first_ts, max_ts, pid = struct.unpack_from(">hiqqq", records, i + 21)
        last = base + last_delta
        i += 12 + length
        if base >= lso:
            break
        while aborted and aborted[0][1] <= last:
            active.add(aborted.pop(0)[0])
        if attrs & 0x20:  # control batch: a commit or abort marker ends its transaction
            active.discard(pid)
            continue
        if attrs & 0x10 and pid in active:
            continue  # aborted
        newest = {"base_offset": base, "last_offset": last, "max_timestamp": max_ts}
    return newest


def lag_of_status(doc) -> dict | None:
    """Sum of lag_records and max of lag_seconds over the outermost objects
    of a /api/v1/status document that carry them (the pipelines; their
    partitions repeat the same lag in parts and are not counted again)."""
    records, seconds, found = 0, 0.0, False

    def walk(x):
        nonlocal records, seconds, found
        if isinstance(x, dict):
            if isinstance(x.get("lag_records"), (int, float)) or isinstance(x.get("lag_seconds"), (int, float)):
                records += int(x.get("lag_records") or 0)
                seconds = max(seconds, float(x.get("lag_seconds") or 0))
                found = True
                return
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)
    return {"lag_records": records, "lag_seconds": seconds} if found else None


def admin_status(address: str) -> dict | None:
    """The lag in longhaul's /api/v1/status (lag_of_status); None when the
    API does not answer."""
    try:
        with urllib.request.urlopen(f"http://{address}/api/v1/status", timeout=2) as resp:
            doc = json.load(resp)
    except Exception:
        return None
    return lag_of_status(doc)


def sample(bootstrap: str, topic: str, partitions: list[int]) -> dict:
    conn = Connection(bootstrap)
    try:
        lsos = last_stable_offsets(conn, topic, partitions)
        now_ms = time.time() * 1000
        ages = {}
        for p in partitions:
            lso = lsos.get(p, 0)
            if lso <= 0:
                continue
            b = newest_committed_batch(conn, topic, p, lso)
            if b:
                ages[p] = max(0.0, (now_ms - b["max_timestamp"]) / 1000)
        return {"lso_total": sum(lsos.values()), "ages": ages}
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap", help="target cluster HOST:PORT (without it: only --admin is sampled)")
    ap.add_argument("--topic")
    ap.add_argument("--partitions", type=int)
    ap.add_argument("--admin", default="", help="longhaul admin HOST:PORT (optional)")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--duration", type=float, required=True, help="seconds; the probe exits after it")
    a = ap.parse_args(argv)
    if a.bootstrap and (not a.topic or not a.partitions):
        ap.error("--bootstrap needs --topic and --partitions")
    if not a.bootstrap and not a.admin:
        ap.error("give --bootstrap (end-to-end lag) and/or --admin (reported lag)")
    parts = list(range(a.partitions or 0))
    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        t0 = time.monotonic()
        out = {"t": round(time.time(), 3)}
        if a.bootstrap:
            try:
                s = sample(a.bootstrap, a.topic, parts)
                out["lso_total"] = s["lso_total"]
                out["partitions_with_data"] = len(s["ages"])
                out["freshness_s"] = round(max(s["ages"].values()), 3) if s["ages"] else None
            except (OSError, KafkaError, struct.error) as e:
                out["error"] = f"{type(e).__name__}: {e}"
        if a.admin:
            out["worker"] = admin_status(a.admin)
        print(json.dumps(out), flush=True)
        time.sleep(max(0.0, a.interval - (time.monotonic() - t0)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
