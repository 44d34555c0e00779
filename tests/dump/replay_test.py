#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Formatters on recorded kernel data, without privileges.

tests/fixtures/zoo.tcpdiag is a raw sock_diag TCP dump of the socket zoo (recorded by
record_fixture.py with `ss -D`); the goldens next to it are iproute2 6.1's own replay of that
file (`TCPDIAG_FILE=... ss ARGS`). sstrace replays the same bytes, so every column width, timer,
skmem and tcp_info field it prints must equal ss's, with one documented difference: the 6.1
timer bug (`7.740ms` for 7.740 s) is printed as the later fix prints it (`7.740sec`).

Usage: replay_test.py PATH/TO/sstrace
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")

REPLAY_CASES = [
    "-tan", "-ta", "-tan -H", "-tan -O", "-tano", "-tani", "-tanio", "-tanm", "-tanmo",
    "-tanmi -O", "-tan state established", "-tan state listening", "-tn",
    "-tan sport = :22", "-tan dport = :8080 or sport = :8080", "-tan dst 127.0.0.1",
    "-tan src 10.99.0.1", "-tan -4", "-tanie", "-tanmie -O", "-tan --tos", "-tanoi -n",
]


def golden_name(args):
    return "zoo.replay." + re.sub(r"[^A-Za-z0-9]+", "_", args).strip("_") + ".golden"


# 6.1 prints seconds-with-milliseconds timers with an `ms` suffix; sstrace prints the 6.11 fix.
TIMER_61_BUG = re.compile(rb"timer:\(([a-z_]+),(\d+)\.(\d{3})ms,")


def fix_61_timers(text):
    return TIMER_61_BUG.sub(rb"timer:(\1,\2.\3sec,", text)


def main():
    sstrace = os.path.abspath(sys.argv[1])
    dump = os.path.join(FIXTURES, "zoo.tcpdiag")
    env = dict(os.environ, TCPDIAG_FILE=dump)
    env.pop("COLUMNS", None)
    failed = []
    for args in REPLAY_CASES:
        with open(os.path.join(FIXTURES, golden_name(args)), "rb") as f:
            want = fix_61_timers(f.read())
        got = subprocess.run([sstrace] + args.split(), env=env, capture_output=True,
                             stdin=subprocess.DEVNULL)
        if got.returncode != 0 or got.stdout != want or got.stderr:
            failed.append(args)
            print("--- FAIL: %s (exit %d)\n%s" % (args, got.returncode, got.stderr.decode()))
            import difflib
            for d in difflib.unified_diff(want.decode().splitlines(), got.stdout.decode().splitlines(),
                                          "ss (recorded)", "sstrace", lineterm="", n=0):
                print(d)
    print("replay_test: %d of %d recorded cases byte-identical"
          % (len(REPLAY_CASES) - len(failed), len(REPLAY_CASES)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
