"""Unit tests of soak/run's pure parts: fault schedules, the lag probe's
record-batch reading, and the summary. Run: python3 -m unittest (in soak/lib)."""

import struct
import unittest

import faults
import lag_probe
import soak_runner
import summary


class FaultPlanTest(unittest.TestCase):
    def test_balances_kinds_and_keeps_faults_inside_the_window(self):
        plan = faults.plan_faults(21, faults.default_kinds("direct"), 30, 600, seed=7, base_profile="geo-satellite")
        self.assertEqual(len(plan), 21)
        self.assertEqual(set(faults.count_by_kind(plan).values()), {3})
        slot = (600 - 30) / 21
        for i, f in enumerate(plan):
            self.assertGreaterEqual(f.at, 30 + i * slot)
            self.assertLess(f.at + f.down, 30 + (i + 1) * slot + 0.25 * slot)
        self.assertEqual(sorted(f.at for f in plan), [f.at for f in plan])

    def test_same_seed_same_plan(self):
        a = faults.plan_faults(10, ["worker-kill", "link-cut"], 0, 100, seed=3, base_profile="lan")
        b = faults.plan_faults(10, ["worker-kill", "link-cut"], 0, 100, seed=3, base_profile="lan")
        self.assertEqual([(f.at, f.kind, f.down) for f in a], [(f.at, f.kind, f.down) for f in b])

    def test_profile_switches_never_switch_to_the_base_profile(self):
        plan = faults.plan_faults(8, ["profile-switch"], 0, 800, seed=1, base_profile="mobile")
        self.assertTrue(all(f.arg and f.arg != "mobile" for f in plan))

    def test_no_room_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "duration"):
            faults.plan_faults(3, ["worker-kill"], 100, 50, seed=1, base_profile="lan")


class LinkModeFaultsTest(unittest.TestCase):
    def test_each_mode_draws_only_kinds_that_name_its_processes(self):
        self.assertIn("worker-kill", faults.default_kinds("direct"))
        self.assertNotIn("edge-kill", faults.default_kinds("direct"))
        self.assertNotIn("hub-kill", faults.default_kinds("direct"))
        link = faults.default_kinds("link")
        self.assertNotIn("worker-kill", link)
        self.assertTrue({"edge-kill", "hub-kill", "source-restart", "source-kill", "target-restart", "target-kill",
                         "link-cut", "profile-switch"} <= set(link))

    def test_link_mode_plan_of_24_has_three_of_every_kind(self):
        plan = faults.plan_faults(24, faults.default_kinds("link"), 30, 630, seed=11, base_profile="geo-satellite")
        faults.adapt_to_mode(plan, "link")
        self.assertEqual(faults.count_by_kind(plan), {k: 3 for k in faults.default_kinds("link")})

    def test_worker_kill_in_link_mode_kills_the_edge_and_the_hub_in_turn(self):
        plan = faults.parse_schedule("10s worker-kill 2s\n20s link-cut 5s\n30s worker-kill\n40s worker-kill\n",
                                     "s", "ocean")
        faults.adapt_to_mode(plan, "link")
        self.assertEqual([f.kind for f in plan], ["edge-kill", "link-cut", "hub-kill", "edge-kill"])
        self.assertEqual(plan[0].down, 2)
        self.assertIn("worker-kill in link mode", plan[2].notes)

    def test_direct_mode_keeps_worker_kill(self):
        plan = faults.parse_schedule("10s worker-kill\n", "s", "ocean")
        faults.adapt_to_mode(plan, "direct")
        self.assertEqual(plan[0].kind, "worker-kill")

    def test_edge_or_hub_kill_in_direct_mode_is_refused_naming_where(self):
        with self.assertRaisesRegex(ValueError, r"--fault-kinds: edge-kill needs --mode link"):
            faults.check_kinds_for_mode(["link-cut", "edge-kill"], "direct")
        plan = faults.parse_schedule("10s hub-kill 2s\n", "x.schedule", "ocean")
        with self.assertRaisesRegex(ValueError, r"x\.schedule: hub-kill needs --mode link"):
            faults.adapt_to_mode(plan, "direct", "x.schedule")

    def test_process_kills_last_at_least_a_second(self):
        plan = faults.plan_faults(40, ["edge-kill", "hub-kill"], 0, 40, seed=5, base_profile="lan")
        self.assertTrue(all(f.down >= 1.0 for f in plan))


class TopologyTest(unittest.TestCase):
    def test_link_mode_runs_a_hub_next_to_the_target_and_an_edge_next_to_the_source(self):
        t = soak_runner.Topology.for_mode("link", "/w", 18080)
        self.assertEqual([(r.name, r.namespace, r.argv) for r in t.workers],
                         [("hub", "hub", ["--role", "hub"]), ("edge", "edge", ["--role", "edge"])])
        self.assertEqual(len({r.admin_port for r in t.workers}), 2)
        self.assertEqual(len({r.config for r in t.workers}), 2)
        self.assertEqual((t.source_side, t.target_side, t.checker_side, t.lag_role), ("edge", "hub", "hub", "hub"))
        self.assertEqual(t.killed_by("edge-kill").name, "edge")
        self.assertEqual(t.killed_by("hub-kill").name, "hub")
        self.assertIsNone(t.killed_by("link-cut"))

    def test_several_hubs_each_with_its_own_config_and_admin_port_and_the_edge_keeps_its_port(self):
        t = soak_runner.Topology.for_mode("link", "/w", 18080, hubs=3)
        self.assertEqual([r.name for r in t.workers], ["hub1", "hub2", "hub3", "edge"])
        self.assertEqual([r.admin_port for r in t.workers], [18080, 18082, 18083, 18081])
        self.assertEqual(len({r.config for r in t.workers}), 4)
        self.assertEqual([h.name for h in t.hubs()], ["hub1", "hub2", "hub3"])
        self.assertEqual(t.lag_role, "hub1")
        self.assertEqual(t.killed_by("hub-kill", "hub2").name, "hub2")
        with self.assertRaisesRegex(soak_runner.SetupError, "needs --mode link"):
            soak_runner.Topology.for_mode("direct", "/w", 18080, hubs=2)

    def test_hub_kill_hits_the_hub_serving_the_edge_else_goes_round(self):
        hubs = ["hub1", "hub2", "hub3"]
        self.assertEqual(faults.hub_to_kill(hubs, "hub3", 0), "hub3")
        self.assertEqual([faults.hub_to_kill(hubs, None, i) for i in range(4)], ["hub1", "hub2", "hub3", "hub1"])
        self.assertEqual(faults.hub_to_kill(hubs, "hub9", 1), "hub2")

    def test_direct_mode_runs_one_worker_on_the_hub_side(self):
        t = soak_runner.Topology.for_mode("direct", "/w", 18080)
        self.assertEqual([(r.name, r.namespace, r.argv) for r in t.workers], [("worker", "hub", [])])
        self.assertEqual(t.killed_by("worker-kill").name, "worker")
        with self.assertRaisesRegex(soak_runner.SetupError, "direct mode runs no edge"):
            t.killed_by("edge-kill")

    def test_command_line_defaults_follow_the_mode(self):
        a = soak_runner.parse_args(["--mode", "link", "--duration", "3m", "--seed", "1"])
        self.assertNotIn("worker-kill", a.fault_kinds)
        self.assertIn("hub-kill", a.fault_kinds)
        self.assertEqual(a.faults, 6)
        a = soak_runner.parse_args(["--mode", "link", "--fault-kinds", "worker-kill,link-cut", "--seed", "1"])
        self.assertEqual(a.fault_kinds, ["worker-kill", "link-cut"])
        self.assertEqual(a.hubs, 1)
        with self.assertRaises(SystemExit):
            soak_runner.parse_args(["--hubs", "3", "--seed", "1"])  # several hubs need --mode link


class ScheduleFileTest(unittest.TestCase):
    def test_parses_times_kinds_downtimes_and_profiles(self):
        plan = faults.parse_schedule(
            "# comment\n2m link-cut 20s\n30s worker-kill\n\n1m15s profile-switch 45s mobile  # trailing\n",
            "s.schedule", "geo-satellite")
        self.assertEqual([(f.at, f.kind, f.down, f.arg) for f in plan],
                         [(30, "worker-kill", 3, ""), (75, "profile-switch", 45, "mobile"), (120, "link-cut", 20, "")])

    def test_errors_name_file_and_line(self):
        with self.assertRaisesRegex(ValueError, r"s\.schedule:2: unknown fault kind 'meteor'"):
            faults.parse_schedule("10s worker-kill\n20s meteor\n", "s.schedule", "lan")
        with self.assertRaisesRegex(ValueError, r"f:1: AT: 'soon'"):
            faults.parse_schedule("soon worker-kill\n", "f", "lan")
        with self.assertRaisesRegex(ValueError, "only profile-switch"):
            faults.parse_schedule("1m link-cut 5s mobile\n", "f", "lan")

    def test_durations(self):
        self.assertEqual(faults.parse_duration("90"), 90)
        self.assertEqual(faults.parse_duration("1m30s"), 90)
        self.assertEqual(faults.parse_duration("2h"), 7200)
        self.assertEqual(faults.parse_duration("500ms"), 0.5)
        with self.assertRaises(ValueError):
            faults.parse_duration("")


def batch(base, count, max_ts, pid=-1, transactional=False, control=False):
    """A record batch v2 header with an empty body (the probe reads headers)."""
    attrs = (0x10 if transactional else 0) | (0x20 if control else 0)
    rest = struct.pack(">ihiqqqhii", 0, attrs, count - 1, max_ts - 1, max_ts, pid, 0, 0, count)
    # rest starts at partitionLeaderEpoch: epoch(4) magic(1) crc(4) ...
    body = struct.pack(">i", 0) + b"\x02" + struct.pack(">I", 0) + rest[4:]
    return struct.pack(">qi", base, len(body)) + body


class FakeConnection:
    def __init__(self, records, aborted=()):
        self.records, self.aborted = records, list(aborted)

    def request(self, api_key, version, body):
        out = struct.pack(">i", 0) + struct.pack(">i", 1) + struct.pack(">h", 1) + b"t" + struct.pack(">i", 1)
        out += struct.pack(">ihqq", 0, 0, 0, 0) + struct.pack(">i", len(self.aborted))
        for pid, first in self.aborted:
            out += struct.pack(">qq", pid, first)
        return out + struct.pack(">i", len(self.records)) + self.records


class LagProbeTest(unittest.TestCase):
    def test_takes_the_newest_committed_data_batch(self):
        recs = batch(0, 10, 1000) + batch(10, 5, 2000, pid=7, transactional=True) + batch(15, 1, 2100, pid=7,
                                                                                          control=True)
        b = lag_probe.newest_committed_batch(FakeConnection(recs), "t", 0, lso=16)
        self.assertEqual(b["max_timestamp"], 2000)

    def test_skips_aborted_transactions(self):
        recs = (batch(0, 10, 1000, pid=3, transactional=True) + batch(10, 1, 1100, pid=3, control=True)
                + batch(11, 10, 5000, pid=4, transactional=True) + batch(21, 1, 5100, pid=4, control=True))
        b = lag_probe.newest_committed_batch(FakeConnection(recs, aborted=[(4, 11)]), "t", 0, lso=22)
        self.assertEqual(b["max_timestamp"], 1000)

    def test_admin_lag_counts_each_pipeline_once_not_again_per_partition(self):
        doc = {"pipelines": [{"name": "soak", "lag_records": 30, "lag_seconds": 4.5,
                              "partitions": [{"lag_records": 10, "lag_seconds": 4.5},
                                             {"lag_records": 20, "lag_seconds": 1.0}]},
                             {"name": "other", "lag_records": 5, "lag_seconds": 9.0, "partitions": []}],
               "link": {"state": "up"}}
        self.assertEqual(lag_probe.lag_of_status(doc), {"lag_records": 35, "lag_seconds": 9.0})
        self.assertIsNone(lag_probe.lag_of_status({"pipelines": []}))

    def test_ignores_batches_at_or_past_the_stable_offset(self):
        recs = batch(0, 10, 1000) + batch(10, 10, 9000)
        b = lag_probe.newest_committed_batch(FakeConnection(recs), "t", 0, lso=10)
        self.assertEqual(b["last_offset"], 9)


class SummaryTest(unittest.TestCase):
    def report(self, passed=True, missing=0):
        return {
            "passed": passed, "date": "d", "commit": "abc", "machine": "m", "profile": "ocean", "mode": "direct",
            "duration_s": 150, "seed": 1, "partitions": 6, "lanes": 4, "rate": 300, "commit_interval": "500ms",
            "record_size": "100-2000", "workdir": "/tmp/x",
            "faults": [{"at": 10, "kind": "worker-kill", "down": 2, "arg": "", "started": 10, "recovered": 13,
                        "outcome": "ok", "notes": []},
                       {"at": 40, "kind": "link-cut", "down": 10, "arg": "", "started": None, "recovered": None,
                        "outcome": "skipped: late", "notes": []}],
            "generated": {"records": 45000, "bytes": 45_000_000}, "generator_runs": 1, "generator_seconds": 150,
            "freshness_peak_s": 12.5, "freshness_p50_s": 1.0, "freshness_at_end_s": 0.5, "worker_lag_peak_records": None,
            "worker_lag_peak_s": None,
            "check": {"mode": "exactly-once", "passed": missing == 0, "exit": 1 if missing else 0,
                      "totals": {"expected": 45000, "found": 45000 - missing, "ok": 45000 - missing,
                                 "missing": missing, "duplicated": 0, "out_of_order": 0, "corrupted": 0, "extra": 0},
                      "topics": [{"target_topic": "soak", "partitions": [
                          {"partition": 2, "passed": missing == 0, "expected": 7500, "found": 7500 - missing,
                           "missing": missing, "examples": [{"kind": "missing", "source_offset": 5,
                                                             "target_offset": -1, "detail": "seq 5"}]}]}]},
            "check_seconds": 20, "worker_starts": 2, "worker_final": "exit 0",
            "link_status": "ok profile=ocean link=up outages=1 | edge->hub packets=100 bytes=1000 delivered=99 "
                           "lost=1 queue_drops=0 outage_drops=0 overflow_drops=0 backlog_ms=0.0 | hub->edge "
                           "packets=50 bytes=500 delivered=50 lost=0 queue_drops=0 outage_drops=0",
            "unexpected": [], "setup_error": "", "interrupted": False}

    def test_counts_only_injected_faults(self):
        text = summary.render(self.report())
        self.assertIn("worker-kill          1       2.0    1", text)
        self.assertIn("link-cut             0       0.0    0  skipped: late", text)
        self.assertIn("missing 0, duplicated 0", text)
        self.assertIn("edge->hub         100 packets", text)
        self.assertTrue(text.endswith("verdict     PASSED"))

    def test_link_mode_shows_the_mode_and_restarts_per_role(self):
        r = self.report()
        r.update(mode="link", lag_role="hub", workers=[
            {"name": "hub", "starts": 3, "kills": 2, "final": "SIGTERM drain took 0.3s, exit status 0",
             "link": {"state": "up", "rtt_ms": None, "bytes_in": 2_000_000, "bytes_out": 1_900_000, "sessions": 2}},
            {"name": "edge", "starts": 4, "kills": 3, "final": "SIGTERM drain took 0.2s, exit status 0",
             "link": {"state": "up", "rtt_ms": 612.4, "bytes_in": 3_000_000, "bytes_out": 2_000_000,
                      "compression_ratio": 1.5, "reconnects": 7}}],
            worker_lag_peak_records=100, worker_lag_peak_s=3.0, edge_lag_peak_records=900, edge_lag_peak_s=40.0)
        del r["worker_starts"], r["worker_final"]
        text = summary.render(r)
        self.assertIn("mode link", text)
        self.assertIn("hub         started 3 times (2 after kill -9); at the end: SIGTERM drain took 0.3s", text)
        self.assertIn("edge        started 4 times (3 after kill -9)", text)
        self.assertIn("edge (since its last start): up, rtt 612 ms, 7 reconnects", text)
        self.assertIn("hub-reported (/api/v1/status, of records that crossed the link): peak 100 records", text)
        self.assertIn("edge-reported (source end offsets vs. commits the hub acknowledged): peak 900 records, 40.0 s",
                      text)
        self.assertIn("edge->hub         100 packets", text)

    def test_a_loss_is_shown_with_its_partition_and_examples(self):
        text = summary.render(self.report(passed=False, missing=3))
        self.assertIn("soak[2]: expected 7500, found 7497, missing 3", text)
        self.assertIn("missing: source offset 5", text)
        self.assertTrue(text.endswith("verdict     FAILED"))


if __name__ == "__main__":
    unittest.main()
