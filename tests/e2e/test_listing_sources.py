#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The listing's two sources through the real binary (issue 13): the BPF iterators and
sock_diag give ss's bytes on the same sockets, a walk cut short by a closed pipe or a signal
leaves no BPF program behind, and a bad SSTRACE_LISTING_SOURCE is one line with exit 255.

The golden harness (tests/dump/compare_ss.py --source iter) compares every listing option; this
file covers what it does not: sockets enough for the automatic choice, reading stopped half way,
and the programs' lifetime."""
import os
import signal
import subprocess
import time
import unittest

from e2e_support import SSTRACE, Netns, main, need_root

# Holds N loopback TCP sockets of both families (listeners and established pairs) until stdin
# closes; prints READY once they exist.
HOLDER = r'''
import resource, socket, sys
n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
keep = []
fams = ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1"))
for i in range(n // 3):
    fam, addr = fams[i % 2]
    l = socket.socket(fam); l.bind((addr, 0)); l.listen(8); keep.append(l)
    c = socket.socket(fam); c.connect(l.getsockname()[:2]); keep += [c, l.accept()[0]]
print("READY", flush=True)
sys.stdin.read()
'''


# Listeners on a few ports of both families, clients of each (half of them to port 443), and
# TIME-WAIT sockets of the 443 clients closed first; prints READY once they exist.
PORTS_HOLDER = r'''
import socket, sys, time
n = int(sys.argv[1])
keep, closed = [], []
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    for port in (443, 999, 1000, 1001, 8080):
        l = socket.socket(fam); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind((addr, port)); l.listen(512); keep.append(l)
        for i in range(n if port == 443 else n // 4):
            c = socket.socket(fam); c.connect((addr, port)); a = l.accept()[0]
            if port == 443 and i % 5 == 0:
                c.close(); a.close()  # the client closed first: TIME-WAIT
            else:
                keep += [c, a]
time.sleep(0.2)
print("READY", flush=True)
sys.stdin.read()
'''


def iter_prog_ids():
    """IDs of the loaded iterator programs (sst_iter_*)."""
    r = subprocess.run(["bpftool", "prog", "show"], capture_output=True, text=True, check=True)
    return {line.split(":")[0] for line in r.stdout.splitlines() if " name sst_iter_" in line}


class ListingSourcesTest(unittest.TestCase):
    def held(self, ns, n):
        holder = subprocess.Popen(ns.cmd("python3", "-c", HOLDER, str(n)), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.stdout.close)
        self.addCleanup(holder.stdin.close)
        self.assertEqual(holder.stdout.readline().strip(), "READY")

    def test_automatic_choice_takes_the_iterator_and_prints_ss_bytes(self):
        need_root(self)
        before = iter_prog_ids()
        with Netns() as ns:
            self.held(ns, 3000)  # above the 2000 sockets of the automatic choice
            env = dict(os.environ)
            env.pop("SSTRACE_LISTING_SOURCE", None)
            env.pop("COLUMNS", None)
            for args in (["-tan"], ["-tanp"], ["-ta", "-6"], ["-tn", "state", "listening"]):
                for attempt in range(3):
                    ref = ns.run("ss", *args, env=env)
                    got = ns.run(SSTRACE, "-v", *args, env=env)
                    if ref.stdout == got.stdout:
                        break
                    time.sleep(0.5)
                self.assertEqual(got.returncode, 0, got.stderr)
                self.assertEqual(ref.stdout, got.stdout, args)
                self.assertIn("the TCP table from the BPF iterator (iter/tcp)", got.stderr)
                if "-tanp" in args:
                    # the rule's other threshold: open files of the whole system
                    with open("/proc/sys/fs/file-nr") as f:
                        files = int(f.read().split()[0])
                    self.assertIn("owners from the BPF iterator (iter/task_file)" if files >= 1500
                                  else "owners from /proc/PID/fd", got.stderr)
        self.assertEqual(iter_prog_ids() - before, set())

    def test_stopped_walks_leave_no_program(self):
        need_root(self)
        before = iter_prog_ids()
        with Netns() as ns:
            self.held(ns, 12000)  # below the usual 20000 open files
            env = dict(os.environ, SSTRACE_LISTING_SOURCE="iter")
            # a closed pipe after the first rows: the walk ends, quietly, as ss's does
            r = subprocess.run(" ".join(ns.cmd(SSTRACE, "-tan")) + " | head -3", shell=True,
                               capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(len(r.stdout.splitlines()), 3)
            self.assertEqual(r.stderr, "")
            # a signal during the walk: sstrace's own pid, which must exit
            p = subprocess.Popen(ns.cmd(SSTRACE, "-tanp"), stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=env)
            p.stdout.read(4096)  # the walk is under way
            os.kill(p.pid, signal.SIGTERM)
            p.stdout.close()
            p.wait(timeout=30)
            self.assertIsNotNone(p.returncode)
        self.assertEqual(iter_prog_ids() - before, set())

    def test_prefiltered_listings_equal_ss(self):
        """The iterator checks the filter program's port ranges (filter::port_prefilter()) before
        its interpreter: where they apply and where they must not, the rows are ss's."""
        need_root(self)
        # (arguments, the prefilter -vv must report)
        cases = [
            (["-tan", "dport = :443"], "dport 443"),
            (["-tan", "-4", "dport = :443"], "dport 443"),
            (["-tan", "-6", "dport = :443"], "dport 443"),
            (["-tan", "sport = :443"], "sport 443"),
            (["-tan", "dport > :1000"], "dport 1001-65535"),
            (["-tan", "-6", "dport >= :999 and dport <= :1000"], "dport 999-1000"),
            (["-tan", "sport = :443 or sport = :1000"], "sport 443-1000"),
            (["-tan", "dport = :443 and dst [::1]"], "dport 443"),
            (["-tan", "dst 127.0.0.1:8080"], "dport 8080"),
            (["-tan", "state", "time-wait", "dport = :443"], "dport 443"),
            (["-tan", "dport = :443 or sport = :443"], "none"),
            (["-tan", "-4", "dport = :443 or src 127.0.0.1"], "none"),
            (["-tan", "not dport = :443"], "none"),
            (["-tan", "dport != :443"], "none"),
        ]
        with Netns() as ns:
            holder = subprocess.Popen(ns.cmd("python3", "-c", PORTS_HOLDER, "100"),
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.addCleanup(holder.wait)
            self.addCleanup(holder.stdout.close)
            self.addCleanup(holder.stdin.close)
            self.assertEqual(holder.stdout.readline().strip(), "READY")
            env = dict(os.environ, SSTRACE_LISTING_SOURCE="iter")
            env.pop("COLUMNS", None)
            for args, ranges in cases:
                ref = ns.run("ss", *args, env=env)
                got = ns.run(SSTRACE, "-vv", *args, env=env)
                self.assertEqual(got.returncode, 0, got.stderr)
                self.assertEqual(ref.stdout, got.stdout, args)
                self.assertIn("the filter program's port prefilter: %s\n" % ranges, got.stderr,
                              args)
                self.assertGreater(len(ref.stdout.splitlines()), 1, args)  # rows, not a header
                walk = [l for l in got.stderr.splitlines() if "iter/tcp walk:" in l]
                self.assertTrue(walk, got.stderr)
                if ranges == "none":
                    self.assertIn(" 0 sockets rejected by the port prefilter", walk[0], args)
                else:
                    self.assertNotIn(" 0 sockets rejected by the port prefilter", walk[0], args)

    def test_bad_source_is_one_line(self):
        r = subprocess.run([SSTRACE, "-tan"], capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, SSTRACE_LISTING_SOURCE="fast"))
        self.assertEqual(r.returncode, 255)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, "sstrace: SSTRACE_LISTING_SOURCE: unknown value 'fast' "
                                   "(diag, iter or auto)\n")


if __name__ == "__main__":
    main((ListingSourcesTest,))
