#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Golden comparison of large listings (more than one ~4 MiB render block).

ss renders its buffer every 5 chunks; column widths only grow from block to block. A private
namespace gets ~44k idle loopback TCP sockets and, last in dump order, one IPv6 pair with wider
addresses, so the last block is wider than the first: sstrace must cut its blocks at the same
rows as ss. Usage: compare_blocks.py PATH/TO/sstrace. Root only (fails with CI=true, else 77).

Two reads of the kernel can differ (a timer fires, socket memory is reclaimed), so a live
difference is classified: if the rows hold the same text and only the padding differs, the
layout differs and the case fails at once; if some row's text changed, both tools read again (up
to three times). The layout of these very sockets is also checked without that race: ss records
them once with -D, and ss and sstrace replay that file (TCPDIAG_FILE) and must print the same
bytes.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HOLDER = r'''
import ctypes, os, resource, signal, socket, sys
n = int(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
per_worker = max(1, (hard - 100) // 2)
pairs, start, port, workers = n // 2, 0, 200, []
while start < pairs:
    count = min(per_worker, pairs - start)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
        keep = []
        l = socket.socket(); l.bind(("127.0.0.1", port)); l.listen(4096); keep.append(l)
        for _ in range(count):
            c = socket.socket(); c.connect(("127.0.0.1", port)); a, _ = l.accept(); keep += [c, a]
        os.write(w, b"x")
        signal.pause()
        os._exit(0)
    os.close(w); os.read(r, 1); workers.append(pid); start += count; port += 1
s6 = socket.socket(socket.AF_INET6); s6.bind(("::1", 7777)); s6.listen(1)
c6 = socket.socket(socket.AF_INET6); c6.connect(("::1", 7777)); a6, _ = s6.accept()
print("READY", flush=True)
try:
    sys.stdin.read()
finally:
    for pid in workers:
        os.kill(pid, 9)
'''


def normalised(text):
    """The rows without their padding: what two reads of unchanged sockets print alike."""
    return [re.sub(rb" +", b" ", line).rstrip() for line in text.split(b"\n")]


def first_difference(a, b, what="first difference"):
    for x, y in zip(a if isinstance(a, list) else a.split(b"\n"),
                    b if isinstance(b, list) else b.split(b"\n")):
        if x != y:
            return f"{what}:\n    ss:      {x!r}\n    sstrace: {y!r}"
    return f"{what}: the line counts differ"


def compare_live(enter, ss, sstrace, args):
    """'ok', or why the live listings differ."""
    for attempt in range(3):
        ref = subprocess.run(enter + [ss] + args.split(), capture_output=True)
        got = subprocess.run(enter + [sstrace] + args.split(), capture_output=True)
        if (ref.stdout, ref.stderr, ref.returncode) == (got.stdout, got.stderr, got.returncode):
            widths = sorted({len(line) for line in ref.stdout.split(b"\n") if line})
            again = f", identical on read {attempt + 1}" if attempt else ""
            return f"{len(ref.stdout)} bytes, line widths {widths[:4]}{again}, ok"
        if normalised(ref.stdout) == normalised(got.stdout):
            # Same sockets, same text, other padding: not a race between the reads.
            return "DIFFERENT layout of the same rows\n  " + first_difference(ref.stdout,
                                                                             got.stdout)
        # Some socket changed between the two reads (timer, memory): read both again.
        changed = first_difference(normalised(ref.stdout), normalised(got.stdout),
                                   "a row changed between the reads")
        print(f"  ss {args}: read {attempt + 1}: {changed}")
        time.sleep(1)
    return "DIFFERENT on three reads, each time with rows that changed between the reads"


def main():
    sstrace = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("compare_blocks: needs root")
        return 1 if os.environ.get("CI") == "true" else 77
    ss = shutil.which("ss") or "/usr/bin/ss"
    ns = f"sstrace-blocks-{os.getpid()}"
    work = tempfile.mkdtemp(prefix="sstrace-blocks-")
    os.chmod(work, 0o755)  # the copy runs as nobody too
    fake_ss = os.path.join(work, "ss")
    shutil.copy(sstrace, fake_ss)
    holder = None
    failed = []
    cases = ["-tan", "-tane", "-tanp", "-tane -H", "-tanem"]
    replay_cases = ["-tan", "-tane", "-tanem", "-tanemi", "-tanmo -H"]
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                        "net.ipv4.ip_local_port_range=1024 65535"], check=True)
        enter = ["nsenter", f"--net=/run/netns/{ns}"]
        holder = subprocess.Popen(enter + [sys.executable, "-c", HOLDER, "44000"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  start_new_session=True)
        if holder.stdout.readline().strip() != "READY":
            print("compare_blocks: the socket holder did not start")
            return 1
        # which sources the listings take (SSTRACE_LISTING_SOURCE, or the automatic choice)
        named = subprocess.run(enter + [fake_ss, "-v", "-tanp"], capture_output=True)
        for line in named.stderr.decode().splitlines():
            if "listing:" in line:
                print("  " + line)
        for args in cases:
            outcome = compare_live(enter, ss, fake_ss, args)
            if not outcome.endswith(", ok"):
                failed.append(args)
            print(f"  ss {args}: {outcome}")
        # Without CAP_BPF the iterator does not load: the automatic choice falls back to
        # sock_diag (and -v says so), with the same rows as ss run by the same user.
        if os.environ.get("SSTRACE_LISTING_SOURCE") in (None, "", "auto"):
            nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            outcome = compare_live(enter + nobody, ss, fake_ss, "-tan")
            named = subprocess.run(enter + nobody + [fake_ss, "-v", "-tan"],
                                   capture_output=True).stderr.decode()
            if "the iterator did not load" not in named:
                outcome = f"-v does not name the fallback: {named!r}"
            if not outcome.endswith(", ok"):
                failed.append("-tan (as nobody, fallback)")
            print(f"  ss -tan (as nobody, fallback to sock_diag): {outcome}")
            cases.append("-tan (as nobody)")
        # The same sockets, read once: both tools replay ss's raw dump of them.
        dump = os.path.join(work, "tcpdiag")
        subprocess.run(enter + [ss, "-tanmi", "--tos", "-D", dump], check=True,
                       capture_output=True)
        for args in replay_cases:
            env = dict(os.environ, TCPDIAG_FILE=dump)
            env.pop("COLUMNS", None)
            ref = subprocess.run([ss] + args.split(), env=env, capture_output=True)
            got = subprocess.run([fake_ss] + args.split(), env=env, capture_output=True)
            same = (ref.stdout, ref.stderr, ref.returncode) == (got.stdout, got.stderr,
                                                                 got.returncode)
            if not same:
                failed.append("TCPDIAG_FILE " + args)
                print("  " + first_difference(ref.stdout, got.stdout))
            print(f"  TCPDIAG_FILE ss {args}: {len(ref.stdout)} bytes "
                  f"{'ok' if same else 'DIFFERENT'}")
    finally:
        if holder is not None:
            try:
                os.killpg(holder.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            holder.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(work, ignore_errors=True)
    total = len(cases) + len(replay_cases)
    print(f"compare_blocks: {total - len(failed)} of {total} large listings "
          "byte-identical to ss")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
