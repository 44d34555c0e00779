#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Render-block cuts on synthetic dumps: ss and sstrace replay the same bytes (no privileges).

ss renders its buffer once 5 chunks of 1 MiB are in use, and a row lands in one block or the
next depending on how the tokens before it fill the chunks. A live comparison can only try the
data the kernel happens to hold; here a seeded generator writes TCPDIAG_FILE dumps of 60000 TCP
sockets whose every printed field has a random length (addresses, ports, queues, timers, uid,
inode, cookie, fwmark, shutdown, skmem), and `TCPDIAG_FILE=... ss ARGS` (the oracle) and
`sstrace ARGS` must print the same bytes. The seeds below are ones where a token ends exactly at
a chunk's end or leaves less than one length field after it: before sstrace modelled ss's
vsnprintf room and its eager chunk allocation, each of them cut one block a row late.

Timer expiries avoid 1-10 s with milliseconds (6.1 prints those with the wrong unit, see
replay_test.py), so the outputs need no rewriting.

Usage: replay_blocks.py PATH/TO/sstrace [SEED_FROM SEED_TO] (more seeds: a longer search).
"""
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

SEEDS = [13, 34, 46, 55, 87, 90, 92, 110]
CASES = ["-tanem", "-tane", "-tanem -H", "-tan"]
ROWS = 60000

SOCK_DIAG_BY_FAMILY = 20
NLMSG_DONE = 3
INET_DIAG_SKMEMINFO = 7
INET_DIAG_SHUTDOWN = 8
INET_DIAG_MARK = 15


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def write_dump(seed, rows, path):
    rng = random.Random(seed)

    def num(max_digits):
        digits = rng.randint(1, max_digits)
        return rng.randint(10 ** (digits - 1) if digits > 1 else 0, 10 ** digits - 1)

    def v6addr():
        return bytes(rng.getrandbits(8) if rng.random() < 0.3 else 0 for _ in range(16))

    out = bytearray()
    for _ in range(rows):
        v6 = rng.random() < 0.1
        if v6:
            family, src, dst = socket.AF_INET6, v6addr(), v6addr()
        else:
            family = socket.AF_INET
            src = bytes([127, 0, rng.randint(0, 255) if rng.random() < .3 else 0,
                         rng.randint(0, 255)]) + b"\0" * 12
            dst = bytes([rng.choice([127, 10, 192]), rng.randint(0, 255), rng.randint(0, 255),
                         rng.randint(0, 255)]) + b"\0" * 12
        state = rng.choice([1, 1, 1, 10, 8, 2])
        timer = rng.choice([0, 0, 0, 1, 2])
        msg = struct.pack("=BBBB", family, state, timer, rng.randint(0, 3))
        msg += struct.pack(">HH", num(5) % 65536, num(5) % 65536)
        msg += src + dst + struct.pack("=III", 0, rng.getrandbits(32),
                                       rng.getrandbits(rng.choice([0, 8, 32])))
        expires = rng.choice([num(3), num(2) * 1000, 10000 + num(7)]) if timer else 0
        msg += struct.pack("=IIIII", expires, num(rng.choice([1, 1, 6])),
                           num(rng.choice([1, 1, 7])), rng.choice([0, 0, 1000, num(6)]), num(8))
        attrs = attr(INET_DIAG_SKMEMINFO,
                     struct.pack("=9I", *[num(rng.choice([1, 1, 7])) for _ in range(9)]))
        if rng.random() < 0.5:
            attrs += attr(INET_DIAG_SHUTDOWN, struct.pack("=B", rng.randint(0, 3)))
        if rng.random() < 0.2:
            attrs += attr(INET_DIAG_MARK, struct.pack("=I", rng.getrandbits(rng.choice([4, 16, 32]))))
        body = msg + attrs
        out += struct.pack("=IHHII", 16 + len(body), SOCK_DIAG_BY_FAMILY, 2, 123456, 0) + body
    out += struct.pack("=IHHII", 20, NLMSG_DONE, 2, 123456, 0) + b"\0\0\0\0"
    with open(path, "wb") as f:
        f.write(out)


def first_difference(a, b):
    la, lb = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}:\n    ss:      {x!r}\n    sstrace: {y!r}"
    return f"line counts {len(la)} and {len(lb)}"


def main():
    sstrace = os.path.abspath(sys.argv[1])
    seeds = SEEDS if len(sys.argv) < 4 else range(int(sys.argv[2]), int(sys.argv[3]))
    ss = shutil.which("ss") or "/usr/bin/ss"
    work = tempfile.mkdtemp(prefix="sstrace-replay-blocks-")
    failed = 0
    total = 0
    try:
        for seed in seeds:
            dump = os.path.join(work, f"dump{seed}")
            write_dump(seed, ROWS, dump)
            env = dict(os.environ, TCPDIAG_FILE=dump)
            env.pop("COLUMNS", None)
            for args in CASES:
                total += 1
                ref = subprocess.run([ss] + args.split(), env=env, capture_output=True,
                                     stdin=subprocess.DEVNULL)
                got = subprocess.run([sstrace] + args.split(), env=env, capture_output=True,
                                     stdin=subprocess.DEVNULL)
                if (ref.stdout, ref.stderr, ref.returncode) != (got.stdout, got.stderr,
                                                                 got.returncode):
                    failed += 1
                    print(f"--- FAIL: seed {seed} {args}: {first_difference(ref.stdout, got.stdout)}")
            os.unlink(dump)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"replay_blocks: {total - failed} of {total} synthetic listings byte-identical to ss")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
