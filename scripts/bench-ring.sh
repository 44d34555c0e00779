#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench-ring.sh: what one record costs a BPF program, by how it is written (one ring buffer
# shared by every CPU, one per CPU, staged records, a perf buffer, slots in a memory-mapped
# array without a lock), measured on the
# inet_sock_set_state tracepoint under the same TCP churn as scripts/bench-events.sh. The
# numbers behind doc/events.md, section 6 ("one ring buffer per CPU").
#
# Usage (root; clang, cc and libbpf's headers):
#   scripts/bench-ring.sh [--seconds S] [--rounds N] [--threads T] [--ring-mib M]
#   --seconds S  churn per run (default 3); --rounds N  rounds of every variant (default 2);
#   --threads T  churn's connecting threads (default 8, with 2 accepting, both families, and
#                client-close, server-close and RST in turn); --ring-mib M  the rings' total
#                (default 2; a per-CPU ring gets an even share).
# Each round runs every variant once (scripts/bench-ring.bpf.c lists them), in the same fresh
# network namespace, deleted on every exit path. Printed per run: the program's runs, its ns
# per run (the kernel's BPF statistics, on while each run lasts) and the ratio to the empty
# program's ns per run of the same round; then the medians over the rounds.
set -euo pipefail

die() { echo "bench-ring: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/netns-lib.sh
. "$here/netns-lib.sh"
root=$(cd "$here/.." && pwd)
seconds=3
rounds=2
threads=8
ring_mib=2
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --ring-mib) ring_mib=$2; shift 2 ;;
    *) die "unknown option $1" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "run as root"
for c in clang cc ip; do
    command -v "$c" >/dev/null || die "$c missing (scripts/install-deps.sh)"
done

ns="sstring-$$-$RANDOM"
work=$(mktemp -d /tmp/sstring.XXXXXX)
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    netns_delete "$ns"
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

arch=$(uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
clang -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -I"$root/vmlinux/$arch" \
    -c "$here/bench-ring.bpf.c" -o "$work/bench-ring.bpf.o" || die "cannot build bench-ring.bpf.c"
cc -O2 -pthread -o "$work/bench-ring" "$here/bench-ring.c" -lbpf || die "cannot build bench-ring.c"
cc -O2 -pthread -o "$work/churn" "$here/churn.c" || die "cannot build churn.c"
ip netns add "$ns"
ip -n "$ns" link set lo up

names=(empty fill shared percpu staged perf array reads)
churn="ip netns exec $ns $work/churn --seconds $seconds --threads $threads --servers 2"
churn+=" --mode mix --family 46 >/dev/null 2>&1"
printf '%-4s %-8s %10s %8s %7s %10s\n' rnd variant runs ns/run ratio records
for r in $(seq "$rounds"); do
    empty=""
    for v in "${!names[@]}"; do
        out=$("$work/bench-ring" "$work/bench-ring.bpf.o" "$v" $((ring_mib << 20)) "$churn") ||
            die "variant ${names[$v]} failed: $out"
        read -r _ runs _ run_ns _ records _ <<<"$out"
        per=$(awk -v t="$run_ns" -v n="$runs" 'BEGIN { printf "%.0f", n ? t / n : 0 }')
        [ -n "$empty" ] || empty=$per
        ratio=$(awk -v a="$per" -v b="$empty" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
        printf '%-4s %-8s %10s %8s %7s %10s\n' "$r" "${names[$v]}" "$runs" "$per" "$ratio" \
            "$records"
        echo "${names[$v]} $per $ratio" >>"$work/all"
    done
done
echo
echo "medians over $rounds round(s): ns per run, and the ratio to the empty program"
median() {
    sort -n | awk '{ v[NR] = $1 }
        END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for v in "${!names[@]}"; do
    n=${names[$v]}
    printf '%-8s %8.0f %7.2f\n' "$n" "$(awk -v n="$n" '$1 == n { print $2 }' "$work/all" | median)" \
        "$(awk -v n="$n" '$1 == n { print $3 }' "$work/all" | median)"
done
