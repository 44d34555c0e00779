#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Differential check of filter parsing against the real ss (iproute2 6.1 is the oracle).

Runs `ss -tan WORDS` and `filter_cli WORDS` on the seed corpus and on random word sequences and
compares exit status and stderr (for syntax errors: the bison line; ss's usage text follows).
Usage: diff_ss.py BUILD/tests/filter/filter_cli [COUNT] [SEED]
"""
import os
import random
import subprocess
import sys

VOCAB = ["sport", "dport", "src", "dst", "dev", "fwmark", "cgroup", "autobound", "=", "==",
         "eq", "!=", "neq", ">=", "ge", "<=", "le", ">", "gt", "<", "lt", "and", "&&", "or",
         "||", "&", "|", "!", "not", "(", ")", ":22", "22", ":ssh", ":http", ":abc", ":0x16",
         ":026", ":", ":-1", ":65536", ":99999999999", "127.0.0.1", "127.1", "193.233.7/24",
         "[::1]", "[::1]:8443", "[::1", "::1", "::1/128", "*", "*:80", "*abc", "[]", "any",
         "default", "any/8", "inet:127.0.0.1:8080", "inet6:[::1]", "localhost", "localhost:ssh",
         "nosuchhost.invalid", "1.2.3.4.5", "127.0.0.1/33", "10.0.0.0/255.0.0.0", "0x7f.1",
         "lo", "nosuchdev", "if5", "if0", "ifx", "7", "-1", "0x2a", "0x2/0x2", "zz", "1/", "/", "/nonexistent",
         "foo", "state", "(sport", "sport=:22", "\\(", "a\\ b", "\\", "unix:/x", "link:ip",
         "netlink:rtnl", "vsock:1:2", "sport = :22", "( sport = :22 or dport = :22 )",
         "fe80::/10", "::ffff:127.0.0.1/96", "[::1]:", "[::1]:*", "1.2.3.4:", "1.2.3.4:*",
         "1.2.3.4/24:80", "1.2.3.4:80/24", "10/8", "+1.2.3.4", "1.2.3.4/0x18", "1.2.3.4/024",
         "1.2.3.4/-1", "1.2.3.4/255.255.0.255", "0/0", "1.2.3.4/", "/24", ":/x", "inet:",
         "inet6:", "inet:*", "inet6:[::1", "unix:", "link:", "link:*:*", "vsock:", "fwmark",
         "0x100000000", "4294967295", "-0", "0/0", "1/2/3", "zz/1", "1.2.3.4%lo", "[::1%lo]",
         ":domain", ":https", "domain", "ip6-localhost", "localhost6", "::", "[::]", "0",
         ":0", ":+22", ": 22", ":22 ", "a\\b", "\\\\", "#", "0 or",
         "/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys", "/tmp", "cgroup"]


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=20)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def norm(rc, err):
    if err.startswith("ss: bison bellows"):
        err = err.split("\n", 1)[0]
    return rc, err


def main():
    cli = sys.argv[1]
    try:
        subprocess.run(["ss", "-V"], stdout=subprocess.DEVNULL, check=True)
    except (OSError, subprocess.CalledProcessError):
        print("no ss to compare with")
        return 77
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 4)
    cases = []
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    for name in sorted(os.listdir(corpus)):
        data = open(os.path.join(corpus, name), "rb").read()
        if any(b < 9 for b in data):
            continue
        cases.append(data.decode("utf-8", "replace").split("\n"))
    for _ in range(count):
        cases.append([rng.choice(VOCAB) for _ in range(rng.randint(1, 7))])
    flags = [([], []), (["-4"], ["-4"]), (["-6"], ["-6"]), (["-x"], ["-x"]), (["-0"], ["-0"]),
             (["-f", "netlink"], ["--netlink"]), (["--vsock"], ["--vsock"]), (["-u"], ["-u"])]
    bad = 0
    for i, words in enumerate(cases):
        ss_flags, our_flags = flags[0] if i < len(cases) // 2 else rng.choice(flags)
        base = ["ss", "-uan"] if ss_flags == ["-u"] else ["ss", "-tan"] + ss_flags
        theirs = norm(*run(base + ["--"] + words))
        ours = norm(*run([cli] + our_flags + ["--"] + words))
        if theirs[0] == 0 and ours == (0, ""):
            continue  # parsed; ss may still complain about the dump itself
        if theirs != ours:
            bad += 1
            print("DIFF", ss_flags, words, "\n  ss:  ", theirs, "\n  ours:", ours)
    # -F: argv words first, then the file's lines (comments, '0' lines, long lines, escapes)
    import tempfile
    for _ in range(count // 4):
        lines = []
        for _ in range(rng.randint(0, 4)):
            kind = rng.random()
            if kind < 0.1:
                lines.append("# " + rng.choice(VOCAB))
            elif kind < 0.2:
                lines.append("0 " + rng.choice(VOCAB))
            elif kind < 0.25:
                lines.append(" " * rng.choice([1010, 1020, 1021, 1022, 1023]) + "autobound")
            else:
                lines.append(" ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, 4))))
        text = "\n".join(lines) + rng.choice(["", "\n"])
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(text)
        words = [rng.choice(VOCAB) for _ in range(rng.randint(0, 3))]
        theirs = norm(*run(["ss", "-tan", "-F", f.name, "--"] + words))
        ours = norm(*run([cli, "-F", f.name, "--"] + words))
        os.unlink(f.name)
        cases.append(words)
        if not (theirs[0] == 0 and ours == (0, "")) and theirs != ours:
            bad += 1
            print("DIFF -F", repr(text[:200]), words, "\n  ss:  ", theirs, "\n  ours:", ours)
    print(f"{len(cases)} cases, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
