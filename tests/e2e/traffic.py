#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Deterministic loopback TCP traffic for the end-to-end tests.

Run inside a test network namespace. Prints one JSON object: the listener and, for every
connection, the client's and the accepted socket's endpoints, so tests can assert exact rows.

  traffic.py SCENARIO FAMILY PORT COUNT
    SCENARIO: client-close | server-close | rst | refused
    FAMILY:   4 | 6
"""
import json
import socket
import struct
import sys
import time

def endpoint(addr):
    return [addr[0], addr[1]]

def main():
    scenario, fam, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    af = socket.AF_INET if fam == "4" else socket.AF_INET6
    host = "127.0.0.1" if fam == "4" else "::1"
    out = {"scenario": scenario, "family": fam, "listener": [host, port], "conns": []}

    if scenario == "refused":
        for _ in range(count):
            c = socket.socket(af, socket.SOCK_STREAM)
            try:
                c.connect((host, port))
            except ConnectionRefusedError:
                pass
            out["conns"].append({"client": endpoint(c.getsockname()), "server": [host, port]})
            c.close()
        print(json.dumps(out))
        return

    ls = socket.socket(af, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(64)
    for _ in range(count):
        c = socket.create_connection((host, port))
        s, _ = ls.accept()
        out["conns"].append({"client": endpoint(c.getsockname()), "server": endpoint(s.getsockname())})
        if scenario == "client-close":
            c.close()                 # client FIN first: the client gets the timewait socket
            assert s.recv(1) == b""
            s.close()
        elif scenario == "server-close":
            s.close()                 # server FIN first: the accepted socket gets it
            assert c.recv(1) == b""
            c.close()
        elif scenario == "rst":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()                 # RST: nobody enters TIME-WAIT
            try:
                s.recv(1)
            except ConnectionResetError:
                pass
            s.close()
        else:
            raise SystemExit("unknown scenario " + scenario)
    ls.close()
    time.sleep(0.05)
    print(json.dumps(out))

if __name__ == "__main__":
    main()
