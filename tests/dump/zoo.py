#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Socket zoo for the dump golden tests: run inside a private network namespace.

Creates TCP/UDP/raw/unix/packet/netlink sockets in stable states, prints READY on stdout and
then waits until stdin is closed (or it is killed). Usage: zoo.py WORKDIR
"""
import os
import socket
import struct
import sys
import time

work = sys.argv[1]
keep = []


def tcp_listen(fam, addr, port, v6only=None, dev=None, backlog=128):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    if dev:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    s.bind((addr, port))
    s.listen(backlog)
    keep.append(s)
    return s


def pair(listener, fam, addr, port, client_opts=None):
    c = socket.socket(fam, socket.SOCK_STREAM)
    for lvl, opt, val in client_opts or []:
        c.setsockopt(lvl, opt, val)
    c.connect((addr, port))
    a, _ = listener.accept()
    keep.extend([c, a])
    return c, a


# TCP listeners
l22 = tcp_listen(socket.AF_INET, "0.0.0.0", 22)
l8080 = tcp_listen(socket.AF_INET, "127.0.0.1", 8080)
tcp_listen(socket.AF_INET, "0.0.0.0", 5000)
l80 = tcp_listen(socket.AF_INET, "127.0.0.1", 80)
l8443 = tcp_listen(socket.AF_INET6, "::1", 8443, v6only=True)
l9000 = tcp_listen(socket.AF_INET6, "::", 9000, v6only=False)
tcp_listen(socket.AF_INET6, "::", 9001, v6only=True)
tcp_listen(socket.AF_INET, "127.0.0.1", 7000, dev="lo")

# established pairs
c, a = pair(l8080, socket.AF_INET, "127.0.0.1", 8080)
c.send(b"x" * 1234)
c, a = pair(l8443, socket.AF_INET6, "::1", 8443)
c.send(b"y" * 10)
pair(l22, socket.AF_INET, "127.0.0.1", 22,
     [(socket.SOL_SOCKET, socket.SO_MARK, 0x2a), (socket.IPPROTO_IP, socket.IP_TOS, 0x10)])
pair(l9000, socket.AF_INET, "127.0.0.1", 9000)
pair(l80, socket.AF_INET, "127.0.0.1", 80)

# MPTCP listener and connection (when the kernel has MPTCP)
try:
    ml = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    ml.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ml.bind(("127.0.0.1", 6262))
    ml.listen(4)
    mc = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    mc.connect(("127.0.0.1", 6262))
    ma, _ = ml.accept()
    keep.extend([ml, mc, ma])
except OSError:
    pass

# FIN-WAIT-2 / CLOSE-WAIT
l7500 = tcp_listen(socket.AF_INET, "127.0.0.1", 7500, backlog=5)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", 7500))
a, _ = l7500.accept()
keep.append(a)
c.shutdown(socket.SHUT_WR)
keep.append(c)

# TIME-WAIT (v4 and v6): the client closes first, then the server.
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    lt = socket.socket(fam, socket.SOCK_STREAM)
    lt.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lt.bind((addr, 0))
    lt.listen(8)
    port = lt.getsockname()[1]
    for _ in range(2):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.connect((addr, port))
        a, _ = lt.accept()
        c.close()
        time.sleep(0.02)
        a.close()
    lt.close()

# SYN-SENT towards unreachable peers with static neighbour entries
for fam, addr in ((socket.AF_INET, ("10.99.0.2", 443)), (socket.AF_INET, ("10.99.0.2", 8443)),
                  (socket.AF_INET6, ("fe80::2", 8080, 0, socket.if_nametoindex("v0")))):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(addr)
    except BlockingIOError:
        pass
    keep.append(s)

# UDP
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 5353))
keep.append(u)
uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
uc.connect(("127.0.0.1", 5353))
uc.send(b"hello")
keep.append(uc)
for fam, addr, v6only in ((socket.AF_INET6, ("::1", 123), True), (socket.AF_INET6, ("::", 4000), False),
                          (socket.AF_INET6, ("fe80::1", 4001, 0, socket.if_nametoindex("v0")), True)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind(addr)
    keep.append(s)

# raw
keep.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
keep.append(socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))

# unix
path = os.path.join(work, "zoo.sock")
ul = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ul.bind(path)
ul.listen(5)
keep.append(ul)
uc = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
uc.connect(path)
ua, _ = ul.accept()
uc.send(b"abc")
keep.extend([uc, ua])
abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
abstract.bind(b"\0sstrace-zoo-abstract-" + str(os.getpid()).encode())
abstract.listen(5)
keep.append(abstract)
ud = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ud.bind(os.path.join(work, "zoo.dgram"))
keep.append(ud)
keep.extend(socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET))
keep.extend(socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))
auto = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
auto.bind(b"")  # autobind
keep.append(auto)

# packet: raw on lo with a one-instruction classic BPF filter, dgram for IPv4 unbound
ETH_P_ALL = 3
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
p.bind(("lo", ETH_P_ALL))
prog = struct.pack("HBBI", 0x06, 0, 0, 0xFFFF)  # ret #65535
buf = bytearray(prog)
import ctypes
cbuf = (ctypes.c_char * len(buf)).from_buffer(buf)
fprog = struct.pack("HL", 1, ctypes.addressof(cbuf))
p.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
keep.append(p)
keep.append(socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800)))

# packet with a TPACKET_V2 rx ring and a fanout group
SOL_PACKET, PACKET_VERSION, PACKET_RX_RING, PACKET_FANOUT = 263, 10, 5, 18
pr = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86DD))
pr.setsockopt(SOL_PACKET, PACKET_VERSION, 1)
pr.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack("IIII", 4096, 2, 2048, 4))
pr.bind(("lo", 0x86DD))
pr.setsockopt(SOL_PACKET, PACKET_FANOUT, 7 | (1 << 16))  # id 7, type lb
keep.append(pr)

# netlink
nc = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
nc.connect((0, 0))
keep.append(nc)
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
n.bind((0, 0))
keep.append(n)
g = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
g.bind((0, 0))
keep.append(g)

# a pending (not accepted) connection on the abstract listener: `peers:` with -e
pend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
pend.connect(b"\0sstrace-zoo-abstract-" + str(os.getpid()).encode())
keep.append(pend)

# keepalive timer on an established client
ka, _ = pair(l80, socket.AF_INET, "127.0.0.1", 80, [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)])

# a second thread (for -T) and a forked child sharing the :22 listener and owning
# sockets as an unprivileged user (uid: with -e)
import threading
threading.Thread(target=lambda: time.sleep(3600), daemon=True).start()
r, w = os.pipe()
child = os.fork()
if child == 0:
    ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: never outlive the zoo
    os.close(r)
    os.setgid(65534)
    os.setuid(65534)
    own = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    own.bind(("127.0.0.1", 6001))
    own.listen(3)
    ou = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    ou.connect(("::1", 123))
    os.write(w, b"x")
    while True:
        time.sleep(3600)
os.close(w)
os.read(r, 1)

time.sleep(0.3)
print("READY", flush=True)
try:
    sys.stdin.read()
finally:
    os.kill(child, 9)
    os.waitpid(child, 0)
