#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""End-to-end tests of `sstrace --metrics` against the running kernel.

sstrace runs inside a private network namespace (named sst-met-N) and serves /metrics on its
loopback; a churn there makes a known number of connections per service port enter TIME-WAIT
and be reset. The scrape is compared with the namespace's own counters (nstat: TcpExtTW,
TcpEstabResets, TcpActiveOpens + TcpPassiveOpens) and with what the churn did per port. The
text format is checked by `promtool check metrics` (Debian's prometheus package), OpenMetrics
by the strict parser below (promtool 2.42 reads the text format only). sstrace is stopped by
its own pid, and must exit 0.
"""
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from e2e_support import HERE, SSTRACE, Netns, Tracer, main, need_root, tuples

CHURN = os.path.join(HERE, "metrics_churn.py")
OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# run in the namespace: one GET, the status, the Content-Type and the body
SCRAPE = r"""
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Accept": sys.argv[2]} if sys.argv[2] else {})
with urllib.request.urlopen(req, timeout=5) as r:
    sys.stdout.write("%d\n%s\n" % (r.status, r.headers["Content-Type"]))
    sys.stdout.write(r.read().decode())
"""


# ss's state names (what the held connections and a churn leave) as the metrics label them
SS_STATES = {"ESTAB": "established", "LISTEN": "listening", "TIME-WAIT": "time-wait"}

HOLD = """
import socket, sys
port, pairs = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(); s.bind(('127.0.0.1', port)); s.listen()
keep = []
for _ in range(pairs):
    c = socket.create_connection(('127.0.0.1', port)); a, _ = s.accept()
    keep += [c, a]
print('ready', flush=True); sys.stdin.readline()
"""


def hold_connections(ns, port, pairs):
    """A listener on PORT and PAIRS connections to it, held in NS until a line on stdin."""
    return subprocess.Popen(ns.cmd(sys.executable, "-c", HOLD, str(port), str(pairs)),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


class MetNetns(Netns):
    """A namespace with one of the names these tests may use (sst-met-1 ... sst-met-9)."""

    def __init__(self, n):
        super().__init__()
        self.name = "sst-met-%d" % n

    def scrape(self, port, accept=""):
        r = self.run(sys.executable, "-c", SCRAPE, "http://127.0.0.1:%d/metrics" % port, accept,
                     check=True)
        status, ctype, body = r.stdout.split("\n", 2)
        return int(status), ctype, body

    def churn(self, settle, *specs):
        return self.run(sys.executable, CHURN, str(settle), *specs, check=True).stdout


# ---- a strict reader of both formats ----

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)\})? (\S+)$" % (NAME, LABEL, LABEL))
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPES = {"counter", "gauge", "histogram"}


def parse_exposition(body, openmetrics):
    """{(name, frozenset(labels.items())): value}; raises AssertionError on anything the format
    does not allow: samples outside their family, families given twice, a counter sample without
    _total (OpenMetrics), non-cumulative histogram buckets, a missing +Inf, a missing # EOF."""
    lines = body.split("\n")
    assert lines[-1] == "", "the exposition must end with a newline"
    lines = lines[:-1]
    if openmetrics:
        assert lines and lines[-1] == "# EOF", "OpenMetrics ends with # EOF"
        lines = lines[:-1]
    else:
        assert "# EOF" not in lines
    samples = {}
    families = {}
    current = None
    for line in lines:
        if line.startswith("# "):
            kind, name, rest = (line[2:].split(" ", 2) + [""])[:3]
            assert kind in ("HELP", "TYPE"), line
            if kind == "TYPE":
                assert rest in TYPES, line
                assert name not in families, "family %s given twice" % name
                families[name] = rest
                current = name
            else:
                assert name == current or name not in families, line
            continue
        m = SAMPLE_RE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        assert current is not None, "sample before any TYPE: " + line
        kind = families[current]
        if kind == "counter":
            want = current + "_total" if openmetrics else current
            assert name == want, "counter sample %s in family %s" % (name, current)
            if not openmetrics:
                assert name.endswith("_total"), name
        elif kind == "histogram":
            assert name in (current + "_bucket", current + "_sum", current + "_count"), line
        else:
            assert name == current, line
        parsed = dict(LABEL_RE.findall(labels))
        v = float(value)
        assert not math.isnan(v), line
        key = (name, frozenset(parsed.items()))
        assert key not in samples, "sample given twice: " + line
        samples[key] = v
    # histograms: cumulative buckets ending in +Inf == _count
    for fam, kind in families.items():
        if kind != "histogram":
            continue
        groups = {}
        for (name, labels), v in samples.items():
            if name == fam + "_bucket":
                d = dict(labels)
                le = d.pop("le")
                groups.setdefault(frozenset(d.items()), []).append((float(le), v))
        for rest, buckets in groups.items():
            buckets.sort()
            values = [v for _, v in buckets]
            assert values == sorted(values), "buckets not cumulative: %r" % buckets
            assert buckets[-1][0] == math.inf, "no +Inf bucket"
            assert samples[(fam + "_count", rest)] == values[-1]
    return samples


def value(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def port_values(samples, name):
    return {dict(l)["port"]: v for (n, l), v in samples.items() if n == name}


class MetricsTest(unittest.TestCase):
    def setUp(self):
        need_root(self)

    def check_promtool(self, body):
        if shutil.which("promtool") is None:
            if os.environ.get("CI") == "true":
                self.fail("promtool (Debian package prometheus) is missing")
            self.skipTest("promtool missing")
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout + r.stderr, "", "promtool's lint found problems")

    def test_counters_equal_the_kernels(self):
        """A churn against two service ports: scraped counters equal nstat's and the churn's."""
        busy, quiet = 8080, 61000  # 61000: above the ephemeral range, so only a listener
        #                            table can make it the service port (the lower port is
        #                            the client's)
        names = ("TcpExtTW", "TcpEstabResets", "TcpActiveOpens", "TcpPassiveOpens")
        with MetNetns(1) as ns:
            k0 = ns.counters(*names)
            t = Tracer(ns.cmd(SSTRACE, "--metrics", "127.0.0.1:9465", "-v"))
            ns.churn(1.5, "%d:30:4" % busy, "%d:5:3" % quiet)
            k1 = ns.counters(*names)
            # the scrapes are connections of this namespace too, counted under port 9465 (one
            # end of each enters TIME-WAIT). A first one, then a second after the next
            # snapshot, which has the first one closed.
            ns.scrape(9465)
            time.sleep(1.5)
            status, ctype, text = ns.scrape(9465)
            om_status, om_ctype, om = ns.scrape(9465, "application/openmetrics-text; "
                                                      "version=1.0.0,text/plain;q=0.5")
            t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertEqual(t.stdout, "")  # no -E: no rows
        self.assertEqual((status, ctype), (200, TEXT_TYPE))
        self.assertEqual((om_status, om_ctype), (200, OM_TYPE))
        self.check_promtool(text)
        d = {k: k1[k] - k0[k] for k in k0}
        self.assertEqual(d["TcpExtTW"], 35)
        for body, openmetrics in ((text, False), (om, True)):
            s = parse_exposition(body, openmetrics)
            tw = port_values(s, "sstrace_tcp_time_wait_entries_total")
            resets = port_values(s, "sstrace_tcp_resets_total")
            opens = port_values(s, "sstrace_tcp_opens_total")
            scrapes_tw = tw.pop("9465")
            scrapes_opens = opens.pop("9465")
            self.assertGreaterEqual(scrapes_tw, 1)  # the first scrape at least
            self.assertEqual(resets.pop("9465", 0), 0)
            self.assertEqual(tw, {str(busy): 30, str(quiet): 5, "other": 0})
            self.assertEqual(resets, {str(busy): 8, str(quiet): 6, "other": 0})
            self.assertEqual(opens, {str(busy): 68, str(quiet): 16, "other": 0})
            # the kernel's own counts of the churn
            self.assertEqual(sum(tw.values()), d["TcpExtTW"])
            self.assertEqual(sum(resets.values()), d["TcpEstabResets"])
            self.assertEqual(sum(opens.values()), d["TcpActiveOpens"] + d["TcpPassiveOpens"])
            self.assertEqual(value(s, "sstrace_tcp_state_entries_total", state="time-wait"),
                             d["TcpExtTW"] + scrapes_tw)
            self.assertEqual(value(s, "sstrace_tcp_state_entries_total", state="established"),
                             d["TcpActiveOpens"] + d["TcpPassiveOpens"] + scrapes_opens)
            # both ends of the 42 connections ended, and of each scrape that entered TIME-WAIT
            self.assertEqual(value(s, "sstrace_tcp_connection_lifetime_seconds_count"),
                             84 + 2 * scrapes_tw)
            self.assertEqual(value(s, "sstrace_events_lost_total", cause="ring_full"), 0)
            # no -E, but the live table of the gauges takes a record of every state change: at
            # least the TIME-WAIT entries' (each also has its ESTABLISHED and FIN-WAIT ones)
            self.assertGreaterEqual(value(s, "sstrace_events_seen_total"), 3 * d["TcpExtTW"])
            self.assertEqual(value(s, "sstrace_tcp_time_wait_overflows_total"), 0)

    def churn_and_scrape(self, n, port, args, *specs, sysctls=(), counters=()):
        """sstrace ARGS --metrics :PORT in namespace sst-met-N (with SYSCTLS set) during a churn,
        then one scrape after the next snapshot: (the stopped Tracer, the parsed text format,
        the namespace's COUNTERS' deltas over the churn)."""
        with MetNetns(n) as ns:
            for key, v in sysctls:
                ns.sysctl(key, v)
            k0 = ns.counters(*counters) if counters else {}
            t = Tracer(ns.cmd(SSTRACE, "-v", "--metrics", ":%d" % port, *args))
            ns.churn(1.2, *specs)
            k1 = ns.counters(*counters) if counters else {}
            time.sleep(1.5)
            _, _, text = ns.scrape(port)
            t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        return t, parse_exposition(text, openmetrics=False), {k: k1[k] - k0[k] for k in k0}

    def test_time_wait_overflows(self):
        """tcp_max_tw_buckets full: the connections that got no timewait socket are counted as
        the kernel counts them, and are no TIME-WAIT entry."""
        _, s, d = self.churn_and_scrape(6, 9470, [], "8087:8:0",
                                        sysctls=[("net.ipv4.tcp_max_tw_buckets", 3)],
                                        counters=("TcpExtTW", "TcpExtTCPTimeWaitOverflow"))
        self.assertEqual(d, {"TcpExtTW": 3, "TcpExtTCPTimeWaitOverflow": 5})
        self.assertEqual(value(s, "sstrace_tcp_time_wait_overflows_total"), 5)
        self.assertEqual(value(s, "sstrace_tcp_state_entries_total", state="time-wait"), 3)
        self.assertEqual(port_values(s, "sstrace_tcp_time_wait_entries_total"),
                         {"8087": 3, "other": 0})

    def test_stream_rows_and_counters_agree(self):
        """-E state time-wait with --metrics: the rows printed and the counter are the same."""
        t, s, _ = self.churn_and_scrape(2, 9466, ["-n", "-E", "state", "time-wait"],
                                     "8081:12:2", "8082:3:0")
        # the scrape's own connection enters TIME-WAIT (either end) after the snapshot
        rows = [r for r in tuples(t.stdout) if "9466" not in (r[1], r[3])]
        self.assertEqual(len(rows), 15, t.stdout)
        self.assertEqual(value(s, "sstrace_tcp_state_entries_total", state="time-wait"), 15)
        self.assertEqual(value(s, "sstrace_events_seen_total"), 15)
        tw = port_values(s, "sstrace_tcp_time_wait_entries_total")
        self.assertEqual(tw, {"8081": 12, "8082": 3, "other": 0})

    def test_filter_scopes_the_counters(self):
        """A FILTER expression runs before the counting: the other port's connections are not
        counted."""
        _, s, _ = self.churn_and_scrape(3, 9467, ["( dport = :8083 or sport = :8083 )"],
                                     "8083:4:1", "8084:6:2")
        self.assertEqual(port_values(s, "sstrace_tcp_time_wait_entries_total"),
                         {"8083": 4, "other": 0})
        self.assertEqual(port_values(s, "sstrace_tcp_resets_total"), {"8083": 2, "other": 0})

    def test_capture_and_counters_agree(self):
        """--write with --metrics: the capture read back holds the rows the counter counted."""
        cap = "/tmp/sstrace-metrics-test-%d.cap" % os.getpid()
        try:
            t, s, _ = self.churn_and_scrape(5, 9469, ["-n", "-E", "--write", cap, "state",
                                                   "time-wait", "( dport = :8085 or sport = :8085 )"],
                                         "8085:9:1", "8086:4:0")
            self.assertEqual(t.stdout, "")  # --write without --print: no rows on stdout
            r = subprocess.run([SSTRACE, "-n", "--read", cap], capture_output=True, text=True)
        finally:
            if os.path.exists(cap):
                os.unlink(cap)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(tuples(r.stdout)), 9, r.stdout)
        self.assertEqual(port_values(s, "sstrace_tcp_time_wait_entries_total"),
                         {"8085": 9, "other": 0})
        self.assertEqual(value(s, "sstrace_events_seen_total"), 9)

    def test_user_runs_the_endpoint_and_post_rotate_without_root(self):
        """--user nobody: once set up, every thread runs as nobody, the event loop with CAP_BPF
        and CAP_PERFMON only (it still reads the maps: the counters move), the HTTP thread and
        the --post-rotate command with no capability at all."""
        work = tempfile.mkdtemp(prefix="sstrace-user-")
        try:
            os.chown(work, 65534, 65534)
            hook = os.path.join(work, "hook.sh")
            with open(hook, "w") as f:
                # one line a run (runs may overlap): its uid and its effective capabilities
                f.write("#!/bin/sh\necho \"$(id -u) $(grep CapEff /proc/self/status)\" >> "
                        "%s/hook.log\n" % work)
            os.chmod(hook, 0o755)
            cap = os.path.join(work, "tw.cap")
            with MetNetns(8) as ns:
                t = Tracer(ns.cmd(SSTRACE, "-v", "-n", "--metrics", ":9472", "--user", "nobody",
                                  "-E", "--write", cap, "--rotate-size", "1k", "--post-rotate",
                                  hook, "state", "time-wait"))
                status = {}
                for task in os.listdir("/proc/%d/task" % t.pid):
                    with open("/proc/%d/task/%s/status" % (t.pid, task)) as f:
                        fields = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
                    status[task] = (fields["Uid"].split(), fields["CapEff"].strip())
                ns.churn(1.2, "8088:40:0")
                time.sleep(1.5)
                _, _, text = ns.scrape(9472)
                t.stop()
            self.assertEqual(t.rc, 0, t.stderr)
            self.assertIn("running as nobody (uid 65534, gid 65534)", t.stderr)
            self.assertTrue(all(uids == ["65534"] * 4 for uids, _ in status.values()), status)
            caps = {c for _, c in status.values()}
            # the event loop: CAP_BPF (39) and CAP_PERFMON (38); the HTTP thread: none
            self.assertEqual(status[str(t.pid)][1], "000000c000000000", status)
            self.assertIn("0000000000000000", caps, status)
            s = parse_exposition(text, openmetrics=False)
            self.assertEqual(port_values(s, "sstrace_tcp_time_wait_entries_total"),
                             {"8088": 40, "other": 0})
            with open(os.path.join(work, "hook.log")) as f:
                log = f.read().splitlines()
            self.assertGreater(len(log), 0, "no file was rotated")
            self.assertEqual(set(log), {"65534 CapEff:\t0000000000000000"}, log)
            back = subprocess.run([SSTRACE, "-n", "--read", cap], capture_output=True, text=True)
            self.assertEqual(back.returncode, 0, back.stderr)
            rows = [r for r in tuples(back.stdout) if "9472" not in (r[1], r[3])]
            self.assertEqual(len(rows), 40, back.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_gauges_equal_ss(self):
        """--metrics alone keeps a live table: the sockets per state now equal ss's, with held
        connections, a listener and the TIME-WAIT sockets of a churn (less the scrape's own
        connection, which closes after the snapshot it reads)."""
        with MetNetns(9) as ns:
            holder = hold_connections(ns, 8090, 4)
            try:
                self.assertEqual(holder.stdout.readline().strip(), "ready")
                t = Tracer(ns.cmd(SSTRACE, "-v", "--metrics", ":9474"))
                ns.churn(1.2, "8089:25:0")
                time.sleep(1.5)
                _, _, text = ns.scrape(9474)
                listed = ns.run("ss", "-Htan", check=True).stdout
                t.stop()
            finally:
                holder.communicate("\n", timeout=10)
        self.assertEqual(t.rc, 0, t.stderr)
        want = {}
        for line in listed.splitlines():
            f = line.split()
            if f[0] == "TIME-WAIT" and (f[3].endswith(":9474") or f[4].endswith(":9474")):
                continue  # the scrape's own connection
            state = SS_STATES.get(f[0], f[0])
            want[state] = want.get(state, 0) + 1
        s = parse_exposition(text, openmetrics=False)
        got = {dict(labels)["state"]: int(v) for (name, labels), v in s.items()
               if name == "sstrace_tcp_sockets" and v != 0}
        self.assertEqual(got, want, listed)
        self.assertEqual(want.get("established"), 8)
        self.assertEqual(want.get("time-wait"), 25)

    def test_bpf_stats_export_the_programs_run_time(self):
        """--bpf-stats: each program's runs and run time, from the kernel's BPF statistics; the
        state program ran at least once per transition the churn made."""
        t, s, d = self.churn_and_scrape(7, 9475, ["--bpf-stats"], "8091:20:5",
                                        counters=("TcpExtTW",))
        self.assertIn("BPF run-time statistics are on", t.stderr)
        runs = {dict(k)["program"]: v for (name, k), v in s.items()
                if name == "sstrace_bpf_program_runs_total"}
        seconds = {dict(k)["program"]: v for (name, k), v in s.items()
                   if name == "sstrace_bpf_program_run_seconds_total"}
        self.assertEqual(set(runs), set(seconds))
        # 25 connections: at least their two ESTABLISHED entries and two more each
        self.assertGreaterEqual(runs["sst_state"], 4 * 25, runs)
        self.assertGreater(seconds["sst_state"], 0)
        self.assertEqual(d["TcpExtTW"], 20)
        r = subprocess.run([SSTRACE, "--bpf-stats", "-E"], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr),
                         (255, "sstrace: --bpf-stats applies only to --metrics (the run time of "
                               "the BPF programs is exported there)\n"))

    def test_gauges_per_namespace_with_all_netns(self):
        """--all-netns: the live table is seeded by a listing of every namespace and tells them
        apart: each namespace's sockets now, labelled with its name, equal ss in it."""
        with MetNetns(6) as held, MetNetns(7) as churned:
            holder = hold_connections(held, 8092, 3)
            try:
                self.assertEqual(holder.stdout.readline().strip(), "ready")
                t = Tracer([SSTRACE, "-v", "--all-netns", "--metrics", "127.0.0.1:9476"])
                churned.churn(1.2, "8093:12:0")
                time.sleep(1.5)
                r = subprocess.run([sys.executable, "-c", SCRAPE,
                                    "http://127.0.0.1:9476/metrics", ""],
                                   capture_output=True, text=True, check=True)
                expect = {}
                for ns in (held, churned):
                    for line in ns.run("ss", "-Htan", check=True).stdout.splitlines():
                        state = SS_STATES.get(line.split()[0], line.split()[0])
                        key = (ns.name, state)
                        expect[key] = expect.get(key, 0) + 1
                t.stop()
            finally:
                holder.communicate("\n", timeout=10)
        self.assertEqual(t.rc, 0, t.stderr)
        s = parse_exposition(r.stdout.split("\n", 2)[2], openmetrics=False)
        got = {(dict(k)["netns"], dict(k)["state"]): int(v) for (name, k), v in s.items()
               if name == "sstrace_tcp_sockets" and v != 0
               and dict(k).get("netns") in (held.name, churned.name)}
        self.assertEqual(got, expect)
        self.assertEqual(expect[(held.name, "established")], 6)
        self.assertEqual(expect[(churned.name, "time-wait")], 12)

    def test_unknown_user_is_a_usage_error(self):
        r = subprocess.run([SSTRACE, "--metrics", ":9473", "--user", "no-such-user-sstrace"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual((r.returncode, r.stderr),
                         (255, "sstrace: --user: no such user 'no-such-user-sstrace'\n"))

    def test_address_in_use_fails_before_loading(self):
        """A port in use: one line naming the address, exit status 7, no BPF loaded."""
        with MetNetns(4) as ns:
            holder = subprocess.Popen(ns.cmd(sys.executable, "-c",
                                             "import socket,time\n"
                                             "s=socket.socket(); s.bind(('127.0.0.1', 9468)); "
                                             "s.listen(); print('ok', flush=True); time.sleep(30)"),
                                      stdout=subprocess.PIPE, text=True)
            try:
                self.assertEqual(holder.stdout.readline().strip(), "ok")
                r = ns.run(SSTRACE, "-v", "--metrics", "9468")
            finally:
                holder.kill()
                holder.wait()
                holder.stdout.close()
        self.assertEqual(r.returncode, 7, r.stderr)
        errors = [l for l in r.stderr.splitlines() if "127.0.0.1:9468" in l]
        self.assertEqual(len(errors), 1, r.stderr)
        self.assertIn("Address already in use", errors[0])
        self.assertNotIn("BPF programs loaded", r.stderr)

    def test_bad_endpoints_are_usage_errors(self):
        for bad in ("", "0", "65536", "host:80", "1.2.3:80", "::1:80", "[127.0.0.1]:80", "80x"):
            r = subprocess.run([SSTRACE, "--metrics", bad], capture_output=True, text=True)
            self.assertEqual(r.returncode, 255, (bad, r.stderr))
            self.assertIn("--metrics: expected [ADDR:]PORT", r.stderr.splitlines()[0], bad)


if __name__ == "__main__":
    main([MetricsTest])
