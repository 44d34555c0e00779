#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""--watch end to end (issue 10): the listing, then every change to it, with no gap and no
duplicate at the seam, against the kernel's own truth (ss on the same namespace).

The seam test runs a churn across sstrace's start, so that TIME-WAIT entries happen before
the programs are attached, while the listing runs and after it. With tcp_tw_reuse off and
client-side closes only, no TIME-WAIT tuple is entered twice within the test's seconds, so
the kernel's set of timewait sockets at the end (none has expired: TIME-WAIT lasts 60 s) is
exactly every entry since the namespace was made: the listing part and the stream part must
split it between them, each tuple once.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from e2e_support import (HERE, SSTRACE, Netns, Tracer, main, need_root, proc_comm, rows,
                         split_endpoint, summary)

CHURN = os.environ.get("CHURN_BIN", os.path.join(HERE, "..", "..", "build", "tests", "e2e", "churn"))


def tuple_of(tokens):
    la, lp = split_endpoint(tokens[-2])
    pa, pp = split_endpoint(tokens[-1])
    return (la, lp, pa, pp)


def ss_tuples(ns, *args):
    out = ns.run("ss", "-Htn", *args, check=True).stdout
    return [tuple_of(l.split()) for l in out.splitlines() if l.strip()]


def table_line(stderr):
    """{state name: count} of `sstrace: live table: N TCP sockets: ESTAB 2, TIME-WAIT 5`."""
    for line in stderr.splitlines():
        if line.startswith("sstrace: live table: "):
            _, _, per_state = line.partition(" TCP sockets")
            out = {}
            for part in per_state.lstrip(": ").split(", "):
                if part:
                    name, n = part.rsplit(" ", 1)
                    out[name] = int(n)
            return out
    raise AssertionError("no live table line in %r" % stderr[-2000:])


class WatchTest(unittest.TestCase):
    def setUp(self):
        need_root(self)

    def stop(self, t):
        t.stop(signal.SIGINT, settle=0.5)
        self.assertIsNone(proc_comm(t.pid), "sstrace pid %d still there" % t.pid)
        self.assertEqual(t.rc, 0, t.stderr[-2000:])

    def test_time_wait_watch_splits_every_entry_between_listing_and_stream(self):
        if not os.access(CHURN, os.X_OK):
            self.fail("churn not built: %s" % CHURN)
        with Netns("sstrace-watch") as ns:
            ns.sysctl("net.ipv4.ip_local_port_range", "20000 65535")
            ns.sysctl("net.ipv4.tcp_tw_reuse", 0)
            churn = subprocess.Popen(
                ns.cmd(CHURN, "--seconds", "5", "--threads", "4", "--servers", "2", "--mode",
                       "client-close", "--family", "46", "--port", "9100", "--ports", "4",
                       "--max-conns", "60000"),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                time.sleep(1.0)  # entries before sstrace starts
                t = Tracer(ns.cmd(SSTRACE, "-v", "-H", "-n", "-E", "--watch", "state", "time-wait"))
                out, _ = churn.communicate(timeout=60)  # entries during the listing and after
            finally:
                if churn.poll() is None:
                    churn.kill()
                    churn.wait()
            self.assertEqual(churn.returncode, 0, out)
            deadline = time.time() + 10
            while ns.run("ss", "-Htan", "exclude", "time-wait", check=True).stdout.strip():
                self.assertLess(time.time(), deadline, "sockets still open after the churn")
                time.sleep(0.1)
            self.stop(t)
            kernel = ss_tuples(ns, "-a", "state", "time-wait")
            tw_entries = ns.counter("TcpExtTW")
        listing, stream = [], []
        for r in rows(t.stdout):
            # the listing's rows (-t, one state) start with Recv-Q; the stream's with Netid
            (stream if r[0] == "tcp" else listing).append(tuple_of(r))
        seam = [l for l in t.stderr.splitlines() if "during the listing" in l or " lost" in l
                or l.startswith("sstrace: rings:")]
        seen, printed, lost = summary(t.stderr)
        report = ("listing %d, stream %d, kernel %d timewait sockets (%d entries); stream seen %d, "
                  "printed %d, lost %d\n%s%s") % (
            len(listing), len(stream), len(kernel), tw_entries, seen, printed, lost, out,
            "\n".join(seam))
        print(report, file=sys.stderr)
        # a loss is never silent: what the two parts miss is what the summary counts lost
        missed = set(kernel) - set(listing) - set(stream)
        self.assertEqual(lost, len(missed), "a silent loss: " + report)
        self.assertGreater(len(listing), 1000, "no churn before the start: " + report)
        self.assertGreater(len(stream), 1000, "no churn after the start: " + report)
        self.assertEqual(len(kernel), tw_entries, "a timewait socket ended early: " + report)
        self.assertEqual(len(set(listing)), len(listing), report)
        self.assertEqual(len(set(stream)), len(stream), report)
        self.assertEqual(set(listing) & set(stream), set(), "shown twice at the seam: " + report)
        self.assertEqual(set(listing) | set(stream), set(kernel), "missed at the seam: " + report)
        # the live table agrees with the kernel
        self.assertEqual(table_line(t.stderr), {"TIME-WAIT": len(kernel)}, report)

    def test_established_watch_with_transitions(self):
        """Connections open before the start are listed; one opened after enters; with
        --transitions, the ones closed after the start leave; the table ends as ss."""
        with Netns("sstrace-watch") as ns:
            holder = subprocess.Popen(ns.cmd(sys.executable, "-c", HOLDER), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            try:
                self.assertEqual(holder.stdout.readline().strip(), "ready")
                before = ss_tuples(ns, "state", "established")
                self.assertEqual(len(before), 6, before)  # 3 connections, both ends
                t = Tracer(ns.cmd(SSTRACE, "-v", "-H", "-n", "-E", "--watch", "--transitions",
                                  "state", "established"))
                holder.stdin.write("next\n")  # closes the first connection, opens a fourth
                holder.stdin.flush()
                self.assertEqual(holder.stdout.readline().strip(), "done")
                deadline = time.time() + 5
                while len(ss_tuples(ns, "state", "established")) != 6:
                    self.assertLess(time.time(), deadline)
                    time.sleep(0.05)
                time.sleep(0.3)
                self.stop(t)
                after = ss_tuples(ns, "state", "established")
            finally:
                holder.kill()
                holder.wait()
                holder.stdin.close()
                holder.stdout.close()
        lines = [l for l in t.stdout.splitlines() if l.strip()]
        listing = [tuple_of(l.split()) for l in lines if not l.startswith("tcp")]
        stream = [l.split() for l in lines if l.startswith("tcp")]
        self.assertEqual(sorted(listing), sorted(before), t.stdout)
        changes = sorted("%s %s %s" % (r[1], r[2], r[3]) for r in stream)
        # the closed connection's two ends leave ESTAB; the new one's two ends enter it
        self.assertEqual(changes, ["ESTAB -> CLOSE-WAIT", "ESTAB -> FIN-WAIT-1",
                                   "SYN-RECV -> ESTAB", "SYN-SENT -> ESTAB"], t.stdout)
        entered = {tuple_of(r) for r in stream if r[3] == "ESTAB"}
        left = {tuple_of(r) for r in stream if r[1] == "ESTAB"}
        self.assertEqual(set(before) - left | entered, set(after), t.stdout)
        self.assertEqual(table_line(t.stderr), {"ESTAB": len(after)}, t.stderr)

    def udp_watch(self, sstrace_args, ss_args):
        """Runs UDP_HOLDER across a `sstrace -E --watch` start; returns (tracer, ss before,
        ss after, the ports of the sockets closed or opened after the start, the listing's
        tuples, the stream's rows)."""
        with Netns("sstrace-watch") as ns:
            holder = subprocess.Popen(ns.cmd(sys.executable, "-c", UDP_HOLDER), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            try:
                self.assertEqual(holder.stdout.readline().strip(), "ready")
                before = ns.run("ss", "-Hn", *ss_args, check=True).stdout
                t = Tracer(ns.cmd(SSTRACE, "-v", "-n", "-E", "--watch", *sstrace_args))
                holder.stdin.write("next\n")
                holder.stdin.flush()
                ports = json.loads(holder.stdout.readline())
                time.sleep(0.3)
                self.stop(t)
                after = ns.run("ss", "-Hn", *ss_args, check=True).stdout
            finally:
                holder.kill()
                holder.wait()
                holder.stdin.close()
                holder.stdout.close()
        # the listing's header, its rows, then the stream's header (at its first row), its rows
        parts = [[]]
        for line in t.stdout.splitlines():
            if "Local Address:Port" in line:
                parts.append([])
            elif line.strip():
                parts[-1].append(line.split())
        self.assertEqual(len(parts), 3, t.stdout)
        before_rows = [l.split() for l in before.splitlines() if l.strip()]
        after_rows = [l.split() for l in after.splitlines() if l.strip()]
        return t, before_rows, after_rows, ports, [tuple_of(r) for r in parts[1]], parts[2]

    def check_udp_destroys(self, t, ports, stream):
        """Each UDP socket closed after the start is one destroy row (listed or not), and
        nothing else is in the stream."""
        destroyed = [int(tuple_of(r)[1]) for r in stream]
        self.assertEqual(sorted(destroyed), sorted([ports["b"], ports["c"], ports["d"]]), t.stdout)

    def test_udp_watch_lists_as_ss_then_each_destroy_once(self):
        """-E --watch -ua: the listing is ss -ua's; each UDP socket closed after the start is
        one destroy row; the table holds the listed ones not destroyed."""
        t, before, after, ports, listing, stream = self.udp_watch(["-ua"], ["-ua"])
        self.assertEqual(sorted(listing), sorted(tuple_of(r) for r in before), t.stdout)
        self.assertEqual(len(listing), 5, t.stdout)  # srv, a, b, c, six
        self.check_udp_destroys(t, ports, stream)
        # the table: the listed ones minus b and c; e, opened after the start, is not held
        self.assertIn("sstrace: live table: 3 UDP and raw sockets", t.stderr)
        self.assertEqual(len(after), 4, after)  # srv, a, six, e
        self.assertIn(ports["e"], [int(tuple_of(r)[1]) for r in after])

    def test_watch_capture_of_tcp_and_udp_reads_back_as_printed(self):
        """--watch --write (issue 11): each capture file starts with the watch's table, UDP
        sockets included; read back with --watch it prints what the live watch printed."""
        with tempfile.TemporaryDirectory(prefix="sstrace-watch-") as d:
            cap = os.path.join(d, "w.cap")
            t, _, _, ports, _, stream = self.udp_watch(["--write", cap, "--print"], ["-tu"])
            self.check_udp_destroys(t, ports, stream)
            back = subprocess.run([SSTRACE, "--read", cap, "--watch", "-n"], capture_output=True,
                                  text=True, timeout=60)
        self.assertEqual(back.returncode, 0, back.stderr)
        self.assertEqual(back.stdout, t.stdout)
        self.assertIn("udp   ESTAB", back.stdout)

    def test_default_watch_lists_tcp_and_udp_as_ss(self):
        """-E --watch alone covers TCP and UDP, as ss -E does: the listing is ss -tu's (connected
        sockets), the stream the destroys of both."""
        t, before, after, ports, listing, stream = self.udp_watch([], ["-tu"])
        self.assertEqual(sorted(listing), sorted(tuple_of(r) for r in before), t.stdout)
        netids = sorted(r[0] for r in before)
        self.assertEqual(netids, ["tcp", "tcp", "udp", "udp", "udp"], before)  # t, ts; a, b, six
        self.check_udp_destroys(t, ports, stream)
        self.assertIn("sstrace: live table: 2 UDP and raw sockets", t.stderr)  # a, six
        self.assertEqual(table_line(t.stderr), {"ESTAB": 2}, t.stderr)

    def test_all_netns_watch_lists_each_namespace_then_streams_all(self):
        """--all-netns: one listing per namespace under a `netns: NAME` heading (as ip -all
        netns exec prints them), each equal to ss in that namespace; then the changes of every
        namespace, with the namespace's name in the Netns column."""
        with Netns("sstrace-watch") as a, Netns("sstrace-watch") as b:
            holders = []
            try:
                for ns in (a, b):
                    h = subprocess.Popen(ns.cmd(sys.executable, "-c", HOLDER), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
                    holders.append(h)
                    self.assertEqual(h.stdout.readline().strip(), "ready")
                before = {ns.name: sorted(ss_tuples(ns, "state", "established")) for ns in (a, b)}
                # the filter keeps the other namespaces of the machine (a benchmark's 100k
                # sockets) from slowing the listing down
                t = Tracer(a.cmd(SSTRACE, "-v", "-H", "-n", "-E", "--watch", "--all-netns", "state",
                                 "established", "(", "sport", "=", ":9200", "or", "dport", "=",
                                 ":9200", ")"))
                holders[1].stdin.write("next\n")  # in b: one closed, a fourth opened
                holders[1].stdin.flush()
                self.assertEqual(holders[1].stdout.readline().strip(), "done")
                time.sleep(0.3)
                self.stop(t)
                after_b = sorted(ss_tuples(b, "state", "established"))
            finally:
                for h in holders:
                    h.kill()
                    h.wait()
                    h.stdin.close()
                    h.stdout.close()
        blocks, stream, current = {}, [], None
        for line in t.stdout.splitlines():
            if line.startswith("netns: "):
                current = line[len("netns: "):]
                blocks[current] = []
            elif line.strip() and line.split()[0] in (a.name, b.name) and line.split()[1] == "tcp":
                stream.append(line.split())
            elif line.strip() and current is not None and not stream:
                blocks[current].append(tuple_of(line.split()))
        for ns in (a, b):
            self.assertIn(ns.name, blocks, t.stdout)
            self.assertEqual(sorted(blocks[ns.name]), before[ns.name], t.stdout)
        # the stream: b's new connection (both ends); b's closed one left ESTAB (not shown
        # without --transitions); nothing from a
        self.assertEqual({r[0] for r in stream}, {b.name}, t.stdout)
        new = set(after_b) - set(before[b.name])
        self.assertEqual(len(new), 2, after_b)
        self.assertEqual({tuple_of(r) for r in stream}, new, t.stdout)


# UDP sockets (and one TCP connection) held open; on `next`: two listed ones closed (one
# connected, one not), one opened and closed, one opened and kept. Prints their ports.
UDP_HOLDER = r"""
import json, socket, sys
def udp(port=0, peer=None, af=socket.AF_INET, host="127.0.0.1"):
    u = socket.socket(af, socket.SOCK_DGRAM); u.bind((host, port))
    if peer:
        u.connect(peer)
    return u
srv = udp(9400)
a = udp(0, ("127.0.0.1", 9400))
b = udp(0, ("127.0.0.1", 9400))
c = udp(9401)
six = udp(9402, ("::1", 9400), socket.AF_INET6, "::1")
ls = socket.socket(); ls.bind(("127.0.0.1", 9403)); ls.listen(1)
t = socket.create_connection(("127.0.0.1", 9403)); ts, _ = ls.accept()
print("ready", flush=True)
sys.stdin.readline()
ports = {"b": b.getsockname()[1], "c": 9401}
b.close(); c.close()
d = udp(0, ("127.0.0.1", 9400)); ports["d"] = d.getsockname()[1]; d.close()
e = udp(0, ("127.0.0.1", 9400)); ports["e"] = e.getsockname()[1]
print(json.dumps(ports), flush=True)
sys.stdin.readline()
"""


# Three connections held open; on `next`: the first closed (client first), a fourth opened.
HOLDER = r"""
import socket, sys
ls = socket.socket(); ls.bind(("127.0.0.1", 9200)); ls.listen(8)
conns = []
for _ in range(3):
    c = socket.create_connection(("127.0.0.1", 9200)); s, _ = ls.accept(); conns.append((c, s))
print("ready", flush=True)
sys.stdin.readline()
conns[0][0].close()
c = socket.create_connection(("127.0.0.1", 9200)); s, _ = ls.accept(); conns.append((c, s))
print("done", flush=True)
sys.stdin.readline()
"""


if __name__ == "__main__":
    main([WatchTest])
