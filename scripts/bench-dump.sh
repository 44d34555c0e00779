#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Times `ss` (iproute2) against `sstrace` for socket listings on 10k and 100k TCP sockets held
# in a private network namespace (loopback only). Prints wall time (best of RUNS), the time
# ratio sstrace/ss and the peak RSS of each (from /usr/bin/time -v).
#
# Usage: scripts/bench-dump.sh [path/to/sstrace] [counts...]   (root; default counts 10000 100000)
set -euo pipefail

SSTRACE=$(realpath "${1:-build/sstrace}")
shift || true
COUNTS=("$@")
[ ${#COUNTS[@]} -eq 0 ] && COUNTS=(10000 100000)
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
HOLDER=$(cat <<'PY'
import ctypes, os, resource, signal, socket, sys
n = int(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
per_worker = max(1, (hard - 100) // 2)  # pairs per process
pairs = n // 2
workers = []
port = 200  # below the ephemeral range, so no client port takes it
start = 0
while start < pairs:
    count = min(per_worker, pairs - start)
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

run_once() {  # prints "nanoseconds rss_kB" of one run
    local tmp=$1 t0 t1
    shift
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$tmp" nsenter --net="/run/netns/$NS" "$@" >/dev/null
    t1=$(date +%s%N)
    echo "$((t1 - t0)) $(tail -1 "$tmp")"
}

# Runs ss and sstrace alternately RUNS times (so that load from elsewhere hits both alike) and
# prints "ss_seconds ss_rss sstrace_seconds sstrace_rss" of the fastest run of each.
measure_pair() {
    local args=$1 tmp best_s="" rss_s="" best_t="" rss_t="" ns kb
    tmp=$(mktemp)
    for _ in $(seq "$RUNS"); do
        read -r ns kb < <(run_once "$tmp" "$SS" "$args")
        if [ -z "$best_s" ] || [ "$ns" -lt "$best_s" ]; then best_s=$ns; rss_s=$kb; fi
        read -r ns kb < <(run_once "$tmp" "$SSTRACE" "$args")
        if [ -z "$best_t" ] || [ "$ns" -lt "$best_t" ]; then best_t=$ns; rss_t=$kb; fi
    done
    rm -f "$tmp"
    awk -v a="$best_s" -v b="$rss_s" -v c="$best_t" -v d="$rss_t" \
        'BEGIN { printf "%.3f %s %.3f %s\n", a / 1e9, b, c / 1e9, d }'
}

printf '%-8s %-8s %10s %10s %8s %12s %12s\n' sockets args ss_s sstrace_s ratio ss_rss_kB sstrace_rss_kB
for n in "${COUNTS[@]}"; do
    coproc HOLD { exec nsenter --net="/run/netns/$NS" python3 -c "$HOLDER" "$n"; }
    HOLDER_PID=$HOLD_PID
    read -r ready <&"${HOLD[0]}"
    [ "$ready" = READY ] || { echo "bench-dump: holder failed" >&2; exit 1; }
    for args in -tan -tanp -tani; do
        read -r s_t s_rss t_t t_rss < <(measure_pair "$args")
        ratio=$(awk "BEGIN{ if ($s_t > 0) printf \"%.2f\", $t_t / $s_t; else print \"n/a\" }")
        printf '%-8s %-8s %10s %10s %8s %12s %12s\n' "$n" "$args" "$s_t" "$t_t" "$ratio" "$s_rss" "$t_rss"
    done
    kill "$HOLDER_PID" 2>/dev/null || true
    wait "$HOLDER_PID" 2>/dev/null || true
    HOLDER_PID=""
    sleep 1
done
