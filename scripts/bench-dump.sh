#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Times `ss` (iproute2) against `sstrace` for socket listings on TCP sockets held in a private
# network namespace (loopback only), with each of sstrace's listing sources side by side in one
# run: sock_diag (SSTRACE_LISTING_SOURCE=diag), the BPF iterators (=iter) and the automatic
# choice (unset). Prints wall time (best of RUNS), CPU time (user + system, least of RUNS, to
# the microsecond from wait4()), each one's ratio to ss's and the peak RSS of each. 1 % of the
# sockets are clients of port 443, for the filtered listing `-tan dport = :443`. The runs are
# interleaved (ss, diag, iter, auto, ss, ...) so that load from elsewhere hits them alike; the
# load average is printed before each size.
#
# Usage: scripts/bench-dump.sh [path/to/sstrace] [counts...]   (root; default counts 10 100000)
# Environment: RUNS (5), SS (/usr/bin/ss), LISTINGS (the argument lists, separated by commas;
# default "-tan,-tanp,-tani,-tan dport = :443").
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

# Runs ARGV with stdout on /dev/null and prints "nanoseconds rss_kB cpu_us": wall time from the
# fork to the reaping, peak RSS and user + system time from the child's rusage (wait4, to the
# microsecond). A small C program: the peak RSS of a child includes what it had before exec,
# which for a fork of bash or python would be theirs.
cat >"$BIN_DIR/runner.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		dup2(open("/dev/null", O_WRONLY), 1);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld %ld %lld\n", (t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec,
	       ru.ru_maxrss, (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
C
cc -O2 -o "$BIN_DIR/runner" "$BIN_DIR/runner.c"
run_once() {
    "$BIN_DIR/runner" nsenter --net="/run/netns/$NS" "$@" || {
        echo "bench-dump: $* failed" >&2
        exit 1
    }
}

# Runs ss and each sstrace source in turn RUNS times (so that load from elsewhere hits them
# alike) and prints "seconds rss_kB cpu_ms" of each: the fastest run's wall time and peak RSS,
# and the least CPU time (user + system, which other processes' load inflates less than the wall
# time), in the order ss, diag, iter, auto. ARGS is split into words.
SOURCES=(diag iter auto)
measure() {
    local args=$1 ns kb us i
    local -a argv best rss cpu
    read -r -a argv <<<"$args"
    for _ in $(seq "$RUNS"); do
        for i in 0 1 2 3; do
            local -a cmd=(env -u SSTRACE_LISTING_SOURCE "$SS")
            if [ "$i" -gt 0 ]; then
                local src=${SOURCES[$((i - 1))]}
                cmd=(env -u SSTRACE_LISTING_SOURCE "$SSTRACE")
                [ "$src" != auto ] && cmd=(env "SSTRACE_LISTING_SOURCE=$src" "$SSTRACE")
            fi
            read -r ns kb us < <(run_once "${cmd[@]}" "${argv[@]}")
            if [ -z "${best[$i]:-}" ] || [ "$ns" -lt "${best[$i]}" ]; then
                best[$i]=$ns; rss[$i]=$kb
            fi
            if [ -z "${cpu[$i]:-}" ] || [ "$us" -lt "${cpu[$i]}" ]; then cpu[$i]=$us; fi
        done
    done
    for i in 0 1 2 3; do
        awk -v t="${best[$i]}" -v r="${rss[$i]}" -v c="${cpu[$i]}" \
            'BEGIN { printf "%.3f %s %.1f ", t / 1e9, r, c / 1000 }'
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
IFS=, read -r -a LISTS <<<"${LISTINGS:--tan,-tanp,-tani,-tan dport = :443}"
for n in "${COUNTS[@]}"; do
    echo "# $n sockets; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    coproc HOLD { exec nsenter --net="/run/netns/$NS" python3 -c "$HOLDER" "$n"; }
    HOLDER_PID=$HOLD_PID
    read -r ready <&"${HOLD[0]}"
    [ "$ready" = READY ] || { echo "bench-dump: holder failed" >&2; exit 1; }
    # -p's owner source depends on the open files of the whole system (SOURCE_PLAN: file-nr)
    echo "# open files in the system: $(cut -f1 /proc/sys/fs/file-nr)"
    for args in "${LISTS[@]}"; do
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
