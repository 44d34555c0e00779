#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The ends of TIME-WAIT (issue 10), against the kernel's own truth.

No TCP tracepoint reports the end of a TIME-WAIT: sstrace follows the timewait timer
(timer_cancel, timer_expire_entry, timer_start). Three kinds of timewait sockets are made in a
private namespace with tcp_fin_timeout=3:
  - expiring: the client closes and the server never does: the client's timewait socket (in the
    FIN-WAIT-2 substate) expires after 3 s: an `expired` end, about 3 s long;
  - re-armed: the server closes 0.5 s after the client: its FIN re-arms the timer for a whole
    TIME-WAIT (60 s), which is NOT an end; `ss -K` kills them later: an `early` end;
  - plain: the server closes at once: a 60 s TIME-WAIT, killed by `ss -K`: an `early` end.
The kernel says which are still there before the kill (ss state time-wait): exactly the
re-armed and plain ones, so a re-arm reported as an end, or an expiry missed, fails the test.
"""
import json
import signal
import subprocess
import sys
import time
import unittest

from e2e_support import SSTRACE, Netns, Tracer, main, need_root, proc_comm, split_endpoint

MAKER = r"""
import json, socket, sys, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 9300)); srv.listen(64)
ports = {"expiring": [], "rearmed": [], "plain": []}
keep = []
for _ in range(3):
    c = socket.create_connection(("127.0.0.1", 9300)); a, _ = srv.accept()
    ports["expiring"].append(c.getsockname()[1]); keep.append(a); c.close()
later = []
for _ in range(2):
    c = socket.create_connection(("127.0.0.1", 9300)); a, _ = srv.accept()
    ports["rearmed"].append(c.getsockname()[1]); c.close(); later.append(a)
for _ in range(2):
    c = socket.create_connection(("127.0.0.1", 9300)); a, _ = srv.accept()
    ports["plain"].append(c.getsockname()[1]); c.close(); time.sleep(0.05); a.close()
time.sleep(0.5)
for a in later:
    a.close()
print(json.dumps(ports), flush=True)
sys.stdin.readline()
"""


def local_port(tokens):
    """The local port of a stream row (the tokens after the ports are details)."""
    for i, tok in enumerate(tokens):
        if tok.startswith("ended:") or tok.startswith("users:"):
            tokens = tokens[:i]
            break
    return int(split_endpoint(tokens[-2])[1])


class TimeWaitEndTest(unittest.TestCase):
    def setUp(self):
        need_root(self)

    def run_scenario(self, ns, argv, before_start=False):
        """Runs MAKER (before or after starting sstrace), waits for the expiries, kills the
        rest with ss -K; returns (tracer, ports, ss tuples left before the kill)."""
        ns.sysctl("net.ipv4.tcp_fin_timeout", 3)
        t = None if before_start else Tracer(ns.cmd(SSTRACE, *argv))
        maker = subprocess.Popen(ns.cmd(sys.executable, "-c", MAKER), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        self.maker_pid = maker.pid  # ip netns exec execs it
        try:
            ports = json.loads(maker.stdout.readline())
            if before_start:
                t = Tracer(ns.cmd(SSTRACE, *argv))
            time.sleep(4.5)  # the FIN-WAIT-2 substate ones expire after 3 s
            left = ns.run("ss", "-Htan", "state", "time-wait", check=True).stdout
            ns.run("ss", "-K", "-tan", "state", "time-wait", check=True)
            remaining = ns.run("ss", "-Htan", "state", "time-wait", check=True).stdout.strip()
            self.assertEqual(remaining, "", "ss -K left timewait sockets")
            t.stop(signal.SIGINT, settle=0.5)
            self.assertIsNone(proc_comm(t.pid), "sstrace pid %d still there" % t.pid)
            self.assertEqual(t.rc, 0, t.stderr[-2000:])
        finally:
            if t is not None and t.rc is None:
                t.stop(signal.SIGKILL, settle=0)
            maker.kill()
            maker.wait()
            maker.stdin.close()
            maker.stdout.close()
        left_ports = sorted(int(split_endpoint(l.split()[2])[1]) for l in left.splitlines() if l.strip())
        return t, ports, left_ports

    def check_ends(self, t, ports, left_ports, expect_expired=True):
        self.assertEqual(left_ports, sorted(ports["rearmed"] + ports["plain"]),
                         "the kernel's timewait sockets before the kill")
        ends = {}
        for line in t.stdout.splitlines():
            tok = line.split()
            if "(gone)" in tok:
                port = local_port(tok)
                self.assertNotIn(port, ends, "two ends for one timewait socket:\n" + t.stdout)
                detail = [x for x in tok if x.startswith("ended:(")]
                self.assertEqual(len(detail), 1, line)
                how, _, length = detail[0][len("ended:("):-1].partition(",")
                ends[port] = (how, float(length.rstrip("s")) if length else None)
        report = t.stdout + t.stderr
        if expect_expired:
            for p in ports["expiring"]:
                self.assertIn(p, ends, report)
                how, length = ends[p]
                self.assertEqual(how, "expired", report)
                self.assertIsNotNone(length, report)
                self.assertTrue(2.9 <= length <= 4.5, "a 3 s TIME-WAIT lasted %s\n%s" % (length, report))
        for p in ports["rearmed"] + ports["plain"]:
            self.assertIn(p, ends, report)
            how, length = ends[p]
            self.assertEqual(how, "early", report)
            if length is not None:
                self.assertGreater(length, 4.0, "killed before ss -K?\n" + report)
        expected = set(ports["rearmed"] + ports["plain"]) | (set(ports["expiring"]) if expect_expired else set())
        self.assertEqual(set(ends), expected, report)
        return ends

    def test_stream_with_transitions_shows_each_end_once(self):
        with Netns("sstrace-twend") as ns:
            t, ports, left = self.run_scenario(
                ns, ["-v", "-H", "-n", "-E", "--transitions", "state", "time-wait"])
        ends = self.check_ends(t, ports, left)
        # the stream saw them enter, so it knows how long each lasted
        self.assertTrue(all(length is not None for _, length in ends.values()), t.stdout)
        self.assertIn("sstrace: ends of TIME-WAIT: 3 expired, 4 ended early", t.stderr)
        # the seven entries, then nothing else
        entries = [l for l in t.stdout.splitlines() if "-> TIME-WAIT" in l]
        self.assertEqual(len(entries), 7, t.stdout)

    def test_ends_name_the_owner_of_their_entry(self):
        """-p: a timewait socket has no owner storage; its end row names the owner its entry
        row named (the process that held the full socket)."""
        with Netns("sstrace-twend") as ns:
            t, ports, left = self.run_scenario(
                ns, ["-v", "-H", "-n", "-E", "-p", "--transitions", "state", "time-wait"])
        self.check_ends(t, ports, left)
        entries, ends = {}, {}
        for line in t.stdout.splitlines():
            tok = line.split()
            users = [x for x in tok if x.startswith("users:")]
            if "-> TIME-WAIT" in line:
                entries[local_port(tok)] = users
            elif "(gone)" in tok:
                ends[local_port(tok)] = users
        every = ports["expiring"] + ports["rearmed"] + ports["plain"]
        self.assertEqual(sorted(entries), sorted(every), t.stdout)
        self.assertEqual(sorted(ends), sorted(every), t.stdout)
        for p in every:
            self.assertEqual(len(entries[p]), 1, t.stdout)
            self.assertIn(",pid=%d,fd=" % self.maker_pid, entries[p][0], t.stdout)
            self.assertEqual(ends[p], entries[p], t.stdout)

    def test_watch_follows_listed_timewait_sockets_to_their_end(self):
        """Timewait sockets made before the start are listed, then their ends are shown with
        their length (from the timer the dump showed), and the table ends empty."""
        with Netns("sstrace-twend") as ns:
            t, ports, left = self.run_scenario(
                ns, ["-v", "-H", "-n", "-E", "--watch", "--transitions", "state", "time-wait"],
                before_start=True)
        # ss lists a timewait socket in the FIN-WAIT-2 substate as FIN-WAIT-2: the expiring
        # ones are outside `state time-wait`, neither listed nor shown when they end
        listed = [l for l in t.stdout.splitlines() if l.strip() and not l.startswith("tcp")]
        listed_ports = sorted(int(split_endpoint(l.split()[2])[1]) for l in listed)
        self.assertEqual(listed_ports, sorted(ports["rearmed"] + ports["plain"]), t.stdout)
        ends = self.check_ends(t, ports, left, expect_expired=False)
        for p in ports["rearmed"] + ports["plain"]:
            self.assertIsNotNone(ends[p][1], t.stdout)
        self.assertIn("sstrace: live table: 0 TCP sockets", t.stderr)
        self.assertNotIn("left the table at their timer", t.stderr)


if __name__ == "__main__":
    main([TimeWaitEndTest])
