#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Times `ss` (iproute2) against `sstrace` for socket listings on TCP sockets held in a private
# network namespace (loopback only), with each of sstrace's listing sources side by side in one
# run: sock_diag (SSTRACE_LISTING_SOURCE=diag), the BPF iterators (=iter) and the automatic
# choice (unset). Prints wall time (best of RUNS), each time's ratio to ss's and the peak RSS of
# each (from /usr/bin/time -v). 1 % of the sockets are clients of port 443, for the filtered
# listing `-tan dport = :443`.
#
# Usage: scripts/bench-dump.sh [path/to/sstrace] [counts...]   (root; default counts 10 100000)
set -euo pipefail

SSTRACE=$(realpath "${1:-build/sstrace}")
shift || true
COUNTS=("$@")
[ ${#COUNTS[@]} -eq 0 ] && COUNTS=(10 100000)
SS=${SS:-/usr/bin/ss}
RUNS=${RUNS:-5}
NS="sstrace-bench-$$"
HOLDER_PID=""

# Benchmark a private copy, so that a rebuild during the run cannot disturb it.
BIN_DIR=$(mktemp -d)
cp "$SSTRACE" "$BIN_DIR/sstrace"
SSTRACE="$BIN_DIR/sstrace"

cleanup() {
    rm -rf "$BIN_DIR"
    if [ -n "$HOLDER_PID" ]; then
        kill "$HOLDER_PID" 2>/dev/null || true
        wait "$HOLDER_PID" 2>/dev/null || true
    fi
    ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

[ "$(id -u)" -eq 0 ] || { echo "bench-dump: needs root" >&2; exit 1; }

ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
ip netns exec "$NS" sysctl -qw net.core.somaxconn=65535
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_max_syn_backlog=65535

# One listener per 20000 pairs; each pair gives two ESTAB sockets.
# Pairs of ESTAB sockets over loopback, spread over worker processes so that each stays below
# the open-files limit (which an unprivileged container may not raise).
# Pairs of ESTAB sockets over loopback, spread over worker processes so that each stays below
# the open-files limit (which an unprivileged container may not raise). The first worker's pairs
# connect to port 443: 1 % of the sockets (at least one pair).
HOLDER=$(cat <<'PY'
import ctypes, os, resource, signal, socket, sys
n = int(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
per_worker = max(1, (hard - 100) // 2)  # pairs per process
pairs = n // 2
workers = []

def worker(port, count):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the holder
        os.close(r)
        keep = []
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", port)); l.listen(4096); keep.append(l)
        for _ in range(count):
            c = socket.socket(); c.connect(("127.0.0.1", port))
            a, _ = l.accept(); keep += [c, a]
        os.write(w, b"x")
        os.read(0, 1)  # until the parent goes away
        os._exit(0)
    os.close(w)
    os.read(r, 1)
    workers.append(pid)

https = min(pairs, max(1, n // 100))
worker(443, https)
start = https
port = 200  # below the ephemeral range, so no client port takes it
while start < pairs:
    count = min(per_worker, pairs - start)
    worker(port, count)
    start += count
    port += 1
print("READY", flush=True)
try:
    sys.stdin.read()
finally:
    for pid in workers:
        os.kill(pid, 9)
PY
)

run_once() {  # prints "nanoseconds rss_kB cpu_ms" of one run (cpu: user + system time)
    local tmp=$1 t0 t1
    shift
    t0=$(date +%s%N)
    /usr/bin/time -f '%M %U %S' -o "$tmp" nsenter --net="/run/netns/$NS" "$@" >/dev/null
    t1=$(date +%s%N)
    echo "$((t1 - t0)) $(tail -1 "$tmp" | awk '{ printf "%s %d", $1, ($2 + $3) * 1000 }')"
}

# Runs ss and each sstrace source in turn RUNS times (so that load from elsewhere hits them
# alike) and prints "seconds rss_kB cpu_ms" of each: the fastest run's wall time and peak RSS,
# and the least CPU time (user + system, which other processes' load inflates less than the wall
# time), in the order ss, diag, iter, auto. ARGS is split into words.
SOURCES=(diag iter auto)
measure() {
    local args=$1 tmp ns kb ms i
    local -a argv best rss cpu
    read -r -a argv <<<"$args"
    tmp=$(mktemp)
    for _ in $(seq "$RUNS"); do
        for i in 0 1 2 3; do
            local -a cmd=(env -u SSTRACE_LISTING_SOURCE "$SS")
            if [ "$i" -gt 0 ]; then
                local src=${SOURCES[$((i - 1))]}
                cmd=(env -u SSTRACE_LISTING_SOURCE "$SSTRACE")
                [ "$src" != auto ] && cmd=(env "SSTRACE_LISTING_SOURCE=$src" "$SSTRACE")
            fi
            read -r ns kb ms < <(run_once "$tmp" "${cmd[@]}" "${argv[@]}")
            if [ -z "${best[$i]:-}" ] || [ "$ns" -lt "${best[$i]}" ]; then
                best[$i]=$ns; rss[$i]=$kb
            fi
            if [ -z "${cpu[$i]:-}" ] || [ "$ms" -lt "${cpu[$i]}" ]; then cpu[$i]=$ms; fi
        done
    done
    rm -f "$tmp"
    for i in 0 1 2 3; do
        awk -v t="${best[$i]}" -v r="${rss[$i]}" -v c="${cpu[$i]}" \
            'BEGIN { printf "%.3f %s %s ", t / 1e9, r, c }'
    done
    echo
}

# What the automatic choice took for these arguments (-v's words).
auto_source() {
    local -a argv
    read -r -a argv <<<"$1"
    nsenter --net="/run/netns/$NS" env -u SSTRACE_LISTING_SOURCE "$SSTRACE" -v "${argv[@]}" \
        2>&1 >/dev/null | awk '/TCP table from the BPF/ { s = "iter" } /TCP table from sock_diag/ \
        { s = "diag" } /owners from the BPF/ { o = "+iter" } /owners from \/proc/ { o = "+proc" }
        END { printf "%s%s", s, o }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "sstrace listing sources against ss, best of $RUNS runs: wall seconds and their ratio to ss,"
echo "CPU milliseconds (user + system) and their ratio to ss, what auto took, peak RSS (kB)"
printf '%-7s %-18s %6s %6s %6s %6s %5s %5s %5s %6s %6s %6s %6s %5s %5s %5s %-10s %6s %6s %6s %6s\n' \
    sockets args ss diag iter auto dg/ss it/ss au/ss cpu_ss cpu_dg cpu_it cpu_au dg/ss it/ss \
    au/ss auto_took rss_ss rss_dg rss_it rss_au
for n in "${COUNTS[@]}"; do
    coproc HOLD { exec nsenter --net="/run/netns/$NS" python3 -c "$HOLDER" "$n"; }
    HOLDER_PID=$HOLD_PID
    read -r ready <&"${HOLD[0]}"
    [ "$ready" = READY ] || { echo "bench-dump: holder failed" >&2; exit 1; }
    for args in "-tan" "-tanp" "-tani" "-tan dport = :443"; do
        read -r t0 r0 c0 t1 r1 c1 t2 r2 c2 t3 r3 c3 < <(measure "$args")
        printf '%-7s %-18s %6s %6s %6s %6s %5s %5s %5s %6s %6s %6s %6s %5s %5s %5s %-10s %6s %6s %6s %6s\n' \
            "$n" "$args" "$t0" "$t1" "$t2" "$t3" "$(ratio "$t1" "$t0")" "$(ratio "$t2" "$t0")" \
            "$(ratio "$t3" "$t0")" "$c0" "$c1" "$c2" "$c3" "$(ratio "$c1" "$c0")" \
            "$(ratio "$c2" "$c0")" "$(ratio "$c3" "$c0")" "$(auto_source "$args")" \
            "$r0" "$r1" "$r2" "$r3"
    done
    kill "$HOLDER_PID" 2>/dev/null || true
    wait "$HOLDER_PID" 2>/dev/null || true
    HOLDER_PID=""
    sleep 1
done
