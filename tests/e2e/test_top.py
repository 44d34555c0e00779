#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""End-to-end tests of the live summary view, `sstrace --top`, against the running kernel.

In a private network namespace, a churn against one port and another against a second port
(one clearly busier, or busier by another key); the view must rank them right, and its counts
must equal the namespace's own counters (nstat: TcpExtTW, TcpEstabResets, TcpActiveOpens +
TcpPassiveOpens) and `ss`'s count of the sockets in TIME-WAIT. The batch mode is read as
JSON lines; the full screen runs in a detached tmux session, driven with send-keys and read
with capture-pane. Needs root (and tmux for the screen test).
"""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

from e2e_support import HERE, SSTRACE, Netns as _Netns, Tracer, main, need_root, proc_comm

TRAFFIC = os.path.join(HERE, "traffic.py")
COUNTERS = ("TcpExtTW", "TcpEstabResets", "TcpActiveOpens", "TcpPassiveOpens")


class Netns(_Netns):
    """A namespace with one of the names this test may use (sst-top-N), and the traffic script."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    def __enter__(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)  # a leftover
        return super().__enter__()

    def traffic(self, scenario, port, count):
        self.run(sys.executable, TRAFFIC, scenario, "4", str(port), str(count), check=True)

    def time_wait_sockets(self):
        r = self.run("ss", "-Htan", "state", "time-wait", check=True)
        return len(r.stdout.splitlines())


def delta(before, after):
    return {k: after[k] - before[k] for k in before}


def port_entry(report, port):
    for p in report["ports"]:
        if p.get("port") == port:
            return p
    raise AssertionError("port %d not in %r" % (port, report["ports"]))


def state_entry(report, name):
    return next(s for s in report["states"] if s["state"] == name)


class TopBatch(unittest.TestCase):
    def setUp(self):
        need_root(self)

    def test_json_ranks_ports_and_counts_like_the_kernel(self):
        interval, reports = 0.5, 12
        with Netns("sst-top-1") as ns:
            before = ns.counters(*COUNTERS)
            top = Tracer(ns.cmd(SSTRACE, "-v", "--top", "--batch", "--json", "--interval",
                                str(interval), "-c", str(reports)))
            try:
                ns.traffic("client-close", 5001, 300)  # the busy port: TIME-WAIT on the client
                ns.traffic("client-close", 5002, 60)
                ns.traffic("rst", 5003, 40)            # resets, no TIME-WAIT
                after = ns.counters(*COUNTERS)
                time_wait_now = ns.time_wait_sockets()
                top.proc.wait(timeout=reports * interval + 10)  # -c ends it
            finally:
                top.stop()  # a no-op when it has exited; else SIGINT to its own pid, checked
            self.assertEqual(top.rc, 0, top.stderr)
        lines = top.stdout.splitlines()
        self.assertEqual(len(lines), reports, top.stdout)
        got = [json.loads(l) for l in lines]
        self.assertTrue(all(r["type"] == "top" and r["sort"] == "time-wait" for r in got))
        last = got[-1]
        kernel = delta(before, after)
        ports = [p for p in last["ports"] if not p.get("other")]
        # ranked by TIME-WAIT (the last interval's rates are equal: zero; the totals decide)
        self.assertEqual([p["port"] for p in ports][:3], [5001, 5002, 5003], last["ports"])
        self.assertEqual(port_entry(last, 5001)["time_wait"], 300)
        self.assertEqual(port_entry(last, 5002)["time_wait"], 60)
        self.assertEqual(port_entry(last, 5003)["time_wait"], 0)
        self.assertGreater(port_entry(last, 5003)["resets"], 0)
        # the sums over every port line equal the namespace's counters
        self.assertEqual(sum(p["time_wait"] for p in last["ports"]), kernel["TcpExtTW"])
        self.assertEqual(sum(p["resets"] for p in last["ports"]), kernel["TcpEstabResets"])
        self.assertEqual(sum(p["opens"] for p in last["ports"]),
                         kernel["TcpActiveOpens"] + kernel["TcpPassiveOpens"])
        self.assertEqual(state_entry(last, "TIME-WAIT")["entries"], kernel["TcpExtTW"])
        # the sockets in TIME-WAIT now, as ss counts them (they last 60 s)
        tw = state_entry(last, "TIME-WAIT")
        self.assertIn("current", tw, "the collector gave no gauges (no live table)")
        self.assertEqual(tw["current"], time_wait_now)
        # the rates add up to the totals: sum(rate * interval) over the reports
        for key in ("time_wait", "resets", "opens"):
            for port in (5001, 5003):
                first = next((p for p in got[0]["ports"] if p.get("port") == port), {key: 0})
                integral = sum(
                    next((p[key + "_per_s"] for p in r["ports"] if p.get("port") == port), 0)
                    * r["interval_s"] for r in got[1:])
                self.assertAlmostEqual(integral, port_entry(last, port)[key] - first[key],
                                       delta=1e-6 * max(1, port_entry(last, port)[key]))

    def test_filter_expression_scopes_the_counters(self):
        # the kernel-side FILTER: only the clients of 5001 (their peer port) are counted
        with Netns("sst-top-4") as ns:
            before = ns.counters("TcpExtTW")
            top = Tracer(ns.cmd(SSTRACE, "-v", "--top", "--batch", "--json", "--interval", "0.3",
                                "dport", "=", ":5001"))
            try:
                ns.traffic("client-close", 5001, 30)
                ns.traffic("client-close", 5002, 50)
                time.sleep(1)
            finally:
                top.stop()
            self.assertEqual(top.rc, 0, top.stderr)
            tw_in_ns = ns.counter("TcpExtTW") - before["TcpExtTW"]
        self.assertEqual(tw_in_ns, 80)
        last = json.loads(top.stdout.splitlines()[-1])
        self.assertEqual([(p.get("port"), p["time_wait"], p["opens"]) for p in last["ports"]],
                         [(5001, 30, 30)])  # the client side only: its peer port is 5001
        self.assertEqual(state_entry(last, "TIME-WAIT")["entries"], 30)
        self.assertEqual(state_entry(last, "TIME-WAIT")["current"], 30)

    def test_text_reports(self):
        with Netns("sst-top-3") as ns:
            r = subprocess.run(ns.cmd(SSTRACE, "--top", "--batch", "--interval", "0.2", "-c",
                                      "2"), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        starts = [i for i, l in enumerate(lines) if l.startswith("sstrace --top ")]
        self.assertEqual(len(starts), 2, r.stdout)  # -c 2: two reports
        for at in starts:
            self.assertTrue(lines[at + 2].startswith("State"), lines[at + 2])
            self.assertTrue(lines[at + 11].startswith("Port "), lines[at + 11])
            self.assertEqual(lines[at + 12], "(no connections seen yet)")
            self.assertEqual(lines[at + 13], "")  # a blank line ends each report
        self.assertNotIn("\x1b", r.stdout)  # no terminal sequences in batch mode


class TopCommandLine(unittest.TestCase):
    def test_no_terminal(self):
        # before anything is loaded: no privilege needed
        r = subprocess.run([SSTRACE, "--top"], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 255)
        self.assertEqual(r.stdout, "")
        self.assertIn("--top: the full-screen view needs a terminal on stdin and stdout",
                      r.stderr)
        self.assertIn("--top --batch", r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)


    def test_no_tcp_table(self):
        r = subprocess.run([SSTRACE, "--top", "--batch", "-u"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 255)
        self.assertEqual(r.stderr, "sstrace: --top: the view counts TCP connections, and no TCP "
                                   "table is selected\n")


class TopScreen(unittest.TestCase):
    """The full screen in a detached tmux session: keys in, the pane's text out."""

    SESSION = "sst-top-test"

    def setUp(self):
        need_root(self)
        if shutil.which("tmux") is None:
            self.skipTest("tmux is not installed")

    def tmux(self, *args):
        return subprocess.run(["tmux"] + list(args), capture_output=True, text=True,
                              check=True).stdout

    def pane(self):
        return self.tmux("capture-pane", "-p", "-t", self.SESSION)

    def wait_pane(self, test, what, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.pane()
            if test(text):
                return text
            time.sleep(0.1)
        self.fail("the pane never showed %s:\n%s" % (what, self.pane()))

    @staticmethod
    def entered(text, state):
        """The Entered count of `state` in the state table (its first occurrence on a line)."""
        for l in text.splitlines():
            words = l.split()
            if words[:1] == [state] and len(words) >= 4:
                return int(words[3])
        return None

    @staticmethod
    def port_rows(text):
        """The port column of the port lines, in screen order."""
        lines = text.splitlines()
        head = next(i for i, l in enumerate(lines) if l.startswith("Port "))
        out = []
        for l in lines[head + 1:]:
            word = l.split()[0] if l.split() else ""
            if not (word.isdigit() or word == "other"):
                break
            out.append(word)
        return out

    def sstrace_pid(self, ns):
        for pid in subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True,
                                  text=True).stdout.split():
            if proc_comm(int(pid)) == "sstrace":
                return int(pid)
        return None

    def assert_terminal_sane(self):
        """The shell's line discipline is back (canonical mode, echo) and the view is gone."""
        self.tmux("send-keys", "-t", self.SESSION,
                  "printf 'tty:%s\\n' \"$(stty -a | tr ' ;' '\\n\\n' | "
                  "grep -xE -- '-?(icanon|echo)' | tr '\\n' ' ')\"", "Enter")
        text = self.wait_pane(lambda t: re.search(r"^tty:-?icanon", t, re.M), "stty's answer")
        self.assertRegex(text, r"(?m)^tty:icanon echo *$")
        self.assertNotIn("sorted by", text)  # the view's screen is gone
        return text

    def wait_exit(self, pid, what):
        deadline = time.time() + 5
        while time.time() < deadline and proc_comm(pid) == "sstrace":
            time.sleep(0.05)
        self.assertNotEqual(proc_comm(pid), "sstrace", "sstrace did not exit on " + what)

    @contextlib.contextmanager
    def screen(self, netns_name, *args):
        """sstrace --top ARGS in a shell of a detached tmux session, in the namespace; yields
        (namespace, sstrace's pid) once the view is drawn; ends the session (and a sstrace left
        running, by its own pid) on the way out."""
        subprocess.run(["tmux", "kill-session", "-t", self.SESSION], capture_output=True)
        with Netns(netns_name) as ns:
            self.tmux("new-session", "-d", "-s", self.SESSION, "-x", "120", "-y", "40",
                      "bash --norc --noprofile")
            try:
                self.tmux("send-keys", "-t", self.SESSION, "PS1='prompt$ '; %s --top %s; "
                          "echo rc=$?" % (" ".join(ns.cmd(SSTRACE)), " ".join(args)), "Enter")
                self.wait_pane(lambda t: "sstrace --top" in t and "Port " in t, "the view")
                pid = self.sstrace_pid(ns)
                self.assertIsNotNone(pid, "no sstrace process in the namespace")
                yield ns, pid
            finally:
                pid = self.sstrace_pid(ns)
                if pid is not None:
                    os.kill(pid, 9)
                subprocess.run(["tmux", "kill-session", "-t", self.SESSION], capture_output=True)

    def test_sigterm_restores_the_terminal(self):
        with self.screen("sst-top-5") as (ns, pid):
            os.kill(pid, 15)  # sstrace's own pid (checked by its comm)
            self.wait_exit(pid, "SIGTERM")
            text = self.assert_terminal_sane()
            self.assertRegex(text, r"(?m)^rc=0$")

    def test_keys_sort_filter_quit(self):
        with self.screen("sst-top-2", "--interval", "0.3") as (ns, pid):
            ns.traffic("client-close", 5001, 100)  # TIME-WAIT: 5001 first
            ns.traffic("rst", 5002, 150)           # resets and new connections: 5002 first
            # a view drawn after both batches: the keys below redraw the last snapshot
            text = self.wait_pane(lambda t: self.port_rows(t)[:2] == ["5001", "5002"] and
                                  self.entered(t, "SYN-SENT") == 250,
                                  "5001 above 5002 by TIME-WAIT, every connection counted")
            self.assertIn("sorted by TW/s", text)
            self.tmux("send-keys", "-t", self.SESSION, "s")
            text = self.wait_pane(lambda t: "sorted by RST/s" in t, "the resets key")
            self.assertEqual(self.port_rows(text)[:2], ["5002", "5001"], text)
            self.tmux("send-keys", "-t", self.SESSION, "s")
            text = self.wait_pane(lambda t: "sorted by New/s" in t, "the new-connections key")
            self.assertEqual(self.port_rows(text)[:2], ["5002", "5001"], text)
            # / filters the lines shown, in userspace, and says so
            self.tmux("send-keys", "-t", self.SESSION, "/", "5001")
            text = self.wait_pane(lambda t: "userspace" in t and t.rstrip().endswith("5001_"),
                                  "the filter prompt")
            self.tmux("send-keys", "-t", self.SESSION, "Enter")
            text = self.wait_pane(lambda t: 'port filter: "5001"' in t, "the filter applied")
            self.assertEqual(self.port_rows(text), ["5001"], text)
            self.tmux("send-keys", "-t", self.SESSION, "q")
            self.wait_exit(pid, "q")
            self.assertRegex(self.assert_terminal_sane(), r"(?m)^rc=0$")


if __name__ == "__main__":
    main([TopBatch, TopCommandLine, TopScreen])
