#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""One loopback TCP connection held ESTABLISHED until told to close, for the details tests.

  held_conn.py FAMILY PORT

Opens a listener and a connection, sets keepalive (idle 100 s) and fixed socket buffers on the
client, sends 10000 bytes from the client and 3000 back, waits until both sides are idle, then
prints one JSON line (the client's and the server's endpoints) and waits for a line on stdin.
Then the client closes first (FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT), the server after it, and the
script prints "closed" and exits.
"""
import json
import socket
import sys
import time


def main():
    fam, port = sys.argv[1], int(sys.argv[2])
    af = socket.AF_INET if fam == "4" else socket.AF_INET6
    host = "127.0.0.1" if fam == "4" else "::1"
    ls = socket.socket(af, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(4)
    c = socket.socket(af, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 131072)
    c.connect((host, port))
    born = time.monotonic()
    s, _ = ls.accept()
    c.sendall(b"x" * 10000)
    got = 0
    while got < 10000:
        got += len(s.recv(65536))
    s.sendall(b"y" * 3000)
    got = 0
    while got < 3000:
        got += len(c.recv(65536))
    time.sleep(0.3)  # delayed ACKs sent, both sides idle
    print(json.dumps({"client": list(c.getsockname()[:2]), "server": list(s.getsockname()[:2])}),
          flush=True)
    sys.stdin.readline()
    held = time.monotonic() - born
    c.close()
    assert s.recv(1) == b""
    s.close()
    ls.close()
    print(json.dumps({"held_s": held}), flush=True)


if __name__ == "__main__":
    main()
