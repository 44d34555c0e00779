#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""End-to-end tests of -o -m -i -e on event rows, against the running kernel.

Destroy rows are compared with `ss -E -i` watching the same sockets (the kernel's own tcp_info
of each destroyed socket). State rows are compared with a listing (`ss -tnoemi`) of the same
socket held in the state just before the transition: a connection held ESTABLISHED and idle,
listed, then closed; its FIN-WAIT-1 row must show what the listing showed. Needs root.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

from e2e_support import HERE, SSTRACE, Netns, Tracer, main, need_root, summary

HELD = os.path.join(HERE, "held_conn.py")
ENDPOINT_RE = re.compile(r"^(\[[0-9a-f:.]*\]|[0-9.]+|\*):(\d+|\*)$")
TIMER_RE = re.compile(r"^timer:\((on|keepalive|timewait|persist),((\d+min)?(\d+(\.\d{3})?sec)?(\d+ms)?),(\d+)\)$")
SKMEM_RE = re.compile(r"^skmem:\(r(\d+),rb(\d+),t(\d+),tb(\d+),f(\d+),w(\d+),o(\d+),bl(\d+),d(\d+)\)$")
# items of an ss -i line that are followed by their value as a separate word
SPACED = ("send", "pacing_rate", "delivery_rate")
# tcp_info items that count time up to the moment the kernel fills the structure: ss -E gets it
# when the socket is freed (a workqueue, later than the destroy tracepoint), a listing when it
# runs; they are checked for presence and form, not value
CLOCKED = {"lastsnd", "lastrcv", "lastack", "busy", "rwnd_limited", "sndbuf_limited"}


def records(output):
    """[(endpoints, main words, {item: value})] for each row; a row's `\\n\\t` details line is
    merged into it."""
    out = []
    for line in output.splitlines():
        if not line.strip() or "Local Address:Port" in line:
            continue
        if line.startswith("\t"):
            out[-1][1].extend(line.split())
            continue
        out.append(([], line.split()))
    result = []
    for _, words in out:
        eps = [w for w in words if ENDPOINT_RE.match(w)][:2]
        items = {}
        i = len(eps) and words.index(eps[1]) + 1
        rest = words[i:]
        j = 0
        while j < len(rest):
            w = rest[j]
            if w in SPACED and j + 1 < len(rest):
                items[w] = rest[j + 1]
                j += 2
                continue
            key, sep, value = w.partition(":")
            items[key] = value if sep else True
            j += 1
        result.append((tuple(eps), words, items))
    return result


def by_endpoints(output):
    got = {}
    for eps, _, items in records(output):
        assert eps not in got, "two rows for %r" % (eps,)
        got[eps] = items
    return got


def ep(addr_port):
    host, port = addr_port
    return "%s:%d" % ("[%s]" % host if ":" in host else host, port)


def timer_ms(text):
    """ss's timer expiry text (`1min39sec`, `9.388sec`, `716ms`) in ms."""
    if re.fullmatch(r"\d+\.\d{3}ms", text):
        text = text[:-2] + "sec"  # iproute2 6.1's spelling of 9.388sec
    m = re.fullmatch(r"(?:(\d+)min)?(?:(\d+)(?:\.(\d{3}))?sec)?(?:(\d+)ms)?", text)
    assert m, text
    mins, secs, frac, ms = (int(x) if x else 0 for x in m.groups())
    return ((mins * 60 + secs) * 1000) + frac + ms


CHURN = r"""
import socket, sys
host = sys.argv[1]; port = int(sys.argv[2]); n = int(sys.argv[3])
af = socket.AF_INET6 if ":" in host else socket.AF_INET
ls = socket.socket(af); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port)); ls.listen(16)
for i in range(n):
    c = socket.create_connection((host, port)); s, _ = ls.accept()
    c.sendall(b"q" * (1000 + 997 * i))
    want = 1000 + 997 * i
    while want: want -= len(s.recv(65536))
    s.sendall(b"r" * (100 + 31 * i)); want = 100 + 31 * i
    while want: want -= len(c.recv(65536))
    if i % 2: c.close(); s.recv(1); s.close()
    else: s.close(); c.recv(1); c.close()
ls.close()
"""


# A TIME-WAIT in each substate: `plain` shuts its sending side, gets the server's FIN in
# FIN-WAIT-2 (a timewait socket in TIME-WAIT: 60 s), then closes; `orphan` closes while the
# server keeps its end open (a timewait socket in the FIN-WAIT-2 substate: tcp_fin_timeout).
# Prints the two client ports and the CLOCK_MONOTONIC time of each hand-over, then waits.
TW_MAKER = r"""
import json, socket, sys, time
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 7340)); ls.listen(4)
out = {}
c = socket.create_connection(("127.0.0.1", 7340)); s, _ = ls.accept()
c.shutdown(socket.SHUT_WR); assert s.recv(1) == b""
s.close(); assert c.recv(1) == b""
out["plain"] = [c.getsockname()[1], time.monotonic()]
c.close()
c = socket.create_connection(("127.0.0.1", 7340)); keep, _ = ls.accept()
port = c.getsockname()[1]; c.close()
out["orphan"] = [port, time.monotonic()]
print(json.dumps(out), flush=True)
sys.stdin.readline()
"""


class DetailsTest(unittest.TestCase):
    def setUp(self):
        need_root(self)

    def test_destroy_info_equals_ss_events(self):
        """-i on destroy rows: every tcp_info item ss -E -i prints, with the same value."""
        with Netns("sstrace-det") as ns:
            ss = Tracer(ns.cmd("stdbuf", "-oL", "ss", "-E", "-tni"), ready_marker=None)
            t = Tracer(ns.cmd(SSTRACE, "-v", "-E", "-tni"))
            time.sleep(0.3)  # ss has no readiness signal
            ns.run(sys.executable, "-c", CHURN, "127.0.0.1", "7300", "6", check=True)
            ns.run(sys.executable, "-c", CHURN, "::1", "7301", "5", check=True)
            t.stop(settle=0.5)
            ss.stop(signal.SIGTERM, settle=0)
        self.assertEqual(t.rc, 0, t.stderr)
        mine, theirs = by_endpoints(t.stdout), by_endpoints(ss.stdout)
        self.assertEqual(len(theirs), 2 * 11 + 2, ss.stdout)  # both ends, and two listeners
        self.assertEqual(sorted(mine), sorted(theirs))
        compared = 0
        for eps, want in theirs.items():
            have = mine[eps]
            for key, value in want.items():
                if key in CLOCKED:
                    # 0 (not printed) when sstrace read it, a few ms later when ss -E got it
                    if key in have:
                        self.assertRegex(have[key], r"^\d+(ms)?$", (eps, key, have))
                    continue
                self.assertIn(key, have, (eps, key, t.stdout))
                self.assertEqual(have[key], value, (eps, key, have, want))
                compared += 1
            extra = set(have) - set(want) - {"lifetime"} - CLOCKED
            self.assertEqual(extra, set(), (eps, have, want))
        self.assertGreater(compared, 24 * 15)
        # every socket was born after the stream started (listeners too): each row has one
        for eps, have in mine.items():
            self.assertRegex(have.get("lifetime", ""), r"^\d+(\.\d{1,3})?ms$", (eps, have))
        self.assertEqual(summary(t.stderr)[2], 0)

    def test_state_row_shows_what_a_listing_showed(self):
        """-o -e -m -i on a FIN-WAIT-1 row equal a listing of the same socket just before."""
        with Netns("sstrace-det") as ns:
            t = Tracer(ns.cmd(SSTRACE, "-v", "-E", "-tnoemi", "state", "fin-wait-1"))
            held = subprocess.Popen(ns.cmd(sys.executable, HELD, "4", "7310"), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
            try:
                conn = json.loads(held.stdout.readline())
                client = (ep(conn["client"]), ep(conn["server"]))
                listing = ns.run("ss", "-tnoemi", "state", "established", check=True).stdout
                listed_at = time.monotonic()
                held.stdin.write("close\n")
                held.stdin.flush()
                done = json.loads(held.stdout.readline())
                closed_at = time.monotonic()
                held.wait(timeout=10)
            finally:
                if held.poll() is None:
                    held.kill()
                    held.wait()
            t.stop(settle=0.5)
        self.assertEqual(t.rc, 0, t.stderr)
        listed = by_endpoints(listing)[client]
        rows = by_endpoints(t.stdout)
        self.assertEqual(list(rows), [client], t.stdout)  # the server never enters FIN-WAIT-1
        row = rows[client]
        # close() shut both directions just before the FIN-WAIT-1 entry: `---` where the
        # listing showed `<->`; cgroup: and the congestion control's own details (bbr:(...),
        # dctcp:(...), from INET_DIAG_*INFO) are not read for event rows
        self.assertIn("---", row)
        self.assertEqual(set(row) - {"lifetime", "---"}, set(listed) - {"cgroup", "<->"},
                         (row, listed))
        for key, value in listed.items():
            if key in CLOCKED or key in ("timer", "cgroup", "<->"):
                continue
            if isinstance(value, str) and value.startswith("(") and key in ("bbr", "dctcp"):
                self.assertIs(row[key], True)  # the congestion control's name
                continue
            self.assertEqual(row[key], value, (key, row, listed))
        # the keepalive timer, counted down by the time between the listing and the close
        kind, left, n = row["timer"][1:-1].split(",")
        lkind, lleft, ln = listed["timer"][1:-1].split(",")
        self.assertEqual((kind, n), (lkind, ln))
        elapsed_ms = (closed_at - listed_at) * 1000
        self.assertLessEqual(timer_ms(left), timer_ms(lleft) + 10)
        self.assertGreaterEqual(timer_ms(left), timer_ms(lleft) - elapsed_ms - 10)
        life_ms = float(row["lifetime"][:-2])
        self.assertGreaterEqual(life_ms, done["held_s"] * 1000 - 50)
        self.assertLess(life_ms, done["held_s"] * 1000 + 1000)

    def test_time_wait_row_shows_the_timewait_timer_as_ss(self):
        """-o on TIME-WAIT entry rows: timer:(timewait,...) as ss -tano shows the timewait
        socket just after, in both substates (FIN-WAIT-2: tcp_fin_timeout, not 60 s)."""
        with Netns("sstrace-det") as ns:
            ns.sysctl("net.ipv4.tcp_fin_timeout", 7)
            t = Tracer(ns.cmd(SSTRACE, "-v", "-E", "-tno", "state", "time-wait"))
            maker = subprocess.Popen(ns.cmd(sys.executable, "-c", TW_MAKER), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
            try:
                made = json.loads(maker.stdout.readline())
                listing = ns.run("ss", "-tano", "state", "time-wait", "state", "fin-wait-2",
                                 check=True).stdout
                listed_at = time.monotonic()
                t.stop(settle=0.5)
            finally:
                maker.kill()
                maker.wait()
                maker.stdin.close()
                maker.stdout.close()
        self.assertEqual(t.rc, 0, t.stderr)
        rows = {int(eps[0].rpartition(":")[2]): items for eps, _, items in records(t.stdout)}
        listed = {int(eps[0].rpartition(":")[2]): (words, items)
                  for eps, words, items in records(listing)}
        report = "rows:\n%s\nss:\n%s" % (t.stdout, listing)
        self.assertEqual(len(rows), 2, report)  # the server's end closed second: no TIME-WAIT
        for name, want_state, want_ms in (("plain", "TIME-WAIT", 60000),
                                          ("orphan", "FIN-WAIT-2", 7000)):
            port, handed_over = made[name]
            self.assertIn(port, rows, report)
            self.assertIn(port, listed, report)
            words, ss_items = listed[port]
            self.assertEqual(words[0], want_state, report)
            kind, left, n = rows[port]["timer"][1:-1].split(",")
            ss_kind, ss_left, ss_n = ss_items["timer"][1:-1].split(",")
            self.assertEqual((kind, n), ("timewait", "0"), report)
            self.assertEqual((ss_kind, ss_n), ("timewait", "0"), report)
            row_ms, ss_ms = timer_ms(left), timer_ms(ss_left)
            # armed at the hand-over for its whole length
            self.assertLessEqual(row_ms, want_ms, report)
            self.assertGreater(row_ms, want_ms - 1000, report)
            # the same timer as ss read later: counted down by the time between the two (ss
            # drops the ms of a timer of 10 s and more)
            elapsed_ms = (listed_at - handed_over) * 1000
            truncated = 1000 if ss_ms >= 10000 else 0
            self.assertGreaterEqual(row_ms - ss_ms, -10, (name, report))
            self.assertLessEqual(row_ms - ss_ms, elapsed_ms + truncated + 10, (name, report))

    def test_timer_and_skmem_parse_as_ss_prints_them(self):
        """Every state row of a churn has ss's timer:(...) and skmem:(...) forms."""
        with Netns("sstrace-det") as ns:
            t = Tracer(ns.cmd(SSTRACE, "-v", "-E", "-tnom", "state", "all"))
            ns.run(sys.executable, "-c", CHURN, "127.0.0.1", "7320", "4", check=True)
            t.stop(settle=0.5)
        self.assertEqual(t.rc, 0, t.stderr)
        recs = records(t.stdout)
        self.assertGreater(len(recs), 4 * 8, t.stdout)
        timers = 0
        for eps, words, items in recs:
            skmem = [w for w in words if w.startswith("skmem:")]
            self.assertEqual(len(skmem), 1, words)
            self.assertRegex(skmem[0], SKMEM_RE, words)
            for w in words:
                if w.startswith("timer:"):
                    self.assertRegex(w, TIMER_RE)
                    timers += 1
        # SYN-SENT rows have the SYN's retransmit timer armed; TIME-WAIT rows, closing sockets...
        self.assertGreater(timers, 0, t.stdout)

    def test_plain_stream_records_carry_no_details(self):
        """Without -o -m -i the rows are the plain ones, with no details line."""
        with Netns("sstrace-det") as ns:
            t = Tracer(ns.cmd(SSTRACE, "-v", "-E", "-tn"))
            ns.run(sys.executable, "-c", CHURN, "127.0.0.1", "7330", "2", check=True)
            t.stop(settle=0.5)
        self.assertEqual(t.rc, 0, t.stderr)
        self.assertEqual(len(records(t.stdout)), 2 * 2 + 1, t.stdout)
        self.assertNotIn("\t", t.stdout)
        self.assertNotIn("lifetime:", t.stdout)


if __name__ == "__main__":
    main([DetailsTest])
