#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Golden comparison of large listings (more than one ~4 MiB render block).

ss renders its buffer every 5 chunks; column widths only grow from block to block. A private
namespace gets ~44k idle loopback TCP sockets and, last in dump order, one IPv6 pair with wider
addresses, so the last block is wider than the first: sstrace must cut its blocks at the same
rows as ss. Usage: compare_blocks.py PATH/TO/sstrace. Root only (fails with CI=true, else 77).
"""
import os
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


def main():
    sstrace = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("compare_blocks: needs root")
        return 1 if os.environ.get("CI") == "true" else 77
    ss = shutil.which("ss") or "/usr/bin/ss"
    ns = f"sstrace-blocks-{os.getpid()}"
    work = tempfile.mkdtemp(prefix="sstrace-blocks-")
    fake_ss = os.path.join(work, "ss")
    shutil.copy(sstrace, fake_ss)
    holder = None
    failed = []
    cases = ["-tan", "-tane", "-tanp", "-tane -H", "-tanem"]
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
        for args in cases:
            # Right after 44k connects some sockets still have a timer armed (-e implies -o),
            # and one can fire between the two reads: on a difference, read both again.
            for attempt in range(3):
                ref = subprocess.run(enter + [ss] + args.split(), capture_output=True)
                got = subprocess.run(enter + [fake_ss] + args.split(), capture_output=True)
                same = (ref.stdout, ref.stderr, ref.returncode) == (got.stdout, got.stderr,
                                                                     got.returncode)
                if same:
                    break
                time.sleep(1)
            widths = sorted({len(l) for l in ref.stdout.split(b"\n") if l})
            if not same:
                failed.append(args)
                for a, b in zip(ref.stdout.split(b"\n"), got.stdout.split(b"\n")):
                    if a != b:
                        print(f"  first difference:\n    ss:      {a!r}\n    sstrace: {b!r}")
                        break
            elif attempt:
                print(f"  ss {args}: identical on read {attempt + 1} (a timer changed between reads)")
            print(f"  ss {args}: {len(ref.stdout)} bytes, line widths {widths[:4]}"
                  f" {'ok' if args not in failed else 'DIFFERENT'}")
    finally:
        if holder is not None:
            try:
                os.killpg(holder.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            holder.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(work, ignore_errors=True)
    print(f"compare_blocks: {len(cases) - len(failed)} of {len(cases)} large listings "
          "byte-identical to ss")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
