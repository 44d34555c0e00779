#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""End-to-end tests of owners on event rows (`sstrace -E -p`, `-T`, `--cgroup`).

A server process and a client process (each with its own name) talk in a private namespace
while sstrace streams every state entry; every row must name the socket's owner (the server
for its listener and accepted sockets, the client for its own), never the task that happened to
run the transition, with the fd that process holds the socket by; `ss -p` on the sockets still
open is the reference. Needs root (the programs are loaded for real).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from e2e_support import SSTRACE, Netns, Tracer, main, need_root, split_endpoint

# A server: listens, accepts N connections (printing `acc PEERPORT FD`), waits for a line on
# stdin, then closes (its accepted sockets first, or after the client's: mode).
SERVER = r"""
import ctypes, os, socket, sys, time
ctypes.CDLL(None).prctl(15, b"sst-server", 0, 0, 0)
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
l = socket.socket(socket.AF_INET6 if ":" in sys.argv[4] else socket.AF_INET)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[4], port)); l.listen(64)
print("ready", os.getpid(), l.fileno(), flush=True)
conns = []
for i in range(n):
    c, a = l.accept(); conns.append(c); print("acc", a[1], c.fileno(), flush=True)
sys.stdin.readline()
if mode == "client-first":
    time.sleep(0.3)
for c in conns:
    c.close()
time.sleep(0.3)
l.close()
print("done", flush=True)
"""

# A client: N connections (printing `con LOCALPORT FD`), then on a line on stdin closes them
# (at once, or after the server closed: mode).
CLIENT = r"""
import ctypes, os, socket, sys, time
ctypes.CDLL(None).prctl(15, b"sst-client", 0, 0, 0)
port, n, mode, addr = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
print("ready", os.getpid(), flush=True)
conns = []
for i in range(n):
    c = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    c.connect((addr, port)); conns.append(c); print("con", c.getsockname()[1], c.fileno(), flush=True)
sys.stdin.readline()
if mode == "server-first":
    time.sleep(0.3)
for c in conns:
    c.close()
time.sleep(0.3)
print("done", flush=True)
"""

# A pre-fork server: the master listens, forks WORKERS workers that each accept and close
# connections (printing `acc PID PEERPORT FD`); the master connects as the client.
PREFORK = r"""
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None)
libc.prctl(15, b"sst-master", 0, 0, 0)
port, workers, per = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port)); l.listen(64)
r, w = os.pipe()
kids = []
for k in range(workers):
    pid = os.fork()
    if pid == 0:
        libc.prctl(15, ("sst-worker%d" % k).encode(), 0, 0, 0)
        for i in range(per):
            c, a = l.accept()
            os.write(w, ("acc %d %d %d\n" % (os.getpid(), a[1], c.fileno())).encode())
            time.sleep(0.05)
            c.close()
        os._exit(0)
    kids.append(pid)
print("master", os.getpid(), flush=True)
cl = []
for i in range(workers * per):
    c = socket.socket(); c.connect(("127.0.0.1", port)); cl.append(c)
for p in kids:
    os.waitpid(p, 0)
os.close(w)
print(os.read(r, 65536).decode(), end="", flush=True)
for c in cl:
    c.close()
time.sleep(0.3)
"""

USERS_RE = re.compile(r'users:\(\((.*)\)\)')
OWNER_RE = re.compile(r'"(?P<comm>[^"]*)",pid=(?P<pid>\d+)(?:,tid=(?P<tid>\d+))?(?:,fd=(?P<fd>\d+))?$')


def owners_of(line):
    """[(comm, pid, tid, fd)] of a row's users:(...), None when it has none."""
    m = USERS_RE.search(line)
    if not m:
        return None
    out = []
    for part in m.group(1).split("),("):
        o = OWNER_RE.match(part)
        assert o, "cannot read owner %r in %r" % (part, line)
        out.append((o["comm"], int(o["pid"]), int(o["tid"]) if o["tid"] else None,
                    int(o["fd"]) if o["fd"] else None))
    return out


def event_rows(output):
    """(state, local (addr, port), peer (addr, port), owners) of every data row of
    `sstrace -E -n --transitions` (Netid, then `OLD -> NEW`)."""
    out = []
    for line in output.splitlines():
        if not line.strip() or "Local Address:Port" in line:
            continue
        head = line.split(" users:")[0].split()
        # tcp OLD -> NEW Recv-Q Send-Q local peer
        out.append((head[3], split_endpoint(head[-2]), split_endpoint(head[-1]), owners_of(line)))
    return out


def ss_owners(ns, *args):
    """{(local, peer): [owners]} from `ss -Hn -p ...` in the namespace."""
    r = ns.run("ss", "-Hn", *args, check=True)
    out = {}
    for line in r.stdout.splitlines():
        head = line.split(" users:")[0].split()
        out[(split_endpoint(head[-2]), split_endpoint(head[-1]))] = owners_of(line)
    return out


class Proc:
    """A helper script in the namespace, read line by line."""

    def __init__(self, ns, script, *args, cgroup=None):
        def enter_cgroup():
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        self.p = subprocess.Popen(ns.cmd(sys.executable, "-c", script, *map(str, args)),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  preexec_fn=enter_cgroup if cgroup else None)

    def line(self):
        l = self.p.stdout.readline()
        assert l, "helper ended early"
        return l.split()

    def go(self):
        self.p.stdin.write("\n")
        self.p.stdin.flush()

    def finish(self):
        out = self.p.stdout.read()
        self.p.wait(timeout=20)
        return out

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdin, self.p.stdout):
            try:
                f.close()
            except OSError:  # a pipe whose reader is gone
                pass


def tracer(ns, *args):
    return Tracer(ns.cmd(SSTRACE, "-v", "-n", "-E", *args))


ALL_STATES = ("--transitions", "state", "all")


class OwnersTest(unittest.TestCase):
    def setUp(self):
        need_root(self)

    def client_server(self, ns, mode, addr, port, n, before=False, extra=()):
        """Runs a server and a client process with n connections; the stream starts before
        them (or, with `before`, once they are connected). Returns the rows, ss -p of the open
        sockets, and what the two processes said."""
        srv = cli = t = None
        try:
            if not before:
                t = tracer(ns, "-p", *extra, *ALL_STATES)
            srv = Proc(ns, SERVER, port, n, mode, addr)
            _, spid, lfd = srv.line()
            cli = Proc(ns, CLIENT, port, n, mode, addr)
            _, cpid = cli.line()
            con = dict(cli.line()[1:] for _ in range(n))
            acc = dict(srv.line()[1:] for _ in range(n))
            if before:
                t = tracer(ns, "-p", *extra, *ALL_STATES)
            open_now = ss_owners(ns, "-tp")
            srv.go()
            cli.go()
            srv.finish()
            cli.finish()
            t.stop()
        finally:
            for p in (srv, cli):
                if p:
                    p.kill()
            if t and t.rc is None:
                t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        info = {"server": int(spid), "listener_fd": int(lfd), "client": int(cpid),
                "con": {int(k): int(v) for k, v in con.items()},
                "acc": {int(k): int(v) for k, v in acc.items()}}
        return event_rows(t.stdout), open_now, info, t.stderr

    def check_rows(self, rows, open_now, info, port, n, seeded=False):
        """Every row names its socket's owner: the server for port `port`, the client for the
        others, with the fd each holds the socket by; and agrees with ss -p where it shows the
        socket open."""
        self.assertTrue(rows, "no rows")
        server_side = 0
        client_side = 0
        for state, local, peer, owners in rows:
            self.assertIsNotNone(owners, "row without owner: %r" % ((state, local, peer),))
            self.assertEqual(len(owners), 1, owners)
            comm, pid, tid, fd = owners[0]
            if int(local[1]) == port:
                server_side += 1
                self.assertEqual((comm, pid), ("sst-server", info["server"]), (state, local, peer))
                if peer[1] == "*":
                    self.assertEqual(fd, info["listener_fd"], (state, local, peer))
                elif state in ("SYN-RECV", "ESTAB") and not seeded:
                    # before accept(): no process holds it yet (the listener's owner, no fd)
                    self.assertIn(fd, (None, info["acc"][int(peer[1])]), (state, local, peer))
                else:
                    self.assertEqual(fd, info["acc"][int(peer[1])], (state, local, peer))
            else:
                client_side += 1
                self.assertEqual((comm, pid), ("sst-client", info["client"]), (state, local, peer))
                self.assertEqual(fd, info["con"][int(local[1])], (state, local, peer))
            ref = open_now.get((local, peer))
            if ref is not None:
                self.assertEqual(len(ref), 1, ref)
                self.assertEqual((comm, pid), ref[0][:2], (state, local, peer))
                if fd is not None:
                    self.assertEqual(fd, ref[0][3], (state, local, peer))
        self.assertGreaterEqual(server_side, n)
        self.assertGreaterEqual(client_side, n)
        # ss -p saw the listener and both ends of every connection open, each owned
        self.assertEqual(len([k for k in open_now if int(k[0][1]) == port and k[1][1] != "*"]), n)

    def test_both_close_orders_name_the_right_process(self):
        for mode, addr in (("client-first", "127.0.0.1"), ("server-first", "::1")):
            with self.subTest(mode=mode), Netns() as ns:
                rows, open_now, info, _ = self.client_server(ns, mode, addr, 5001, 6)
                self.check_rows(rows, open_now, info, 5001, 6)
                states = {r[0] for r in rows}
                # a full lifecycle on both sides: the rows above cover every kind of transition
                for s in ("SYN-SENT", "SYN-RECV", "ESTAB", "FIN-WAIT-1", "CLOSE-WAIT",
                          "LAST-ACK", "TIME-WAIT", "LISTEN"):
                    self.assertIn(s, states, (mode, states))

    def test_sockets_open_before_the_start_come_from_proc(self):
        with Netns() as ns:
            rows, open_now, info, err = self.client_server(ns, "client-first", "127.0.0.1", 5002,
                                                           4, before=True)
            self.check_rows(rows, open_now, info, 5002, 4, seeded=True)
            m = re.search(r"owners of (\d+) existing inet sockets", err)
            self.assertTrue(m and int(m.group(1)) >= 9, err)  # listener + 2 x 4 connections

    def test_prefork_rows_name_the_worker_that_accepted(self):
        with Netns() as ns:
            t = tracer(ns, "-p", *ALL_STATES)
            p = None
            try:
                p = Proc(ns, PREFORK, 5003, 2, 3)
                _, master = p.line()
                out = p.finish()
            finally:
                if p:
                    p.kill()
                t.stop()
            self.assertEqual(t.rc, 0, t.stderr)
            accepted = {}
            for line in out.splitlines():
                _, wpid, peer, fd = line.split()
                accepted[int(peer)] = (int(wpid), int(fd))
            self.assertEqual(len(accepted), 6, out)
            self.assertEqual(len({w for w, _ in accepted.values()}), 2, out)
            after_accept = 0
            for state, local, peer, owners in event_rows(t.stdout):
                if local[1] != "5003" or peer[1] == "*":
                    continue
                comm, pid, _, fd = owners[0]
                wpid, wfd = accepted[int(peer[1])]
                if state in ("SYN-RECV", "ESTAB"):
                    # entered before any worker accepted it: the listener's creator, no fd
                    self.assertEqual((comm, pid, fd), ("sst-master", int(master), None))
                else:
                    after_accept += 1
                    self.assertEqual((pid, fd), (wpid, wfd), (state, local, peer))
                    self.assertTrue(comm.startswith("sst-worker"), comm)
            self.assertGreaterEqual(after_accept, 12)  # FIN-WAIT-1 and more, per connection

    def test_threads_name_the_accepting_thread(self):
        script = r"""
import ctypes, os, socket, sys, threading, time
libc = ctypes.CDLL(None)
libc.prctl(15, b"sst-main", 0, 0, 0)
l = socket.socket(); l.bind(("127.0.0.1", 5004)); l.listen(8)
got = {}
end = threading.Event()
def acceptor():
    libc.prctl(15, b"sst-acceptor", 0, 0, 0)
    c, a = l.accept(); got["c"] = c
    print("acc", threading.get_native_id(), a[1], c.fileno(), flush=True)
    end.wait()  # alive while ss -T looks
    c.close()
th = threading.Thread(target=acceptor); th.start()
c = socket.socket(); c.connect(("127.0.0.1", 5004))
while "c" not in got:
    time.sleep(0.01)
print("pid", os.getpid(), flush=True)
sys.stdin.readline()
end.set(); th.join(); time.sleep(0.2); c.close(); time.sleep(0.2)
"""
        with Netns() as ns:
            t = tracer(ns, "-T", *ALL_STATES)
            p = Proc(ns, script)
            try:
                _, tid, peer, fd = p.line()
                _, pid = p.line()
                ref = ss_owners(ns, "-tT")
                p.go()
                p.finish()
            finally:
                p.kill()
                t.stop()
            rows = [r for r in event_rows(t.stdout)
                    if r[1][1] == "5004" and r[2][1] == peer and r[0] not in ("SYN-RECV", "ESTAB")]
            self.assertTrue(rows, t.stdout)
            for state, local, rpeer, owners in rows:
                self.assertEqual(owners, [("sst-acceptor", int(pid), int(tid), int(fd))], state)
            # ss -T lists every thread of the process for that socket; the accepting one is there
            listed = ref[(("127.0.0.1", "5004"), ("127.0.0.1", peer))]
            self.assertIn(("sst-acceptor", int(pid), int(tid), int(fd)), listed)

    def test_cgroup_hooks_allow_every_call(self):
        """socket, bind, connect, listen, accept, sendto and close still succeed while the owner
        hooks (cgroup sock_create, and sock_release with -u -w) are attached, beside a second
        sstrace's (several programs on one hook)."""
        script = r"""
import socket
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    l = socket.socket(fam); l.bind((addr, 0)); l.listen(4)
    c = socket.socket(fam); c.connect(l.getsockname()[:2]); a, _ = l.accept()
    c.sendall(b"x"); assert a.recv(1) == b"x"
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((addr, 0))
    v = socket.socket(fam, socket.SOCK_DGRAM); v.connect(u.getsockname()[:2]); v.send(b"y")
    assert u.recv(1) == b"y"
    r = socket.socket(fam, socket.SOCK_RAW, 253); r.close()
    for s in (l, c, a, u, v):
        s.close()
print("ok")
"""
        with Netns() as ns:
            t1 = tracer(ns, "-p", "-t", "-u", "-w")
            t2 = tracer(ns, "-p", "state", "established")
            try:
                tree = subprocess.run(["bpftool", "cgroup", "tree"], capture_output=True,
                                      text=True).stdout
                r = ns.run(sys.executable, "-c", script)
            finally:
                t2.stop()
                t1.stop()
            self.assertEqual((r.returncode, r.stdout.strip()), (0, "ok"), r.stderr)
            self.assertEqual(tree.count("sst_owner_creat"), 2, tree)
            self.assertEqual((t1.rc, t2.rc), (0, 0))
            # and the owners were found: every UDP destroy row names this script
            for line in t1.stdout.splitlines()[1:]:
                self.assertIn("users:((\"python3\"", line)

    def test_cgroup_column_is_ss_path(self):
        mount = None
        with open("/proc/self/mountinfo") as f:
            for line in f:
                pre, _, post = line.partition(" - ")
                if post.startswith("cgroup2 ") and pre.split()[3] == "/":
                    mount = pre.split()[4]
                    break
        if mount is None:
            self.skipTest("no cgroup2 mount")
        cg = os.path.join(mount, "sstrace-e2e-%d" % os.getpid())
        os.mkdir(cg)
        try:
            with Netns() as ns:
                # nsenter changes the namespace only: -N (as ss -N) mounts a private /sys,
                # where the cgroup2 mount and so every path is gone
                enter = ["nsenter", "--net=/run/netns/" + ns.name]
                t = Tracer(enter + [SSTRACE, "-v", "-n", "-E", "--cgroup", "-p", "state",
                                    "listening", "state", "established"], comm="sstrace")
                srv = Proc(ns, SERVER, 5005, 1, "server-first", "127.0.0.1", cgroup=cg)
                c = None
                try:
                    srv.line()
                    c = Proc(ns, CLIENT, 5005, 1, "server-first", "127.0.0.1")
                    c.line(), c.line(), srv.line()
                    ref = subprocess.run(enter + ["ss", "-Htn", "--cgroup", "state",
                                                  "established", "sport", "=", ":5005"],
                                         capture_output=True, text=True, check=True).stdout
                    srv.go()
                    c.go()
                    srv.finish()
                    c.finish()
                finally:
                    srv.kill()
                    if c:
                        c.kill()
                    t.stop()
            want = re.search(r"cgroup:(\S+)", ref)
            self.assertTrue(want, ref)
            self.assertTrue(want.group(1).endswith("/sstrace-e2e-%d" % os.getpid()), ref)
            server_rows = [l for l in t.stdout.splitlines()
                           if len(l.split()) > 4 and l.split()[4] == "127.0.0.1:5005"]
            self.assertTrue(server_rows, t.stdout)
            for l in server_rows:
                self.assertIn("cgroup:" + want.group(1), l)
        finally:
            os.rmdir(cg)

    def test_classic_tracepoints_have_no_owners(self):
        r = subprocess.run([SSTRACE, "-E", "-p", "--bpf-variant", "tracepoint"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    main((OwnersTest,))
