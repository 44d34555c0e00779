# SPDX-License-Identifier: GPL-2.0-only
"""Helpers shared by the end-to-end test scripts (test_events.py, test_stress.py).

Netns: a private network namespace with lo up, deleted (with anything left running in it) on
every exit path. Tracer: a tool (sstrace or ss) in the background with its output in files,
stopped by signalling its own pid. summary(): sstrace's exit summary. main(): unittest with
ctest's conventions: exit 77 when every test that ran was skipped (SKIP_RETURN_CODE 77).
"""
import os
import re
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SSTRACE = os.environ.get("SSTRACE_BIN", os.path.join(HERE, "..", "..", "build", "sstrace"))
_seq = 0


def slurp(path):
    with open(path) as f:
        return f.read()


def need_root(test):
    if os.geteuid() == 0:
        return
    if os.environ.get("CI") == "true":
        test.fail("end-to-end tests need root, and CI must run them")
    test.skipTest("needs root")


def proc_comm(pid):
    """The command name of a live process, or None once it is gone (zombies included)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    # pid (comm) state ...: comm may hold spaces and parentheses, the state follows the last ')'
    if stat[stat.rindex(")") + 2] == "Z":
        return None
    return stat[stat.index("(") + 1:stat.rindex(")")]


class Netns:
    """A private network namespace with lo up; deleted on exit, with every process in it."""

    def __init__(self, prefix="sstrace-e2e"):
        global _seq
        _seq += 1
        self.name = "%s-%d-%d" % (prefix, os.getpid(), _seq)

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        # a test that failed half way may have left a tool or a load generator in there
        pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True)
        for pid in pids.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", self.name], check=False)

    def cmd(self, *args):
        return ["ip", "netns", "exec", self.name] + list(args)

    def run(self, *args, **kw):
        return subprocess.run(self.cmd(*args), capture_output=True, text=True, **kw)

    def counters(self, *names):
        """{name: value} of the namespace's SNMP/netstat counters, read in one nstat call."""
        r = self.run("nstat", "-az", *names, check=True)
        values = {}
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] in names:
                values[parts[0]] = int(parts[1])
        missing = [n for n in names if n not in values]
        if missing:
            raise AssertionError("no counter %s in %r" % (", ".join(missing), r.stdout))
        return values

    def counter(self, name):
        return self.counters(name)[name]

    def inode(self):
        return int(self.run("stat", "-L", "-c", "%i", "/proc/self/ns/net", check=True).stdout)

    def sysctl(self, key, value):
        self.run("sysctl", "-qw", "%s=%s" % (key, value), check=True)


class Tracer:
    """A tool running in the background with stdout and stderr in files.

    argv may start with `ip netns exec NS`, which execs the tool: the pid Popen knows becomes
    the tool's own. When the tool is sstrace (SSTRACE in argv, or comm= given), the pid is
    checked to be that process (/proc/PID/stat) once it is ready and before each signal, so a
    signal never goes to a wrapper that would leave the tracer running; stop() raises when
    the tool ignored its signal for 10 s (it is killed then) or was not the process expected.
    """

    def __init__(self, argv, ready_marker="following", comm=None):
        self.comm = comm if comm is not None else ("sstrace" if SSTRACE in argv else None)
        self.out_path = "/tmp/sstrace-e2e-%d-%d.out" % (os.getpid(), id(self))
        self.err_path = self.out_path[:-4] + ".err"
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL)
        self.rc = None
        try:
            if ready_marker:
                deadline = time.time() + 10
                while time.time() < deadline:
                    if ready_marker in slurp(self.err_path):
                        break
                    if self.proc.poll() is not None:
                        raise AssertionError("tracer exited early: " + slurp(self.err_path))
                    time.sleep(0.02)
                else:
                    raise AssertionError("tracer not ready: " + slurp(self.err_path))
                self.check_comm()
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            self.out.close()
            self.err.close()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def check_comm(self):
        if self.comm is None:
            return
        got = proc_comm(self.proc.pid)
        if got != self.comm and self.proc.poll() is None:
            raise AssertionError("pid %d is %r, not %s: signals would miss the tool"
                                 % (self.proc.pid, got, self.comm))

    def send(self, sig):
        """Sends sig to the tool itself (checked first)."""
        self.check_comm()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGINT, settle=0.3):
        time.sleep(settle)
        problem = None
        if self.proc.poll() is None:
            try:
                self.send(sig)
            except AssertionError as e:
                problem = str(e)
        try:
            self.rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait()
            problem = problem or "pid %d ignored signal %d for 10 s; killed" % (self.proc.pid, sig)
        self.out.close()
        self.err.close()
        self.stdout = slurp(self.out_path)
        self.stderr = slurp(self.err_path)
        os.unlink(self.out_path)
        os.unlink(self.err_path)
        if problem:
            raise AssertionError(problem + "\nstderr: " + self.stderr[-2000:])
        return self


def split_endpoint(text):
    addr, _, port = text.rpartition(":")
    if addr.startswith("[") and addr.endswith("]"):
        addr = addr[1:-1]
    return addr, port


def rows(output):
    """Data rows as token lists (header dropped)."""
    lines = [l for l in output.splitlines() if l.strip()]
    return [l.split() for l in lines if "Local Address:Port" not in l]


def tuples(output):
    """(local addr, local port, peer addr, peer port) of every row, in order."""
    out = []
    for r in rows(output):
        la, lp = split_endpoint(r[-2])
        pa, pp = split_endpoint(r[-1])
        out.append((la, lp, pa, pp))
    return out


# `sstrace: S events seen, P printed, L lost`, optionally followed by ` (...)`: the lost ones
# split by cause.
SUMMARY_RE = re.compile(r"^sstrace: (\d+) events seen, (\d+) printed, (\d+) lost(?: \(.*\))?$", re.M)


def summary(stderr):
    """(seen, printed, lost) from sstrace's exit summary."""
    m = SUMMARY_RE.search(stderr)
    assert m, "no summary in stderr: %r" % stderr
    return tuple(int(x) for x in m.groups())


def _interrupt(signo, frame):
    # ctest's timeout or a Ctrl-C: unwind through the tests' `with` blocks, so namespaces are
    # deleted and tracers stopped
    raise KeyboardInterrupt("signal %d" % signo)


def main(classes):
    """`--list` prints CLASS.METHOD for each test (one ctest each); otherwise runs unittest.
    Exit status: 0 passed, 1 failed, 77 when every test that ran was skipped."""
    if len(sys.argv) > 1 and sys.argv[1] == "--list":
        for cls in classes:
            for name in unittest.TestLoader().getTestCaseNames(cls):
                print("%s.%s" % (cls.__name__, name))
        sys.exit(0)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _interrupt)
    result = unittest.main(verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)
