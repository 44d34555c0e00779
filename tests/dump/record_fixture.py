#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Records tests/fixtures/zoo.tcpdiag and its goldens (root; run by hand, results committed).

In a private namespace with the socket zoo of compare_ss.py, `ss -taimoe --tos -D FILE` writes the raw
sock_diag TCP dump; then `TCPDIAG_FILE=FILE ss ARGS` (ss's own replay) gives the golden output
of each case in REPLAY_CASES. tests/dump/replay_test.py runs sstrace on the same file, without
privileges and without live sockets, so the formatters are checked on recorded kernel data.
"""
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_ss  # noqa: E402  (setup_netns, the zoo's namespace layout)
from replay_test import REPLAY_CASES, FIXTURES, golden_name  # noqa: E402


def main():
    ns = "sstrace-record-%d" % os.getpid()
    work = tempfile.mkdtemp(prefix="sstrace-record-")
    os.chmod(work, 0o755)
    zoo = None
    try:
        compare_ss.setup_netns(ns)
        enter = ["nsenter", "--net=/run/netns/" + ns]
        zoo = subprocess.Popen(enter + [sys.executable, os.path.join(HERE, "zoo.py"), work],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
        assert zoo.stdout.readline().strip() == "READY"
        dump = os.path.join(FIXTURES, "zoo.tcpdiag")
        # the options decide which attributes the kernel adds: ask for all of them
        subprocess.run(enter + ["ss", "-taimoe", "--tos", "-D", dump], check=True)
        env = dict(os.environ, TCPDIAG_FILE=dump)
        for args in REPLAY_CASES:
            r = subprocess.run(["ss"] + args.split(), env=env, capture_output=True, check=True)
            with open(os.path.join(FIXTURES, golden_name(args)), "wb") as f:
                f.write(r.stdout)
        print("recorded %s and %d goldens" % (dump, len(REPLAY_CASES)))
    finally:
        if zoo is not None:
            try:
                os.killpg(zoo.pid, signal.SIGKILL)  # the zoo forks: end its whole session
            except ProcessLookupError:
                pass
            zoo.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()
