#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench-events.sh: what following TCP events costs, sstrace against ss -E and tcpstates.
#
# Usage (root; build sstrace first: cmake -S . -B build -G Ninja && cmake --build build):
#   scripts/bench-events.sh [--profile default|heavy] [--seconds S] [--threads T] [--servers N]
#                           [--mode client-close|server-close|rst|mix] [--family 4|6|46]
#                           [--ports K] [--runs "LIST"] [--pause S] [--rounds N]
#                           [--sstrace PATH] [--keep DIR] [--no-bpf-stats] [--netns NAME]
#                           [--floor] [--conns N]
#   --threads T: churn's connecting threads (default 2). --servers N: churn's accepting
#     threads, N epoll threads for all listeners (default: churn's blocking model, one thread
#     per listener and client thread). --mode mix: each client connection takes client-close,
#     server-close and rst in turn, so the three run at once (default client-close).
#   --profile heavy: --threads 8 --servers 2 --mode mix --family 46, the load of issue 7 with
#     8 connecting threads; options given explicitly win, wherever they stand.
#   --runs picks and orders the runs of one round, default:
#     "base sstrace-E sstrace-tw sstrace-all ss-E tcpstates base"
#   --rounds N repeats that list N times (default 2); each run's ratio is against the mean
#     of the base runs of its own round, and the summary gives medians over the rounds.
#   --keep DIR copies every tool's output and stderr there.
#   --conns N stops each churn after N connections (--seconds stays the upper bound), so that
#     every run does the same work and the tools' CPU times compare directly (each includes its
#     start-up, about 0.3 s of CPU for sstrace, which tool-us/ev spreads over the events).
#   --netns NAME names the namespace the runs use (default sstbench-PID-RANDOM).
#   --no-bpf-stats skips the BPF run-time columns (bpf-ns, bpf-runs per connection; skipped
#     stays). Otherwise
#     the kernel's BPF run-time statistics are on while the script runs, through
#     bpf(BPF_ENABLE_STATS): a file descriptor held by a helper; they go off when it exits.
#   --floor also attaches empty tp_btf programs (scripts/bench-floor.bpf.c, built here with
#     clang and cc -lbpf) to inet_sock_set_state, tcp_destroy_sock and timer_start for the whole
#     script, base runs included, and lists their runs in the per-program table as run
#     "floor:RUN": the cost of running any program on those hooks, measured under the same
#     churn as each tool's programs. Needs the BPF statistics.
#
# In one fresh network namespace (deleted on every exit path, with every process left in it)
# it runs scripts/churn.c, built here with cc, with the same duration and threads once per run:
# without a tool ("base"), and under one tool writing to a file:
#   sstrace-E    sstrace -E                    ss-E       stdbuf -oL ss -E
#   sstrace-tw   sstrace -E state time-wait    tcpstates  libbpf-tools tcpstates (every netns;
#   sstrace-all  sstrace -E state all                     its rows are counted by server port)
#   sstrace-E-p  sstrace -E -p                 sstrace-all-p   sstrace -E -p state all
#   sstrace-Ei   sstrace -E -i                 sstrace-all-i   sstrace -E -i state all
#   sstrace-Em   sstrace -E -m                 sstrace-all-om  sstrace -E -o -m state all
#   sstrace-tw-ends  sstrace -E --transitions state time-wait (the timer_cancel and
#                timer_expire_entry hooks that follow TIME-WAIT to its end)
#   sstrace-tw-watch sstrace -E --watch state time-wait (the listing, then the live table)
#   sstrace-tw-o     sstrace -E -o state time-wait (the timewait timer on each row)
#   sstrace-metrics     sstrace --metrics 127.0.0.1:19099 (counters in BPF maps, no rows)
#   sstrace-tw-metrics  sstrace -E state time-wait --metrics 127.0.0.1:19099
#   sstrace-top         sstrace -v --top --batch (counters in BPF maps, a live table of every
#                       TCP state for the sockets now, one text report a second)
#   sstrace-all-write   sstrace -E state all --write FILE (a capture instead of rows; its
#                       "printed" is the events written)
#   (the owners, details, ends, watch, metrics, top and capture runs are not in the default list: --runs
#   names them, e.g.
#   --runs "base sstrace-E sstrace-E-p sstrace-all sstrace-all-p base")
# For each run: the connection rate and its ratio to the mean of the base runs of the round,
# the events the namespace's counters (nstat) say the tool should see, the rows it printed, the
# losses it reported (sstrace's summary, tcpstates' "lost N events", ss's ENOBUFS), the
# program skips of its BPF programs ("skipped": the growth of recursion_misses summed over the
# programs the tool's process holds, read with bpftool before and after the churn: runs the
# kernel skipped because the program was already running on that CPU; ss -E has no BPF: "-".
# A skip is a lost event unless the tool handles it another way, as a second copy of the
# program does), its CPU time, churn's CPU time per connection, and the tool's BPF run time
# per connection (BPF programs run in the churning tasks' context: their cost shows there,
# not in the tool's CPU). sstrace's split of its losses by cause, when it prints one, is in
# the counters column.
# Loopback only, bounded (about S+5 s per run); stop it with Ctrl-C or SIGTERM.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/netns-lib.sh
. "$here/netns-lib.sh"
root=$(cd "$here/.." && pwd)

profile=default
seconds=5
threads=""
servers=""
mode=""
family=""
nports=4
port=19100
runs="base sstrace-E sstrace-tw sstrace-all ss-E tcpstates base"
pause=2
bpf_stats=1
rounds=2
sstrace="$root/build/sstrace"
keep=""
ns_name=""
floor=0
conns_max=""

die() { echo "bench-events: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
    --profile) profile=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --family) family=$2; shift 2 ;;
    --ports) nports=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --pause) pause=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --sstrace) sstrace=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --no-bpf-stats) bpf_stats=0; shift ;;
    --netns) ns_name=$2; shift 2 ;;
    --floor) floor=1; shift ;;
    --conns) conns_max=$2; shift 2 ;;
    -h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
# a profile gives defaults; explicit options win
case "$profile" in
default) : "${threads:=2}" "${mode:=client-close}" "${family:=4}" ;;
heavy) : "${threads:=8}" "${servers:=2}" "${mode:=mix}" "${family:=46}" ;;
*) die "bad --profile $profile (default or heavy)" ;;
esac
case "$mode" in client-close|server-close|rst|mix) ;; *) die "bad --mode $mode" ;; esac
case "$family" in 4|6|46|64) ;; *) die "bad --family $family" ;; esac
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 1 && "$seconds" -le 60 ]] || die "--seconds 1..60"
[[ "$threads" =~ ^[0-9]+$ && "$threads" -ge 1 && "$threads" -le 64 ]] || die "--threads 1..64"
[[ -z "$servers" || ( "$servers" =~ ^[0-9]+$ && "$servers" -ge 1 && "$servers" -le 64 ) ]] ||
    die "--servers 1..64"
[[ "$pause" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--pause takes seconds"
[[ -z "$conns_max" || ( "$conns_max" =~ ^[0-9]+$ && "$conns_max" -ge 1 ) ]] ||
    die "--conns takes a number of connections"
[[ "$rounds" =~ ^[0-9]+$ && "$rounds" -ge 1 && "$rounds" -le 10 ]] || die "--rounds 1..10"
[[ "$nports" =~ ^[0-9]+$ && "$nports" -ge 1 && "$nports" -le 16 ]] || die "--ports 1..16"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, BPF)"
[ "$floor" -eq 0 ] || [ "$bpf_stats" -eq 1 ] || die "--floor needs the BPF statistics"
for r in $runs; do
    case "$r" in
    base|sstrace-E|sstrace-E-p|sstrace-Ei|sstrace-Em|sstrace-tw|sstrace-all|sstrace-all-p) ;;
    sstrace-all-i|sstrace-all-om|sstrace-tw-ends|sstrace-tw-watch|sstrace-tw-o|ss-E|tcpstates) ;;
    sstrace-metrics|sstrace-tw-metrics|sstrace-top|sstrace-all-write) ;;
    *) die "unknown run $r" ;;
    esac
    case "$r" in
    sstrace-*) [ -x "$sstrace" ] || die "$sstrace not built (cmake --build build)" ;;
    tcpstates) command -v tcpstates >/dev/null || die "tcpstates missing (apt-get install libbpf-tools)" ;;
    esac
done
for c in cc ip nstat ss stdbuf unshare; do
    command -v "$c" >/dev/null || die "$c missing (scripts/install-deps.sh)"
done

ns="${ns_name:-sstbench-$$-$RANDOM}"
work=$(mktemp -d /tmp/sstbench.XXXXXX)
tool_wrapper=""
tool_pid=""
stats_pid=""
floor_pid=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$floor_pid" ]; then
        kill -TERM "$floor_pid" 2>/dev/null || true
        wait "$floor_pid" 2>/dev/null || true
    fi
    if [ -n "$tool_pid" ]; then
        kill -KILL "$tool_pid" 2>/dev/null || true
    fi
    if [ -n "$tool_wrapper" ]; then
        wait "$tool_wrapper" 2>/dev/null || true
    fi
    if [ -n "$stats_pid" ]; then
        kill -TERM "$stats_pid" 2>/dev/null || true
        wait "$stats_pid" 2>/dev/null || true
    fi
    netns_delete "$ns"
    if [ -n "$keep" ] && [ -d "$work" ]; then
        { mkdir -p "$keep" && cp -a "$work"/. "$keep"/; } || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -O2 -pthread -o "$work/churn" "$here/churn.c" || die "cannot build churn.c"

# Waits up to 5 s for a helper started in the background to write its ready file; dies with
# `dead` when it exits first, with `late` when it never gets there.
await_helper() {
    local file=$1 pid=$2 dead=$3 late=$4
    for _ in $(seq 50); do
        [ -s "$file" ] && return 0
        kill -0 "$pid" 2>/dev/null || die "$dead"
        sleep 0.1
    done
    [ -s "$file" ] || die "$late"
}

# BPF run-time statistics (run_cnt, run_time_ns per program) for as long as a helper holds
# the file descriptor that bpf(BPF_ENABLE_STATS) returns.
if [ "$bpf_stats" -eq 1 ]; then
    if ! command -v bpftool >/dev/null || ! command -v python3 >/dev/null; then
        die "bpftool and python3 are needed for the BPF statistics (or pass --no-bpf-stats)"
    fi
    python3 -c '
import ctypes, platform, signal, sys
nr = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}.get(platform.machine())
if nr is None:
    sys.exit("bench-events: no bpf syscall number for " + platform.machine())
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(16)  # bpf_attr.enable_stats.type = BPF_STATS_RUN_TIME (0)
fd = libc.syscall(nr, 32, attr, 16)      # BPF_ENABLE_STATS
if fd < 0:
    sys.exit("bench-events: BPF_ENABLE_STATS failed, errno %d" % ctypes.get_errno())
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print("ready", flush=True)
while True:
    signal.pause()
' >"$work/stats.ready" &
    stats_pid=$!
    await_helper "$work/stats.ready" "$stats_pid" \
        "cannot enable BPF statistics (try --no-bpf-stats)" "BPF statistics helper did not start"
fi

if [ "$floor" -eq 1 ]; then
    command -v clang >/dev/null || die "--floor needs clang"
    arch=$(uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
    clang -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -I"$root/vmlinux/$arch" \
        -c "$here/bench-floor.bpf.c" -o "$work/bench-floor.bpf.o" || die "cannot build bench-floor.bpf.c"
    cc -O2 -o "$work/bench-floor" "$here/bench-floor.c" -lbpf || die "cannot build bench-floor.c"
    "$work/bench-floor" "$work/bench-floor.bpf.o" >"$work/floor.ready" &
    floor_pid=$!
    await_helper "$work/floor.ready" "$floor_pid" "bench-floor did not start" \
        "bench-floor did not attach"
fi

# "run_cnt run_time_ns recursion_misses" summed over the BPF programs the tool's process holds
# open; one line "name run_cnt run_time_ns recursion_misses" per program into file $2.
# run_cnt and run_time_ns stay 0 without the run-time statistics; recursion_misses is always
# kept (bpftool prints it only when it is not 0).
bpf_totals() {
    local pid=$1 fd id cnt=0 ns=0 miss=0 j c t m
    : >"$2"
    for fd in /proc/"$pid"/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:bpf-prog" ] || continue
        id=$(awk '$1 == "prog_id:" { print $2 }' "/proc/$pid/fdinfo/${fd##*/}" 2>/dev/null)
        [ -n "$id" ] || continue
        j=$(bpftool -j prog show id "$id" 2>/dev/null) || continue
        c=$(grep -o '"run_cnt":[0-9]*' <<<"$j" | cut -d: -f2 || true)
        t=$(grep -o '"run_time_ns":[0-9]*' <<<"$j" | cut -d: -f2 || true)
        m=$(grep -o '"recursion_misses":[0-9]*' <<<"$j" | cut -d: -f2 || true)
        echo "$(grep -o '"name":"[^"]*"' <<<"$j" | cut -d'"' -f4) ${c:-0} ${t:-0} ${m:-0}" >>"$2"
        cnt=$((cnt + ${c:-0}))
        ns=$((ns + ${t:-0}))
        miss=$((miss + ${m:-0}))
    done
    echo "$cnt $ns $miss"
}

ip netns add "$ns"
ip -n "$ns" link set lo up
# Only inside the test namespace: ephemeral ports above the server ports, and reuse of
# TIME-WAIT tuples for new outgoing connections, so a run cannot run out of ports.
ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="20000 65535" net.ipv4.tcp_tw_reuse=1

nlisteners=$nports
[ ${#family} -eq 2 ] && nlisteners=$((nports * 2))
ports_list=$(seq -s ',' "$port" $((port + nports - 1)))

counters="TcpActiveOpens TcpPassiveOpens TcpAttemptFails TcpEstabResets TcpExtTW TcpExtTWKilled TcpExtTCPTimeWaitOverflow"
# Absolute values of the namespace's counters, "name value" per line.
snapshot() {
    # shellcheck disable=SC2086
    ip netns exec "$ns" nstat -az $counters | awk 'NR > 1 { print $1, $2 }'
}
# delta FILE_BEFORE FILE_AFTER NAME
delta() {
    local b a
    b=$(awk -v n="$3" '$1 == n { print $2 }' "$1")
    a=$(awk -v n="$3" '$1 == n { print $2 }' "$2")
    echo $(( ${a:-0} - ${b:-0} ))
}
# "0m1.234s 0m0.567s" (bash times, children line) -> user+sys seconds
times_to_s() {
    tail -n 1 "$1" | awk '{
        t = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
        printf "%.2f", t
    }'
}

# Starts a tool in the background: $1 = run name, rest = command. Its own CPU time is written
# by the wrapper subshell (bash `times`) once it has exited.
start_tool() {
    local name=$1; shift
    rm -f "$work/$name.pid"
    ( "$@" >"$work/$name.out" 2>"$work/$name.err" &
      echo $! >"$work/$name.pid"
      wait $! && rc=0 || rc=$?
      echo "$rc" >"$work/$name.rc"
      times >"$work/$name.times" ) &
    tool_wrapper=$!
    for _ in $(seq 100); do
        [ -s "$work/$name.pid" ] && break
        sleep 0.05
    done
    tool_pid=$(cat "$work/$name.pid")
}

# Waits until the tool has attached: for sstrace, it holds a BPF link (its programs are attached
# one after the other once all are loaded; its epoll instance is made before it loads any); for
# tcpstates, its event channel is open (an epoll instance, made after attaching); for ss, a
# moment after its netlink subscription.
wait_ready() {
    local name=$1 run=$2 want="anon_inode:[eventpoll]"
    case "$run" in sstrace-*) want="anon_inode:bpf_link" ;; esac
    for _ in $(seq 150); do
        kill -0 "$tool_pid" 2>/dev/null || { cat "$work/$name.err" >&2; die "$name exited early"; }
        case "$run" in
        ss-E) sleep 0.5; return 0 ;;
        *)
            local fd
            for fd in /proc/"$tool_pid"/fd/*; do
                if [ "$(readlink "$fd" 2>/dev/null)" = "$want" ]; then
                    sleep 0.3
                    return 0
                fi
            done
            ;;
        esac
        sleep 0.1
    done
    die "$name did not attach within 15 s"
}

stop_tool() {
    local name=$1 sig=$2
    kill "-$sig" "$tool_pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$tool_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$tool_pid" 2>/dev/null; then
        echo "bench-events: $name ignored SIG$sig for 10 s; killing it" >&2
        kill -KILL "$tool_pid" 2>/dev/null || true
    fi
    wait "$tool_wrapper" 2>/dev/null || true
    tool_pid=""
    tool_wrapper=""
}

# One line per program of a run (label $1) from the readings before ($2) and after ($3): runs
# per connection, ns per run, ns per connection, runs skipped. Uses $conns and $round.
prog_lines() {
    awk -v n="$conns" -v run="$round $1" 'NR == FNR { c[$1] = $2; t[$1] = $3; m[$1] = $4; next }
        { dc = $2 - c[$1]; dt = $3 - t[$1]
          printf "%-3s %-12s %-18s %9.1f %9.0f %9.0f %9d\n", substr(run, 1, index(run, " ") - 1),
                 substr(run, index(run, " ") + 1), $1, n ? dc / n : 0, dc ? dt / dc : 0, n ? dt / n : 0,
                 $4 - m[$1] }' "$2" "$3"
}

results=()
run_index=0
round=0

run_one() {
    local run=$1 name sig="" rows="-" lost="-" lost_split="" skipped="-" expected="-" tool_cpu="-"
    local early=0 cmd=()
    run_index=$((run_index + 1))
    name="$run_index-$run"
    case "$run" in
    base) ;;
    sstrace-E) cmd=(ip netns exec "$ns" "$sstrace" -n -E); sig=INT ;;
    sstrace-tw) cmd=(ip netns exec "$ns" "$sstrace" -n -E state time-wait); sig=INT ;;
    sstrace-all) cmd=(ip netns exec "$ns" "$sstrace" -n -E state all); sig=INT ;;
    # the same events into a capture file instead of rows (issue 11: no more CPU than rows)
    sstrace-all-write)
        cmd=(ip netns exec "$ns" "$sstrace" -n -E state all --write "$work/$name.cap"); sig=INT ;;
    sstrace-metrics) cmd=(ip netns exec "$ns" "$sstrace" --metrics 127.0.0.1:19099); sig=INT ;;
    # -v: --top prints its exit summary (the losses) only then
    sstrace-top) cmd=(ip netns exec "$ns" "$sstrace" -v --top --batch); sig=INT ;;
    sstrace-tw-metrics)
        cmd=(ip netns exec "$ns" "$sstrace" -n -E state time-wait --metrics 127.0.0.1:19099)
        sig=INT ;;
    sstrace-E-p) cmd=(ip netns exec "$ns" "$sstrace" -n -E -p); sig=INT ;;
    sstrace-all-p) cmd=(ip netns exec "$ns" "$sstrace" -n -E -p state all); sig=INT ;;
    sstrace-Ei) cmd=(ip netns exec "$ns" "$sstrace" -n -E -i); sig=INT ;;
    sstrace-Em) cmd=(ip netns exec "$ns" "$sstrace" -n -E -m); sig=INT ;;
    sstrace-all-i) cmd=(ip netns exec "$ns" "$sstrace" -n -E -i state all); sig=INT ;;
    sstrace-all-om) cmd=(ip netns exec "$ns" "$sstrace" -n -E -o -m state all); sig=INT ;;
    sstrace-tw-ends) cmd=(ip netns exec "$ns" "$sstrace" -n -E --transitions state time-wait); sig=INT ;;
    sstrace-tw-watch) cmd=(ip netns exec "$ns" "$sstrace" -n -E --watch state time-wait); sig=INT ;;
    sstrace-tw-o) cmd=(ip netns exec "$ns" "$sstrace" -n -E -o state time-wait); sig=INT ;;
    # iproute2 6.1 block-buffers ss -E rows written to a file and dies on SIGTERM without
    # flushing: line buffering makes every row reach the file (one write per row).
    ss-E) cmd=(ip netns exec "$ns" stdbuf -oL ss -n -E); sig=TERM ;;
    # tcpstates uses classic tracepoints, which need tracefs: mount it in a private mount
    # namespace that disappears with the tool. It sees every network namespace.
    tcpstates) cmd=(unshare --mount --propagation private sh -c
                    'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; exec tcpstates');
               sig=INT ;;
    esac

    if [ ${#cmd[@]} -gt 0 ]; then
        start_tool "$name" "${cmd[@]}"
        wait_ready "$name" "$run"
    fi
    local bpf_before="0 0 0" bpf_after="0 0 0"
    if [ ${#cmd[@]} -gt 0 ]; then
        bpf_before=$(bpf_totals "$tool_pid" "$work/$name.bpf0")
    fi
    [ -z "$floor_pid" ] || bpf_totals "$floor_pid" "$work/$name.floor0" >/dev/null
    snapshot >"$work/$name.before"
    ( ip netns exec "$ns" "$work/churn" --seconds "$seconds" --threads "$threads" \
          --mode "$mode" --family "$family" --port "$port" --ports "$nports" \
          ${servers:+--servers "$servers"} ${conns_max:+--max-conns "$conns_max"} \
          >"$work/$name.churn" 2>&1 || echo "churn failed: $?" >>"$work/$name.churn"
      times >"$work/$name.churn.times" )
    [ -z "$floor_pid" ] || bpf_totals "$floor_pid" "$work/$name.floor1" >/dev/null
    if [ ${#cmd[@]} -gt 0 ]; then
        sleep 1 # let the tool drain what is still queued
        bpf_after=$(bpf_totals "$tool_pid" "$work/$name.bpf1")
        # a tool that is gone already stopped following part of the way (ss -E on ENOBUFS)
        kill -0 "$tool_pid" 2>/dev/null || early=1
        stop_tool "$name" "$sig"
    fi
    snapshot >"$work/$name.after"

    local conns rate churn_cpu act pas fails resets tw twk ovf estab
    conns=$(sed -n 's/^churn: \([0-9]*\) connections.*/\1/p' "$work/$name.churn")
    rate=$(sed -n 's/.* = \([0-9]*\) conn\/s.*/\1/p' "$work/$name.churn")
    if [ -z "$conns" ] || [ -z "$rate" ]; then
        cat "$work/$name.churn" >&2
        die "churn failed in $name"
    fi
    churn_cpu=$(times_to_s "$work/$name.churn.times")
    act=$(delta "$work/$name.before" "$work/$name.after" TcpActiveOpens)
    pas=$(delta "$work/$name.before" "$work/$name.after" TcpPassiveOpens)
    fails=$(delta "$work/$name.before" "$work/$name.after" TcpAttemptFails)
    resets=$(delta "$work/$name.before" "$work/$name.after" TcpEstabResets)
    tw=$(delta "$work/$name.before" "$work/$name.after" TcpExtTW)
    twk=$(delta "$work/$name.before" "$work/$name.after" TcpExtTWKilled)
    ovf=$(delta "$work/$name.before" "$work/$name.after" TcpExtTCPTimeWaitOverflow)
    estab=$((act - fails))

    case "$run" in
    sstrace-E|sstrace-E-p|sstrace-Ei|sstrace-Em|ss-E)
        # every full socket is destroyed once: both ends of each connection, the listeners
        expected=$((act + pas + nlisteners)) ;;
    sstrace-tw|sstrace-tw-ends|sstrace-tw-watch|sstrace-tw-metrics|sstrace-tw-o)
        expected=$((tw + twk)) ;;
    sstrace-all|sstrace-all-p|sstrace-all-i|sstrace-all-om|sstrace-all-write|tcpstates)
        # SYN-SENT / SYN-RECV, ESTABLISHED on both ends, then per end either an orderly
        # close (FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT or CLOSE-WAIT, LAST-ACK, CLOSE: three
        # entries) or a reset (one CLOSE); each listener enters LISTEN and CLOSE.
        expected=$((act + pas + 2 * estab + 3 * (2 * estab - resets) + resets + 2 * nlisteners)) ;;
    esac
    case "$run" in
    sstrace-tw-watch)
        # the stream's rows, after the listing of what the namespace already held (the
        # timewait sockets of the earlier runs)
        rows=$(awk 'f && !/\(gone\)/ { c++ } /^Netid/ { f = 1 } END { print c + 0 }' "$work/$name.out") ;;
    sstrace-top) ;;  # reports, not rows
    sstrace-all-write)
        # events written to the capture, as its exit summary counts them
        rows=$(sed -n 's/^[^ :]*: [0-9]* events seen, \([0-9]*\) written.*/\1/p' "$work/$name.err")
        [ -n "$rows" ] || rows=0 ;;
    sstrace-*|ss-E)
        # Both see only the test namespace: every row but the header counts. (Matching the
        # server port would miss the client rows of an abortive close: tcp_disconnect() clears
        # the peer port and the bound address before the socket is destroyed, so ss -E and
        # sstrace -E print 0.0.0.0:PORT -> 127.0.0.1:*.)
        # (-o -m -i put a row's details on a second line that starts with a tab)
        # (--transitions adds a "TIME-WAIT -> (gone)" row per end: not an entry)
        rows=$(grep -v $'^\t' "$work/$name.out" | grep -v -e 'Local Address:Port' -e '(gone)' -c || true) ;;
    tcpstates)
        rows=$(awk -v ports="$ports_list" 'BEGIN { n = split(ports, a, ","); for (i = 1; i <= n; i++) p[a[i]] = 1 }
                   NR > 1 && (($5 in p) || ($7 in p)) { c++ } END { print c + 0 }' "$work/$name.out") ;;
    esac
    case "$run" in
    sstrace-*)
        lost=$(sed -n 's/^[^ :]*: [0-9]* events seen, [0-9]* [a-z]*, \([0-9]*\) lost.*/\1/p' "$work/$name.err")
        [ -n "$lost" ] || lost="?(no summary)"
        # the split of the lost ones by cause, when sstrace gives one: " (...)" after "lost"
        lost_split=$(sed -n 's/^[^ :]*: [0-9]* events seen, [0-9]* [a-z]*, [0-9]* lost (\(.*\))$/\1/p' \
                     "$work/$name.err" | tr ' |' '_/') ;;
    tcpstates)
        lost=$(awk '/lost [0-9]+ events/ { for (i = 1; i <= NF; i++) if ($i == "lost") s += $(i + 1) } END { print s + 0 }' "$work/$name.err") ;;
    ss-E)
        lost="ENOBUFSx$(grep -c 'No buffer space' "$work/$name.err" || true)" ;;
    esac
    if [ -f "$work/$name.times" ]; then
        tool_cpu=$(times_to_s "$work/$name.times")
    fi
    local us_per_conn
    us_per_conn=$(awk -v c="$churn_cpu" -v n="$conns" 'BEGIN { printf "%.1f", n ? c * 1e6 / n : 0 }')
    local bpf_ns="-" bpf_runs="-" bc0 bt0 bm0 bc1 bt1 bm1
    read -r bc0 bt0 bm0 <<<"$bpf_before"
    read -r bc1 bt1 bm1 <<<"$bpf_after"
    # ss -E has no BPF programs; a tool that was gone by the second reading has none left
    if [ ${#cmd[@]} -gt 0 ] && [ "$run" != ss-E ] && [ -s "$work/$name.bpf1" ]; then
        skipped=$((bm1 - bm0))
    fi
    if [ "$bpf_stats" -eq 1 ] && [ "$skipped" != - ]; then
        bpf_ns=$(awk -v t=$((bt1 - bt0)) -v n="$conns" 'BEGIN { printf "%.0f", n ? t / n : 0 }')
        bpf_runs=$(awk -v c=$((bc1 - bc0)) -v n="$conns" 'BEGIN { printf "%.1f", n ? c / n : 0 }')
        prog_lines "$run" "$work/$name.bpf0" "$work/$name.bpf1" >>"$work/bpf-progs"
    fi
    if [ -n "$floor_pid" ]; then
        prog_lines "floor:$run" "$work/$name.floor0" "$work/$name.floor1" >>"$work/bpf-progs"
    fi
    local early_note="" split_note=""
    [ $early -eq 0 ] || early_note=" EXITED-EARLY"
    [ -z "$lost_split" ] || split_note=" lost-split=$lost_split"
    results+=("$round|$run|$rate|$conns|$expected|$rows|$lost|$skipped|$tool_cpu|$us_per_conn|$bpf_ns|$bpf_runs|tw=$tw twkilled=$twk twoverflow=$ovf fails=$fails resets=$resets rc=$(cat "$work/$name.rc" 2>/dev/null || echo -)$split_note$early_note")
    printf 'bench-events: %-12s %7s conn/s  %s\n' "$run" "$rate" "$(head -n 1 "$work/$name.churn")" >&2
    sed -n '2,$s/^/  /p' "$work/$name.churn" >&2
    grep -v '^[^ :]*: [0-9]* events seen' "$work/$name.err" 2>/dev/null | sed "s/^/  $run stderr: /" | head -n 5 >&2 || true
}

echo "bench-events: netns $ns, churn --mode $mode --family $family --threads $threads" \
     "${servers:+--servers $servers }--seconds $seconds, ports $port-$((port + nports - 1))," \
     "$(nproc) CPUs, $(uname -r)" >&2
first=1
for round in $(seq "$rounds"); do
    for r in $runs; do
        [ $first -eq 1 ] || sleep "$pause"
        first=0
        run_one "$r"
    done
done

# Report: every run, then medians per tool. Ratios are against the mean base rate of the same
# round, so that a machine that gets busier or quieter between rounds skews less.
printf '%s\n' "${results[@]}" >"$work/results"
echo
echo "churn: mode $mode, family $family, $threads client threads," \
     "${servers:-blocking} server threads$([ -n "$servers" ] && echo " (epoll)")," \
     "${seconds} s per run," \
     "$nports ports, $rounds round(s), $(nproc) CPUs, $(uname -r)"
awk -F'|' '
    { n++; round[n] = $1; run[n] = $2; rate[n] = $3; conns[n] = $4; exp_[n] = $5
      rows[n] = $6; lost[n] = $7; skip[n] = $8; cpu[n] = $9; us[n] = $10; bns[n] = $11
      bruns[n] = $12; notes[n] = $13
      if ($2 == "base") { bsum[$1] += $3; bn[$1]++ } }
    function median(list,    k, v, m, i, j, t) {
        m = split(list, v, " ")
        for (i = 2; i <= m; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        if (m == 0) return "-"
        return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
    }
    END {
        printf "%-3s %-12s %8s %6s %8s %9s %9s %12s %8s %8s %8s %8s %8s  %s\n", "rnd", "run", "conn/s",
               "ratio", "conns", "expected", "printed", "lost", "skipped", "tool-cpu", "churn-us",
               "bpf-ns", "bpf-runs", "counters (per run)"
        for (i = 1; i <= n; i++) {
            r = bn[round[i]] ? sprintf("%.2f", rate[i] / (bsum[round[i]] / bn[round[i]])) : "-"
            printf "%-3s %-12s %8s %6s %8s %9s %9s %12s %8s %8s %8s %8s %8s  %s\n", round[i], run[i],
                   rate[i], r, conns[i], exp_[i], rows[i], lost[i], skip[i], cpu[i], us[i], bns[i],
                   bruns[i], notes[i]
            if (!(run[i] in seen)) { seen[run[i]] = 1; order[++k] = run[i] }
            if (exp_[i] != "-") { te[run[i]] += exp_[i]; tr[run[i]] += rows[i] }
            if (lost[i] ~ /^[0-9]+$/) tl[run[i]] += lost[i]
            else if (lost[i] ~ /^ENOBUFSx/) { v = lost[i]; sub("ENOBUFSx", "", v); en[run[i]] += v; has_en[run[i]] = 1 }
            if (skip[i] ~ /^[0-9]+$/) ts[run[i]] += skip[i]
            if (cpu[i] != "-") tc[run[i]] += cpu[i]
            if (notes[i] ~ /EXITED-EARLY/) { early[run[i]]++; continue }
            rl[run[i]] = rl[run[i]] " " rate[i]; if (r != "-") ql[run[i]] = ql[run[i]] " " r
            ul[run[i]] = ul[run[i]] " " us[i]
            if (bns[i] != "-") { bl[run[i]] = bl[run[i]] " " bns[i]; brl[run[i]] = brl[run[i]] " " bruns[i] }
        }
        print ""
        print "summary: medians over the rounds, events summed. tool-us/ev: the tool CPU time per printed"
        print "row; churn-us/c: churn CPU time per connection; bpf-ns/c, bpf-runs/c: run time and"
        print "invocations of the tool BPF programs per connection (all of them, any netns or cause)."
        print "skipped: runs of the tool BPF programs the kernel skipped (recursion_misses), summed."
        print "Runs whose tool exited before the end (EXITED-EARLY, marked *) count in the event totals"
        print "only, not in the medians."
        printf "%-12s %8s %6s %10s %10s %12s %8s %10s %10s %9s %10s\n", "run", "conn/s", "ratio", "expected",
               "printed", "lost", "skipped", "tool-us/ev", "churn-us/c", "bpf-ns/c", "bpf-runs/c"
        for (j = 1; j <= k; j++) {
            t = order[j]
            printf "%-12s %8s %6s %10s %10s %12s %8s %10s %10s %9s %10s\n", t (early[t] ? "*" early[t] : ""), (t in rl) ? sprintf("%.0f", median(rl[t])) : "-", (t in ql) ? sprintf("%.2f", median(ql[t])) : "-",
                   (t in te) ? te[t] : "-", (t in tr) ? tr[t] : "-", (t in tl) ? tl[t] : ((t in has_en) ? "ENOBUFSx" en[t] : "-"),
                   (t in ts) ? ts[t] : "-",
                   (t in tc && tr[t] > 0) ? sprintf("%.2f", tc[t] * 1e6 / tr[t]) : "-", (t in ul) ? sprintf("%.1f", median(ul[t])) : "-",
                   (t in bl) ? sprintf("%.0f", median(bl[t])) : "-",
                   (t in brl) ? sprintf("%.1f", median(brl[t])) : "-"
        }
    }' "$work/results"
if [ -s "$work/bpf-progs" ]; then
    echo
    echo "BPF programs (runs per connection, ns per run, ns per connection, runs skipped)"
    printf '%-3s %-12s %-18s %9s %9s %9s %9s\n' rnd run program runs/conn ns/run ns/conn skipped
    cat "$work/bpf-progs"
fi
