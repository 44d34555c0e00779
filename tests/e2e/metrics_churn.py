#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Loopback churn for the --metrics tests: known counts per service port.

Run inside a test network namespace:

  metrics_churn.py SETTLE PORT:CLOSES:RESETS ...

Listens on every PORT (IPv4 loopback) first, waits SETTLE seconds (sstrace refreshes its table
of listening ports about once a second), then for each PORT makes CLOSES connections that the
client closes first (the client's socket enters TIME-WAIT) and RESETS connections that the
client closes with SO_LINGER 0 (an RST: both ends go from ESTABLISHED to CLOSE). Prints one
JSON object: what was done, per port.
"""
import json
import socket
import struct
import sys
import time


def main():
    settle = float(sys.argv[1])
    plan = []
    for spec in sys.argv[2:]:
        port, closes, resets = (int(x) for x in spec.split(":"))
        plan.append((port, closes, resets))
    listeners = {}
    for port, _, _ in plan:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(128)
        listeners[port] = ls
    time.sleep(settle)
    done = {}
    for port, closes, resets in plan:
        ls = listeners[port]
        for i in range(closes + resets):
            c = socket.create_connection(("127.0.0.1", port))
            s, _ = ls.accept()
            if i < closes:
                c.close()  # client FIN first: the client's socket enters TIME-WAIT
                assert s.recv(1) == b""
                s.close()
            else:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()  # RST: both ends leave ESTABLISHED for CLOSE
                try:
                    s.recv(1)
                except ConnectionResetError:
                    pass
                s.close()
        done[str(port)] = {"closes": closes, "resets": resets,
                           "client_port_range_max": 60999}
    for ls in listeners.values():
        ls.close()
    print(json.dumps(done))


if __name__ == "__main__":
    main()
